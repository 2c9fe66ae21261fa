"""The activations page in a real browser: what it plots and maps equals the engine's numbers."""

from __future__ import annotations

import numpy as np
from playwright.sync_api import Browser, Page

from layerlab.engine.activation_demos import dead_relu_training
from layerlab.engine.activations import elu, leaky_relu, sigmoid, softmax, tanh
from layerlab.engine.conv import conv2d
from layerlab.engine.images import sample_image
from layerlab.engine.kernels import PRESETS
from tests.browser.conftest import BrowserLog, guarded_context
from tests.browser.helpers import assert_map, blur, idle, text

X = np.linspace(-6, 6, 481)  # the page's default x grid


def open_page(page: Page, base_url: str, query: str = "", plot: str = "curve-plot") -> None:
    """Open /activations and wait until `plot` and the dead-ReLU run are drawn."""
    page.goto(f"{base_url}/activations{query}")
    page.wait_for_function(
        "(id) => window.__layerlab && document.getElementById(id).data"
        " && document.getElementById(id).data.length >= 2"
        " && document.getElementById('dead-ranges').data",
        arg=plot,
        timeout=20_000,
    )
    idle(page)


def plotted(page: Page, plot_id: str, trace: int = 0, axis: str = "y") -> np.ndarray:
    """The numbers a Plotly chart drew (its gd.data)."""
    values = page.evaluate(
        "([id, i, axis]) => Array.from(document.getElementById(id).data[i][axis])", [plot_id, trace, axis]
    )
    return np.array(values, dtype=np.float64)


def assert_close32(got: np.ndarray, expected: np.ndarray) -> None:
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)


def test_switching_the_function_and_its_parameter_redraws_the_engines_curve(
    page: Page, server_url: str
) -> None:
    open_page(page, server_url)
    t = sigmoid(X)
    assert_close32(plotted(page, "curve-plot", 0), t.output)
    assert_close32(plotted(page, "curve-plot", 1), t.stages["grad"])
    bands = page.evaluate(
        "() => document.getElementById('curve-plot').layout.shapes.filter((s) => s.type === 'rect')"
    )
    assert [(round(b["x0"], 2), round(b["x1"], 2)) for b in bands] == [(-6.0, -2.9), (2.9, 6.0)]
    assert "0.7311" in text(page, "#point-f")  # sigma(1) from the engine, at the default x = 1

    page.click("#kind-tabs button[data-kind=tanh]")
    idle(page)
    assert_close32(plotted(page, "curve-plot", 0), tanh(X).output)
    assert text(page, "#torch-line") == "F.tanh(x)"

    page.click("#kind-tabs button[data-kind=leaky_relu]")
    page.fill("#negative-slope", "0.3")
    idle(page)
    t = leaky_relu(X, 0.3)
    assert_close32(plotted(page, "curve-plot", 0), t.output)
    assert_close32(plotted(page, "curve-plot", 1), t.stages["grad"])
    # the page writes its address 150 ms after the last edit
    page.wait_for_function("() => location.search.includes('negative_slope=0.3')", timeout=5_000)


def test_feature_map_is_the_engines_conv_then_activation(page: Page, server_url: str) -> None:
    open_page(page, server_url, "?kind=elu&alpha=2&image=digit&size=16&kernel=sobel_x&gain=2")
    w = 2 * PRESETS["sobel_x"].weights[None, None]
    conv = conv2d(sample_image("digit", 16, "gray"), w, padding="same", record_steps=False).output[0]
    t = elu(conv, 2.0)
    assert_map(page, "act-conv", conv)
    assert_map(page, "act-activated", t.output)
    assert_map(page, "act-grad", t.stages["grad"])
    href = page.get_attribute("#conv-link", "href")
    assert href.startswith("/conv?") and "image=digit" in href and "pad=same" in href


def test_softmax_bars_and_jacobian_are_the_engines(page: Page, server_url: str) -> None:
    open_page(page, server_url, "?kind=softmax&temperature=0.5", plot="softmax-plot")
    t = softmax(np.array([2.0, 1.0, 0.1]) / 0.5, 0)
    assert_close32(plotted(page, "softmax-plot", 1), t.output)
    assert_map(page, "act-jacobian", t.stages["jacobian"])
    page.locator("#softmax-inputs input").nth(2).fill("3")
    idle(page)
    assert_close32(plotted(page, "softmax-plot", 1), softmax(np.array([4.0, 2.0, 6.0]), 0).output)
    assert not page.locator("#curve-section").is_visible()


def test_dead_relu_run_steps_to_dead_units_with_zero_gradient(
    page: Page, server_url: str, browser_log: BrowserLog
) -> None:
    browser_log.allow(r"status of 422")  # the diverging learning rate below, refused on purpose
    open_page(page, server_url)
    t = dead_relu_training(lr=0.3)
    blur(page)
    page.keyboard.press("End")
    idle(page)
    last = t.num_steps - 1
    assert text(page, "#step-label").startswith(f"step {last} of {last}")
    assert text(page, "#dead-summary").startswith("15 of 16 units dead")
    dead = t.steps["dead"][last]
    grads = plotted(page, "dead-grads")
    assert np.all(grads[dead] == 0) and np.all(grads[~dead] > 0)
    assert_close32(plotted(page, "dead-ranges", 0, "base"), t.steps["pre_min"][last])

    page.fill("#dead-lr", "2")
    page.dispatch_event("#dead-lr", "change")
    idle(page)
    assert "diverged" in text(page, "#status")

    page.click("button[data-dead-preset='0.05,0']")
    idle(page)
    page.keyboard.press("End")
    idle(page)
    assert text(page, "#dead-summary").endswith("2 at the end.")
    assert text(page, "#status") == ""


def test_url_state_survives_a_reload(page: Page, server_url: str) -> None:
    open_page(page, server_url)
    page.click("#kind-tabs button[data-kind=elu]")
    page.fill("#alpha", "2.5")
    page.fill("#at-x", "-1.5")
    idle(page)
    page.wait_for_function(
        "() => window.location.search.includes('alpha=2.5') && window.location.search.includes('at=-1.5')"
    )
    open_page(page, server_url, "?" + page.url.split("?", 1)[1])  # the link, opened afresh
    assert page.get_attribute("#kind-tabs button[data-kind=elu]", "aria-selected") == "true"
    assert page.input_value("#alpha") == "2.5"
    assert_close32(plotted(page, "curve-plot", 0), elu(X, 2.5).output)
    assert text(page, "#point-f").endswith("1.942")  # elu(-1.5) with alpha 2.5, from the engine


def parts(page: Page) -> dict[str, dict]:
    """The visible step parts (data-step-part) and their boxes."""
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('[data-step-part]')]
            .filter((el) => el.getClientRects().length > 0)
            .map((el) => { const b = el.getBoundingClientRect();
              return [el.dataset.stepPart, { x: b.x, y: b.y, right: b.right, bottom: b.bottom }]; }))"""
    )


def test_presenter_view_puts_the_plot_beside_its_readout(
    browser: Browser, browser_log: BrowserLog, server_url: str
) -> None:
    with guarded_context(browser, browser_log, viewport={"width": 1280, "height": 720}) as ctx:
        page = ctx.new_page()
        open_page(page, server_url, "?present=1")
        box = parts(page)
        assert set(box) == {"plot", "formulas", "readout"}
        assert all(
            b["x"] >= 0 and b["right"] <= 1280 and b["y"] >= 0 and b["bottom"] <= 720 for b in box.values()
        )
        size = page.evaluate(
            "() => { const l = document.getElementById('curve-plot').layout; return [l.width, l.height]; }"
        )
        assert size[0] >= 560 and size[1] >= 480  # the plot fills its column and the first screen
        assert box["readout"]["x"] >= box["plot"]["right"] and box["formulas"]["x"] >= box["plot"]["right"]

        # softmax steps through a vector: the vector, its bars and every entry written out, on one screen
        page.click('#kind-tabs button[data-kind="softmax"]')
        page.wait_for_function("() => document.getElementById('softmax-plot').data")
        idle(page)
        box = parts(page)
        assert set(box) == {"vector", "bars", "entries"}
        assert all(
            b["x"] >= 0 and b["right"] <= 1280 and b["y"] >= 0 and b["bottom"] <= 720 for b in box.values()
        )
        assert box["entries"]["x"] >= box["bars"]["right"]
