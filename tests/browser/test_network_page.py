"""The small-CNN page in a real browser: what it draws equals the engine's numbers for what it posted."""

from __future__ import annotations

import numpy as np
from playwright.sync_api import Page

from layerlab.engine.cnn.data import fit_digit, sample_digit
from layerlab.engine.cnn.model import backward, forward, load_weights
from tests.browser.conftest import BrowserLog
from tests.browser.helpers import assert_map, cell_point, idle, map_values, text

PARAMS = load_weights()
BARS = "() => Array.from(document.getElementById('probs-chart').data[0].y)"


def open_network(page: Page, base_url: str, query: str = "") -> None:
    page.goto(f"{base_url}/network{query}")
    page.wait_for_function(
        "() => window.__layerlab && window.__layerlab.maps['fwd-pool2-15']"
        " && window.__layerlab.maps['fwd-pool2-15'].values",
        timeout=20_000,
    )
    idle(page)


def click_cell(page: Page, map_id: str, r: int, c: int) -> None:
    """Scroll a map into view and click its cell (r, c)."""
    page.evaluate("(id) => window.__layerlab.maps[id].overlay.scrollIntoView({ block: 'center' })", map_id)
    page.mouse.click(*cell_point(page, map_id, r, c))


def test_drawing_a_stroke_shows_the_engines_probabilities_for_the_posted_drawing(
    page: Page, server_url: str, browser_log: BrowserLog
) -> None:
    open_network(page, server_url)
    before = page.evaluate(BARS)
    posted: list[dict] = []
    page.on("request", lambda r: r.url.endswith("/api/network/forward") and posted.append(r.post_data_json))
    page.check("input[name=source][value=matrix]")
    idle(page)
    draw_stroke(page)
    last = posted[-1]
    assert last["source"] == "matrix" and page.locator("input[name=source][value=matrix]").is_checked()
    fitted = fit_digit(np.array(last["matrix"]))
    expected = forward(fitted, PARAMS).output[0]
    drawn = np.array(page.evaluate(BARS))
    np.testing.assert_allclose(drawn, expected, rtol=1e-5, atol=1e-6)
    assert not np.allclose(drawn, before)
    assert_map(page, "net-input", fitted)
    assert text(page, "#prediction").startswith(f"Prediction: {expected.argmax()},")
    assert expected.argmax() == 1  # a straight, slightly slanted stroke


def draw_stroke(page: Page) -> None:
    """A straight, slightly slanted stroke down the drawing pad, with the mouse."""
    box = page.locator("#draw-canvas").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 7
    page.mouse.move(x, y)
    page.mouse.down()
    for k in range(1, 21):
        page.mouse.move(x - k * box["width"] / 280, y + k * box["height"] / 28)
    page.mouse.up()
    idle(page)


BAR_PATHS = "#probs-chart .trace.bars .point path"


def test_an_empty_canvas_asks_for_a_drawing_until_a_stroke_is_drawn(page: Page, server_url: str) -> None:
    open_network(page, server_url)
    assert page.locator(BAR_PATHS).count() == 10  # the sample digit's prediction
    page.check("input[name=source][value=matrix]")
    idle(page)
    assert text(page, "#prediction").startswith("Draw a digit in the square")
    assert page.locator(BAR_PATHS).count() == 0
    assert page.get_attribute("#probs-chart", "data-empty") == "no prediction without ink"
    draw_stroke(page)
    assert text(page, "#prediction").startswith("Prediction: 1, with probability")
    assert page.locator(BAR_PATHS).count() == 10
    assert page.get_attribute("#probs-chart", "data-empty") is None
    bars = np.array(page.evaluate(BARS))
    assert bars.shape == (10,) and abs(bars.sum() - 1) < 1e-5
    page.click("#clear")
    idle(page)
    assert text(page, "#prediction").startswith("Draw a digit in the square")
    assert page.locator(BAR_PATHS).count() == 0


def test_picking_a_sample_digit_shows_its_maps_and_predicted_class(page: Page, server_url: str) -> None:
    open_network(page, server_url)
    page.select_option("#digit", "7")
    idle(page)
    t = forward(sample_digit(7, 1), PARAMS)
    assert text(page, "#prediction").startswith(f"Prediction: {t.output.argmax()},")
    assert t.output.argmax() == 7
    assert_map(page, "fwd-pool2-3", t.stages["pool2"][0, 3])
    assert_map(page, "fwd-conv1-0", t.stages["relu1"][0, 0])
    page.wait_for_url("**/network?*digit=7*")


def test_backward_tab_draws_the_gradients_and_the_transposed_convolution(page: Page, server_url: str) -> None:
    open_network(page, server_url, "?digit=2&seed=3")
    page.click("button[data-tab=backward]")
    page.select_option("#target", "8")
    idle(page)
    page.wait_for_function("() => document.getElementById('loss-text').textContent.includes('P(8)')")
    t = backward(sample_digit(2, 3), 8, PARAMS)
    assert_map(page, "grad-input-0", t.stages["grad_input"][0, 0])
    assert_map(page, "grad-conv2-4", t.stages["grad_conv2"][0, 4])
    c = int(np.unravel_index(np.abs(t.stages["grad_pool1"][0]).argmax(), (8, 13, 13))[0])
    np.testing.assert_allclose(
        map_values(page, "identity-pool1-0"), map_values(page, "identity-pool1-1"), atol=1e-9
    )
    assert_map(page, "identity-pool1-1", t.stages["grad_pool1_transposed"][0, c])
    assert "conv_transpose2d" in text(page, "#identity-formula")
    page.wait_for_url("**/network?*tab=backward*")


def test_circle_tab_fires_for_the_circle_and_not_once_an_arc_is_rubbed_out(
    page: Page, server_url: str
) -> None:
    open_network(page, server_url, "?tab=circle")
    page.wait_for_function(
        "() => window.__layerlab.maps['circle-part-4'] && window.__layerlab.maps['circle-part-4'].values"
    )
    idle(page)
    assert text(page, "#circle-verdict").startswith("The detector fires")
    assert map_values(page, "circle-part-0")[0, 0] == 4.0
    page.click("#circle-shapes button[data-shape=square]")
    idle(page)
    assert text(page, "#circle-verdict").startswith("The detector stays quiet")
    page.click("#circle-shapes button[data-shape=circle]")
    idle(page)
    click_cell(page, "circle-input", 0, 1)  # rub out a cell of the top-left arc
    idle(page)
    assert map_values(page, "circle-input")[0, 1] == 0
    assert text(page, "#circle-verdict") == "The detector fires: 1 > 0."  # 3 + 4 + 4 + 4 - 14
    click_cell(page, "circle-input", 1, 0)  # and another: the arc scores 2
    idle(page)
    assert text(page, "#circle-verdict").startswith("The detector stays quiet")


def test_clicking_a_pool2_map_opens_it_on_the_pooling_page(page: Page, server_url: str) -> None:
    open_network(page, server_url, "?digit=5&seed=1")
    click_cell(page, "fwd-pool2-6", 2, 2)
    page.wait_for_selector("#link-panel:not([hidden]) a[data-page=pool]")
    click_cell(page, "fwd-conv1-2", 10, 10)
    page.wait_for_selector("#link-panel a[data-page=conv]")
    assert (
        page.locator("#link-panel a[data-page=conv]")
        .get_attribute("href")
        .startswith("/conv?image=upload%3A")
    )
    click_cell(page, "fwd-pool2-6", 2, 2)
    page.wait_for_selector("#link-panel a[data-page=pool] >> text=pool2, channel 6")
    page.click("#link-panel a[data-page=pool]")
    page.wait_for_url("**/pool?**")
    page.wait_for_function(
        "() => window.__layerlab && window.__layerlab.maps['pool-output']"
        " && window.__layerlab.maps['pool-output'].values",
        timeout=20_000,
    )
    idle(page)
    t = forward(sample_digit(5, 1), PARAMS)
    assert_map(page, "pool-output", t.stages["pool2"][0, 6])
    assert_map(page, "pool-input", t.stages["relu2"][0, 6])
