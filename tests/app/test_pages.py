"""The HTML pages, their page data, the vendored Plotly and the promise of no outside URLs."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from layerlab.app.config import settings
from layerlab.engine.images import SAMPLES
from tests.app.helpers import PREWITT_OUTPUT, live_maps

URL = re.compile(r"https?://[^\s\"'<>)`]+")
LOCAL_HOSTS = re.compile(r"^https?://(localhost|127\.0\.0\.1|\[::1\])([:/]|$)")
# An XML namespace names a vocabulary and is never fetched, so MathML's own may appear, as may
# the W3C's names that document.createElementNS takes.
NAMESPACE = re.compile(
    r"""xmlns(:\w+)?=["']https?://[^"']+["']|http://www\.w3\.org/(2000/svg|1999/xlink|1998/Math/MathML)(?![\w./])"""
)
PAGE_DATA = re.compile(r'<script id="page-data" type="application/json">(.*?)</script>', re.S)
# our own files: static/vendor/ holds Plotly.js as published (URLs in its strings and comments are never
# fetched: the browser tests abort any request leaving this machine)
STATIC_FILES = sorted(
    p
    for p in settings.static_dir.rglob("*")
    if p.is_file()
    and p.suffix in (".js", ".css", ".html")
    and "vendor" not in p.relative_to(settings.static_dir).parts
)


def outside_urls(text: str) -> list[str]:
    """Every http(s) URL in text that points off this machine (namespace declarations aside)."""
    return [u for u in URL.findall(NAMESPACE.sub("", text)) if not LOCAL_HOSTS.match(u)]


def page_data(html: str) -> dict:
    match = PAGE_DATA.search(html)
    assert match, "no page-data script"
    return json.loads(match.group(1))


def test_outside_url_finder_catches_what_it_must():
    assert outside_urls('<script src="https://cdn.example.org/x.js">') == ["https://cdn.example.org/x.js"]
    assert outside_urls("fetch(`http://example.net/api`)") == ["http://example.net/api"]
    assert outside_urls('<math xmlns="http://www.w3.org/1998/Math/MathML">') == []
    assert outside_urls("document.createElementNS('http://www.w3.org/2000/svg', 'g')") == []
    assert outside_urls("'http://www.w3.org/2000/svg.js'") == ["http://www.w3.org/2000/svg.js"]
    assert outside_urls("// see http://localhost:8000/conv and http://127.0.0.1/") == []


def test_index_has_a_card_linking_to_the_conv_page(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    cards = re.findall(r'<article class="card live">(.*?)</article>', r.text, re.S)
    assert any('href="/conv"' in card for card in cards)


def test_conv_page_hands_over_kernels_samples_and_seed_examples(client):
    r = client.get("/conv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    data = page_data(r.text)
    kernels = {k["name"]: k["weights"] for k in data["kernels"]}
    assert kernels["sobel_x"] == [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
    assert [s["name"] for s in data["samples"]] == list(SAMPLES)
    assert data["sizes"] == list(settings.image_sizes)
    assert data["limits"]["max_kernel_side"] == settings.max_kernel_side
    assert [e["id"] for e in data["examples"]] == ["seed002_derivative", "seed002_prewitt", "seed004_table"]
    assert all(e["label"] and e["note"] for e in data["examples"])


def test_conv_page_examples_are_requests_the_api_accepts(client):
    examples = {e["id"]: e["state"] for e in page_data(client.get("/conv").text)["examples"]}
    maps = {name: live_maps(client.post("/api/conv/live", json=state)) for name, state in examples.items()}
    np.testing.assert_array_equal(maps["seed002_prewitt"][0, 0], PREWITT_OUTPUT)
    assert maps["seed002_derivative"].shape == (1, 1, 1, 11)
    assert maps["seed004_table"].shape == (1, 4, 64, 64)


def test_conv_page_has_mathml_and_the_local_plotly(client):
    html = client.get("/conv").text
    assert html.count("<math") >= 2  # the definition and the output-size formula
    assert 'href="/vendor/plotly-cartesian.min.js"' in html


def test_static_assets_linked_from_the_pages_are_served(client):
    for page in ("/", "/conv"):
        links = re.findall(r'(?:src|href)="(?:http://testserver)?(/static/[^"]+)"', client.get(page).text)
        assert links
        for path in links:
            assert client.get(path).status_code == 200, path


@pytest.mark.parametrize("path", [p.relative_to(settings.static_dir).as_posix() for p in STATIC_FILES])
def test_static_file_is_served_and_has_no_outside_url(client, path):
    r = client.get(f"/static/{path}")
    assert r.status_code == 200
    assert outside_urls(r.text) == [], path


@pytest.mark.parametrize("page", ["/", "/conv"])
def test_page_has_no_outside_url(http, page):
    """Over the wire, so links built from the request's own address point at 127.0.0.1."""
    html = http.get(page).text
    assert "<script" in html or "<link" in html
    assert outside_urls(html) == []


def test_plotly_is_served_as_javascript(client):
    r = client.get("/vendor/plotly-cartesian.min.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert len(r.content) > 1_000_000 and b"plotly" in r.content[:2000].lower()


def test_real_server_gzips_plotly_when_asked(http):
    with http.stream("GET", "/vendor/plotly-cartesian.min.js", headers={"accept-encoding": "gzip"}) as r:
        raw = b"".join(r.iter_raw())
    assert r.status_code == 200
    assert r.headers["content-encoding"] == "gzip"
    assert raw[:2] == b"\x1f\x8b"
    assert len(raw) < settings.plotly_js.stat().st_size / 2


def test_real_server_sends_plotly_plain_when_gzip_is_not_accepted(http):
    r = http.get("/vendor/plotly-cartesian.min.js", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in r.headers
    assert len(r.content) == settings.plotly_js.stat().st_size


def test_real_server_serves_both_pages(http):
    assert 'href="/conv"' in http.get("/").text
    assert page_data(http.get("/conv").text)["examples"][1]["id"] == "seed002_prewitt"


def test_api_docs_and_schema_are_served(client):
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    assert {"/api/conv/trace", "/api/conv/live", "/api/images", "/api/kernels"} <= schema["paths"].keys()
    assert "/conv" not in schema["paths"]
