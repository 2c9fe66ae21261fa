"""The conv page's step on one screen: in presenter view at 1280x720 the stepper, the padded input with its
window, the kernel, the products, the sum and the output all lie in the viewport at useful sizes, and are
sized again when the view or the window changes; a 1-D input gets seed 002's line chart of the signal and
its derivative, a colour input a colour picture, and only the settings that apply are shown."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from playwright.sync_api import Browser, Page

from layerlab.engine.conv import conv2d
from layerlab.engine.images import sample_image
from layerlab.engine.kernels import PRESETS
from tests.browser.conftest import BrowserLog, guarded_context
from tests.browser.helpers import idle, map_view, open_conv, query_for, state
from tests.browser.test_step_fit import parts_outside

STEP_PARTS = {"stepper", "input", "kernel", "products", "equation", "output"}
EDGE = PRESETS["edge"].weights.tolist()
SEVEN = np.ones((7, 7)).tolist()
SIGNAL = state(image="seed002_signal", weight=[[[[-1.0, 1.0]]]], padding=[0, 1])


@pytest.fixture
def small(browser: Browser, browser_log: BrowserLog) -> Iterator[Page]:
    """A page in a 1280x720 window, a projector's."""
    with guarded_context(browser, browser_log, viewport={"width": 1280, "height": 720}) as ctx:
        yield ctx.new_page()


def drawn_side(page: Page, map_id: str) -> float:
    """The on-screen length of a map's longer side of cells, in px."""
    return page.evaluate(
        "(id) => { const b = window.__layerlab.maps[id].overlay.getBoundingClientRect();"
        " return Math.max(b.width, b.height); }",
        map_id,
    )


def boxes_overlap(page: Page) -> list[tuple[str, str]]:
    """Pairs of step parts whose boxes overlap."""
    parts = page.evaluate(
        """() => [...document.querySelectorAll('[data-step-part]')].map((el) => {
            const b = el.getBoundingClientRect();
            return [el.dataset.stepPart, b.left, b.top, b.right, b.bottom]; })"""
    )
    return [
        (a[0], b[0])
        for i, a in enumerate(parts)
        for b in parts[i + 1 :]
        if a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5 and a[2] < b[4] - 0.5 and b[2] < a[4] - 0.5
    ]


def assert_one_screen(page: Page) -> None:
    parts, outside = parts_outside(page)
    assert {p["name"] for p in parts} == STEP_PARTS
    assert not outside, "parts of the step off screen:\n" + "\n".join(outside)
    assert page.evaluate("() => window.scrollY") == 0
    assert not boxes_overlap(page)


def test_presenter_view_shows_the_whole_step_at_1280x720_big(small: Page, server_url: str) -> None:
    open_conv(small, server_url, "?present=1")
    assert_one_screen(small)
    assert drawn_side(small, "inputs-0") >= 300
    assert drawn_side(small, "step-output") >= 200
    for map_id in ("kernels-0", "products-0"):
        kernel = map_view(small, map_id)
        assert kernel["rows"] == 3
        # big enough for its numbers, in presenter view's bold type
        assert small.evaluate("(id) => window.__layerlab.maps[id].drawn.fontPx", map_id) >= 13, map_id
    under = small.locator("#equation").bounding_box()["y"] > small.locator("#input-views").bounding_box()["y"]
    assert under, "the sum is written under the maps"

    # the feature maps of every filter and the explanation are below the fold
    assert small.locator("#maps").bounding_box()["y"] >= 720
    assert small.locator("section[aria-label='How it works']").bounding_box()["y"] > 720


def test_the_step_is_sized_again_for_the_view_and_the_window(small: Page, server_url: str) -> None:
    open_conv(small, server_url, "?present=1")
    presenter = drawn_side(small, "inputs-0")
    small.keyboard.press("p")  # normal view: smaller type, more room for the maps
    idle(small)
    assert_one_screen(small)
    normal = drawn_side(small, "inputs-0")
    assert normal > presenter

    small.set_viewport_size({"width": 1440, "height": 900})
    idle(small)
    assert_one_screen(small)
    assert drawn_side(small, "inputs-0") > normal

    small.set_viewport_size({"width": 1280, "height": 720})
    small.keyboard.press("p")
    idle(small)
    assert_one_screen(small)
    assert drawn_side(small, "inputs-0") == presenter


# other shapes, with the least each input and kernel map must measure (px along its longer side):
# three channels share the room six ways, so their maps are smaller
SHAPES = {
    "rgb": (state(color="rgb", weight=[[EDGE] * 3]), 90, 25),
    "7x7, 8 filters": (state(weight=[[SEVEN]] * 8, bias=[0] * 8, padding=[3, 3]), 250, 80),
    "rgb 7x7, 8 filters": (
        state(color="rgb", weight=[[SEVEN] * 3] * 8, bias=[0] * 8, padding=[3, 3]),
        80,
        40,
    ),
    "1-D signal": (SIGNAL, 300, 80),
}


@pytest.mark.parametrize("name", SHAPES)
def test_other_shapes_fit_the_presenter_screen_too(small: Page, server_url: str, name: str) -> None:
    s, least_input, least_kernel = SHAPES[name]
    open_conv(small, server_url, query_for(s) + "&present=1")
    assert_one_screen(small)
    for ch in range(len(s["weight"][0])):
        assert drawn_side(small, f"inputs-{ch}") >= least_input, f"{name}: input {ch}"
        assert drawn_side(small, f"kernels-{ch}") >= least_kernel, f"{name}: kernel {ch}"


def test_a_1d_input_draws_the_signal_and_its_derivative_as_two_lines(page: Page, server_url: str) -> None:
    open_conv(page, server_url)
    assert page.locator("#signal-plot").is_hidden(), "a 2-D image has no line chart"
    page.click('#examples button[data-example="seed002_derivative"]')
    idle(page)
    chart = page.locator("#signal-plot")
    assert chart.is_visible()

    x = sample_image("seed002_signal")  # (1, 1, 10)
    derivative = conv2d(x, np.array([[[[-1.0, 1.0]]]]), padding=(0, 1)).output[0, 0]  # (11,)
    traces = page.evaluate(
        "() => document.getElementById('signal-plot').data"
        ".map((t) => ({ name: t.name, x: t.x, y: t.y, mode: t.mode }))"
    )
    assert len(traces) == 2
    signal, output = traces
    np.testing.assert_allclose(signal["y"], x[0, 0])
    np.testing.assert_allclose(output["y"], derivative)
    assert signal["x"] == list(range(10)) and output["x"] == list(range(11))
    assert all(t["mode"] == "lines+markers" for t in traces)
    assert page.evaluate("() => document.getElementById('signal-plot')._fullLayout.showlegend")
    legend = page.locator("#signal-plot g.legend").text_content()
    assert "signal" in legend and "output" in legend
    # seed 002's picture: the output climbs where the signal climbs and falls where it falls
    assert list(derivative[:10]) == list(np.diff(x[0, 0], prepend=0))

    page.select_option("#image", "scene")
    idle(page)
    assert chart.is_hidden()


def test_a_colour_input_is_drawn_as_a_colour_picture_beside_its_channels(page: Page, server_url: str) -> None:
    open_conv(page, server_url)
    assert page.locator("#rgb-canvas").count() == 0 or page.locator("#rgb-canvas").is_hidden()
    page.check('input[name="color"][value="rgb"]')
    idle(page)
    canvas = page.locator("#rgb-canvas")
    assert canvas.is_visible()
    width, height, data = page.evaluate(
        "() => { const c = document.getElementById('rgb-canvas'); const g = c.getContext('2d');"
        " return [c.width, c.height, Array.from(g.getImageData(0, 0, c.width, c.height).data)]; }"
    )
    assert (width, height) == (32, 32), "one canvas pixel per input pixel"
    rgba = np.array(data, dtype=np.float64).reshape(32, 32, 4)
    expected = np.clip(sample_image("scene", 32, "rgb"), 0, 1).transpose(1, 2, 0) * 255  # (H, W, RGB)
    assert np.abs(rgba[..., :3] - expected).max() <= 0.5 + 1e-9
    assert (rgba[..., 3] == 255).all()

    # beside the three channel grids, at their scale: one input pixel is one cell
    box = canvas.bounding_box()
    assert map_view(page, "inputs-0")["cols"] == 34  # the padded channel
    cell = page.evaluate("() => window.__layerlab.maps['inputs-0'].cell")
    assert box["width"] == pytest.approx(32 * cell, abs=1)
    group = page.locator("#input-views").bounding_box()
    assert group["x"] <= box["x"] and box["x"] + box["width"] <= group["x"] + group["width"] + 0.5
    for ch in range(3):
        other = page.locator(f"#input-views .mapview >> nth={ch}").bounding_box()
        apart = box["x"] >= other["x"] + other["width"] or box["y"] >= other["y"] + other["height"]
        apart = apart or other["x"] >= box["x"] + box["width"] or other["y"] >= box["y"] + box["height"]
        assert apart, f"the colour picture covers channel {ch}"

    page.check('input[name="color"][value="gray"]')
    idle(page)
    assert canvas.is_hidden()


def test_only_the_settings_that_apply_are_shown(page: Page, server_url: str) -> None:
    open_conv(page, server_url)
    size, mode = page.locator("#size-field"), page.locator("#padding-mode-field")
    assert size.is_visible() and mode.is_visible()

    page.click('#examples button[data-example="seed002_derivative"]')
    idle(page)
    assert size.is_hidden(), "seed 002's signal keeps its own length: the size does not apply"
    assert mode.is_visible(), "it is padded by (0, 1)"

    for image, sized in [("seed002_matrix", False), ("digit", True), ("seed002_signal", False)]:
        page.select_option("#image", image)
        idle(page)
        assert size.is_visible() == sized, image

    page.select_option("#padding-kind", "valid")
    idle(page)
    assert mode.is_hidden(), "no padding, no padding mode"
    page.select_option("#padding-kind", "amount")
    for field, value, padded in [("#pad-h", "0", True), ("#pad-w", "0", False), ("#pad-w", "2", True)]:
        page.fill(field, value)
        idle(page)
        assert mode.is_visible() == padded, f"{field} = {value}"
