"""The conv page in a real browser: what it draws equals the engine's numbers for the same settings."""

from __future__ import annotations

import numpy as np
from PIL import Image
from playwright.sync_api import BrowserContext, Page

from layerlab.app.config import settings as S
from layerlab.app.inputs import fit
from layerlab.app.uploads import decode_image
from layerlab.engine.conv import output_size
from layerlab.engine.images import sample_image, to_color
from layerlab.engine.kernels import PRESETS
from tests.browser.conftest import BrowserLog
from tests.browser.helpers import (
    DEFAULT_STATE,
    assert_map,
    blur,
    burst,
    canvas_pixels,
    cell_point,
    engine_maps,
    engine_trace,
    equation,
    fmt,
    idle,
    js_number,
    kernel_inputs,
    map_values,
    map_view,
    open_conv,
    pixel,
    query_for,
    set_range,
    state,
    state_from_url,
    step_number,
    text,
)

CELL = '#kernel-editor input[data-cell="{}"]'


def test_default_map_is_the_engines_output_for_the_default_state(page: Page, server_url: str) -> None:
    open_conv(page, server_url)
    page.wait_for_function("() => window.location.search.includes('w=')")  # written after 150 ms
    assert state_from_url(page.url) == DEFAULT_STATE
    assert_map(page, "map-0", engine_maps(DEFAULT_STATE)[0])
    assert kernel_inputs(page) == {
        f"0,{r},{c}": js_number(v) for r, row in enumerate(PRESETS["edge"].weights) for c, v in enumerate(row)
    }
    assert text(page, "#status") == ""


def test_prewitt_example_draws_the_seed_matrix_edges(page: Page, server_url: str) -> None:
    open_conv(page, server_url)
    page.click('#examples button[data-example="seed002_prewitt"]')
    idle(page)
    expected = np.array([[0, 2, 2, 0, -2]] + [[0, 3, 3, 0, -3]] * 3 + [[0, 2, 2, 0, -2]], dtype=float)
    assert_map(page, "map-0", expected)
    s = state(image="seed002_matrix", weight=[[PRESETS["prewitt_x"].weights.tolist()]], padding="same")
    assert text(page, "#equation") == equation(engine_trace(s), 0)
    assert text(page, "#step-label").startswith("step 1 of 25")
    assert text(page, "#example-note") != ""
    assert text(page, "#torch-line") == "nn.Conv2d(1, 1, kernel_size=3, padding='same')"

    three, zero, minus_three = (
        pixel(page, "map-0", 1, 1),
        pixel(page, "map-0", 1, 0),
        pixel(page, "map-0", 1, 4),
    )
    assert three != zero
    assert three[0] > three[2], f"a positive cell should be red, got {three}"
    assert minus_three[2] > minus_three[0], f"a negative cell should be blue, got {minus_three}"


def test_preset_then_kernel_edit_redraws_with_the_engines_numbers(page: Page, server_url: str) -> None:
    open_conv(page, server_url)
    page.select_option("#preset", "sobel_x")
    idle(page)
    sobel = PRESETS["sobel_x"].weights.tolist()
    assert kernel_inputs(page) == {
        f"0,{r},{c}": js_number(v) for r, row in enumerate(sobel) for c, v in enumerate(row)
    }
    assert_map(page, "map-0", engine_maps(state(weight=[[sobel]]))[0])
    before = canvas_pixels(page, "map-0")

    page.fill(CELL.format("0,1,1"), "4")
    idle(page)
    sobel[1][1] = 4.0
    assert_map(page, "map-0", engine_maps(state(weight=[[sobel]]))[0])
    assert canvas_pixels(page, "map-0") != before


def test_rapid_kernel_edits_end_on_the_last_value(page: Page, server_url: str) -> None:
    open_conv(page, server_url)
    cell = page.locator(CELL.format("0,0,2"))
    for v in ["1.5", "-2", "7", "0.3", "-4.25", "9", "2", "-1", "6.5", "-3.5"]:
        cell.fill(v)
    idle(page)
    weight = PRESETS["edge"].weights.tolist()
    weight[0][2] = -3.5
    assert_map(page, "map-0", engine_maps(state(weight=[[weight]]))[0])
    # a burst of edits in one task: test_conv_live_path.py counts the live messages it sends


STEP_STATE = state(
    size=16, weight=[[PRESETS["sobel_x"].weights.tolist()]], stride=[2, 1], padding=[1, 2], dilation=[1, 2]
)


def test_stepping_shows_each_window_its_products_and_its_sum(page: Page, server_url: str) -> None:
    open_conv(page, server_url, query_for(STEP_STATE))
    trace = engine_trace(STEP_STATE)
    total = trace.num_steps
    assert step_number(page) == 1

    page.click('#stepper [data-act="next"]')
    blur(page)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    idle(page)
    assert text(page, "#step-label").startswith(f"step 4 of {total}: output [0, 3]")
    highlight = map_view(page, "inputs-0")["highlights"][0]
    assert highlight["rows"] == trace.steps["rows"][3].tolist()
    assert highlight["cols"] == trace.steps["cols"][3].tolist()
    np.testing.assert_allclose(map_values(page, "products-0"), trace.steps["products"][3][0], rtol=1e-5)
    assert text(page, "#equation") == equation(trace, 3)
    assert text(page, "#equation").endswith(f"= {fmt(trace.steps['result'][3])}")
    out = map_view(page, "step-output")
    assert out["filled"] == 4
    np.testing.assert_allclose(out["values"], trace.output[0], rtol=1e-5, atol=1e-5)

    set_range(page, "#scrub", total - 1)
    idle(page)
    assert step_number(page) == total
    assert text(page, "#equation") == equation(trace, total - 1)
    page.keyboard.press("Home")
    idle(page)
    assert step_number(page) == 1
    set_range(page, "#scrub", 40)
    page.keyboard.press("End")
    idle(page)
    assert text(page, "#step-label").startswith(f"step {total} of {total}")
    assert text(page, "#equation").endswith(f"= {fmt(trace.steps['result'][-1])}")

    page.keyboard.press("Home")
    page.select_option("#speed", "30")
    blur(page)
    page.keyboard.press(" ")
    page.wait_for_function(
        "() => /^step ([3-9]|\\d\\d+) of/.test(document.getElementById('step-label').textContent)"
    )
    assert text(page, "#play") == "Pause"
    page.keyboard.press(" ")
    paused_at = step_number(page)
    page.wait_for_timeout(400)
    assert step_number(page) == paused_at
    assert text(page, "#play") == "Play"
    assert paused_at < total


def test_a_long_trace_is_stepped_a_chunk_at_a_time(page: Page, server_url: str) -> None:
    s = state(size=128)  # 16384 steps: the server sends them in chunks
    open_conv(page, server_url, query_for(s))
    trace = engine_trace(s)
    set_range(page, "#scrub", 9000)  # a later chunk
    idle(page)
    assert step_number(page) == 9001
    assert text(page, "#equation") == equation(trace, 9000)
    blur(page)
    page.keyboard.press("End")  # the last chunk
    idle(page)
    assert text(page, "#step-label").startswith("step 16384 of 16384: output [127, 127]")
    assert text(page, "#equation") == equation(trace, 16383)
    page.keyboard.press("ArrowLeft")
    idle(page)
    assert text(page, "#equation") == equation(trace, 16382)


def test_clicking_a_feature_map_cell_jumps_to_its_step(page: Page, server_url: str) -> None:
    s = state(
        weight=[[PRESETS["edge"].weights.tolist()], [PRESETS["sobel_y"].weights.tolist()]], bias=[0, 0.5]
    )
    open_conv(page, server_url, query_for(s))
    cols = map_view(page, "map-1")["cols"]

    page.locator("#maps").scroll_into_view_if_needed()  # the feature maps are under the step
    page.mouse.move(*cell_point(page, "map-1", 2, 9))
    assert "[2, 9] = " + fmt(engine_maps(s)[1, 2, 9], 6) in text(page, "#tooltip")
    assert step_number(page) == 1, "hovering a feature map must not move the step"

    page.mouse.click(*cell_point(page, "map-1", 2, 9))
    idle(page)
    assert step_number(page) == 2 * cols + 9 + 1
    assert text(page, "#step-filter") == "2"
    assert text(page, "#equation") == equation(engine_trace(s, 1), 2 * cols + 9)
    # the step it jumped to is brought into view
    top = page.evaluate("() => document.querySelector('.step-compose').getBoundingClientRect().top")
    assert abs(top) <= 1

    page.locator("#maps").scroll_into_view_if_needed()
    page.mouse.click(*cell_point(page, "map-0", 5, 7))
    idle(page)
    assert step_number(page) == 5 * cols + 7 + 1
    assert text(page, "#step-filter") == "1"


def test_stride_padding_dilation_and_their_errors(
    page: Page, server_url: str, browser_log: BrowserLog
) -> None:
    browser_log.allow(r"status of 422")  # the invalid settings below are refused by the server on purpose
    open_conv(page, server_url)
    page.fill("#stride-h", "2")
    page.fill("#stride-w", "2")
    page.select_option("#padding-kind", "valid")
    page.fill("#dil-h", "2")
    page.fill("#dil-w", "2")
    idle(page)
    s = state(stride=[2, 2], padding="valid", dilation=[2, 2])
    side = (32 + 2 * 0 - 2 * (3 - 1) - 1) // 2 + 1
    view = map_view(page, "map-0")
    assert (view["rows"], view["cols"]) == (side, side) == (output_size(32, 0, 3, 2, 2),) * 2
    assert_map(page, "map-0", engine_maps(s)[0])

    page.select_option("#padding-kind", "amount")
    page.fill("#pad-h", "2")
    idle(page)
    s["padding"] = [2, 1]
    assert_map(page, "map-0", engine_maps(s)[0])
    page.select_option("#padding-mode", "reflect")
    idle(page)
    zeros = engine_maps(s)[0]
    s["padding_mode"] = "reflect"
    reflect = engine_maps(s)[0]
    assert not np.allclose(reflect, zeros)
    assert_map(page, "map-0", reflect)

    page.fill("#stride-h", "9")
    idle(page)
    assert "stride" in text(page, "#status")
    # no map of the previous settings stays beside the message: it is cleared and marked stale
    assert page.locator("#maps .map-card").first.evaluate("(el) => el.classList.contains('stale')")
    cleared = map_view(page, "map-0")
    assert cleared["filled"] == 0 and np.isnan(cleared["values"]).all()
    page.fill("#stride-h", "2")
    idle(page)
    assert text(page, "#status") == ""
    assert_map(page, "map-0", reflect)

    page.fill("#stride-h", "1")
    page.fill("#stride-w", "1")
    page.select_option("#padding-mode", "zeros")
    page.select_option("#image", "seed002_matrix")
    page.select_option("#padding-kind", "valid")
    page.fill("#dil-h", "4")
    idle(page)
    assert "dilation" in text(page, "#status")
    page.fill("#dil-h", "1")
    page.fill("#dil-w", "1")
    idle(page)
    assert text(page, "#status") == ""
    small = state(image="seed002_matrix", padding="valid")
    assert_map(page, "map-0", engine_maps(small)[0])


def test_an_error_from_an_overtaken_request_does_not_stay(
    page: Page, server_url: str, browser_log: BrowserLog
) -> None:
    browser_log.allow(r"status of 422")  # stride 9 is refused on purpose
    open_conv(page, server_url)
    burst(page, "#stride-h", ["9", "1"])  # the user types 9, then corrects it to 1 at once
    idle(page)
    assert text(page, "#status") == "", "the settings are valid again but the old error is still shown"
    assert_map(page, "map-0", engine_maps(DEFAULT_STATE)[0])


def test_rgb_has_three_channels_and_their_summed_map(page: Page, server_url: str) -> None:
    open_conv(page, server_url)
    page.check('input[name="color"][value="rgb"]')
    idle(page)
    assert page.locator("#kernel-editor fieldset").count() == 3
    assert page.locator("#input-views .mapview").count() == 3
    padded = np.pad(sample_image("scene", 32, "rgb"), ((0, 0), (1, 1), (1, 1)))
    for ch in range(3):
        np.testing.assert_allclose(map_values(page, f"inputs-{ch}"), padded[ch], rtol=1e-5, atol=1e-6)
    s = state(color="rgb", weight=[[PRESETS["edge"].weights.tolist()] * 3])
    assert_map(page, "map-0", engine_maps(s)[0])
    assert text(page, "#equation") == equation(engine_trace(s), 0)


def test_two_filters_with_bias_and_relu(page: Page, server_url: str) -> None:
    open_conv(page, server_url)
    page.click("#add-filter")
    idle(page)
    assert page.locator("#filter-tabs button").count() == 2
    page.fill("#bias", "-0.5")
    page.check("#relu")
    idle(page)
    s = state(
        weight=[[PRESETS["edge"].weights.tolist()], [PRESETS["identity"].weights.tolist()]], bias=[0, -0.5]
    )
    maps = engine_maps(s)
    assert page.locator("#maps .map-card").count() == 2
    for f in range(2):
        assert_map(page, f"map-{f}", maps[f])
        assert_map(page, f"relu-{f}", np.maximum(maps[f], 0))
        np.testing.assert_array_equal(
            map_values(page, f"relu-{f}"), np.maximum(map_values(page, f"map-{f}"), 0)
        )
    assert (map_values(page, "map-1") < 0).any(), "the bias should push some identity values below zero"

    page.click("#remove-filter")
    idle(page)
    assert page.locator("#maps .map-card").count() == 1
    assert page.locator("#filter-tabs button").count() == 1
    assert_map(page, "map-0", maps[0])
    assert_map(page, "relu-0", np.maximum(maps[0], 0))


def test_uploaded_png_is_convolved_as_the_server_decodes_it(page: Page, server_url: str, tmp_path) -> None:
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 256, size=(30, 48, 3), dtype=np.uint8)
    pixels[:, 20:28] = 255  # a bright stripe: a clear edge
    path = tmp_path / "stripes.png"
    Image.fromarray(pixels, "RGB").save(path)

    open_conv(page, server_url)
    page.set_input_files("#upload", str(path))
    page.wait_for_function("() => document.getElementById('image').value.startsWith('upload:')")
    idle(page)
    assert page.locator("#image option:checked").inner_text() == "stripes.png"
    decoded = decode_image(
        path.read_bytes(), max_side=S.max_image_side, max_pixels=S.max_upload_pixels, color="rgb"
    )
    x = to_color(fit(decoded, 32), "gray")
    assert x.shape == (1, 20, 32)
    assert_map(page, "map-0", engine_maps(DEFAULT_STATE, image=x)[0])


def test_url_reopens_the_same_view(page: Page, context: BrowserContext, server_url: str) -> None:
    open_conv(page, server_url)
    page.check('input[name="color"][value="rgb"]')
    idle(page)
    page.fill(CELL.format("1,1,1"), "2.5")
    page.fill("#stride-h", "2")
    page.click("#add-filter")
    idle(page)
    blur(page)
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    idle(page)
    assert text(page, "#step-label").startswith("step 5 of")
    page.wait_for_timeout(300)

    url = page.url
    again = context.new_page()
    open_conv(again, server_url, "?" + url.split("?", 1)[1])
    for map_id in ("map-0", "map-1", "inputs-0", "inputs-1", "inputs-2", "products-1", "step-output"):
        np.testing.assert_array_equal(map_values(again, map_id), map_values(page, map_id), err_msg=map_id)
    assert kernel_inputs(again) == kernel_inputs(page)
    assert text(again, "#step-label") == text(page, "#step-label")
    assert text(again, "#equation") == text(page, "#equation")
    assert again.locator('#filter-tabs button[aria-selected="true"]').inner_text() == "2"

    edge = PRESETS["edge"].weights.tolist()
    edited = [edge, [row[:] for row in edge], edge]
    edited[1][1][1] = 2.5
    s = state(
        color="rgb", stride=[2, 1], weight=[edited, [PRESETS["identity"].weights.tolist()] * 3], bias=[0, 0]
    )
    assert_map(again, "map-0", engine_maps(s)[0])
    assert_map(again, "map-1", engine_maps(s)[1])


def test_kernel_table_example_draws_four_preset_maps(page: Page, server_url: str) -> None:
    open_conv(page, server_url)
    page.click('#examples button[data-example="seed004_table"]')
    idle(page)
    names = ["identity", "gaussian_blur", "sharpen", "edge"]
    assert page.locator("#maps .map-card").count() == 4
    s = state(size=64, padding="same", weight=[[PRESETS[n].weights.tolist()] for n in names], bias=[0] * 4)
    maps = engine_maps(s)
    for f, name in enumerate(names):
        assert_map(page, f"map-{f}", maps[f])
        assert map_view(page, f"map-{f}")["title"].startswith(f"Filter {f + 1}: 64×64"), name
    np.testing.assert_allclose(maps[0], sample_image("scene", 64, "gray")[0])  # identity copies the input
