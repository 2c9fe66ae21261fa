"""Plotly.js compressed once in memory, and the module graphs the pages preload."""

from __future__ import annotations

import gzip
import re

import brotli
import pytest

from layerlab.app.assets import Encoded, module_graph
from layerlab.app.config import settings
from layerlab.app.operations import OPERATIONS

PAGES = ["/", *(op["href"] for op in OPERATIONS)]


@pytest.mark.parametrize(
    ("accept", "encoding"),
    [("gzip, deflate, br, zstd", "br"), ("gzip, deflate", "gzip"), ("identity", None), ("", None)],
)
def test_plotly_comes_in_the_best_encoding_the_client_accepts_and_decodes_to_the_file(
    client, accept, encoding
):
    with client.stream("GET", "/vendor/plotly-cartesian.min.js", headers={"Accept-Encoding": accept}) as r:
        body = b"".join(r.iter_raw())  # the bytes as sent, not decoded by the client
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert r.headers.get("content-encoding") == encoding
    assert "Accept-Encoding" in r.headers["vary"]
    decoded = {"br": brotli.decompress, "gzip": gzip.decompress, None: bytes}[encoding](body)
    assert decoded == settings.plotly_js.read_bytes()
    again = client.get(
        "/vendor/plotly-cartesian.min.js",
        headers={"Accept-Encoding": accept, "If-None-Match": r.headers["etag"]},
    )
    assert again.status_code == 304


def test_brotli_is_picked_only_when_offered_and_is_the_smallest():
    e = Encoded(b"i" * 10, b"g", b"b")
    assert e.pick("gzip;q=1.0, br;q=0.9") == (b"b", "br")
    assert e.pick("GZIP") == (b"g", "gzip")
    assert e.pick("deflate") == (b"i" * 10, None)
    raw = settings.plotly_js.read_bytes()
    assert len(brotli.compress(raw[:200_000], quality=9)) < len(gzip.compress(raw[:200_000], 9))


def test_module_graph_follows_every_relative_import_and_only_those(tmp_path):
    js = tmp_path / "js"
    (js / "sub").mkdir(parents=True)
    (js / "page.js").write_text(
        "import { a,\n  b } from './a.js';\nimport './side.js';\nexport { c } from './sub/c.js';\n"
        "// import { no } from './commented-out.js' is still a line starting with //\n"
        "const s = \"import x from './not-code.js'\";\n"
    )
    (js / "a.js").write_text("import { c } from './sub/c.js';\n")
    (js / "side.js").write_text("")
    (js / "sub" / "c.js").write_text("import { a } from '../a.js';\n")  # a cycle
    graph = module_graph(tmp_path, "page.js")
    assert graph == ("/static/js/a.js", "/static/js/side.js", "/static/js/sub/c.js")


@pytest.mark.parametrize("path", PAGES)
def test_every_page_preloads_each_module_its_scripts_import(client, path):
    html = client.get(path).text
    links = re.findall(r'<link rel="modulepreload" href="([^"]+)"', html)
    preloaded = set(links)
    assert len(links) == len(preloaded), "a module is preloaded twice"
    scripts = re.findall(r'<script type="module" src="([^"]+)"', html)
    entries = [s.removeprefix("/static/js/") for s in scripts]
    assert entries, "no module script on the page"
    wanted = {url for entry in entries for url in module_graph(settings.static_dir, entry)}
    assert wanted and wanted <= preloaded
    for url in preloaded:  # each one exists and is served
        assert client.get(url).status_code == 200, url
