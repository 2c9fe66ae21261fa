"""POST /api/transformer/run: every number equals the engine's forward of the same sentence and edits,
sampling is seeded, an edit changes what follows it (and never the shipped weights), bad input is a 422."""

from __future__ import annotations

import numpy as np
import pytest

from layerlab.app.pages.transformer.request import model
from layerlab.engine.tinylm.corpus import encode
from layerlab.engine.tinylm.model import forward
from layerlab.engine.tinylm.readout import next_token_probs
from tests.app.helpers import assert_error

SENTENCE = "we sat by the river bank"


def post(client, **body) -> dict:
    r = client.post("/api/transformer/run", json=body)
    assert r.status_code == 200, r.text[:400]
    return r.json()


def close(got, expected, tol=1e-5) -> None:
    np.testing.assert_allclose(np.array(got, dtype=float), expected, rtol=tol, atol=tol)


def engine(sentence: str, edits: tuple = ()):
    """The engine's forward of <bos> + sentence, with edits written into copies of the weights."""
    params, config = model()
    params = {name: w.copy() for name, w in params.items()}
    for name, row, col, value in edits:
        params[name][(row, col) if params[name].ndim == 2 else (row,)] = value
    return forward(params, config, np.concatenate([[1], encode(sentence)])), config


def test_answer_is_the_engines_forward(client) -> None:
    body = post(client, sentence=SENTENCE, layer=1, head=1, query=3, temperature=0.7, top_k=5, seed=11)
    f, config = engine(SENTENCE)
    assert body["tokens"] == ["<bos>", *SENTENCE.split()]
    close(body["attention"], np.stack([w[0] for w in f.weights]))
    hd = body["head"]
    for name in ("q", "k", "v", "scores", "scaled", "exp", "weights"):
        close(hd[name], getattr(f, name)[1][0, 1], tol=1e-4)
    masked = np.array(hd["masked"], dtype=float)  # -inf arrives as null
    assert np.isnan(masked[np.triu_indices(len(body["tokens"]), 1)]).all()
    close(hd["sum"], f.exp[1][0, 1].sum(axis=1), tol=1e-4)
    close(hd["out"], f.head_out[1][0, 1])
    close(np.array(hd["weighted"]).sum(axis=1), f.head_out[1][0, 1])  # Σ_j w_ij·v_j
    close(body["residual"]["vectors"], np.stack([r[0] for r in f.resid]), tol=1e-4)
    assert len(body["residual"]["stages"]) == 1 + 2 * config.n_layers
    p = next_token_probs(f.logits[0, 3], temperature=0.7, top_k=5)
    order = np.argsort(-p, kind="stable")[:5]  # top_k = 5: the other words are no candidates
    assert body["next"]["ids"][3] == order.tolist()
    close(body["next"]["probs"][3], p[order])
    assert not np.any(body["next"]["probs"][3][5:])  # top-k keeps 5 words: the rest are exactly 0
    drawn = np.random.default_rng(11).choice(p.size, p=p)
    assert body["next"]["sampled_ids"][3] == drawn and body["params"]["query"] == 3


def test_an_edit_changes_what_follows_it_and_not_the_shipped_weights(client) -> None:
    base, _ = model()
    before = {name: w.copy() for name, w in base.items()}
    edit = {"param": "tok_emb.weight", "row": int(encode("river")[0]), "col": 2, "value": 4.0}
    plain = post(client, sentence=SENTENCE)
    edited = post(client, sentence=SENTENCE, edits=[edit])
    f, _ = engine(SENTENCE, (("tok_emb.weight", edit["row"], 2, 4.0),))
    close(edited["attention"], np.stack([w[0] for w in f.weights]))
    close(edited["residual"]["vectors"], np.stack([r[0] for r in f.resid]), tol=1e-4)
    river = 5  # <bos> we sat by the river
    assert np.allclose(plain["attention"][0][0][:river], edited["attention"][0][0][:river])  # causal
    assert not np.allclose(
        plain["residual"]["vectors"][-1][river:], edited["residual"]["vectors"][-1][river:]
    )
    assert edited["edits"][0]["was"] == pytest.approx(before["tok_emb.weight"][edit["row"], 2])
    assert all(np.array_equal(before[name], w) for name, w in model()[0].items())


@pytest.mark.parametrize(
    ("body", "field", "limit"),
    [
        ({"sentence": "we sat by the zebra-crossing bank"}, "sentence", "zebra-crossing"),
        ({"sentence": "the " * 30}, "sentence", "max_len"),
        ({"layer": 9}, "layer", "layers"),
        ({"head": 9}, "head", "heads"),
        ({"query": 40}, "query", "position"),
        ({"temperature": 0.0}, "temperature", None),
        ({"top_k": 100_000}, "top_k", "vocabulary"),
        ({"edits": [{"param": "nope", "row": 0, "col": 0, "value": 1}]}, "edits", "nope"),
        ({"edits": [{"param": "ln_f.weight", "row": 999, "col": 0, "value": 1}]}, "edits", "rows"),
        ({"edits": [{"param": "tok_emb.weight", "row": 0, "col": 0, "value": 1e6}]}, "edits", None),
        ({"edits": [{"param": "ln_f.bias", "row": 0, "value": 1}] * 40}, "edits", None),
    ],
)
def test_bad_input_is_a_422_naming_the_field(client, body, field, limit) -> None:
    assert_error(client.post("/api/transformer/run", json=body), 422, field, limit)
