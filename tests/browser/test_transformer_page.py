"""The trained-transformer page in a real browser: typing a sentence, switching layer and head, stepping
a query, changing the temperature and editing a cell each redraw the engine's numbers."""

from __future__ import annotations

import numpy as np
from playwright.sync_api import Page

from layerlab.app.pages.transformer.request import model
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


def test_sentence_heads_query_temperature_and_an_edit_redraw(page: Page, server_url: str) -> None:
    page.goto(f"{server_url}/transformer")
    page.wait_for_function(
        "() => window.__layerlab && window.__layerlab.maps['tf-head-1-1']"
        " && window.__layerlab.maps['tf-head-1-1'].values"
        " && document.getElementById('step-label').textContent.startsWith('query ')",
        timeout=20_000,
    )
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
