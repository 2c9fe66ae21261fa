"""Legible maps on every page: at 1280x720, 1440x900 and 390x844 (and in presenter view at 1280x720),
no two numbers written on a map's cells overlap, no number spills out of its cell, and every map
shows its colour scale: a colour bar of its own, one shared by its group of small maps, or (for a
Plotly heatmap) Plotly's own scale."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import BrowserLog, guarded_context, open_settled, page_paths

# every page with maps, and the tabs whose maps the default view does not show
PATHS = [
    *(p for p in page_paths() if p not in ("/", "/docs")),
    "/family?variant=transposed",
    "/family?variant=grouped",
    "/family?variant=tiled",
    "/family?variant=residual",
    "/attention?tab=additive",
]
# one load per page: the viewport is resized (and presenter view switched on with `p`) in turn,
# and each page refits its maps as it would for a class
VIEWS = [
    ("normal", 1280, 720),
    ("normal", 1440, 900),
    ("normal", 390, 844),
    ("presenter", 1280, 720),
]
MAP_REPORT = (Path(__file__).parent / "map_report.js").read_text()
SETTLED = """() => new Promise((resolve) => setTimeout(() => requestAnimationFrame(
    () => requestAnimationFrame(() => resolve(window.__layerlab.busy === 0))), 400))"""


def map_report(page: Page) -> list[dict]:
    return page.evaluate(MAP_REPORT)


def problems(path: str, view: str, width: int, height: int, maps: list[dict]) -> list[str]:
    where = f"{path} ({view} {width}x{height})"
    out = [f"{where}: {m['name']} has no colour bar" for m in maps if not m["bar"]]
    out += [f"{where}: {m['name']}: {'; '.join(m['problems'])}" for m in maps if m["problems"]]
    return out


@pytest.mark.parametrize("path", PATHS)
def test_maps_are_legible(browser: Browser, browser_log: BrowserLog, server_url: str, path: str) -> None:
    with guarded_context(browser, browser_log, viewport={"width": 1280, "height": 720}) as ctx:
        page = ctx.new_page()
        open_settled(page, f"{server_url}{path}")
        if path not in ("/calculator", "/dense"):
            page.wait_for_function(f"() => ({MAP_REPORT})().length > 0", timeout=20_000)
        found: list[str] = []
        for view, width, height in VIEWS:
            page.set_viewport_size({"width": width, "height": height})
            if view == "presenter":
                page.evaluate("() => document.activeElement && document.activeElement.blur()")
                page.keyboard.press("p")
                page.wait_for_function("() => document.documentElement.classList.contains('presenter')")
            page.wait_for_function(SETTLED)
            found += problems(path, view, width, height, map_report(page))
        assert not found, "\n".join(found)


def test_identity_kernel_shows_the_picture_as_it_is(page: Page, server_url: str) -> None:
    """Seed 004's identity kernel copies the image: its map is drawn in grey, brightness following the
    input's (Pearson r >= 0.99 read from the canvas), with a colour bar from dark to light."""
    from layerlab.engine.images import sample_image
    from tests.browser.helpers import canvas_pixels, open_conv, query_for, state

    identity = [[[[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]]]
    open_conv(page, server_url, query_for(state(weight=identity)))
    rgba = np.array(canvas_pixels(page, "map-0"), dtype=np.float64).reshape(-1, 4)
    brightness = rgba[:, :3] @ np.array([0.299, 0.587, 0.114])
    scene = sample_image("scene", 32, "gray")[0].ravel()
    assert np.corrcoef(brightness, scene)[0, 1] >= 0.99
    assert np.ptp(rgba[:, 0] - rgba[:, 2]) == 0, "an identity map is grey, not red and blue"
    bar = page.evaluate(
        """() => { const m = window.__layerlab.maps['map-0']; const b = m.bar.getBoundingClientRect();
            const o = m.overlay.getBoundingClientRect();
            return { left: b.left, right: b.right, top: b.top, bottom: b.bottom, mapRight: o.right,
                     mapTop: o.top, mapBottom: o.bottom, signed: m.signed }; }"""
    )
    assert bar["signed"] is False
    assert bar["mapRight"] - 1 <= bar["left"] <= bar["mapRight"] + 12, "the colour bar sits beside the map"
    assert bar["top"] <= bar["mapTop"] + 12 and bar["bottom"] >= bar["mapBottom"] - 12, "as tall as the map"


def test_numbers_are_written_where_they_fit_and_hidden_where_they_do_not(page: Page, server_url: str) -> None:
    """The kernel's nine weights are written on its cells; a 32x32 feature map's cells are too small for
    numbers, so it writes none (they are on hover instead)."""
    from tests.browser.helpers import open_conv

    page.set_viewport_size({"width": 1440, "height": 900})
    open_conv(page, server_url)
    drawn = page.evaluate(
        """() => Object.fromEntries(['kernels-0', 'map-0'].map((id) => {
            const d = window.__layerlab.maps[id].drawn;
            return [id, { n: d.labels.length, px: d.fontPx }]; }))"""
    )
    assert drawn["kernels-0"]["n"] == 9 and drawn["kernels-0"]["px"] >= 9
    assert drawn["map-0"]["n"] == 0
