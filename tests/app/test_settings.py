"""`create_app(config)` enforces `config`'s limits: request schemas, handlers, jobs, uploads and the pages'
own data read the settings of the app serving the request, so two apps in one process keep each its own."""

from __future__ import annotations

import ast
import dataclasses
import io
import json
import re
import threading
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from layerlab.app.config import Settings, current_settings, settings
from layerlab.app.main import create_app
from layerlab.app.pages import PAGES
from tests.app.helpers import assert_error

ROOT = Path(__file__).resolve().parents[2]
SMALL = Settings(max_kernel_side=3, max_upload_bytes=1000, max_image_side=64, trace_chunk_steps=10)
PAGE_DATA = re.compile(r'<script id="page-data" type="application/json">(.*?)</script>', re.S)


def _conv(side: int = 3, size: int = 32) -> dict:
    return {"image": "scene", "size": size, "weight": [[[[0.1] * side] * side]]}


def _png(side: int) -> bytes:
    """A side x side PNG of seeded noise (noise does not compress: the file is over side**2 bytes)."""
    buffer = io.BytesIO()
    noise = np.random.default_rng(0).integers(0, 256, (side, side), dtype=np.uint8)
    Image.fromarray(noise).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def small():
    with TestClient(create_app(SMALL)) as c:
        yield c


@pytest.fixture(scope="module")
def default():
    with TestClient(create_app()) as c:
        yield c


def test_a_smaller_config_refuses_what_the_default_accepts_naming_the_field_and_its_limit(small, default):
    four = _conv(side=4)
    assert default.post("/api/conv/trace", json=four).status_code == 200
    assert_error(small.post("/api/conv/trace", json=four), 422, "weight", "at most 3 items")
    big = _conv(size=128)
    assert default.post("/api/conv/trace", json=big).status_code == 200
    assert_error(small.post("/api/conv/trace", json=big), 422, "size", "less than or equal to 64")
    png = _png(40)
    assert len(png) > 1000
    files = {"file": ("noise.png", png, "image/png")}
    assert default.post("/api/images", files=files).status_code == 201
    assert_error(small.post("/api/images", files=files), 413, "file", "1,000 bytes")


def test_limits_hold_in_the_websocket_and_in_job_threads(small):
    with small.websocket_connect("/api/conv/live/ws") as ws:
        ws.send_text(json.dumps({**_conv(side=4), "seq": 1}))
        answer = json.loads(ws.receive_text())
    assert answer["status"] == 422 and "at most 3 items" in answer["message"]
    # the trace is computed and chunked in a job's worker thread: it chunks by this app's setting
    assert small.post("/api/conv/trace", json=_conv()).json()["chunk_steps"] == SMALL.trace_chunk_steps


def test_two_apps_in_one_process_keep_their_own_limits(small, default):
    results: dict[str, list[int]] = {"small": [], "default": []}

    def ask(name: str, client: TestClient) -> None:
        for _ in range(6):
            results[name].append(client.post("/api/conv/trace", json=_conv(side=5)).status_code)

    threads = [threading.Thread(target=ask, args=item) for item in (("small", small), ("default", default))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == {"small": [422] * 6, "default": [200] * 6}
    assert current_settings() is settings  # nothing leaks out of a request either


def test_page_data_listings_and_the_schema_follow_the_config(small, default):
    limits = json.loads(PAGE_DATA.search(small.get("/conv").text)[1])["limits"]
    assert (limits["max_kernel_side"], limits["max_image_side"], limits["max_upload_bytes"]) == (3, 64, 1000)
    assert json.loads(PAGE_DATA.search(default.get("/conv").text)[1])["limits"]["max_kernel_side"] == 7
    listing = small.get("/api/images").json()
    assert (listing["max_side"], listing["max_upload_bytes"]) == (64, 1000)
    for client, side in ((small, 64), (default, settings.max_image_side)):
        schemas = client.get("/openapi.json").json()["components"]["schemas"]
        assert schemas["ConvTraceRequest"]["properties"]["size"]["maximum"] == side


def _named_settings(data: object, names: dict) -> list[tuple[str, object]]:
    """Every (key, value) in the nested page data whose key is one of `names`."""
    if isinstance(data, dict):
        return [(k, v) for k, v in data.items() if k in names] + [
            item for v in data.values() for item in _named_settings(v, names)
        ]
    return [item for v in data for item in _named_settings(v, names)] if isinstance(data, list) else []


def test_every_page_hands_its_controls_the_limits_of_its_app():
    """An app with every integer limit one lower: each page's data carries the lowered ones, no default."""
    defaults = {f.name: getattr(settings, f.name) for f in dataclasses.fields(Settings)}
    lowered = {k: v - 1 for k, v in defaults.items() if k.startswith("max_") and type(v) is int and v > 3}
    with TestClient(create_app(Settings(**lowered))) as client:
        for page in PAGES:
            found = _named_settings(json.loads(PAGE_DATA.search(client.get(f"/{page}").text)[1]), lowered)
            assert found, f"/{page} hands its controls no limit"
            assert all(value == lowered[key] for key, value in found), (page, found)


def _read_at_import(tree: ast.Module, name: str) -> list[int]:
    """Lines reading `name.<attr>` outside any function: at import, before any app is serving."""
    lines = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                # its body runs when called; its decorators and defaults at import
                args = child.args
                for part in (*getattr(child, "decorator_list", ()), *args.defaults, *args.kw_defaults):
                    if part is not None:
                        visit(ast.Expression(part))
                continue
            if isinstance(child, ast.Attribute) and getattr(child.value, "id", None) == name:
                lines.append(child.lineno)
            visit(child)

    visit(tree)
    return lines


def test_no_app_module_reads_the_default_settings_at_import():
    """Only the factory's default and the server process (one per process, app/server.py) may import the
    module's `settings`; everything else reads the settings in effect (`in_effect`, `limit`), and only
    while serving (inside a function), never at import."""
    allowed = {"app/main.py", "app/server.py", "app/config.py"}
    found = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        name = str(path.relative_to(ROOT))
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "layerlab.app.config":
                for alias in node.names:
                    if alias.name == "settings" and name not in allowed:
                        found.append(name)
                    if alias.name == "in_effect":
                        lines = _read_at_import(tree, alias.asname or "in_effect")
                        found += [f"{name}:{line}" for line in lines]
    assert not found, f"modules reading the default settings instead of the app's: {found}"
