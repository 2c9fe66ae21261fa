"""Security headers on every response, no inline script the policy would have to allow, and cache headers:
public for GETs that depend on their URL only, no-cache for pages, never public for anything per user."""

from __future__ import annotations

import re

import pytest
from fastapi import Request

from layerlab.app.cache import PUBLIC_MAX_AGE, PUBLIC_PATHS
from layerlab.app.config import settings
from layerlab.app.main import create_app
from layerlab.app.operations import OPERATIONS
from layerlab.app.security import SECURITY_HEADERS

PAGES = ["/", *(op["href"] for op in OPERATIONS), "/docs"]
STATIC = sorted(
    "/static/" + p.relative_to(settings.static_dir).as_posix()
    for p in settings.static_dir.rglob("*")
    if p.is_file() and p.suffix in (".js", ".css")
)[:6]
PUBLIC_GETS = [
    "/api/kernels",
    "/api/images",
    "/api/calculator/presets",
    "/api/lessons",
    "/openapi.json",
    *STATIC,
]
EXPECTED = {k.decode(): v.decode() for k, v in SECURITY_HEADERS}
LIVE = {"image": "scene", "size": 16, "weight": [[[[0, 1, 0], [1, -4, 1], [0, 1, 0]]]], "padding": [1, 1]}

TAG = re.compile(r"<[a-zA-Z][^>]*>", re.S)
SCRIPT = re.compile(r"<script\b([^>]*)>", re.I)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
TEMPLATES = sorted(settings.template_dir.rglob("*.html"))


def assert_security_headers(headers) -> None:
    for name, value in EXPECTED.items():
        assert headers.get(name) == value, name


def test_the_policy_allows_only_this_origin():
    csp = dict(d.split(" ", 1) for d in EXPECTED["content-security-policy"].split("; "))
    assert csp["script-src"] == "'self'" and csp["default-src"] == "'self'"
    assert csp["object-src"] == "'none'" and csp["base-uri"] == "'none'"
    assert all("http" not in v and "*" not in v for v in csp.values())
    assert EXPECTED["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", [*PAGES, *PUBLIC_GETS, "/vendor/plotly-cartesian.min.js"])
def test_every_page_and_file_carries_the_security_headers(client, path):
    r = client.get(path)
    assert r.status_code == 200
    assert_security_headers(r.headers)


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/api/conv/live", LIVE, 200),
        ("POST", "/api/conv/live", {"image": "scene", "size": 16, "weight": "x"}, 422),
        ("GET", "/api/lessons/no-such-lesson", None, 404),
        ("GET", "/static/../app/config.py", None, 404),
        ("GET", "/no-such-page", None, 404),
        ("POST", "/api/kernels", None, 405),
    ],
)
def test_api_answers_and_errors_carry_them_too(client, method, path, body, status):
    r = client.request(method, path, json=body)
    assert r.status_code == status
    assert_security_headers(r.headers)


def test_the_body_limits_refusals_carry_them(client):
    r = client.get("/api/kernels?q=" + "x" * (settings.max_query_bytes + 1))
    assert r.status_code == 414
    assert_security_headers(r.headers)


def _inline_problems(html: str) -> list[str]:
    problems = []
    for attrs in SCRIPT.findall(html):
        if "src=" not in attrs and 'type="application/json"' not in attrs:
            problems.append(f"inline <script{attrs}>")
    for tag in TAG.findall(html):
        if HANDLER.search(tag):
            problems.append(f"event handler attribute in {tag[:120]}")
    if re.search(r"javascript:", html, re.I):
        problems.append("a javascript: URL")
    return problems


def test_the_inline_finder_catches_what_it_must():
    assert _inline_problems('<script>alert(1)</script><script type="module">x</script>') != []
    assert len(_inline_problems('<script type="module">x</script>')) == 1
    assert _inline_problems('<button class="b"\n onclick="go()">') != []
    assert _inline_problems('<a href="JavaScript:go()">') != []
    assert _inline_problems('<script type="module" src="/static/js/x.js"></script>') == []
    assert _inline_problems('<script id="page-data" type="application/json">{}</script>') == []
    assert _inline_problems("<p>one click on the button</p>") == []


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_no_template_has_inline_script_or_handlers(template):
    assert _inline_problems(template.read_text()) == []


@pytest.mark.parametrize("path", PAGES)
def test_no_rendered_page_has_inline_script_or_handlers(client, path):
    assert _inline_problems(client.get(path).text) == []


@pytest.mark.parametrize("path", PUBLIC_GETS)
def test_pure_gets_are_public_with_a_strong_etag_and_304(client, path):
    r = client.get(path)
    assert r.headers["cache-control"] == f"public, max-age={PUBLIC_MAX_AGE}"
    tag = r.headers["etag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', tag)  # strong: no W/
    again = client.get(path, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == tag and again.headers["cache-control"] == r.headers["cache-control"]
    assert_security_headers(again.headers)
    assert client.get(path, headers={"If-None-Match": '"stale", W/' + tag}).status_code == 304
    assert client.get(path, headers={"If-None-Match": '"stale"'}).status_code == 200


def test_a_lesson_is_public_too(client):
    lesson = client.get("/api/lessons").json()[0]["id"]
    r = client.get(f"/api/lessons/{lesson}")
    assert r.status_code == 200 and r.headers["cache-control"].startswith("public, max-age=")
    assert (
        client.get(f"/api/lessons/{lesson}", headers={"If-None-Match": r.headers["etag"]}).status_code == 304
    )


def test_the_etag_changes_with_the_bytes_sent(client):
    gzip = client.get("/openapi.json")
    plain = client.get("/openapi.json", headers={"Accept-Encoding": "identity"})
    assert gzip.headers["content-encoding"] == "gzip" and "content-encoding" not in plain.headers
    assert gzip.headers["etag"] != plain.headers["etag"]
    assert "Accept-Encoding" in gzip.headers["vary"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_revalidated_every_time(client, path):
    r = client.get(path)
    assert r.headers["cache-control"] == "no-cache"
    assert client.get(path, headers={"If-None-Match": r.headers["etag"]}).status_code == 304


def test_plotly_keeps_its_own_day_long_cache_and_gains_an_etag(client):
    r = client.get("/vendor/plotly-cartesian.min.js")
    assert r.headers["cache-control"] == "public, max-age=86400"
    assert (
        client.get(
            "/vendor/plotly-cartesian.min.js", headers={"If-None-Match": r.headers["etag"]}
        ).status_code
        == 304
    )


def test_posts_and_errors_are_not_tagged(client):
    live = client.post("/api/conv/live", json=LIVE)  # the route's own no-store stays
    assert (
        live.status_code == 200 and "etag" not in live.headers and live.headers["cache-control"] == "no-store"
    )
    missing = client.get("/api/lessons/no-such-lesson")
    assert missing.status_code == 404 and "etag" not in missing.headers


def test_every_get_endpoint_of_the_api_is_a_known_pure_function(client):
    """A new GET endpoint must be added to PUBLIC_PATHS on purpose (or left private)."""
    gets = [p for p, ops in client.get("/openapi.json").json()["paths"].items() if "get" in ops]
    known = [
        "/api/calculator/presets",
        "/api/images",
        "/api/kernels",
        "/api/lessons",
        "/api/lessons/{lesson_id}",
    ]
    assert sorted(gets) == known
    assert all(PUBLIC_PATHS.match(p) for p in gets)


def test_a_get_that_reads_the_upload_store_is_never_cached_publicly():
    from fastapi.testclient import TestClient

    app = create_app()

    @app.get("/api/images/{key}/size")
    def size(key: str, request: Request) -> dict:
        return {"kept": len(request.app.state.uploads.__dict__)}

    with TestClient(app) as c:
        r = c.get("/api/images/abc/size")
    assert r.status_code == 200
    assert r.headers["cache-control"] == "private, no-store" and "etag" not in r.headers
    assert_security_headers(r.headers)
