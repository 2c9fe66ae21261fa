"""The normalization page in a real browser: the highlighted cells are the engine's groups, a stepped
group prints its own mean, train/eval, the batch-dependence demo, and the URL reopening the view."""

from __future__ import annotations

import numpy as np
from playwright.sync_api import Browser, Page

from layerlab.app.pages.norm.request import generate, stream_batches
from layerlab.app.pages.norm.schemas import NormParams
from layerlab.app.pages.norm.text import num
from layerlab.engine.norm import batch_norm, batch_norm_stream, group_norm, layer_norm
from tests.browser.conftest import BrowserLog, guarded_context
from tests.browser.helpers import blur, fmt, idle, map_view, text


def open_norm(page: Page, base_url: str, query: str = "") -> None:
    """Open /norm and wait until the grid, the stepper and the statistics are drawn."""
    page.goto(f"{base_url}/norm{query}")
    page.wait_for_function(
        "() => window.__layerlab && window.__layerlab.maps['norm-0-0']"
        " && window.__layerlab.maps['norm-0-0'].values"
        " && document.getElementById('step-label').textContent.startsWith('step ')",
        timeout=20_000,
    )
    idle(page)


def click_tab(page: Page, label: str) -> None:
    page.locator("#kind-tabs button", has_text=label).first.click()
    page.wait_for_function(
        "(l) => document.querySelector('#kind-tabs button[aria-selected=\"true\"]').textContent === l",
        arg=label,
    )
    idle(page)


def highlighted(page: Page, n: int, c: int) -> set[tuple[int, int]]:
    """The cells of map (n, c) drawn as the stepped group (not lrn's window)."""
    cells = set()
    for h in map_view(page, f"norm-{n}-{c}")["highlights"]:
        if not h.get("window"):
            cells |= {(r, col) for r in h["rows"] for col in h["cols"]}
    return cells


def assert_groups(page: Page, group_of: np.ndarray, g: int) -> None:
    """Every map highlights exactly the cells the engine puts in group g."""
    n, c = group_of.shape[:2]
    for i in range(n):
        for k in range(c):
            expected = {(r, col) for r, col in zip(*np.nonzero(group_of[i, k] == g), strict=True)}
            assert highlighted(page, i, k) == expected, (i, k, g)


def step_to(page: Page, presses: int) -> None:
    blur(page)
    for _ in range(presses):
        page.keyboard.press("ArrowRight")
    idle(page)


def test_switching_bn_ln_gn_highlights_the_engines_groups(page: Page, server_url: str) -> None:
    open_norm(page, server_url)
    x = generate(NormParams())  # the page's default tensor, (4, 4, 4, 4)
    bn = batch_norm(x, None, None, training=True).stages["group_of"]
    assert_groups(page, bn, 0)  # channel 0 of every sample
    step_to(page, 2)
    assert text(page, "#step-label") == "step 3 of 4: channel 2, all 4 samples"
    assert_groups(page, bn, 2)

    click_tab(page, "LN")
    assert text(page, "#step-label") == "step 1 of 4: sample 0"
    ln = layer_norm(x, x.shape[1:]).stages["group_of"]
    assert_groups(page, ln, 0)  # all of sample 0
    step_to(page, 1)
    assert_groups(page, ln, 1)
    assert text(page, "#torch-line").startswith("ln = nn.LayerNorm([4, 4, 4])")

    click_tab(page, "GN")
    gn = group_norm(x, 2).stages["group_of"]
    assert_groups(page, gn, 0)  # sample 0, channels 0 and 1
    step_to(page, 3)
    assert text(page, "#step-label") == "step 4 of 8: sample 1, channels 2–3"
    assert_groups(page, gn, 3)
    page.select_option("#num-groups", "4")
    idle(page)
    assert_groups(page, group_norm(x, 4).stages["group_of"], 3)
    assert text(page, "#torch-line").startswith("gn = nn.GroupNorm(4, 4)")

    drawn = page.evaluate("() => document.getElementById('hist-before').data.map((t) => t.y)")
    edges = np.histogram_bin_edges(x, bins=20)
    assert drawn == [np.histogram(x[:, c], bins=edges)[0].tolist() for c in range(4)]  # server's bins, drawn


def test_stepping_a_group_prints_its_mean_and_its_equation(page: Page, server_url: str) -> None:
    open_norm(page, server_url, "?kind=group&gamma=2")
    x = generate(NormParams())
    t = group_norm(x, 2, np.full(4, 2.0), np.zeros(4))
    step_to(page, 5)  # group 5: sample 2, channels 2-3
    mean, var = t.steps["mean"][5], t.steps["var"][5]
    assert text(page, "#group-stats [data-field=mean]") == fmt(mean)
    assert text(page, "#group-stats [data-field=var]") == fmt(var)
    assert text(page, "#group-stats [data-field=count]") == "32"
    page.wait_for_function(
        "(n) => document.getElementById('equation').innerHTML.includes(`<mn>${n}</mn>`)", arg=num(abs(mean))
    )
    equation = page.inner_html("#equation")
    assert f"<mn>{num(abs(var))}</mn>" in equation and "<mn>32</mn>" in equation

    page.mouse.click(*_cell(page, "norm-0-0", 1, 1))  # a cell of group 0 steps back to it
    idle(page)
    assert text(page, "#step-label").startswith("step 1 of 8")
    assert text(page, "#group-stats [data-field=mean]") == fmt(t.steps["mean"][0])


def _cell(page: Page, map_id: str, r: int, c: int) -> tuple[float, float]:
    box = page.evaluate(
        "(id) => { const m = window.__layerlab.maps[id]; const b = m.overlay.getBoundingClientRect();"
        " return { x: b.left, y: b.top, cell: b.width / m.cols }; }",
        map_id,
    )
    return box["x"] + (c + 0.5) * box["cell"], box["y"] + (r + 0.5) * box["cell"]


def test_training_and_evaluation_use_batch_and_running_statistics(page: Page, server_url: str) -> None:
    open_norm(page, server_url)
    req = NormParams()
    x = generate(req)
    batch_mean = batch_norm(x, None, None, training=True).steps["mean"][0]
    assert text(page, "#group-stats [data-field=mean]") == fmt(batch_mean)
    page.wait_for_function("() => (document.getElementById('running-mean').data || []).length === 8")
    stream = batch_norm_stream(stream_batches(req, req.batches))
    drawn = page.evaluate("() => document.getElementById('running-mean').data[0].y")
    np.testing.assert_allclose(drawn[-1], stream.stages["running_mean"][0], rtol=1e-5)

    page.check("input[name=training][value='0']")
    idle(page)
    assert "bn.eval()" in text(page, "#torch-line")
    assert "running mean" in text(page, "#group-stats")
    assert text(page, "#group-stats [data-field=mean]") == fmt(stream.stages["running_mean"][0])
    assert text(page, "#group-stats [data-field=var]") == fmt(stream.stages["running_var"][0])
    assert page.is_visible("#training-section")

    page.check("input[name=training][value='1']")
    idle(page)
    assert "bn.train()" in text(page, "#torch-line")
    click_tab(page, "LN")
    assert not page.is_visible("#training-section")


def test_changing_another_sample_moves_the_watched_one_only_under_batch_norm(
    page: Page, server_url: str
) -> None:
    open_norm(page, server_url)
    page.check("#perturb")
    idle(page)
    x = generate(NormParams())
    changed = x.copy()
    changed[1] += 5.0  # the default: sample 1 changed by 5, sample 0 watched
    before = batch_norm(x, None, None, training=True).output[0]
    after = batch_norm(changed, None, None, training=True).output[0]
    largest = np.abs(after - before).max()
    assert text(page, "#dependence-summary").endswith(
        f"the output of sample 0 moved by up to {fmt(largest)}."
    )
    np.testing.assert_allclose(map_view(page, "dep-after-2")["values"], after[2], rtol=1e-5, atol=1e-5)
    rows = page.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('#dependence-table tbody tr')]"
        ".map((tr) => [tr.children[0].textContent, tr.children[1].textContent]))"
    )
    assert rows["batch norm, training"] == fmt(largest)
    assert rows["layer norm"] == rows["batch norm, evaluation"] == rows["group norm (2 groups)"] == "0"

    click_tab(page, "LN")
    assert text(page, "#dependence-summary").endswith("the output of sample 0 did not move at all.")
    ln_after = layer_norm(changed, changed.shape[1:]).output[0]
    np.testing.assert_allclose(map_view(page, "dep-after-0")["values"], ln_after[0], rtol=1e-5, atol=1e-5)


def test_the_url_reopens_the_same_view(page: Page, server_url: str) -> None:
    open_norm(page, server_url)
    click_tab(page, "GN")
    page.select_option("#channels", "6")
    page.select_option("#num-groups", "3")
    page.fill("#gamma", "1.5")
    idle(page)
    step_to(page, 4)
    page.check("input[name=view][value=output]")
    page.wait_for_function("() => new URLSearchParams(location.search).get('group') === '4'")
    page.wait_for_function("() => new URLSearchParams(location.search).get('view') === 'output'")
    shown = {
        "label": text(page, "#step-label"),
        "stats": text(page, "#group-stats"),
        "values": map_view(page, "norm-1-5")["values"].tolist(),
        "highlights": [highlighted(page, 1, c) for c in range(6)],
        "torch": text(page, "#torch-line"),
    }
    assert shown["label"] == "step 5 of 12: sample 1, channels 2–3"

    open_norm(page, server_url, "?" + page.url.split("?", 1)[1])  # a fresh load of the copied link
    assert page.locator('#kind-tabs button[aria-selected="true"]').inner_text() == "GN"
    assert page.input_value("#gamma") == "1.5" and page.input_value("#num-groups") == "3"
    again = {
        "label": text(page, "#step-label"),
        "stats": text(page, "#group-stats"),
        "values": map_view(page, "norm-1-5")["values"].tolist(),
        "highlights": [highlighted(page, 1, c) for c in range(6)],
        "torch": text(page, "#torch-line"),
    }
    assert again == shown


def test_every_tab_draws_its_groups_and_its_pytorch_code(page: Page, server_url: str) -> None:
    open_norm(page, server_url)
    expected = {
        "BN": ("bn = nn.BatchNorm2d(4", "step 1 of 4: channel 0, all 4 samples"),
        "LN": ("ln = nn.LayerNorm([4, 4, 4])", "step 1 of 4: sample 0"),
        "IN": ("inorm = nn.InstanceNorm2d(4)", "step 1 of 16: sample 0, channel 0"),
        "GN": ("gn = nn.GroupNorm(2, 4)", "step 1 of 8: sample 0, channels 0–1"),
        "RMS": ("rms = nn.RMSNorm([4, 4, 4], eps=1e-05)", "step 1 of 4: sample 0"),
        "LRN": ("lrn = nn.LocalResponseNorm(3", "step 1 of 4: channel 0, window channels 0–1"),
        "Weight standardization": ("w = nn.Conv2d(4, 4, kernel_size=4", "step 1 of 4: output channel 0"),
        "Weight norm": ("conv = nn.utils.parametrizations.weight_norm(", "step 1 of 4: output channel 0"),
    }
    for tab, (torch, label) in expected.items():
        click_tab(page, tab)
        assert text(page, "#torch-line").startswith(torch), tab
        assert text(page, "#step-label") == label, tab
        assert page.locator("#equation math").count() >= 2, tab
        assert highlighted(page, 0, 0), tab  # element (0, 0, 0, 0) is in the first group of every kind
        window = [h for h in map_view(page, "norm-0-1")["highlights"] if h.get("window")]
        assert bool(window) == (tab == "LRN"), tab  # channel 1 is in channel 0's window of 3
    assert not page.is_visible("#dependence-section")  # a weight has no batch


def test_presenter_view_shows_grid_statistics_and_transform_side_by_side(
    browser: Browser, browser_log: BrowserLog, server_url: str
) -> None:
    parts = ("stepper", "grid", "statistics", "transform")
    with guarded_context(browser, browser_log, viewport={"width": 1280, "height": 720}) as ctx:
        page = ctx.new_page()
        for query, cell in (("?present=1", 24), ("?present=1&batch=8&channels=8&size=8", 4)):
            open_norm(page, server_url, query)
            box = {name: page.locator(f'[data-step-part="{name}"]').bounding_box() for name in parts}
            assert all(b["y"] >= 0 and b["y"] + b["height"] <= 720 for b in box.values()), box
            assert all(b["x"] >= 0 and b["x"] + b["width"] <= 1280 for b in box.values()), box
            # the tiles fill the height under the stepper; the numbers sit to the right of the grid
            assert page.evaluate("() => window.__layerlab.maps['norm-0-0'].cell") >= cell
            assert box["grid"]["height"] >= 440
            grid_right = box["grid"]["x"] + box["grid"]["width"]
            assert box["statistics"]["x"] >= grid_right and box["transform"]["x"] >= grid_right
            assert box["statistics"]["y"] + box["statistics"]["height"] <= box["transform"]["y"]
