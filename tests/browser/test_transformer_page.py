"""The trained-transformer page in a real browser: typing a sentence, switching layer and head, stepping
a query, changing the temperature and editing a cell each redraw the engine's numbers; in presenter view
at 1280x720 a whole step is on one screen, its head maps big enough to read from the back row."""

from __future__ import annotations

import numpy as np
from playwright.sync_api import Page

from layerlab.app.pages.transformer.request import model
from layerlab.app.pages.transformer.schemas import DEFAULT_SENTENCE
from layerlab.engine.tinylm.corpus import encode
from layerlab.engine.tinylm.model import forward, next_token_probs
from tests.browser.helpers import assert_map, blur, cell_point, fmt, idle, map_values, text

SENTENCE = "he paid the cash into the bank"


def engine(sentence: str, edit: tuple | None = None):
    params, config = model()
    if edit:
        name, row, col, value = edit
        params = {**params, name: params[name].copy()}
        params[name][row, col] = value
    return forward(params, config, np.concatenate([[1], encode(sentence)]))


def column(page: Page, n: int) -> list[str]:
    cells = "#tf-softmax tbody tr:not(.sum) td:nth-child"
    return page.eval_on_selector_all(f"{cells}({n})", "(els) => els.map((e) => e.textContent)")


def open_page(page: Page, url: str) -> None:
    """Open /transformer (`url`) and wait until every head's map and the first query are drawn."""
    page.goto(url)
    page.wait_for_function(
        "() => window.__layerlab && window.__layerlab.maps['tf-head-1-1']"
        " && window.__layerlab.maps['tf-head-1-1'].values"
        " && document.getElementById('step-label').textContent.startsWith('query ')",
        timeout=20_000,
    )


def test_sentence_heads_query_temperature_and_an_edit_redraw(page: Page, server_url: str) -> None:
    open_page(page, f"{server_url}/transformer")
    page.fill("#tf-sentence", SENTENCE)
    idle(page)
    f = engine(SENTENCE)
    for layer in range(2):
        for head in range(2):
            assert_map(page, f"tf-head-{layer}-{head}", f.weights[layer][0, head])
    assert text(page, "#step-label").startswith("query 7 of 7")  # the last word by default

    page.select_option("#tf-layer", "1")
    page.select_option("#tf-head", "1")
    idle(page)
    assert text(page, "#tf-head-title").startswith("Layer 1, head 1")
    blur(page)
    page.keyboard.press("Home")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    idle(page)
    assert text(page, "#step-label").startswith("query 3 of 7")
    assert column(page, 6) == [fmt(w) for w in f.weights[1][0, 1, 3]]  # one row per key, masked ones 0
    assert column(page, 5) == [fmt(e) for e in f.exp[1][0, 1, 3]]
    assert text(page, "#tf-exp-sum") == fmt(f.exp[1][0, 1, 3].sum())
    assert_map(page, "tf-resid", np.stack([r[0, 3] for r in f.resid]))

    page.eval_on_selector(
        "#tf-temperature",
        "(el) => { el.value = '0.5'; el.dispatchEvent(new Event('input', {bubbles: true})); }",
    )
    idle(page)
    p = next_token_probs(f.logits[0, 3], temperature=0.5)
    top = np.sort(p)[::-1][:10]
    drawn = page.eval_on_selector_all("#tf-probs .tf-p", "(els) => els.map((e) => e.textContent)")
    assert drawn == [fmt(v) for v in top]

    cash = 4  # <bos> he paid the cash
    page.evaluate("() => window.__layerlab.maps['tf-emb'].el.scrollIntoView({block: 'center'})")
    x, y = cell_point(page, "tf-emb", cash, 0)
    page.mouse.click(x, y)
    assert "tok_emb[“cash”, 0]" in text(page, "#tf-edit-label")
    page.fill("#tf-edit-value", "5")
    page.press("#tf-edit-value", "Enter")
    idle(page)
    g = engine(SENTENCE, ("tok_emb.weight", int(encode("cash")[0]), 0, 5.0))
    assert_map(page, "tf-head-1-1", g.weights[1][0, 1])
    assert map_values(page, "tf-emb")[cash, 0] == 5
    assert "tok_emb.weight[" in text(page, "#tf-edits")
    page.wait_for_function("() => location.search.includes('edits=')")


# What presenter view drew, in viewport px: each head map (its cell, its token labels' font, centres and
# angle, its title's font and box, its element's box), the grid's box and its one colour bar, the table's
# font and every part of the step.
GEOMETRY = """() => {
  const box = (el) => { const b = el.getBoundingClientRect();
    return { left: b.left, top: b.top, right: b.right, bottom: b.bottom }; };
  const label = (t) => { const b = t.getBoundingClientRect();
    const turn = /rotate\\((-?[\\d.]+)/.exec(t.getAttribute('transform') || '');
    return { text: t.textContent, px: parseFloat(getComputedStyle(t).fontSize), x: (b.left + b.right) / 2,
             y: (b.top + b.bottom) / 2, angle: turn ? Number(turn[1]) : 0 }; };
  const heads = Object.entries(window.__layerlab.maps).filter(([id]) => id.startsWith('tf-head-'))
    .map(([id, m]) => ({ id, rows: m.rows, cell: m.cell, ownBar: !m.bar.hidden, box: box(m.el),
      chosen: m.el.classList.contains('tf-chosen'),
      title: { text: m.plot.querySelector('.gtitle').textContent,
               px: parseFloat(getComputedStyle(m.plot.querySelector('.gtitle')).fontSize),
               box: box(m.plot.querySelector('.gtitle')) },
      x: [...m.plot.querySelectorAll('.xtick text')].map(label),
      y: [...m.plot.querySelectorAll('.ytick text')].map(label) }));
  const bar = [...document.querySelectorAll('#tf-grid-box canvas.colorbar')]
    .find((c) => !c.closest('.mapview'));
  const parts = Object.fromEntries([...document.querySelectorAll('.tf-step [data-step-part]')]
    .map((el) => [el.dataset.stepPart, box(el)]));
  return { heads, grid: box(document.getElementById('tf-grid-box')), bar: bar && box(bar),
    barLabel: bar && bar.getAttribute('aria-label'),
    scaleTitle: document.querySelector('#tf-scale .tf-scale-title').textContent,
    tablePx: parseFloat(getComputedStyle(document.querySelector('#tf-softmax td')).fontSize), parts,
    view: [window.innerWidth, window.innerHeight], scrollWidth: document.documentElement.scrollWidth };
}"""


def touching(labels: list[dict]) -> list[str]:
    """Neighbouring tick labels closer than their font across their lines (the labels' lines run at
    their angle: neighbours 45° apart are cell·sin 45° apart across them)."""
    out = []
    for a, b in zip(labels, labels[1:], strict=False):
        t = np.radians(a["angle"])
        across = abs(-(b["x"] - a["x"]) * np.sin(t) + (b["y"] - a["y"]) * np.cos(t))
        if across < max(a["px"], b["px"]):
            out.append(f"{a['text']!r} and {b['text']!r} {across:.1f} px apart at {a['px']} px")
    return out


def test_presenter_view_fits_a_readable_step_on_a_1280x720_screen(page: Page, server_url: str) -> None:
    """The default sentence's four head maps (18 px cells or more at its 7 tokens, 12 px token labels that
    never touch, 13 px titles inside their maps), their one shared colour bar inside the grid's box, and
    the grid, the table (14 px numbers), the next words and the weighted values all on the screen."""
    page.set_viewport_size({"width": 1280, "height": 720})
    open_page(page, f"{server_url}/transformer?present=1")
    idle(page)
    g = page.evaluate(GEOMETRY)
    tokens = 1 + len(encode(DEFAULT_SENTENCE))  # <bos> first
    _, config = model()
    assert len(g["heads"]) == config.n_layers * config.n_heads
    assert sum(h["chosen"] for h in g["heads"]) == 1  # the selected head is outlined
    for h in g["heads"]:
        name = h["id"]
        assert h["rows"] == tokens
        if tokens <= 7:
            assert h["cell"] >= 18, f"{name}: {h['cell']} px cells"
        assert not h["ownBar"], f"{name} draws its own bar beside the shared one"
        assert [t["text"] for t in h["y"]][0] == "<bos>"
        for axis in ("x", "y"):
            assert min(t["px"] for t in h[axis]) >= 12, f"{name}: {axis} labels under 12 px"
            assert len(h[axis]) == tokens or tokens > 7  # every token named while they fit
            assert not touching(h[axis]), f"{name}: " + "; ".join(touching(h[axis]))
        t = h["title"]
        assert t["px"] >= 13, f"{name}: title {t['text']!r} at {t['px']} px"
        inside = h["box"]["left"] - 1 <= t["box"]["left"] and t["box"]["right"] <= h["box"]["right"] + 1
        assert inside, f"{name}: title {t['text']!r} cropped"

    bar, grid = g["bar"], g["grid"]
    assert bar, "the grid has no shared colour bar"
    assert grid["left"] <= bar["left"] and bar["right"] <= grid["right"]
    assert grid["top"] <= bar["top"] and bar["bottom"] <= grid["bottom"]
    assert bar["bottom"] - bar["top"] >= 2 * 7 * 18  # as tall as the grid's rows of maps
    assert "0 to 1" in g["scaleTitle"] and "every map" in g["scaleTitle"]
    assert g["tablePx"] >= 14

    width, height = g["view"]
    assert set(g["parts"]) >= {"heads", "softmax", "next", "values"}
    for name, b in g["parts"].items():
        assert b["bottom"] <= height and b["right"] <= width, f"{name} off the {width}x{height} screen: {b}"
    assert g["scrollWidth"] <= width, "the page scrolls sideways"
