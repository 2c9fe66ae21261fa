"""Classroom mode in a real browser, on every page: presenter view changes what is drawn and
survives its link, the keys (the `?` overlay, a clicker's PageUp/PageDown, tabs, `p`), the
classroom keys survive the pages' own address rewrites, and export (PNG, SVG, WebM)."""

from __future__ import annotations

import re
import struct
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Download, Page

from tests.browser.helpers import blur, idle, open_conv, query_for, state, step_number, text

# static/js/classroom/export.js SIZE and BAND: every PNG and SVG is a 16:9 projector sheet,
# the title and step label in a band at the top, the figures below
SHEET = (1920, 1080)
BAND = 140

# every page, and what it draws once it is ready (a MapView id, a Plotly figure, or the lesson list)
PAGES = {
    "/": "document.getElementById('lesson-list')",
    "/conv": "window.__layerlab.maps['map-0'] && window.__layerlab.maps['map-0'].values",
    "/family": "document.querySelector('main .js-plotly-plot, main canvas')",
    "/calculator": "document.querySelector('#layers-body tr')",
    "/pool": "window.__layerlab.maps['pool-input'] && window.__layerlab.maps['pool-input'].values",
    "/norm": "document.querySelector('main .js-plotly-plot, main canvas')",
    "/attention": "document.querySelector('main .js-plotly-plot, main canvas')",
    "/transformer": "window.__layerlab.maps['tf-head-0-0'] && window.__layerlab.maps['tf-head-0-0'].values",
    "/activations": "document.querySelector('main .js-plotly-plot')",
    "/dense": "document.querySelector('main .js-plotly-plot, main canvas')",
    "/network": "document.querySelector('main .js-plotly-plot, main canvas')",
    "/recurrent": "document.querySelector('main .js-plotly-plot, main canvas')",
}


def open_page(page: Page, base_url: str, path: str, query: str = "") -> None:
    """Open a page and wait until it has drawn and no request is in flight."""
    page.goto(f"{base_url}{path}{query}")
    page.wait_for_function(f"() => window.__layerlab && Boolean({PAGES[path]})", timeout=20_000)
    idle(page)


def press(page: Page, key: str, times: int = 1) -> None:
    blur(page)
    for _ in range(times):
        page.keyboard.press(key)
    idle(page)


def drawn(page: Page, map_id: str) -> dict[str, Any]:
    """What a MapView's last paint used: cell, number font and grid line width in px, tick size."""
    return page.evaluate(
        """(id) => { const m = window.__layerlab.maps[id];
            return { ...m.drawn, tick: m.plot._fullLayout.xaxis.tickfont.size }; }""",
        map_id,
    )


def presenter_on(page: Page) -> bool:
    return page.evaluate("() => document.documentElement.classList.contains('presenter')")


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def export(page: Page, kind: str, timeout: float = 30_000) -> Download:
    """Choose `kind` from the top bar's export menu and return the download."""
    page.click("#export-toggle")
    with page.expect_download(timeout=timeout) as info:
        page.click(f"[data-export={kind}]")
    return info.value


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


# ---- presenter view ----------------------------------------------------------------------


def test_presenter_view_draws_bigger_numbers_thicker_lines_and_type(page: Page, server_url: str) -> None:
    open_conv(page, server_url)
    before = drawn(page, "kernels-0")  # the 3x3 kernel: big cells with numbers
    assert before["presenter"] is False and before["gridWidth"] == 0
    assert before["fontPx"] > 0
    assert not presenter_on(page)

    press(page, "p")
    after = drawn(page, "kernels-0")
    assert presenter_on(page)
    assert after["presenter"] is True
    assert after["fontPx"] >= max(13, before["fontPx"])  # bold, and never smaller than the normal view's
    assert after["gridWidth"] >= 2
    assert after["cell"] >= 40  # cells sized to the room the step leaves, big enough for bold numbers
    assert after["tick"] > before["tick"]
    page.wait_for_function("() => new URLSearchParams(location.search).get('present') === '1'")

    page.click("#presenter-toggle")
    idle(page)
    assert drawn(page, "kernels-0") == before
    assert "present" not in query(page.url)


def test_presenter_view_enlarges_plotly_charts_and_keeps_them_large_on_redraw(
    page: Page, server_url: str
) -> None:
    open_page(page, server_url, "/activations")
    chart = "() => [...document.querySelectorAll('main .js-plotly-plot')].find((g) => !g.closest('.mapview'))"
    font = f"() => ({chart})()._fullLayout.font.size"
    normal = page.evaluate(font)
    page.click("#presenter-toggle")
    page.wait_for_function(f"() => ({font})() > {normal}")
    big = page.evaluate(font)
    assert big >= normal * 1.5
    press(page, "ArrowRight")  # the page draws its charts again for the next step
    press(page, "End")
    assert page.evaluate(font) == big


def test_hidden_controls_and_presenter_view_survive_the_copied_link(page: Page, server_url: str) -> None:
    open_conv(page, server_url)
    press(page, "ArrowRight", 2)
    press(page, "p")
    page.click("#arrange-toggle")
    for group in ("how-it-works", "a0"):  # the explanation, and the first settings group (worked examples)
        page.click(f".hide-toggle[data-target='{group}']")
    assert page.locator(".hide-toggle[data-target='a0']").get_attribute("aria-pressed") == "true"
    page.click("#arrange-toggle")  # done: hidden groups leave the page
    explain = page.locator("section[aria-label='How it works']")
    assert explain.is_hidden()

    page.click("#classroom-copy-link")
    page.wait_for_function("() => document.getElementById('classroom-status').dataset.link")
    link = page.evaluate("() => document.getElementById('classroom-status').dataset.link")
    q = query(link)
    assert q["present"] == "1"
    assert set(q["hide"].split(",")) == {"how-it-works", "a0"}
    assert q["step"] == "2"

    page.goto("about:blank")
    page.goto(link)
    page.wait_for_function(
        "() => window.__layerlab.maps['kernels-0'] && window.__layerlab.maps['kernels-0'].values",
        timeout=20_000,
    )
    idle(page)
    assert presenter_on(page)
    assert drawn(page, "kernels-0")["gridWidth"] >= 2
    assert explain.is_hidden()
    assert page.locator("#examples").is_hidden()
    assert step_number(page) == 3
    page.click(".controls-toggle")  # expanding the slim bar shows the settings, not the hidden group
    assert page.locator("#image").is_visible()
    assert page.locator("#examples").is_hidden()
    press(page, "p")  # leaving presenter view shows everything again
    assert explain.is_visible() and page.locator("#examples").is_visible()


# ---- keys --------------------------------------------------------------------------------


def test_question_mark_lists_the_keys_and_escape_closes_it(page: Page, server_url: str) -> None:
    open_conv(page, server_url)
    page.focus("#keys-help")
    page.keyboard.press("?")
    dialog = page.locator("#keys-overlay")
    assert dialog.is_visible()
    listed = text(page, "#keys-overlay")
    for key in ("PageDown", "PageUp", "Home", "Space", "Shift+→", "?"):
        assert key in listed
    assert re.search(r"presenter view", listed)
    for _ in range(3):  # focus stays inside the dialog
        page.keyboard.press("Tab")
        assert page.evaluate("() => Boolean(document.activeElement.closest('#keys-overlay'))")
    page.keyboard.press("ArrowRight")  # the page does not step behind the dialog
    assert step_number(page) == 1
    page.keyboard.press("Escape")
    assert dialog.is_hidden()
    assert page.evaluate("() => document.activeElement.id") == "keys-help"


def test_clicker_keys_jumps_tabs_and_p(page: Page, server_url: str) -> None:
    open_conv(page, server_url)
    press(page, "PageDown")
    assert step_number(page) == 2
    press(page, "PageDown")
    press(page, "PageUp")
    assert step_number(page) == 2
    press(page, "Shift+ArrowRight")
    assert step_number(page) == 12
    press(page, "Shift+ArrowLeft", 2)
    assert step_number(page) == 1
    press(page, "End")
    assert step_number(page) == 1024
    press(page, "Home")
    # while a lesson plays its player owns the clicker's keys
    page.evaluate("() => { document.body.dataset.lesson = 'test'; }")
    press(page, "PageDown")
    assert step_number(page) == 1
    page.evaluate("() => { delete document.body.dataset.lesson; }")
    press(page, "p")
    assert presenter_on(page)
    press(page, "p")
    assert not presenter_on(page)


def test_brackets_and_digits_switch_the_pages_tabs(page: Page, server_url: str) -> None:
    open_page(page, server_url, "/pool")
    selected = "() => document.querySelector('[role=tablist] [aria-selected=true]').textContent"
    tabs = page.evaluate("() => document.querySelectorAll('[role=tablist] button').length")
    assert tabs > 2
    first = page.evaluate(selected)
    press(page, "]")
    second = page.evaluate(selected)
    assert second != first
    press(page, "[")
    assert page.evaluate(selected) == first
    press(page, "3")
    assert (
        page.evaluate(
            "() => document.querySelectorAll('[role=tablist] button')[2].getAttribute('aria-selected')"
        )
        == "true"
    )


# ---- the address -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "control", "written"),
    [
        ("/conv", "#relu", ("relu", "1")),  # urlstate.js
        ("/pool", "#ceil", ("ceil_mode", "1")),  # typed-url.js
        ("/attention", "#att-causal", None),  # its own address code
    ],
)
def test_classroom_keys_survive_the_pages_own_address_rewrites(
    page: Page, server_url: str, path: str, control: str, written: tuple[str, str] | None
) -> None:
    open_page(page, server_url, path, "?present=1&hide=s0,how-it-works")
    page.click(".controls-toggle")  # presenter view folds the settings into a slim bar
    before = page.evaluate(f"() => document.querySelector('{control}').checked")
    page.click(control)
    if written:
        page.wait_for_function(
            f"() => new URLSearchParams(location.search).get('{written[0]}') === '{written[1]}'"
        )
    else:
        page.wait_for_function("() => new URLSearchParams(location.search).has('causal')")
    assert page.evaluate(f"() => document.querySelector('{control}').checked") != before
    idle(page)
    page.wait_for_timeout(300)  # past the pages' address debounce
    q = query(page.url)
    assert q["present"] == "1"
    assert q["hide"] == "s0,how-it-works"
    page.reload()
    page.wait_for_function(f"() => window.__layerlab && Boolean({PAGES[path]})", timeout=20_000)
    assert presenter_on(page)


# a /conv page state as static/js/conv/page.js keeps it, for urlstate.js encode
CONV_STATE_JS = (
    "{image: 'scene', size: 32, color: 'gray', weight: [[[[1]]]], bias: [0], stride: [1, 1],"
    " padding: [0, 0], padding_mode: 'zeros', dilation: [1, 1], relu: false, filter: 0, step: 0}"
)


def test_a_link_to_conv_from_another_page_carries_presenter_view_only(page: Page, server_url: str) -> None:
    open_page(page, server_url, "/pool", "?present=1&hide=s0")
    href = page.evaluate(f"() => import('/static/js/urlstate.js').then((m) => m.encode({CONV_STATE_JS}))")
    q = query(href)
    assert q["present"] == "1" and "hide" not in q


# ---- export ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", list(PAGES))
def test_png_export_is_a_projector_sheet_on_every_page(
    page: Page, server_url: str, path: str, tmp_path: Path
) -> None:
    open_page(page, server_url, path)
    target = tmp_path / "view.png"
    download = export(page, "png")
    download.save_as(target)
    assert download.suggested_filename.endswith(".png")
    assert png_size(target) == SHEET
    if path not in ("/", "/calculator"):  # pages with figures: they are drawn below the band
        assert inked(target) > 0.02


def inked(path: Path) -> float:
    """The share of the sheet below the title band that is not white."""
    pixels = np.asarray(Image.open(path).convert("RGB"))[BAND:]
    return float((pixels.min(axis=2) < 235).mean())


def test_png_export_in_presenter_view_on_the_pool_page(page: Page, server_url: str, tmp_path: Path) -> None:
    open_page(page, server_url, "/pool", "?present=1")
    target = tmp_path / "view.png"
    export(page, "png").save_as(target)
    assert png_size(target) == SHEET


def test_svg_export_has_the_sheet_size_the_map_image_and_the_step(
    page: Page, server_url: str, tmp_path: Path
) -> None:
    open_conv(page, server_url)
    press(page, "ArrowRight")
    target = tmp_path / "view.svg"
    export(page, "svg").save_as(target)
    svg = target.read_text()
    head = re.match(r"<svg [^>]*>", svg)
    assert head, "the file does not start with an <svg> element"
    assert f'width="{SHEET[0]}"' in head.group(0) and f'height="{SHEET[1]}"' in head.group(0)
    assert re.search(r'<svg [^>]*><image [^>]*href="data:image/png;base64,', svg), "no map image"
    assert "Output of filter 1" in svg  # an on-screen map's Plotly frame, as vector text
    assert "step 2 of 1024" in svg


def test_webm_export_records_the_step_through(page: Page, server_url: str, tmp_path: Path) -> None:
    open_conv(page, server_url, query_for(state(stride=[4, 4])))  # 8x8 = 64 steps
    page.select_option("#speed", "60")
    press(page, "ArrowRight", 3)
    target = tmp_path / "steps.webm"
    download = export(page, "webm", timeout=90_000)
    download.save_as(target)
    data = target.read_bytes()
    assert data[:4] == b"\x1a\x45\xdf\xa3", "not a WebM (EBML) file"
    assert len(data) > 20_000
    assert step_number(page) == 4  # the page is back on its step
    assert text(page, "#classroom-status").startswith("Video saved")
