"""The convolution-family page in a real browser: each variant drawn with the engine's numbers."""

from __future__ import annotations

import re

import numpy as np
from playwright.sync_api import BrowserContext, Page

from layerlab.app.pages.family.request import channel_stack, grouped_layer, residual_args, tiled_args
from layerlab.app.pages.family.schemas import GroupedRequest, ResidualRequest, TiledRequest
from layerlab.engine.conv import conv2d
from layerlab.engine.grouped import channel_shuffle, conv1d
from layerlab.engine.images import sample_image
from layerlab.engine.transposed import conv_transpose2d, conv_transpose2d_as_conv
from layerlab.engine.variants import flattened_conv2d, residual_block, tiled_conv2d
from tests.browser.conftest import BrowserLog
from tests.browser.helpers import assert_map, blur, factor, fmt, idle, map_values, map_view, text

SIGNAL = [0, 0, 1, 2, 4, 4, 4, 3, 1, 0]
WORKED_OUTPUT = [[1, 1, 3, 2, 2], [1, 1, 3, 2, 2], [4, 4, 10, 6, 6], [3, 3, 7, 4, 4], [3, 3, 7, 4, 4]]


def open_family(page: Page, base_url: str, query: str = "") -> None:
    """Open /family (with a query string) and wait until the first answer is drawn."""
    page.goto(f"{base_url}/family{query}")
    page.wait_for_function(
        "() => window.__layerlab && document.getElementById('torch-line').textContent !== ''", timeout=20_000
    )
    idle(page)


def url_written(page: Page, fragment: str) -> None:
    """Wait for the page to write `fragment` into its URL (it does so 150 ms after a change)."""
    page.wait_for_function("(f) => decodeURIComponent(window.location.search).includes(f)", arg=fragment)


def again_query(page: Page) -> str:
    """The query string of the page's current URL, as a copied link carries it."""
    return page.url.split("?", 1)[1]


def lines(page: Page, svg: str) -> list[tuple[int, int]]:
    """(from, to) of every line an SVG link diagram drew."""
    drawn = page.evaluate(
        "(id) => [...document.querySelectorAll(`#${id} line`)].map((l) => [+l.dataset.from, +l.dataset.to])",
        svg,
    )
    return [tuple(pair) for pair in drawn]


def stack(page: Page, prefix: str, channels: int) -> np.ndarray:
    return np.stack([map_values(page, f"{prefix}-{c}") for c in range(channels)])


def test_1d_steps_through_seed_002s_derivative(page: Page, server_url: str) -> None:
    open_family(page, server_url)
    assert page.locator('#variant-tabs button[aria-selected="true"]').inner_text() == "1-D"
    x, w = np.array([SIGNAL], float), np.array([[[-1.0, 1.0]]])
    assert_map(page, "od-output", conv1d(x, w).output)
    assert text(page, "#torch-line") == "nn.Conv1d(1, 1, kernel_size=2, bias=False)"

    page.fill("#od-padding", "1")  # as a user types it: the view redraws, no submit button
    idle(page)
    trace = conv1d(x, w, padding=1)
    assert_map(page, "od-output", trace.output)
    assert text(page, "#step-label").startswith("step 1 of 11")
    blur(page)
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    idle(page)
    step = trace.step(4)
    assert text(page, "#step-label").startswith("step 5 of 11: output [4]")
    assert map_view(page, "od-padded")["highlights"][0]["cols"] == step["positions"].tolist()
    np.testing.assert_allclose(map_values(page, "od-products")[0], step["products"][0])
    terms = " + ".join(f"{factor(k)}·{factor(v)}" for k, v in zip([-1, 1], step["window"][0], strict=True))
    assert text(page, "#od-equation") == f"y[4] = {terms} = {fmt(step['result'])}"
    assert map_view(page, "od-output")["filled"] == 5

    page.fill("#od-kernel", "1, -2, 1")
    idle(page)
    assert_map(page, "od-output", conv1d(x, np.array([[[1.0, -2, 1]]]), padding=1).output)
    page.fill("#od-kernel", "1, oops")
    assert page.locator("#od-kernel.invalid").count() == 1  # not sent; the last good view stays
    assert text(page, "#status") == ""


def test_transposed_readings_step_together_and_reload_from_the_url(
    page: Page, context: BrowserContext, server_url: str
) -> None:
    open_family(page, server_url, "?variant=transposed")
    page.click("#tr-example")
    idle(page)
    x, w = np.array([[[1.0, 2], [3, 4]]]), np.ones((1, 1, 3, 3))
    scatter, gather = conv_transpose2d(x, w, stride=2), conv_transpose2d_as_conv(x, w, stride=2)
    assert text(page, "#torch-line") == "nn.ConvTranspose2d(1, 1, kernel_size=3, stride=2, bias=False)"
    assert "largest difference between them is 0" in text(page, "#tr-same")

    blur(page)
    page.keyboard.press("End")
    idle(page)
    assert text(page, "#step-label").startswith("step 25 of 25: scatter step 4 of 4, gather step 25 of 25")
    np.testing.assert_array_equal(map_values(page, "tr-scatter"), WORKED_OUTPUT)
    np.testing.assert_array_equal(map_values(page, "tr-gather"), WORKED_OUTPUT)
    assert map_view(page, "tr-gather")["filled"] == 25

    page.keyboard.press("Home")
    for _ in range(7):
        page.keyboard.press("ArrowRight")
    idle(page)
    # joint step 8 of 25 shows scatter step ceil(8 * 4 / 25) = 2 and gather step 8
    assert text(page, "#step-label").startswith("step 8 of 25: scatter step 2 of 4, gather step 8 of 25")
    first_two = np.array([[[1.0, 2], [0, 0]]])
    assert_map(page, "tr-scatter", conv_transpose2d(first_two, w, stride=2).output[0])
    assert_map(page, "tr-stamp", scatter.steps["stamp"][1, 0])
    highlight = map_view(page, "tr-scatter")["highlights"][0]
    assert (highlight["rows"], highlight["cols"]) == ([0, 1, 2], [2, 3, 4])
    g = gather.steps
    window = map_view(page, "tr-padded")["highlights"][0]
    assert (window["rows"], window["cols"]) == (g["rows"][7].tolist(), g["cols"][7].tolist())
    assert text(page, "#tr-gather-text").endswith(f"= {fmt(g['result'][7])}")
    assert map_view(page, "tr-gather")["filled"] == 8

    page.fill("#tr-padding", "1")
    page.fill("#tr-output-padding", "1")
    idle(page)
    expected = conv_transpose2d(x, w, stride=2, padding=1, output_padding=1).output[0]
    url_written(page, "output_padding=1")
    blur(page)
    page.keyboard.press("End")
    idle(page)
    assert_map(page, "tr-scatter", expected)
    assert_map(page, "tr-gather", expected)
    page.keyboard.press("ArrowLeft")
    idle(page)
    shown = int(re.match(r"step (\d+)", text(page, "#step-label")).group(1))
    url_written(page, f"step={shown - 1}")

    again = context.new_page()
    open_family(again, server_url, "?" + again_query(page))
    for map_id in ("tr-input", "tr-stamp", "tr-scatter", "tr-padded", "tr-flipped", "tr-gather"):
        np.testing.assert_array_equal(map_values(again, map_id), map_values(page, map_id), err_msg=map_id)
    assert text(again, "#step-label") == text(page, "#step-label")
    assert again.locator("#tr-output-padding").input_value() == "1"


def test_grouped_modes_redraw_links_and_costs(page: Page, server_url: str, browser_log: BrowserLog) -> None:
    browser_log.allow(r"status of 422")  # groups 3 below is refused on purpose
    open_family(page, server_url, "?variant=grouped")
    assert len(lines(page, "gr-links-0")) == 4 * 8 // 2  # each output sees the 2 channels of its group
    assert (text(page, "#gr-params"), text(page, "#gr-std-params")) == ("144", "288")
    layer = grouped_layer(GroupedRequest())
    maps = conv2d(layer["x"], layer["weight"], padding="same", groups=2, record_steps=False).output
    np.testing.assert_allclose(stack(page, "gr-out", 8), maps, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(stack(page, "gr-in", 4), channel_stack(16, 4)[0], rtol=1e-5, atol=1e-6)

    page.select_option("#gr-mode", "depthwise")
    idle(page)
    assert sorted(lines(page, "gr-links-0")) == [(o // 2, o) for o in range(8)]
    assert (text(page, "#gr-params"), text(page, "#gr-macs")) == ("72", f"{8 * 16 * 16 * 9:,}")
    assert text(page, "#gr-ratio").startswith("A standard convolution of the same shape needs 4×")

    page.select_option("#gr-mode", "separable")
    page.select_option("#gr-out", "6")
    idle(page)
    assert page.locator("#gr-middle-column").is_visible()
    assert len(lines(page, "gr-links-0")) == 4 and len(lines(page, "gr-links-1")) == 4 * 6
    assert text(page, "#gr-params") == str(4 * 9 + 6 * 4)
    layer = grouped_layer(GroupedRequest(mode="separable", out_channels=6))
    middle = conv2d(layer["x"], layer["depthwise"], padding="same", groups=4, record_steps=False).output
    np.testing.assert_allclose(stack(page, "gr-mid", 4), middle, rtol=1e-5, atol=1e-5)
    url_written(page, "mode=separable")
    assert "out_channels=6" in page.url

    page.select_option("#gr-mode", "grouped")
    page.select_option("#gr-groups", "3")  # does not divide 4 and 6: refused, named, nothing redrawn
    idle(page)
    assert "groups" in text(page, "#status") and "divide" in text(page, "#status")


def test_shuffle_lines_follow_the_engines_permutation(page: Page, server_url: str) -> None:
    open_family(page, server_url, "?variant=shuffle&channels=6&groups=2")
    x = channel_stack(16, 6)[0]
    shuffled = channel_shuffle(x[None], 2)
    assert sorted(lines(page, "sh-links"), key=lambda p: p[1]) == [
        (int(src), k) for k, src in enumerate(shuffled.params["permutation"])
    ]
    np.testing.assert_allclose(stack(page, "sh-out", 6), shuffled.output[0], rtol=1e-5, atol=1e-6)
    assert map_view(page, "sh-out-1")["title"] == "1: luma"

    page.select_option("#sh-groups", "3")
    idle(page)
    assert sorted(lines(page, "sh-links"), key=lambda p: p[1]) == list(
        zip([0, 2, 4, 1, 3, 5], range(6), strict=True)
    )
    assert text(page, "#torch-line") == "nn.ChannelShuffle(3)"


def test_tiled_shows_which_kernel_each_output_uses(
    page: Page, context: BrowserContext, server_url: str
) -> None:
    open_family(page, server_url, "?variant=tiled")
    x, w, kwargs = tiled_args(TiledRequest())
    trace = tiled_conv2d(x, w, **kwargs)
    index = trace.stages["tile_index"]
    np.testing.assert_array_equal(map_values(page, "ti-tile"), index[..., 0] * 2 + index[..., 1])
    assert_map(page, "ti-output", trace.output[0])
    assert (
        text(page, "#ti-counts")
        == "36 parameters in this tiled layer; a plain convolution with one 3×3 kernel has 9."
    )

    page.fill('#ti-editor input[data-cell="3,1,1"]', "9")  # kernel 3, the tile's bottom-right position
    idle(page)
    w = w.copy()
    w[1, 1, 0, 0, 1, 1] = 9
    assert_map(page, "ti-output", tiled_conv2d(x, w, **kwargs).output[0])
    url_written(page, "weight=[[[[")
    again = context.new_page()  # the edited kernel travels in the link
    open_family(again, server_url, "?" + again_query(page))
    for map_id in ("ti-input", "ti-tile", "ti-output"):
        np.testing.assert_array_equal(map_values(again, map_id), map_values(page, map_id), err_msg=map_id)
    assert again.locator('#ti-editor input[data-cell="3,1,1"]').input_value() == "9"
    again.close()

    page.select_option("#ti-cols", "3")
    idle(page)
    assert text(page, "#ti-counts").startswith("54 parameters")
    x, w, kwargs = tiled_args(TiledRequest(tile=(2, 3)))
    assert_map(page, "ti-output", tiled_conv2d(x, w, **kwargs).output[0])


def test_flattened_passes_and_operation_counts(page: Page, server_url: str) -> None:
    open_family(page, server_url, "?variant=flattened")
    x = sample_image("scene", 16, "rgb")
    weights = {
        "channel_weight": [[0.3, 0.6, 0.1]],
        "vertical_weight": [[1, 2, 1]],
        "horizontal_weight": [[-1, 0, 1]],
    }
    trace = flattened_conv2d(x, **{k: np.array(v, float) for k, v in weights.items()}, padding=1)
    assert_map(page, "fl-after-channel", trace.stages["after_channel"][0])
    assert_map(page, "fl-after-vertical", trace.stages["after_vertical"][0])
    assert_map(page, "fl-output", trace.output[0])
    assert_map(page, "fl-full-output", trace.output[0])
    assert (
        text(page, "#fl-ops") == "2,304 multiplications per output map instead of 6,912 for the full kernel."
    )

    page.fill("#fl-horizontal", "1, 0, 0, -1")
    idle(page)
    weights["horizontal_weight"] = [[1, 0, 0, -1]]
    trace = flattened_conv2d(x, **{k: np.array(v, float) for k, v in weights.items()}, padding=1)
    assert_map(page, "fl-output", trace.output[0])
    assert re.match(r"[\d,]+ multiplications per output map instead of [\d,]+", text(page, "#fl-ops"))
    page.check('input[name="fl-color"][value="gray"]')
    idle(page)
    assert page.locator("#fl-channel").input_value() == "1"
    assert page.locator("#fl-input .mapview").count() == 1


def test_residual_block_maps_and_the_identity_at_scale_zero(page: Page, server_url: str) -> None:
    open_family(page, server_url, "?variant=residual")
    x, _, kwargs = residual_args(ResidualRequest())
    trace = residual_block(x, **kwargs)
    for stage in ("conv1", "relu1"):
        np.testing.assert_allclose(stack(page, f"re-{stage}", 2), trace.stages[stage], rtol=1e-5, atol=1e-5)
    for stage in ("conv2", "identity", "sum"):
        assert_map(page, f"re-{stage}-0", trace.stages[stage][0])
    assert_map(page, "re-output-0", trace.output[0])

    page.fill("#re-scale", "0")
    idle(page)
    assert_map(page, "re-output-0", x[0])
    assert_map(page, "re-sum-0", x[0])
    url_written(page, "scale=0")


def test_tabs_switch_variants_and_keep_their_settings(page: Page, server_url: str) -> None:
    open_family(page, server_url, "?variant=shuffle&channels=4&groups=4")
    page.click('#variant-tabs button[data-variant="transposed"]')
    idle(page)
    url_written(page, "variant=transposed")
    assert page.locator("#stepper-section").is_visible()
    np.testing.assert_array_equal(map_values(page, "tr-input"), [[1, 2], [3, 4]])
    page.click('#variant-tabs button[data-variant="shuffle"]')
    idle(page)
    assert not page.locator("#stepper-section").is_visible()
    assert len(lines(page, "sh-links")) == 4
    url_written(page, "groups=4")


LINE_ENDS = """(id) => { const svg = document.getElementById(id); const box = svg.getBoundingClientRect();
  return [...svg.querySelectorAll('line')].map((l) => ({ from: +l.dataset.from, to: +l.dataset.to,
    x1: box.left + +l.getAttribute('x1'), y1: box.top + +l.getAttribute('y1'),
    x2: box.left + +l.getAttribute('x2'), y2: box.top + +l.getAttribute('y2') })); }"""
BOXES = """(prefix) => Object.entries(window.__layerlab.maps).filter(([id]) => id.startsWith(prefix + '-'))
  .map(([id, m]) => { const b = m.el.getBoundingClientRect(), c = m.canvas.getBoundingClientRect();
    return { c: +id.slice(prefix.length + 1), top: b.top, bottom: b.bottom, left: c.left, right: c.right }; })
  .sort((a, b) => a.c - b.c)"""


def assert_lines_meet(page: Page, svg: str, source: str, target: str) -> None:
    """Every line of `svg` starts on its source map's bottom edge and ends on its target map's top
    edge (within 2 px), over the maps' cells; the maps of each row stand on one line."""
    ends = page.evaluate(LINE_ENDS, svg)
    sources, targets = page.evaluate(BOXES, source), page.evaluate(BOXES, target)
    assert ends
    for row in (sources, targets):
        assert max(m["top"] for m in row) - min(m["top"] for m in row) <= 1  # aligned, no staircase
        assert all(a["right"] < b["left"] for a, b in zip(row, row[1:], strict=False))  # side by side
    for e in ends:
        a, b = sources[e["from"]], targets[e["to"]]
        assert abs(e["y1"] - a["bottom"]) <= 2 and a["left"] <= e["x1"] <= a["right"], e
        assert abs(e["y2"] - b["top"]) <= 2 and b["left"] <= e["x2"] <= b["right"], e


def test_grouped_lines_meet_their_maps_in_every_view(page: Page, server_url: str) -> None:
    for size, query in (((1280, 720), "&present=1"), ((390, 844), ""), ((1440, 900), "")):
        page.set_viewport_size({"width": size[0], "height": size[1]})
        open_family(page, server_url, "?variant=grouped" + query)
        assert_lines_meet(page, "gr-links-0", "gr-in", "gr-out")
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= size[0], f"sideways scroll at {size}"
    page.select_option("#gr-mode", "separable")
    idle(page)
    assert_lines_meet(page, "gr-links-0", "gr-in", "gr-mid")
    assert_lines_meet(page, "gr-links-1", "gr-mid", "gr-out")


def drawn_size(page: Page, map_id: str) -> dict:
    """A map's shape, its cell size in px and what its last paint used (MapView.drawn)."""
    return page.evaluate(
        "(id) => { const m = window.__layerlab.maps[id];"
        " return { rows: m.rows, cell: m.cell, drawn: m.drawn }; }",
        map_id,
    )


def test_presenter_compositions_fill_the_screen(page: Page, server_url: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 720})
    open_family(page, server_url, "?variant=residual&present=1")
    sides = page.evaluate(
        "() => Object.entries(window.__layerlab.maps).filter(([id]) => id.startsWith('re-'))"
        ".map(([, m]) => m.rows * m.cell)"
    )
    assert min(sides) >= 80  # residual stages as big as two lines on one screen allow (were 64 px)
    bottom = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('#re-figure .mapview')]"
        ".map((el) => el.getBoundingClientRect().bottom))"
    )
    assert bottom <= 720

    open_family(page, server_url, "?variant=tiled&present=1")
    tile = drawn_size(page, "ti-tile")
    assert tile["rows"] * tile["cell"] >= 360  # the map of kernels is the figure
    box = page.locator("#ti-views").bounding_box()
    assert box["y"] + box["height"] <= 720

    page.set_viewport_size({"width": 1440, "height": 900})
    open_family(page, server_url, "?variant=tiled")
    assert drawn_size(page, "ti-tile")["drawn"]["fontPx"] >= 9  # its kernel numbers are written on it

    open_family(page, server_url)  # 1-D: the four rows share one cell size as wide as fits
    cells = {drawn_size(page, m)["cell"] for m in ("od-padded", "od-kernel-map", "od-products", "od-output")}
    assert len(cells) == 1 and cells.pop() >= 40
