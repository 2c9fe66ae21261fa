"""The attention page in a real browser: the drawn weights are the engine's, the masks, the
softmax written out for one query, heads, presets, an edited embedding and the URL."""

from __future__ import annotations

import math

import numpy as np
import pytest
from playwright.sync_api import Page

from layerlab.app.pages.attention.request import additive_weights, weights
from layerlab.engine.attention import additive_attention, multi_head_attention, scaled_dot_product_attention
from layerlab.engine.vocab import embed, tokenize
from tests.browser.conftest import BrowserLog
from tests.browser.helpers import assert_map, blur, fmt, idle, map_values, text


def open_attention(page: Page, base_url: str, query: str = "") -> None:
    page.goto(f"{base_url}/attention{query}")
    page.wait_for_function(
        "() => window.__layerlab && window.__layerlab.maps['att-weights']"
        " && window.__layerlab.maps['att-weights'].values"
        " && document.getElementById('step-label').textContent.startsWith('step ')",
        timeout=20_000,
    )
    idle(page)


def engine(sentence: str, heads: int = 1, causal: bool = False):
    """The engine's multi-head trace for the page's fixed weights (default scale, no padding)."""
    x, _ = embed(tokenize(sentence))
    w_q, w_k, w_v, w_o = weights()
    in_proj = np.concatenate([w_q, w_k, w_v])
    return multi_head_attention(
        x, x, x, heads, in_proj, None, w_o, None, is_causal=causal, average_attn_weights=False
    )


def test_typed_sentence_causal_and_stepping(page: Page, server_url: str) -> None:
    open_attention(page, server_url)
    page.fill("#att-sentence", "the dog ran to the cat")
    idle(page)
    t = engine("the dog ran to the cat")
    assert_map(page, "att-weights", t.stages["attn_weights"][0])
    assert_map(page, "att-output", t.output)

    page.check("#att-causal")
    idle(page)
    drawn = map_values(page, "att-weights")
    assert (drawn[np.triu_indices(6, 1)] == 0).all()
    assert_map(page, "att-weights", engine("the dog ran to the cat", causal=True).stages["attn_weights"][0])

    blur(page)
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    idle(page)
    assert text(page, "#step-label").startswith("step 4 of 6: head 1, query 3")
    x, _ = embed(tokenize("the dog ran to the cat"))
    w_q, w_k, w_v, _ = weights()
    sdpa = scaled_dot_product_attention(x @ w_q.T, x @ w_k.T, x @ w_v.T, is_causal=True)
    assert text(page, "#att-exp-sum") == fmt(sdpa.steps["sum"][3])
    assert text(page, "#att-weight-sum") == "1"
    column = "(els) => els.map((e) => e.textContent)"
    weights_drawn = page.eval_on_selector_all("#att-softmax tbody tr:not(.sum) td:last-child", column)
    assert weights_drawn == [fmt(w) for w in sdpa.steps["weights"][3]]  # one row per key, masked ones 0
    exps_drawn = page.eval_on_selector_all("#att-softmax tbody tr:not(.sum) td:nth-child(4)", column)
    assert exps_drawn == [fmt(e) for e in sdpa.steps["exp"][3]]
    page.wait_for_function("() => location.search.includes('step=3')")
    assert page.locator("#att-plane .annotation").count() >= 2  # weighted values plus the output

    page.reload()
    page.wait_for_function("() => document.getElementById('step-label').textContent.startsWith('step 4')")
    idle(page)
    assert page.input_value("#att-sentence") == "the dog ran to the cat"
    assert page.is_checked("#att-causal")


def test_heads_presets_and_an_edited_embedding(page: Page, server_url: str, browser_log: BrowserLog) -> None:
    open_attention(page, server_url, "?s=river+bank")
    page.select_option("#att-heads", "2")
    idle(page)
    assert page.locator("#att-heads-maps .mapview").count() == 2
    t = engine("river bank", heads=2)
    for h in range(2):
        assert_map(page, f"att-head-weights-{h}", t.stages["attn_weights"][h])
    assert "nn.MultiheadAttention(8, 2" in text(page, "#torch-line")
    assert "river sense" in text(page, "#att-sense") and "leans to its river sense" in text(
        page, "#att-sense"
    )

    page.select_option("#att-preset", "bank account")
    idle(page)
    assert page.input_value("#att-sentence") == "bank account"
    assert "leans to its finance sense" in text(page, "#att-sense")

    browser_log.allow(r"status of 422")  # provoked: a temperature of 0 is refused
    page.fill("#att-temperature", "0")
    idle(page)
    assert "temperature" in text(page, "#status")
    page.fill("#att-temperature", "1")
    idle(page)

    click_cell(page, "att-x", 1, 0)  # "account", finance
    page.fill("#att-edit-value", "3")
    page.press("#att-edit-value", "Enter")
    idle(page)
    x, _ = embed(["bank", "account"], {"account": np.array([3, 0, 0, 0, 0, 0, 0, 0.0])})
    w_q, w_k, w_v, w_o = weights()
    edited = multi_head_attention(x, x, x, 2, np.concatenate([w_q, w_k, w_v]), None, w_o, None)
    assert_map(page, "att-output", edited.output)
    page.wait_for_function("() => location.search.includes('ov=')")
    assert math.isclose(map_values(page, "att-x")[1, 0], 3)


def click_cell(page: Page, map_id: str, row: int, col: int) -> None:
    box = page.evaluate(  # the embeddings and weights lie below the step: scrolled to, as a user would
        f"() => {{ const m = window.__layerlab.maps['{map_id}']; m.el.scrollIntoView({{block: 'center'}});"
        " const b = m.overlay.getBoundingClientRect();"
        f" return [b.left + ({col} + 0.5) * m.cell, b.top + ({row} + 0.5) * m.cell]; }}"
    )
    page.mouse.click(*box)


def test_an_edited_weight_cell_gives_the_engines_output(page: Page, server_url: str) -> None:
    open_attention(page, server_url, "?s=river+bank")
    before = map_values(page, "att-output")
    click_cell(page, "att-wq", 2, 1)
    page.fill("#att-edit-value", "4")
    page.press("#att-edit-value", "Enter")
    idle(page)
    x, _ = embed(["river", "bank"])
    w_q, w_k, w_v, w_o = (w.copy() for w in weights())
    w_q[2, 1] = 4
    edited = multi_head_attention(x, x, x, 1, np.concatenate([w_q, w_k, w_v]), None, w_o, None)
    assert_map(page, "att-output", edited.output)
    assert not np.allclose(map_values(page, "att-output"), before, atol=1e-3)
    assert math.isclose(map_values(page, "att-wq")[2, 1], 4)
    page.wait_for_function("() => location.search.includes('wov=')")
    assert "W_Q[2, 1]" in text(page, "#att-overrides")


def test_additive_tab_steps_over_the_encoder_states(page: Page, server_url: str) -> None:
    open_attention(page, server_url, "?s=the+dog+ran+to+the+cat")
    page.click("#tab-additive")
    page.wait_for_function(
        "() => document.getElementById('add-step-label').textContent.startsWith('encoder')"
    )
    idle(page)
    assert page.is_hidden("#att-panel-self")
    h, _ = embed(tokenize("the dog ran to the cat"))
    t = additive_attention(h[0], h, *additive_weights())
    assert_map(page, "add-tanh", t.stages["tanh"])
    assert_map(page, "add-context", t.output[None])
    blur(page)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    idle(page)
    assert text(page, "#add-step-label").startswith("encoder state 3 of 6")
    assert text(page, "#add-score") == fmt(t.stages["scores"][2])
    assert text(page, "#add-weight") == fmt(t.stages["weights"][2])
    assert "<math" in page.inner_html("#add-equation")

    page.select_option("#add-decoder", "1")
    idle(page)
    t = additive_attention(h[1], h, *additive_weights())
    assert text(page, "#add-score") == fmt(t.stages["scores"][2])
    page.wait_for_function(
        "() => location.search.includes('tab=additive') && location.search.includes('dec=1')"
    )
    page.reload()
    page.wait_for_function(
        "() => document.getElementById('add-step-label').textContent.startsWith('encoder state 3')"
    )
    assert text(page, "#add-score") == fmt(t.stages["scores"][2])


SELF_ONLY = ("#att-heads", "#att-causal", "#att-padding", "#att-scaled", "#att-temperature")


def test_additive_tab_shows_only_the_controls_that_apply(page: Page, server_url: str) -> None:
    open_attention(page, server_url, "?s=river+bank")
    for control in SELF_ONLY:
        assert page.locator(control).is_visible(), control
    page.click("#tab-additive")
    page.wait_for_function(
        "() => document.getElementById('add-step-label').textContent.startsWith('encoder')"
    )
    for control in SELF_ONLY:  # heads, masks, scaling and temperature mean nothing to additive attention
        assert page.locator(control).is_hidden(), control
    assert page.locator("#att-sentence").is_visible()
    page.click("#tab-self")
    idle(page)
    assert page.locator("#att-heads").is_visible()


def test_presenter_view_gives_the_step_maps_the_width(page: Page, server_url: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 720})
    open_attention(page, server_url, "?present=1")
    row = page.locator("#att-row-head").bounding_box()
    maps = page.evaluate(
        """() => ['att-scores', 'att-scaled', 'att-mask', 'att-weights', 'att-head-out'].map((id) => {
          const m = window.__layerlab.maps[id]; const b = m.el.getBoundingClientRect();
          return { cell: m.cell, right: b.right, bottom: b.bottom }; })"""
    )
    assert len({m["cell"] for m in maps}) == 1  # one cell size across the step's maps
    assert max(m["right"] for m in maps) <= row["x"] + row["width"] + 1
    assert max(m["right"] for m in maps) >= row["x"] + 0.75 * row["width"]  # the row's width is used
    assert max(m["bottom"] for m in maps) <= 720
    w_q = page.evaluate("() => window.__layerlab.maps['att-wq'].drawn")
    assert w_q["cell"] >= 40 and w_q["tickPx"] >= 14  # W_Q as big as its line allows
    assert w_q["fontPx"] >= 13  # its numbers readable from the back (they were about 7 px)


STEP_MAPS = ("att-scores", "att-scaled", "att-mask", "att-weights", "att-head-out")

# each step map's cell, its element's box, its title's box and the box that may clip the title (the
# Plotly SVG when it hides its overflow, else the map's element)
STEP_GEOMETRY = """(ids) => ids.map((id) => {
  const m = window.__layerlab.maps[id];
  const box = (el) => { const b = el.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; };
  const svg = m.el.querySelector('.main-svg');
  const title = m.el.querySelector('.gtitle');
  return { id, cell: m.cell, el: box(m.el), title: title ? box(title) : null, bar: box(m.bar),
           text: title ? title.textContent : '',
           clip: getComputedStyle(svg).overflow === 'visible' ? box(m.el) : box(svg) };
})"""

# the plane's point labels as drawn (a label a neighbour carries is blank)
PLANE_LABELS = """() => [...document.querySelectorAll('#att-plane .textpoint text')]
  .filter((t) => t.textContent.trim())
  .map((t) => { const b = t.getBoundingClientRect();
    return [t.textContent, b.left, b.top, b.right, b.bottom]; })"""


def inside(inner: list[float], outer: list[float], slack: float = 1) -> bool:
    return (
        inner[0] >= outer[0] - slack
        and inner[1] >= outer[1] - slack
        and inner[2] <= outer[2] + slack
        and inner[3] <= outer[3] + slack
    )


@pytest.mark.parametrize("query", ["", "&causal=1&heads=4", "&heads=8&causal=1"])
def test_presenter_step_maps_are_big_titled_and_the_plane_labels_apart(
    page: Page, server_url: str, query: str
) -> None:
    page.set_viewport_size({"width": 1280, "height": 720})
    open_attention(page, server_url, f"?present=1{query}")
    maps = page.evaluate(STEP_GEOMETRY, list(STEP_MAPS))
    for m in maps:
        assert m["cell"] >= 22, f"{m['id']}: {m['cell']} px cells, unreadable from the back"
        assert m["text"], f"{m['id']} has no title"
        where = f"{m['id']}: title {m['text']!r} at {m['title']}"
        assert inside(m["title"], m["el"]), f"{where} outside its map {m['el']}"
        assert inside(m["title"], m["clip"]), f"{where} clipped at {m['clip']}"
        if m["id"] != "att-mask":  # the mask has a key under it instead of a colour bar
            # a title may run on over the colour bar's gradient (above it), never into its numbers
            # (presenter view: 6 px gap, 16 px gradient, 6 px gap, then the numbers)
            left, top = m["bar"][:2]
            right, bottom = m["title"][2:]
            assert right <= left + 28 or bottom <= top, f"{where} meets the colour bar's numbers"
            assert right <= left + 6 or bottom <= top + 8, f"{where} runs into the colour bar"
        assert m["el"][2] <= 1280 and m["el"][3] <= 720, f"{m['id']} off the first screen"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1280

    labels = page.evaluate(PLANE_LABELS)
    names = ", ".join(label[0] for label in labels)
    for token in ("we", "sat", "on", "the", "river", "bank", "out(we)"):
        assert token in names, f"no label names {token}: {names}"
    b = page.locator("#att-plane").bounding_box()
    plane = [b["x"], b["y"], b["x"] + b["width"], b["y"] + b["height"]]
    for i, a in enumerate(labels):
        assert inside(a[1:], plane), f"plane label {a[0]!r} {a[1:]} outside the plane {plane}"
        for b in labels[i + 1 :]:
            apart = a[3] <= b[1] or b[3] <= a[1] or a[4] <= b[2] or b[4] <= a[2]
            assert apart, f"plane labels {a[0]!r} {a[1:]} and {b[0]!r} {b[1:]} overlap"


def test_the_mask_map_says_what_it_holds(page: Page, server_url: str) -> None:
    open_attention(page, server_url)
    assert page.evaluate("() => window.__layerlab.maps['att-mask'].title") == "Mask: none"
    assert page.locator("#att-mask-key").is_visible()  # 0 kept, −∞ masked: the key stands for a colour bar
    page.check("#att-causal")
    page.wait_for_function("() => window.__layerlab.maps['att-mask'].title === 'Mask'")
    idle(page)
    # a masked cell (query 2, key 4: −∞) is dark; an allowed one (query 4, key 2: 0) is light
    shade = page.evaluate(
        """() => { const m = window.__layerlab.maps['att-mask'];
          const k = m.overlay.width / (m.cols * m.cell);
          const at = (r, c) => { const d = m.overlay.getContext('2d').getImageData(
              Math.round((c + 0.5) * m.cell * k), Math.round((r + 0.5) * m.cell * k), 1, 1).data;
            return d[3] === 0 ? null : (d[0] + d[1] + d[2]) / 3; };
          return [at(2, 4), at(4, 2)]; }"""
    )
    assert shade[0] is not None and shade[0] < 90, f"masked cell not dark: {shade}"
    assert shade[1] is None or shade[1] > 200, f"allowed cell not light: {shade}"
