"""The dense page in a real browser: what Plotly draws equals the engine's numbers."""

from __future__ import annotations

import numpy as np
from playwright.sync_api import Page

from layerlab.app.pages.dense.schemas import TRIANGLE, UNION
from layerlab.engine.mlp import clip_line, mlp_plane
from tests.browser.conftest import BrowserLog
from tests.browser.helpers import blur, idle, text

READY = """() => { const d = window.__layerlab && window.__layerlab.dense;
    return d && d.plane && d.point && d.count && d.init && window.__layerlab.busy === 0
        && document.getElementById('plane').layout && document.getElementById('step-label').textContent; }"""


def open_dense(page: Page, base_url: str, query: str = "") -> None:
    page.goto(f"{base_url}/dense{query}")
    page.wait_for_function(READY, timeout=20_000)
    idle(page)


def shapes(page: Page) -> np.ndarray:
    """The plane's line shapes as (k, 2, 2) endpoints."""
    drawn = page.evaluate("() => document.getElementById('plane').layout.shapes")
    return np.array([[[s["x0"], s["y0"]], [s["x1"], s["y1"]]] for s in drawn])


def table(page: Page, layer: int) -> np.ndarray:
    """Layer `layer`'s weight table as typed: (neurons, inputs + 1), the bias last."""
    cells = page.evaluate(
        "(l) => [...document.querySelectorAll(`#layer-editor [data-cell^='${l},']`)]"
        ".map((i) => [i.dataset.cell.split(',').map(Number), i.valueAsNumber])",
        layer,
    )
    rows = max(c[0][1] for c in cells) + 1
    cols = max(c[0][2] for c in cells) + 1
    out = np.zeros((rows, cols))
    for (_, j, i), v in cells:
        out[j, i] = v
    return out


def heatmap(page: Page) -> np.ndarray:
    return np.array(page.evaluate("() => document.getElementById('plane').data[0].z"), dtype=float)


def engine_plane(layers: list[dict]):
    weights = [np.array(layer["weight"], dtype=float) for layer in layers]
    biases = [np.array(layer["bias"], dtype=float) for layer in layers]
    return mlp_plane(weights, biases, [layer["activation"] for layer in layers], 3.0, 61)


def test_typing_a_weight_redraws_the_line_and_region(page: Page, server_url: str) -> None:
    open_dense(page, server_url)
    np.testing.assert_allclose(shapes(page), engine_plane(TRIANGLE).stages["lines"], atol=1e-5)
    page.fill('[data-cell="0,0,2"]', "0.5")  # the bottom line's bias: x2 + 0.5 > 0
    idle(page)
    layers = [{**TRIANGLE[0], "bias": [0.5, 2.0, 2.0]}, TRIANGLE[1]]
    t = engine_plane(layers)
    np.testing.assert_allclose(shapes(page)[0], [[-3, -0.5], [3, -0.5]], atol=1e-6)
    np.testing.assert_allclose(shapes(page), t.stages["lines"], atol=1e-5)
    np.testing.assert_allclose(heatmap(page), t.output[0])  # the output's map, as the engine gives it
    region = page.evaluate("() => document.getElementById('plane').data[1].z")
    np.testing.assert_array_equal(region, t.stages["region"][0])
    assert text(page, "#status") == ""


def test_dragging_a_line_moves_it_and_updates_its_weights(page: Page, server_url: str) -> None:
    open_dense(page, server_url)
    before = table(page, 0)
    start = page.evaluate(
        """() => { const gd = document.getElementById('plane'), L = gd._fullLayout, s = gd.layout.shapes[0];
            const box = gd.getBoundingClientRect();
            const px = (x, y) => [box.left + L.xaxis._offset + L.xaxis.l2p(x),
                                  box.top + L.yaxis._offset + L.yaxis.l2p(y)];
            return { mid: px((s.x0 + s.x1) / 2, (s.y0 + s.y1) / 2), one: px(0, 1), zero: px(0, 0) }; }"""
    )
    (x, y), pixels_per_unit = start["mid"], start["zero"][1] - start["one"][1]
    page.mouse.move(x, y)
    page.mouse.down()
    for k in range(1, 6):
        page.mouse.move(x, y - k * pixels_per_unit / 5)  # one unit up, in steps
    page.mouse.up()
    idle(page)
    after = table(page, 0)
    np.testing.assert_allclose(after[0, :2], before[0, :2], atol=1e-3)  # same direction and steepness
    assert after[0, 2] < before[0, 2] - 0.5  # moved up: x2 + b = 0 with a smaller b
    np.testing.assert_allclose(after[1:], before[1:])
    w, b = after[0, :2], after[0, 2]
    np.testing.assert_allclose(shapes(page)[0], clip_line(w, b, 3.0), atol=1e-5)  # redrawn from the engine
    assert text(page, "#status") == ""


def test_seed_001_count_preset_reads_41_and_typed_sizes(page: Page, server_url: str) -> None:
    open_dense(page, server_url)
    assert text(page, "#count-total") == "26"
    page.click('#count-presets button[data-sizes="3-4-4-1"]')
    idle(page)
    assert text(page, "#count-total") == "41"
    assert "16 + 20 + 5 = 41" in text(page, "#count-formula").replace("\n", " ")
    page.fill("#sizes", "2, 8, 1")
    idle(page)
    assert text(page, "#count-total") == str(2 * 8 + 8 + 8 + 1)


def test_init_demo_constant_curves_coincide_and_random_ones_spread(page: Page, server_url: str) -> None:
    open_dense(page, server_url)
    page.fill("#init-hidden", "3")
    page.fill("#init-epochs", "120")
    page.click("#init-run")
    idle(page)

    def curves(mode: str) -> dict[str, np.ndarray]:
        data = page.evaluate(f"() => document.getElementById('init-weights-{mode}').data")
        return {d["name"]: np.array(d["y"], dtype=float) for d in data}

    constant, random = curves("constant"), curves("random")
    assert len(constant) == 9 and len(constant["neuron 1 w₁"]) == 121
    for part in ("w₁", "w₂", "b"):
        for j in (2, 3):
            np.testing.assert_array_equal(constant[f"neuron {j} {part}"], constant[f"neuron 1 {part}"])
        assert np.abs(random[f"neuron 2 {part}"] - random[f"neuron 1 {part}"]).max() > 0.05
    assert "never differ (largest difference between them 0)" in text(page, "#init-summary")


def test_url_state_survives_reload(page: Page, server_url: str, browser_log: BrowserLog) -> None:
    open_dense(page, server_url)
    page.click('#presets button[data-preset="union"]')
    idle(page)
    page.fill('[data-cell="1,1,4"]', "0.5")
    page.select_option("#step-layer", "1")
    idle(page)
    blur(page)
    page.keyboard.press("ArrowRight")
    idle(page)
    equation = text(page, "#step-equation")
    assert equation.startswith("z₂ = w₂₁·h₁") and "step(" in equation
    page.wait_for_timeout(300)  # the URL is written 150 ms after the last change
    drawn, weights = shapes(page), table(page, 1)
    assert weights[1, 4] == 0.5 and len(drawn) == 7
    page.reload()
    page.wait_for_function(READY, timeout=20_000)
    idle(page)
    np.testing.assert_allclose(shapes(page), drawn)
    np.testing.assert_array_equal(table(page, 1), weights)
    assert text(page, "#step-equation") == equation
    assert text(page, "#step-label").startswith("step 2 of 2")
    layers = [UNION[0], {**UNION[1], "weight": [UNION[1]["weight"][0], [0, 0, 0, 1, 0.5, 1, 1]]}, UNION[2]]
    np.testing.assert_allclose(heatmap(page), engine_plane(layers).output[0])
