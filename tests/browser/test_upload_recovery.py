"""The conv page keeps working when the server that answers does not know its upload: a second server
stands for another worker or machine behind a load balancer with nothing sticky."""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page, Route

from layerlab.app.config import settings as S
from layerlab.app.devserver import app_server
from layerlab.app.inputs import fit
from layerlab.app.uploads import decode_image
from layerlab.engine.images import to_color
from tests.browser.conftest import BrowserLog
from tests.browser.helpers import DEFAULT_STATE, assert_map, engine_maps, idle, open_conv


@pytest.fixture(scope="module")
def other_server() -> Iterator[str]:
    with app_server() as url:
        yield url


def test_conv_page_sends_its_upload_again_to_a_server_that_does_not_know_it(
    page: Page, server_url: str, other_server: str, browser_log: BrowserLog, tmp_path
) -> None:
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, size=(24, 40, 3), dtype=np.uint8)
    path = tmp_path / "noise.png"
    Image.fromarray(pixels, "RGB").save(path)
    browser_log.allow(r"status of 404")  # the answer that starts the recovery, as the browser logs it

    seen: list[tuple[str, int]] = []  # (request, status) of every API request the other server answered
    uploads_to_first = 0

    def balance(route: Route) -> None:
        """The page's first upload reaches the first server; every API request after it, the other."""
        nonlocal uploads_to_first
        request = route.request
        if request.method == "POST" and request.url.endswith("/api/images") and not uploads_to_first:
            uploads_to_first += 1
            route.continue_()
            return
        other = request.url.replace(server_url, other_server)
        if request.url.endswith("/api/images"):
            # Playwright does not hand a route the file part of a multipart body: forward the same file
            file = {"name": path.name, "mimeType": "image/png", "buffer": path.read_bytes()}
            answer = page.request.post(other, multipart={"file": file})
        else:
            answer = route.fetch(url=other)
        seen.append((f"{request.method} {request.url.removeprefix(server_url)}", answer.status))
        route.fulfill(response=answer)

    open_conv(page, server_url)
    page.route_web_socket(re.compile(".*"), lambda ws: ws.close())  # live edits go by POST, balanced too
    page.route(re.compile(r".*/api/(images|conv/).*"), balance)
    page.set_input_files("#upload", str(path))
    page.wait_for_function("() => document.getElementById('image').value.startsWith('upload:')")
    idle(page)

    assert uploads_to_first == 1
    refused = [r for r, status in seen if status == 404]
    assert refused, f"the other server never saw the upload's id: {seen}"
    assert seen.count(("POST /api/images", 201)) == 1  # sent again once, then every request worked
    assert all(status < 400 for r, status in seen if r not in refused)
    assert "not on this server" not in page.locator("#status").inner_text()
    decoded = decode_image(
        path.read_bytes(), max_side=S.max_image_side, max_pixels=S.max_upload_pixels, color="rgb"
    )
    assert_map(page, "map-0", engine_maps(DEFAULT_STATE, image=to_color(fit(decoded, 32), "gray"))[0])
