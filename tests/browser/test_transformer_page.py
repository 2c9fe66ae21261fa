"""The trained-transformer page in a real browser: typing a sentence, switching layer and head (in the
settings or by clicking a head's thumbnail), stepping a query, changing the temperature and editing a cell
each redraw the engine's numbers; in presenter view at 1280x720 a whole step is on one screen, the selected
head's map big enough to read from the back row and every head's thumbnail captioned readably."""

from __future__ import annotations

import numpy as np
from playwright.sync_api import Page

from layerlab.app.pages.transformer.request import model, roles
from layerlab.app.pages.transformer.schemas import DEFAULT_SENTENCE
from layerlab.engine.tinylm.corpus import encode
from layerlab.engine.tinylm.model import forward
from layerlab.engine.tinylm.readout import next_token_probs
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
    _, config = model()
    for layer in range(config.n_layers):
        for head in range(config.n_heads):
            assert_map(page, f"tf-head-{layer}-{head}", f.weights[layer][0, head])
    assert_map(page, "tf-head", f.weights[0][0, 0])  # the selected head, large
    assert text(page, "#step-label").startswith("query 7 of 7")  # the last word by default

    page.select_option("#tf-layer", "1")
    page.select_option("#tf-head", "1")
    idle(page)
    assert text(page, "#tf-head-title").startswith("Layer 1, head 1")
    assert_map(page, "tf-head", f.weights[1][0, 1])
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


def test_clicking_a_thumbnail_draws_that_head_large(page: Page, server_url: str) -> None:
    """A click on a head's thumbnail selects it: the big map, the table's title, the Settings' selects
    and the outline all follow, the big map drawing the engine's weights of that head."""
    open_page(page, f"{server_url}/transformer")
    idle(page)
    _, config = model()
    f = engine(DEFAULT_SENTENCE)
    layer, head = config.n_layers - 1, config.n_heads - 1
    x, y = cell_point(page, f"tf-head-{layer}-{head}", 0, 0)  # on the thumbnail's cells
    page.mouse.click(x, y)
    idle(page)
    page.wait_for_function(
        f"() => document.getElementById('tf-head-title').textContent.startsWith('Layer {layer}')"
    )
    assert_map(page, "tf-head", f.weights[layer][0, head])
    assert page.input_value("#tf-layer") == str(layer) and page.input_value("#tf-head") == str(head)
    assert page.locator(".tf-thumb.tf-chosen").count() == 1
    assert (
        page.locator(f".tf-thumb[data-head='{layer}-{head}'] button").get_attribute("aria-pressed") == "true"
    )
    page.click(".tf-thumb[data-head='0-1'] button")  # its caption is a button too (keyboard, screen reader)
    idle(page)
    page.wait_for_function(
        "() => document.getElementById('tf-head-title').textContent.startsWith('Layer 0, head 1')"
    )
    assert_map(page, "tf-head", f.weights[0][0, 1])


# What presenter view drew, in viewport px: the selected head's big map (its cell, its token labels' font,
# centres and angle, its title's font and box, its element's box, the rows it marks), each thumbnail (its
# cell, its caption's lines, font and box), the grid's box and its one colour bar, the weighted values'
# tick labels, the table's font and every part of the step.
GEOMETRY = """() => {
  const box = (el) => { const b = el.getBoundingClientRect();
    return { left: b.left, top: b.top, right: b.right, bottom: b.bottom }; };
  const label = (t) => { const b = t.getBoundingClientRect();
    const turn = /rotate\\((-?[\\d.]+)/.exec(t.getAttribute('transform') || '');
    return { text: t.textContent, px: parseFloat(getComputedStyle(t).fontSize), x: (b.left + b.right) / 2,
             y: (b.top + b.bottom) / 2, angle: turn ? Number(turn[1]) : 0 }; };
  const maps = window.__layerlab.maps;
  const ticks = (m, axis) => [...m.plot.querySelectorAll(`.${axis}tick text`)].map(label);
  const big = maps['tf-head'];
  const title = big.plot.querySelector('.gtitle');
  const thumbs = [...document.querySelectorAll('.tf-thumb')].map((t) => {
    const m = Object.values(maps).find((v) => v.el.parentElement === t);
    const caption = t.querySelector('.tf-thumb-title');
    return { id: m.opts.id, rows: m.rows, cell: m.cell, ownBar: !m.bar.hidden, box: box(m.el),
      chosen: t.classList.contains('tf-chosen'), ticks: ticks(m, 'x').length + ticks(m, 'y').length,
      caption: { lines: [...caption.querySelectorAll('span')].map((s) => s.textContent),
                 px: parseFloat(getComputedStyle(caption).fontSize), box: box(caption) } };
  });
  const bar = [...document.querySelectorAll('#tf-grid-box canvas.colorbar')]
    .find((c) => !c.closest('.mapview'));
  const parts = Object.fromEntries([...document.querySelectorAll('.tf-step [data-step-part]')]
    .map((el) => [el.dataset.stepPart, box(el)]));
  const values = ['tf-v', 'tf-weighted', 'tf-out']
    .flatMap((id) => [...ticks(maps[id], 'x'), ...ticks(maps[id], 'y')]);
  return { big: { rows: big.rows, cell: big.cell, ownBar: !big.bar.hidden, box: box(big.el),
      cells: box(big.overlay), marked: big.highlights.flatMap((h) => h.rows),
      title: { text: title.textContent, px: parseFloat(getComputedStyle(title).fontSize), box: box(title) },
      x: ticks(big, 'x'), y: ticks(big, 'y') },
    thumbs, heading: box(document.getElementById('tf-grid-title')),
    grid: box(document.getElementById('tf-grid-box')), bar: bar && box(bar),
    scaleTitle: document.querySelector('#tf-scale .tf-scale-title').textContent,
    valuesPx: Math.min(...values.map((t) => t.px)),
    tablePx: parseFloat(getComputedStyle(document.querySelector('#tf-softmax td')).fontSize), parts,
    step: Number(/query (\\d+)/.exec(document.getElementById('step-label').textContent)[1]),
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


def overlap(a: dict, b: dict) -> bool:
    return (
        a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and b["top"] < a["bottom"]
    )


def test_presenter_view_fits_a_readable_step_on_a_1280x720_screen(page: Page, server_url: str) -> None:
    """The default sentence's selected head drawn large (20 px cells or more at its 7 tokens, every token
    named at 13 px or more, never touching, the query's row marked, its title whole), every head as a
    thumbnail captioned "L1 H0" over its job at 12 px or more (one outlined, captions apart), their one
    shared colour bar inside the grid's box, the weighted values' labels at 11 px or more, and the grid,
    the table (14 px numbers), the next words and the weighted values all on the screen."""
    page.set_viewport_size({"width": 1280, "height": 720})
    open_page(page, f"{server_url}/transformer?present=1")
    idle(page)
    g = page.evaluate(GEOMETRY)
    tokens = 1 + len(encode(DEFAULT_SENTENCE))  # <bos> first
    _, config = model()
    jobs = roles()

    big = g["big"]
    assert big["rows"] == tokens
    if tokens <= 7:
        assert big["cell"] >= 20, f"the big map's cells are {big['cell']} px"
    assert not big["ownBar"], "the big map draws its own bar beside the shared one"
    assert [t["text"] for t in big["y"]][0] == "<bos>"
    for axis in ("x", "y"):
        assert min(t["px"] for t in big[axis]) >= 13, f"the big map's {axis} labels are under 13 px"
        assert len(big[axis]) == tokens or tokens > 7  # every token named while they fit
        assert not touching(big[axis]), "; ".join(touching(big[axis]))
    assert big["marked"] == [g["step"]], f"the big map marks rows {big['marked']}, the query is {g['step']}"
    t = big["title"]
    assert t["text"] == " ".join(["L0 H0", *([jobs["0-0"]] if "0-0" in jobs else [])])
    assert t["px"] >= 13, f"title {t['text']!r} at {t['px']} px"
    inside = big["box"]["left"] - 1 <= t["box"]["left"] and t["box"]["right"] <= big["box"]["right"] + 1
    assert inside and t["box"]["top"] >= big["box"]["top"] - 1, f"title {t['text']!r} cropped: {t['box']}"
    assert not overlap(t["box"], g["heading"]), "the big map's title runs into the heading"

    thumbs = g["thumbs"]
    assert len(thumbs) == config.n_layers * config.n_heads
    assert sum(h["chosen"] for h in thumbs) == 1 and thumbs[0]["chosen"]  # layer 0, head 0 by default
    for i, h in enumerate(thumbs):
        layer, head = divmod(i, config.n_heads)
        assert h["id"] == f"tf-head-{layer}-{head}" and h["rows"] == tokens
        assert not h["ownBar"] and h["ticks"] == 0, f"{h['id']} draws its own bar or ticks"
        c = h["caption"]
        assert c["lines"][0] == f"L{layer} H{head}"
        assert c["lines"][1].strip() == jobs.get(f"{layer}-{head}", ""), f"{h['id']}: caption {c['lines']}"
        assert c["px"] >= 12, f"{h['id']}: caption at {c['px']} px"
        assert c["box"]["bottom"] <= h["box"]["top"] + 1, f"{h['id']}: caption over its cells"
        for other in thumbs[i + 1 :]:
            assert not overlap(c["box"], other["caption"]["box"]), (
                f"{h['id']}'s caption touches {other['id']}'s"
            )
            assert not overlap(h["box"], other["box"]), f"{h['id']} overlaps {other['id']}"
        assert not overlap(c["box"], big["box"]), f"{h['id']}'s caption runs into the big map"

    bar, grid = g["bar"], g["grid"]
    assert bar, "the grid has no shared colour bar"
    assert grid["left"] <= bar["left"] and bar["right"] <= grid["right"]
    assert grid["top"] <= bar["top"] and bar["bottom"] <= grid["bottom"]
    assert (
        bar["bottom"] - bar["top"] >= big["cells"]["bottom"] - big["cells"]["top"]
    )  # as tall as the big map
    assert "0 to 1" in g["scaleTitle"] and "every map" in g["scaleTitle"]
    assert g["tablePx"] >= 14
    assert g["valuesPx"] >= 11, f"the weighted values' labels are {g['valuesPx']} px"

    width, height = g["view"]
    assert set(g["parts"]) >= {"heads", "softmax", "next", "values"}
    for name, b in g["parts"].items():
        assert b["bottom"] <= height and b["right"] <= width, f"{name} off the {width}x{height} screen: {b}"
    assert g["scrollWidth"] <= width, "the page scrolls sideways"
