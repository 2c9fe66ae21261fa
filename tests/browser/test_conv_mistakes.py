"""Mistakes get words on the conv page: a field that is not a number is marked and named, nothing is
computed with an old value meanwhile and no old picture stays beside the message; a setting the
server refuses clears the maps beside its message; a hand-written link opens with what it gives
and a note naming what it could not use. Also the kernel editor's room and the preset menu."""

from __future__ import annotations

from urllib.parse import quote

import numpy as np
import pytest
from playwright.sync_api import Browser, Page

from layerlab.engine.kernels import PRESETS
from tests.browser.conftest import BrowserLog, guarded_context, open_settled
from tests.browser.helpers import (
    DEFAULT_STATE,
    assert_map,
    blur,
    engine_maps,
    idle,
    map_view,
    open_conv,
    state,
    text,
)

CELL = '#kernel-editor input[data-cell="{}"]'
STEP_PICTURES = ["input-views", "kernel-views", "product-views", "output-view"]


def live_requests(page: Page) -> list[str]:
    """The bodies of the /api/conv/live requests the page sends from now on."""
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.post_data or "") if r.url.endswith("/api/conv/live") else None)
    return sent


def is_stale(page: Page, selector: str) -> bool:
    return page.locator(selector).first.evaluate(
        "(el) => el.classList.contains('stale') && !!el.dataset.stale"
    )


def assert_no_old_picture(page: Page, old: np.ndarray) -> None:
    """Map 0 is cleared (no value of the old settings left) and marked stale, and so is the step-through."""
    view = map_view(page, "map-0")
    assert view["filled"] == 0
    assert np.isnan(view["values"]).all(), "the old feature map's values are still on the page"
    assert not np.allclose(np.nan_to_num(view["values"], nan=1e9), old)
    assert is_stale(page, "#maps .map-card")
    for el in STEP_PICTURES:
        assert is_stale(page, f"#{el}"), el


def assert_marked(page: Page, selector: str) -> None:
    field = page.locator(selector)
    assert "invalid" in (field.get_attribute("class") or "")
    assert field.get_attribute("aria-invalid") == "true"


def assert_fresh(page: Page, expected: np.ndarray) -> None:
    assert text(page, "#status") == ""
    assert_map(page, "map-0", expected)
    assert not is_stale(page, "#maps .map-card")
    for el in STEP_PICTURES:
        assert not is_stale(page, f"#{el}"), el


def test_an_emptied_kernel_cell_is_named_and_no_old_value_is_summed(page: Page, server_url: str) -> None:
    open_conv(page, server_url)
    old = map_view(page, "map-0")["values"]
    sent = live_requests(page)
    page.fill(CELL.format("0,1,2"), "")
    idle(page)
    assert text(page, "#status") == "Kernel cell [1, 2] of filter 1 is empty."
    assert_marked(page, CELL.format("0,1,2"))
    assert_no_old_picture(page, old)
    assert sent == [], "the page computed with the emptied cell's old value"

    page.fill(CELL.format("0,1,2"), "abc")
    idle(page)
    assert text(page, "#status") == 'Kernel cell [1, 2] of filter 1 is not a number: "abc".'
    assert_no_old_picture(page, old)

    page.fill(CELL.format("0,1,2"), "2")
    idle(page)
    weight = PRESETS["edge"].weights.tolist()
    weight[1][2] = 2.0
    assert_fresh(page, engine_maps(state(weight=[[weight]]))[0])
    assert page.locator(CELL.format("0,1,2")).get_attribute("aria-invalid") is None


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("#stride-h", "abc", 'Stride (rows) is not a number: "abc".'),
        ("#stride-w", "1.5", 'Stride (columns) is not a whole number: "1.5".'),
        ("#dil-h", "0", "Dilation (rows) must be at least 1."),
        ("#pad-w", "x", 'Padding (columns) is not a number: "x".'),
        ("#bias", "", "The bias of filter 1 is empty."),
    ],
)
def test_a_field_that_is_not_a_number_is_named_not_read_as_a_default(
    page: Page, server_url: str, field: str, typed: str, message: str
) -> None:
    open_conv(page, server_url)
    old = map_view(page, "map-0")["values"]
    sent = live_requests(page)
    page.fill(field, typed)
    idle(page)
    assert text(page, "#status") == message
    assert page.locator(field).input_value() == typed, "the field must keep what was typed"
    assert_marked(page, field)
    assert_no_old_picture(page, old)
    assert sent == [], f"{field} = {typed!r} was computed with a stand-in value"

    page.fill(field, "2" if field != "#bias" else "0.5")
    idle(page)
    changed = {
        "#stride-h": {"stride": [2, 1]},
        "#stride-w": {"stride": [1, 2]},
        "#dil-h": {"dilation": [2, 1]},
        "#pad-w": {"padding": [1, 2]},
        "#bias": {"bias": [0.5]},
    }[field]
    assert_fresh(page, engine_maps(state(**changed))[0])


def test_two_mistakes_are_both_named_and_fixing_one_keeps_the_other(page: Page, server_url: str) -> None:
    open_conv(page, server_url)
    page.fill(CELL.format("0,0,0"), "")
    page.fill("#stride-h", "two")
    idle(page)
    assert text(page, "#status") == (
        'Kernel cell [0, 0] of filter 1 is empty. Stride (rows) is not a number: "two".'
    )
    page.fill("#stride-h", "1")
    idle(page)
    assert text(page, "#status") == "Kernel cell [0, 0] of filter 1 is empty."
    assert is_stale(page, "#maps .map-card")


def test_a_stride_the_server_refuses_shows_its_message_and_clears_the_old_maps(
    page: Page, server_url: str, browser_log: BrowserLog
) -> None:
    browser_log.allow(r"status of 422")  # stride 100 is refused by the server on purpose
    open_conv(page, server_url)
    old = map_view(page, "map-0")["values"]
    page.fill("#stride-h", "100")
    idle(page)
    status = text(page, "#status")
    assert "stride" in status.lower() and "8" in status, status  # the server's words, with its limit
    assert_no_old_picture(page, old)
    assert page.locator("#stride-h").get_attribute("aria-invalid") is None  # a number, refused by the server

    page.fill("#stride-h", "1")
    idle(page)
    assert_fresh(page, engine_maps(DEFAULT_STATE)[0])


# ---- hand-written links ------------------------------------------------------------------------


def link_note(page: Page) -> str:
    note = page.locator("#link-note")
    return note.inner_text().strip() if note.count() else ""


def test_a_link_with_only_an_image_opens_that_image(page: Page, server_url: str) -> None:
    open_conv(page, server_url, "?image=checkerboard")
    assert page.locator("#image").input_value() == "checkerboard"
    assert_map(page, "map-0", engine_maps(state(image="checkerboard"))[0])
    assert link_note(page) == ""


def test_a_link_with_only_a_size_opens_that_size(page: Page, server_url: str) -> None:
    open_conv(page, server_url, "?size=64")
    assert page.locator("#size").input_value() == "64"
    assert (map_view(page, "map-0")["rows"], map_view(page, "map-0")["cols"]) == (64, 64)
    assert_map(page, "map-0", engine_maps(state(size=64))[0])
    assert link_note(page) == ""


def test_a_link_with_letters_for_stride_names_them_and_applies_the_rest(page: Page, server_url: str) -> None:
    open_conv(page, server_url, "?image=gradient&stride=abc&relu=1")
    note = link_note(page)
    assert note.startswith("Ignored from the link: stride=abc (")
    assert "image" not in note and "relu" not in note
    assert page.locator("#image").input_value() == "gradient"
    assert page.locator("#relu").is_checked()
    assert page.locator("#stride-h").input_value() == "1"
    assert_map(page, "map-0", engine_maps(state(image="gradient", relu=True))[0])
    page.click("#link-note button")
    assert link_note(page) == ""


def test_a_link_names_each_value_it_cannot_use(page: Page, server_url: str) -> None:
    sobel = PRESETS["sobel_x"].weights.tolist()
    w = quote(str([[sobel]]).replace(" ", ""))
    open_conv(page, server_url, f"?size=60&w={w}&b=1,2&pad=same&sise=64&color=blue")
    note = link_note(page)
    for part in (
        "size=60 (sizes are 5 … 256)",
        "b=1,2 (expected 1 number, one per filter)",
        "sise=64",
        "color=blue",
    ):
        assert part in note, (part, note)
    assert_map(page, "map-0", engine_maps(state(weight=[[sobel]], padding="same"))[0])


def test_another_page_names_what_its_link_could_not_use(
    browser: Browser, browser_log: BrowserLog, server_url: str
) -> None:
    with guarded_context(browser, browser_log, viewport={"width": 1280, "height": 720}) as ctx:
        page = ctx.new_page()
        open_settled(page, f"{server_url}/pool?kind=avg&kernel_size=abc&ceil_mode=maybe")
        note = link_note(page)
        assert note.startswith("Ignored from the link: ")
        assert "kernel_size=abc" in note and "ceil_mode=maybe" in note and "kind" not in note
        assert page.locator('#kind-tabs [aria-selected="true"]').get_attribute("data-kind") == "avg"


# ---- the kernel editor and the preset menu ------------------------------------------------------


@pytest.mark.parametrize("presenter", [False, True], ids=["normal", "presenter"])
def test_a_7x7_kernel_fits_the_settings_without_scrolling(
    browser: Browser, browser_log: BrowserLog, server_url: str, presenter: bool
) -> None:
    with guarded_context(browser, browser_log, viewport={"width": 1280, "height": 720}) as ctx:
        page = ctx.new_page()
        open_conv(page, server_url, "?present=1" if presenter else "")
        if presenter:
            page.click(".controls-toggle")
        page.select_option("#kh", "7")
        page.select_option("#kw", "7")
        idle(page)
        assert page.locator("#kernel-editor input[data-cell]").count() == 49
        for selector in ("#kernel-editor", "#kernel-editor fieldset", "aside.controls"):
            sw, cw = page.locator(selector).first.evaluate("(el) => [el.scrollWidth, el.clientWidth]")
            assert sw <= cw, f"{selector} scrolls sideways: {sw} > {cw}"
        panel = page.locator("aside.controls").bounding_box()
        for box in page.locator("#kernel-editor input[data-cell]").evaluate_all(
            "(els) => els.map((el) => el.getBoundingClientRect().toJSON())"
        ):
            assert panel["x"] <= box["left"] and box["right"] <= panel["x"] + panel["width"]

        # every cell shows its whole text: nothing is cut
        cell = page.locator(CELL.format("0,3,3"))
        cell.fill("-0.00390625")
        blur(page)
        idle(page)
        shown = cell.input_value()
        assert shown != "-0.00390625" and abs(float(shown) + 0.00390625) < 0.0001, shown
        assert cell.get_attribute("title") == "-0.00390625"
        assert "rounded" in cell.get_attribute("class")
        cut = page.locator("#kernel-editor input[data-cell]").evaluate_all(
            "(els) => els.filter((el) => el.scrollWidth > el.clientWidth).map((el) => el.dataset.cell)"
        )
        assert cut == []
        cell.focus()
        assert cell.input_value() == "-0.00390625", "a focused cell shows its full value"


def test_the_preset_menu_shows_the_chosen_preset_and_custom_after_an_edit(
    page: Page, server_url: str
) -> None:
    open_conv(page, server_url)

    def shown() -> str:
        return page.locator("#preset option:checked").inner_text().strip()

    edge = next(o for o in page.locator("#preset option").all() if o.get_attribute("value") == "edge")
    assert page.locator("#preset").input_value() == "edge" and shown() == edge.inner_text().strip()
    page.select_option("#preset", "sobel_x")
    idle(page)
    assert page.locator("#preset").input_value() == "sobel_x"
    assert "Sobel" in shown()
    page.fill(CELL.format("0,0,0"), "3")
    idle(page)
    assert page.locator("#preset").input_value() == "" and shown() == "custom"
    page.fill(CELL.format("0,0,0"), "-1")  # back to Sobel's own number
    idle(page)
    assert page.locator("#preset").input_value() == "sobel_x"
