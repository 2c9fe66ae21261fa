"""The recurrent page in a real browser: stepping through time prints the engine's gate values and
state update, the kinds switch and compare, the gradient chart draws the engine's norms, the
bidirectional passes, and the URL brings the view back."""

from __future__ import annotations

import numpy as np
from playwright.sync_api import Browser, Page

from layerlab.engine.recurrent import gru, init_params, lstm
from layerlab.engine.recurrent_grad import vanishing_gradients
from tests.browser.conftest import BrowserLog, guarded_context
from tests.browser.helpers import assert_map, blur, fmt, fmt_cell, idle, set_range, text

NUMBERS = [1.0, -0.5, 2.0, 0.25, -1.0]
QUERY = "?source=numbers&numbers=" + "[1,-0.5,2,0.25,-1]"


def open_recurrent(page: Page, base_url: str, query: str = QUERY) -> None:
    page.goto(f"{base_url}/recurrent{query}")
    page.wait_for_function(
        "() => window.__layerlab && document.getElementById('step-label').textContent.startsWith('step ')"
        " && document.querySelector('#rnn-grad-chart .main-svg')",
        timeout=20_000,
    )
    idle(page)


def engine(kind: str, x: np.ndarray, bidirectional: bool = False):
    params = init_params(kind, x.shape[1], 4, 1, True, bidirectional, seed=0, scale=1.0)
    return {"lstm": lstm, "gru": gru}[kind](x, None, params, 1, bidirectional=bidirectional)


def vec(values) -> str:
    return "[" + ", ".join(fmt(v) for v in values) + "]"


def cells(page: Page, key: str) -> list[str]:
    """The numbers written in the cell diagram's column `key`."""
    return page.locator(f'#rnn-cell [data-key="{key}"] text.v').all_text_contents()


def test_stepping_through_time_prints_the_engines_gates_and_cell_state(page: Page, server_url: str) -> None:
    open_recurrent(page, server_url)
    x = np.array(NUMBERS)[:, None]
    t = engine("lstm", x)
    st = {name.removeprefix("l0.forward."): v for name, v in t.stages.items()}
    blur(page)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.click('#stepper [data-act="next"]')
    idle(page)
    assert text(page, "#step-label").startswith("step 4 of 5: t = 4 (x = 0.25)")
    for gate in ("f", "i", "g", "o", "c", "h"):
        assert cells(page, gate) == [fmt_cell(v) for v in st[gate][3]], gate
    assert cells(page, "c_prev") == [fmt_cell(v) for v in st["c"][2]]
    assert text(page, "#eq-state") == (
        f"c_t = f_t ⊙ c_{{t−1}} + i_t ⊙ g_t = {vec(st['f'][3])} ⊙ {vec(st['c'][2])} + {vec(st['i'][3])}"
        f" ⊙ {vec(st['g'][3])} = {vec(st['c'][3])}"
    )
    assert (
        text(page, "#eq-hidden")
        == f"h_t = o_t ⊙ tanh(c_t) = {vec(st['o'][3])} ⊙ {vec(st['c_tanh'][3])} = {vec(st['h'][3])}"
    )
    assert_map(page, "rnn-h-l0-forward", st["h"].T)
    assert_map(page, "rnn-c-l0-forward", st["c"].T)
    highlight = page.evaluate("() => window.__layerlab.maps['rnn-h-l0-forward'].highlights[0].cols")
    assert highlight == [3]
    assert page.locator("#rnn-chain rect.current").get_attribute("data-t") == "3"

    page.keyboard.press("Home")
    idle(page)
    assert cells(page, "h_prev") == ["0"] * 4 and text(page, "#step-label").startswith("step 1 of 5")
    page.click('#stepper [data-act="last"]')
    idle(page)
    assert cells(page, "h") == [fmt_cell(v) for v in st["h"][4]]
    assert "nn.LSTM(input_size=1, hidden_size=4, num_layers=1, bidirectional=False)" in text(
        page, "#torch-line"
    )


def test_switching_the_kind_keeps_the_input_and_compares_all_three(page: Page, server_url: str) -> None:
    open_recurrent(page, server_url, QUERY + "&step=2")
    page.click("#kind-gru")
    page.wait_for_function("() => document.getElementById('torch-line').textContent.startsWith('gru =')")
    idle(page)
    x = np.array(NUMBERS)[:, None]
    st = {name.removeprefix("l0.forward."): v for name, v in engine("gru", x).stages.items()}
    assert text(page, "#step-label").startswith("step 3 of 5")
    for gate in ("r", "z", "n", "h"):
        assert cells(page, gate) == [fmt_cell(v) for v in st[gate][2]], gate
    assert text(page, "#eq-state") == (
        f"h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{{t−1}} = (1 − {vec(st['z'][2])}) ⊙ {vec(st['n'][2])}"
        f" + {vec(st['z'][2])} ⊙ {vec(st['h'][1])} = {vec(st['h'][2])}"
    )
    assert page.locator('#rnn-cell [data-key="c"]').count() == 0
    for kind in ("lstm", "gru"):
        drawn = page.evaluate(
            f"() => document.getElementById('rnn-compare-{kind}').data.map((trace) => trace.y)"
        )
        np.testing.assert_allclose(np.array(drawn).T, engine(kind, x).output, rtol=1e-5, atol=1e-6)
    assert "selected" in (page.get_attribute("#rnn-compare-gru", "class") or "")
    page.click("#rnn-compare-rnn")
    page.wait_for_function("() => document.getElementById('torch-line').textContent.startsWith('rnn =')")
    idle(page)
    assert page.is_visible("#rnn-nonlin") and text(page, "#eq-state").startswith("h_t = tanh(")


def test_the_gradient_chart_draws_the_engines_norms_on_a_log_scale(page: Page, server_url: str) -> None:
    open_recurrent(page, server_url)
    chart = (
        "() => { const g = document.getElementById('rnn-grad-chart');"
        " return [g.layout.yaxis.type, g.data.map((d) => d.y)]; }"
    )
    axis, drawn = page.evaluate(chart)
    assert axis == "log"
    expected = vanishing_gradients(30, 4, 8, 1.0, 3.0, 0).output
    np.testing.assert_allclose(drawn, expected, rtol=1e-12)
    set_range(page, "#grad-scale", 0.5)
    page.wait_for_function("() => location.search.includes('gscale=0.5')")
    idle(page)
    _, drawn = page.evaluate(chart)
    np.testing.assert_allclose(drawn, vanishing_gradients(30, 4, 8, 0.5, 3.0, 0).output, rtol=1e-12)
    assert drawn[0][0] < 1e-15 < drawn[1][0]  # the simple RNN forgets x_1, the LSTM does not
    assert text(page, "#grad-scale-out") == "0.5"


def test_bidirectional_passes_and_the_url_survive_a_reload(page: Page, server_url: str) -> None:
    open_recurrent(page, server_url)
    page.check("#rnn-bidir")
    page.wait_for_function(
        "() => window.__layerlab.maps['rnn-out'] && window.__layerlab.maps['rnn-out'].values"
    )
    idle(page)
    x = np.array(NUMBERS)[:, None]
    t = engine("lstm", x, bidirectional=True)
    assert_map(page, "rnn-h-l0-forward", t.stages["l0.forward.h"].T)
    assert_map(page, "rnn-h-l0-reverse", t.stages["l0.reverse.h"].T)
    assert_map(page, "rnn-out", t.output.T)
    assert page.locator("#rnn-chain rect.cellbox").count() == 10
    blur(page)
    page.keyboard.press("End")
    page.keyboard.press("ArrowLeft")
    idle(page)
    # steps run forward t = 1…5, then reverse t = 5…1: step 9 is the reverse pass at t = 2
    assert text(page, "#step-label").startswith("step 9 of 10: reverse, t = 2")
    assert cells(page, "h_prev") == [fmt_cell(v) for v in t.stages["l0.reverse.h"][2]]
    assert cells(page, "h") == [fmt_cell(v) for v in t.stages["l0.reverse.h"][1]]
    assert page.is_visible("#rnn-bidir-formula")
    page.wait_for_function(
        "() => location.search.includes('step=8') && location.search.includes('bidirectional=1')"
    )

    page.reload()
    page.wait_for_function(
        "() => document.getElementById('step-label').textContent.startsWith('step 9 of 10: reverse')"
    )
    idle(page)
    assert page.is_checked("#rnn-bidir") and page.input_value("#rnn-numbers") == "1, -0.5, 2, 0.25, -1"
    assert cells(page, "h") == [fmt_cell(v) for v in t.stages["l0.reverse.h"][1]]


PARTS = ("stepper", "sequence", "cell", "update")


def part_boxes(page: Page) -> dict[str, dict]:
    return {name: page.locator(f'[data-step-part="{name}"]').bounding_box() for name in PARTS}


def test_presenter_view_shows_one_time_step_on_one_screen(
    browser: Browser, browser_log: BrowserLog, server_url: str
) -> None:
    with guarded_context(browser, browser_log, viewport={"width": 1280, "height": 720}) as ctx:
        page = ctx.new_page()
        for query, least in (("?present=1", 1.1), ("?present=1&hidden_size=8&bidirectional=true", 0.6)):
            open_recurrent(page, server_url, query)
            box = part_boxes(page)
            assert all(0 <= b["y"] and b["y"] + b["height"] <= 720 for b in box.values()), box
            # the sequence, then the cell drawn bigger than its own size when the room allows, then the update
            for upper, lower in zip(PARTS, PARTS[1:], strict=False):
                assert box[upper]["y"] + box[upper]["height"] <= box[lower]["y"] + 1, (upper, lower)
            drawn = page.evaluate(
                "() => { const s = document.querySelector('#rnn-cell svg');"
                " return s.getBoundingClientRect().width / Number(s.getAttribute('width')); }"
            )
            assert drawn >= least
            current = page.locator("#rnn-chain rect.current").bounding_box()
            assert current["y"] >= 0 and current["y"] + current["height"] <= 720


def test_phone_scrolls_the_cell_in_its_own_box(
    browser: Browser, browser_log: BrowserLog, server_url: str
) -> None:
    with guarded_context(browser, browser_log, viewport={"width": 390, "height": 844}) as ctx:
        page = ctx.new_page()
        open_recurrent(page, server_url, "?")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        assert all(b["x"] >= 0 and b["x"] + b["width"] <= 390 for b in part_boxes(page).values())
