"""The pooling page in a real browser: what it draws and marks equals the engine's numbers."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import numpy as np
from playwright.sync_api import Browser, Page

from layerlab.engine.activations import relu
from layerlab.engine.images import sample_image
from layerlab.engine.pool import avg_pool2d, max_pool2d, min_pool2d
from layerlab.engine.pool_fractional import fractional_max_pool2d
from layerlab.engine.pool_regions import roi_pool2d
from layerlab.engine.pool_variants import lp_pool2d, stochastic_pool2d
from tests.browser.conftest import BrowserLog, guarded_context
from tests.browser.helpers import (
    DEFAULT_STATE,
    assert_map,
    blur,
    engine_maps,
    idle,
    map_values,
    map_view,
    open_conv,
    state_from_url,
    text,
)

SEED004 = np.array([[1.0, 0, 2], [3, 1, 2], [1, 2, 3]])
# the step's parts, as the page marks them (data-step-part)
PARTS = {name: f'[data-step-part="{name}"]' for name in ("stepper", "input", "window", "output", "reduction")}


def open_pool(page: Page, base_url: str, query: str = "") -> None:
    """Open /pool (with a query string) and wait until the first step is drawn."""
    page.goto(f"{base_url}/pool{query}")
    page.wait_for_function(
        "() => window.__layerlab && window.__layerlab.maps['pool-input']"
        " && window.__layerlab.maps['pool-input'].values"
        " && document.getElementById('step-label').textContent.startsWith('step ')",
        timeout=20_000,
    )
    idle(page)


def marked(page: Page, map_id: str, label: str) -> list[tuple[int, int]]:
    """The cells a map marks with the highlight of that label (window, winner, draw, bin...)."""
    return [
        (r, c)
        for h in map_view(page, map_id)["highlights"]
        if h.get("label") == label
        for r in h["rows"]
        for c in h["cols"]
    ]


def press(page: Page, key: str, times: int = 1) -> None:
    blur(page)
    for _ in range(times):
        page.keyboard.press(key)
    idle(page)


def test_seed_004_steps_with_the_winner_marked(page: Page, server_url: str, browser_log: BrowserLog) -> None:
    browser_log.allow(r"status of 422")  # the too-large window below, refused on purpose
    open_pool(page, server_url)
    assert_map(page, "pool-output", np.array([[3.0, 2], [3, 3]]))
    assert_map(page, "pool-input", SEED004)
    assert text(page, "#torch-line") == "nn.MaxPool2d(kernel_size=2, stride=1)"
    assert text(page, "#step-label").startswith("step 1 of 4")
    assert text(page, "#equation") == "y[0, 0] = max(1, 0, 3, 1) = 3"
    assert marked(page, "pool-input", "window") == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert marked(page, "pool-input", "winner") == [(1, 0)]
    assert map_view(page, "pool-window")["highlights"][0]["rows"] == [1]

    press(page, "ArrowRight")
    assert text(page, "#equation") == "y[0, 1] = max(0, 2, 1, 2) = 2"
    assert marked(page, "pool-input", "winner") == [(0, 2)]  # the first 2 in reading order, as torch
    assert map_view(page, "pool-output")["filled"] == 2
    press(page, "End")
    assert text(page, "#step-label").startswith("step 4 of 4")
    assert marked(page, "pool-input", "winner") == [(2, 2)]
    assert "changes 100% of its numbers (9 of 9) and 25% of the pooled numbers (1 of 4)" in text(
        page, "#shift-summary"
    )

    page.fill("#k-h", "4")  # larger than the 3x3 input: the server says which field and why
    page.wait_for_function("() => document.getElementById('status').textContent !== ''")
    assert text(page, "#status").startswith("kernel_size: the window covers 4x2 pixels")
    page.click('#presets button[data-preset="seed004"]')
    idle(page)
    assert text(page, "#status") == ""
    assert_map(page, "pool-output", np.array([[3.0, 2], [3, 3]]))
    assert "Seed 004" in text(page, "#example-note")


def test_switching_type_redraws_and_marks_with_the_engines_numbers(page: Page, server_url: str) -> None:
    open_pool(page, server_url)
    x = SEED004[None]
    page.click('#kind-tabs button[data-kind="avg"]')
    idle(page)
    assert_map(page, "pool-output", avg_pool2d(x, 2, 1).output[0])
    assert text(page, "#equation") == "y[0, 0] = (1 + 0 + 3 + 1) / 4 = 1.25"
    assert text(page, "#torch-line") == "nn.AvgPool2d(kernel_size=2, stride=1)"

    page.click('#kind-tabs button[data-kind="min"]')
    idle(page)
    assert_map(page, "pool-output", min_pool2d(x, 2, 1).output[0])
    press(page, "ArrowRight", 3)
    assert text(page, "#equation") == "y[1, 1] = min(1, 2, 2, 3) = 1"
    assert marked(page, "pool-input", "winner") == [(1, 1)]

    page.click('#kind-tabs button[data-kind="lp"]')
    page.fill("#norm", "1")
    idle(page)
    assert_map(page, "pool-output", lp_pool2d(x, 1, 2, 1).output[0])  # p = 1: the window sums
    np.testing.assert_allclose(map_values(page, "pool-output"), [[5, 5], [7, 8]], rtol=1e-6)

    page.click('#kind-tabs button[data-kind="stochastic"]')
    page.fill("#seed", "5")
    idle(page)
    trace = stochastic_pool2d(x, 2, 1, True, 5)
    assert_map(page, "pool-output", trace.output[0])
    step = trace.step(0)
    assert marked(page, "pool-input", "draw") == [tuple(step["draw"].tolist())]
    assert_map(page, "pool-extra", step["probabilities"])
    assert text(page, "#equation").startswith("p = (0.2, 0, 0.6, 0.2); the draw picks row")


def test_side_by_side_shows_four_maps_with_the_engines_values(page: Page, server_url: str) -> None:
    open_pool(page, server_url, "?source=image&image=digit&size=16&stride=[2,2]")
    page.check('input[name="mode"][value="compare"]')
    page.fill("#norm", "3")
    idle(page)
    x = sample_image("digit", 16, "gray")
    expected = {
        "max": max_pool2d(x, 2, 2),
        "avg": avg_pool2d(x, 2, 2),
        "min": min_pool2d(x, 2, 2),
        "lp": lp_pool2d(x, 3, 2, 2),
    }
    for kind, trace in expected.items():
        assert_map(page, f"compare-{kind}", trace.output[0])
    assert map_view(page, "pool-output")["title"] == "Output"  # the single view is hidden, not drawn
    assert page.locator("#shift-section").is_hidden()
    press(page, "ArrowRight", 9)
    step = expected["max"].step(9)
    assert marked(page, "pool-input", "winner") == [tuple(step["winner"].tolist())]
    assert marked(page, "pool-input", "min") == [tuple(expected["min"].step(9)["winner"].tolist())]
    lines = text(page, "#equation").split("\n")
    assert [line.split(" ")[0] for line in lines] == ["max", "average", "min", "Lp"]
    assert text(page, "#torch-line").split("\n")[3] == "nn.LPPool2d(3, kernel_size=2)"


def test_conv_link_carries_the_feature_map_through_relu_into_pooling(page: Page, server_url: str) -> None:
    open_conv(page, server_url)
    page.check("#relu")
    idle(page)
    page.click("#pool-link")
    page.wait_for_url("**/pool?**")
    open_pool(page, server_url, "?" + urlsplit(page.url).query)
    conv = engine_maps(DEFAULT_STATE)[0]
    fmap = relu(conv).output
    assert_map(page, "conv-output", conv)
    assert_map(page, "conv-relu", fmap)
    assert_map(page, "pool-input", fmap)
    assert_map(page, "pool-output", max_pool2d(fmap[None], 2, 2).output[0])
    assert "then ReLU: a 32×32 feature map" in text(page, "#source-text")
    back = page.get_attribute("#conv-back", "href")
    assert state_from_url(back) == {**DEFAULT_STATE, "relu": True}


def test_url_reload_gives_the_same_view(page: Page, server_url: str) -> None:
    open_pool(page, server_url, "?source=image&image=scene&size=16")
    page.click('#kind-tabs button[data-kind="roi"]')
    for selector, value in (
        ("#box-x2", "11"),  # the far corner first, so every box on the way is a valid one
        ("#box-y2", "9"),
        ("#box-x1", "3"),
        ("#box-y1", "2"),
        ("#o-w", "3"),
    ):
        page.fill(selector, value)
    idle(page)
    press(page, "ArrowRight", 4)
    page.wait_for_function("() => new URLSearchParams(window.location.search).get('step') === '4'")
    x = sample_image("scene", 16, "gray")
    trace = roi_pool2d(x[None], np.array([[0, 3, 2, 11, 9]]), (2, 3))
    assert_map(page, "pool-output", trace.output[0, 0])
    box = trace.steps["box"][4].tolist()
    assert marked(page, "pool-input", "window") == [
        (r, c) for r in range(box[0], box[1]) for c in range(box[2], box[3])
    ]
    assert marked(page, "pool-input", "winner") == [tuple(trace.steps["winner"][4].tolist())]
    frames = [h["frame"] for h in map_view(page, "pool-input")["highlights"] if h.get("label") == "bin"]
    assert frames == [[b[0], b[2], b[1], b[3]] for b in trace.steps["box"].tolist()]
    before = {key: text(page, key) for key in ("#step-label", "#equation", "#torch-line", "#shift-summary")}
    query = parse_qs(urlsplit(page.url).query)
    assert query["kind"] == ["roi"] and json.loads(query["box"][0]) == [3, 2, 11, 9]

    page.reload()
    open_pool(page, server_url, "?" + urlsplit(page.url).query)
    assert {key: text(page, key) for key in before} == before
    assert_map(page, "pool-output", trace.output[0, 0])
    assert page.locator('#kind-tabs button[aria-selected="true"]').inner_text() == "ROI"
    assert page.input_value("#box-x2") == "11"


def test_fractional_max_shows_its_controls_and_steps_its_windows(page: Page, server_url: str) -> None:
    open_pool(page, server_url, "?source=image&image=scene&size=16")
    page.click('#kind-tabs button[data-kind="fractional_max"]')
    for selector, value in (("#o-h", "5"), ("#o-w", "5"), ("#seed", "3")):
        page.fill(selector, value)
    idle(page)
    shown = page.eval_on_selector_all("[data-control]:not([hidden])", "s => s.map(e => e.dataset.control)")
    assert shown == ["kernel_size", "seed", "output_size"]  # in the panel's order; no stride, no padding
    trace = fractional_max_pool2d(sample_image("scene", 16, "gray")[None], 2, (5, 5), seed=3)
    assert_map(page, "pool-output", trace.output[0, 0])
    press(page, "ArrowRight", 6)
    box = trace.steps["box"][6].tolist()
    assert marked(page, "pool-input", "window") == [
        (r, c) for r in range(box[0], box[1]) for c in range(box[2], box[3])
    ]
    assert text(page, "#step-title") == "Step through the bins"
    assert text(page, "#torch-line").startswith("F.fractional_max_pool2d(x, 2, output_size=5, _random_")


def test_presenter_view_shows_the_whole_step_on_one_projector_screen(
    browser: Browser, browser_log: BrowserLog, server_url: str
) -> None:
    with guarded_context(browser, browser_log, viewport={"width": 1280, "height": 720}) as ctx:
        page = ctx.new_page()
        open_pool(page, server_url, "?present=1")
        box = {name: page.locator(sel).bounding_box() for name, sel in PARTS.items()}
        # input | window | output on one row, as big as the row allows, the reduction under them
        assert box["input"]["height"] >= 340 and box["window"]["height"] >= 250
        assert box["input"]["x"] + box["input"]["width"] <= box["window"]["x"]
        assert box["window"]["x"] + box["window"]["width"] <= box["output"]["x"]
        assert abs(box["output"]["y"] - box["input"]["y"]) < 2
        assert box["reduction"]["y"] >= box["input"]["y"] + box["input"]["height"]
        assert box["reduction"]["y"] + box["reduction"]["height"] <= 720
        assert box["output"]["x"] + box["output"]["width"] <= 1280
        cell = page.evaluate("() => window.__layerlab.maps['pool-input'].cell")

        # opening the settings bar narrows the row: the maps shrink and stay on one row
        page.click(".controls-toggle")
        page.wait_for_function(f"() => window.__layerlab.maps['pool-input'].cell < {cell}")
        narrowed = {name: page.locator(sel).bounding_box() for name, sel in PARTS.items()}
        assert abs(narrowed["output"]["y"] - narrowed["input"]["y"]) < 2
        assert narrowed["output"]["x"] + narrowed["output"]["width"] <= 1280

        # a 16x16 image: small input cells, but the window's cells stay big enough for their numbers
        open_pool(page, server_url, "?present=1&source=image&image=digit&size=16")
        cells = page.evaluate(
            "() => ['pool-input', 'pool-window'].map((id) => window.__layerlab.maps[id].cell)"
        )
        assert cells[0] * 16 >= 250 and cells[1] >= 44
        parts = {name: page.locator(sel).bounding_box() for name, sel in PARTS.items()}
        assert all(b["y"] + b["height"] <= 720 and b["x"] + b["width"] <= 1280 for b in parts.values())


def test_phone_keeps_the_step_within_the_screen_width(
    browser: Browser, browser_log: BrowserLog, server_url: str
) -> None:
    with guarded_context(browser, browser_log, viewport={"width": 390, "height": 844}) as ctx:
        page = ctx.new_page()
        open_pool(page, server_url, "?source=image&image=digit&size=16")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        for sel in PARTS.values():
            b = page.locator(sel).bounding_box()
            assert b["x"] >= 0 and b["x"] + b["width"] <= 390
