"""POST /api/attention: every stage against the engine and an independent NumPy reference, the
masks and the scaling, the 2-D picture, seed 004's two senses of "bank", and every refusal."""

from __future__ import annotations

import math

import numpy as np
import pytest

from layerlab.app.pages.attention.request import additive_weights, weights
from layerlab.engine.attention import additive_attention, multi_head_attention
from layerlab.engine.vocab import embed, tokenize
from tests.app.helpers import assert_error


def post(client, **body) -> dict:
    r = client.post("/api/attention", json=body)
    assert r.status_code == 200, r.text[:400]
    return r.json()


def close(got, expected, tol=1e-5) -> None:
    np.testing.assert_allclose(np.array(got, dtype=float), expected, rtol=tol, atol=tol)


def reference(sentence: str, heads: int, allowed: np.ndarray, scale_of) -> tuple[np.ndarray, np.ndarray]:
    """Per-head weights (H, L, L) and the output (L, D), written with plain loops over heads and rows."""
    x, _ = embed(tokenize(sentence))
    w_q, w_k, w_v, w_o = weights()
    q, k, v = x @ w_q.T, x @ w_k.T, x @ w_v.T
    length, d = x.shape
    d_k = d // heads
    all_weights = np.zeros((heads, length, length))
    concat = np.zeros((length, d))
    for h in range(heads):
        cols = slice(h * d_k, (h + 1) * d_k)
        for i in range(length):
            z = np.array([q[i, cols] @ k[j, cols] * scale_of(d_k) for j in range(length)])
            z[~allowed[i]] = -np.inf
            e = np.exp(z - z.max())
            all_weights[h, i] = e / e.sum()
            concat[i, cols] = all_weights[h, i] @ v[:, cols]
    return all_weights, concat @ w_o.T


@pytest.mark.parametrize("heads", [1, 2, 4, 8])
def test_weights_and_output_match_a_loop_reference_for_every_head_count(client, heads):
    sentence = "she opened a bank account"
    body = post(client, sentence=sentence, heads=heads)
    expected_w, expected_out = reference(sentence, heads, np.ones((5, 5), bool), lambda d: 1 / math.sqrt(d))
    close(body["heads"]["weights"], expected_w)
    close(body["output"], expected_out)
    close(np.array(body["heads"]["weights"]).sum(axis=-1), np.ones((heads, 5)))
    assert body["num_steps"] == heads * 5 and body["params"]["d_k"] == 8 // heads


def test_default_settings_equal_the_engines_multi_head_attention(client):
    body = post(client, sentence="the fish swam to the shore", heads=2, causal=True)
    x, _ = embed(tokenize("the fish swam to the shore"))
    w_q, w_k, w_v, w_o = weights()
    t = multi_head_attention(
        x,
        x,
        x,
        2,
        np.concatenate([w_q, w_k, w_v]),
        None,
        w_o,
        None,
        is_causal=True,
        average_attn_weights=False,
    )
    close(body["output"], t.output)
    close(body["heads"]["weights"], t.stages["attn_weights"])
    close(body["concat"], t.stages["concat"])


def test_causal_mask_zeroes_every_weight_above_the_diagonal(client):
    body = post(client, sentence="we sat on the river bank", causal=True, heads=4)
    w = np.array(body["heads"]["weights"])
    upper = np.triu(np.ones((6, 6), bool), 1)
    assert (w[:, upper] == 0).all() and (w[:, ~upper] > 0).all()
    assert body["heads"]["mask"][0][0][1] is None  # -inf travels as null
    assert "is_causal" not in body["torch"] and "attn_mask=causal" in body["torch"]
    assert post(client, sentence="river bank", causal=True)["torch"] == (
        "out = F.scaled_dot_product_attention(q, k, v, is_causal=True)"
    )


def test_padding_masks_the_trailing_keys_only(client):
    body = post(client, sentence="the dog ran to the cat", padding=2)
    w = np.array(body["heads"]["weights"][0])
    assert (w[:, 4:] == 0).all()
    close(w.sum(axis=1), np.ones(6))
    assert body["allowed"][0] == [True, True, True, True, False, False]


def test_scaling_off_and_temperature_change_the_scale(client):
    scaled = post(client, sentence="river bank")
    unscaled = post(client, sentence="river bank", scaled=False)
    hot = post(client, sentence="river bank", temperature=2)
    assert scaled["params"]["scale"] == pytest.approx(1 / math.sqrt(8))
    assert unscaled["params"]["scale"] == pytest.approx(1.0)
    assert hot["params"]["scale"] == pytest.approx(1 / math.sqrt(8) / 2)
    close(unscaled["heads"]["scaled"], unscaled["heads"]["scores"])
    close(scaled["heads"]["scaled"], np.array(scaled["heads"]["scores"]) / math.sqrt(8))
    expected, _ = reference("river bank", 1, np.ones((2, 2), bool), lambda d: 1.0)
    close(unscaled["heads"]["weights"], expected)
    assert "scale=1" in unscaled["torch"]


def test_steps_write_out_the_softmax(client):
    body = post(client, sentence="bank account", heads=2)
    s = body["steps"]
    assert s["head"] == [0, 0, 1, 1] and s["query"] == [0, 1, 0, 1]
    close(np.array(s["exp"]) / np.array(s["sum"])[:, None], s["weights"])
    close(np.array(s["weights"]).sum(axis=1), np.ones(4))


def test_plane_output_is_the_sum_of_the_weighted_values(client):
    body = post(client, sentence="we sat on the river bank", heads=2)
    plane = body["plane"]
    close(np.array(plane["weighted"]).sum(axis=1), plane["output"], 1e-4)
    points = np.array(plane["points"])  # (H, L, 2)
    close(np.array(plane["weighted"])[0], np.array(body["steps"]["weights"])[0][:, None] * points[0], 1e-4)


def test_river_bank_and_bank_account_lean_to_different_senses(client):
    assert post(client, sentence="river bank")["sense"]["leans"] == "river"
    assert post(client, sentence="bank account")["sense"]["leans"] == "finance"


def test_unknown_words_get_the_deterministic_vector_and_are_named(client):
    a, b = post(client, sentence="the zorp"), post(client, sentence="the zorp")
    assert a["unknown"] == ["zorp"] and a["embeddings"] == b["embeddings"]


def test_an_edited_embedding_changes_every_stage(client):
    before = post(client, sentence="river bank")
    edited = [5, 0, 0, 0, 0, 1, 0, 0]
    after = post(client, sentence="river bank", overrides={"bank": edited})
    close(after["embeddings"][1], edited)
    assert not np.allclose(before["sense"]["context"], after["sense"]["context"])
    assert not np.allclose(before["output"], after["output"])


@pytest.mark.parametrize(
    ("body", "field", "limit"),
    [
        ({"heads": 3}, "heads", "must divide d_model = 8"),
        ({"heads": 16}, "heads", "8"),
        ({"temperature": 0}, "temperature", "0.05"),
        ({"temperature": -1}, "temperature", "0.05"),
        ({"sentence": "a " * 17}, "sentence", "16"),
        ({"sentence": "  ,. "}, "sentence", "at least one word"),
        ({"sentence": "x" * 201}, "sentence", "200"),
        ({"sentence": "river bank", "padding": 2}, "padding", "below 2"),
        ({"overrides": {"bank": [1, 2]}}, "overrides", "8"),
        ({"overrides": {"bank": [11] * 8}}, "overrides", "10"),
        ({"overrides": {f"w{i}": [0] * 8 for i in range(17)}}, "overrides", "16"),
        ({"weight_overrides": {"W_Q": [[8, 0, 1]]}}, "weight_overrides", "7"),
        ({"weight_overrides": {"W_Q": [[0, 0, 11]]}}, "weight_overrides", "10"),
        ({"weight_overrides": {"W_Z": [[0, 0, 1]]}}, "weight_overrides", "W_Q"),
        ({"weight_overrides": {"W_K": [[0, 0, 1]] * 65}}, "weight_overrides", "64"),
        ({"heads": "two"}, "heads", None),
        ({"loud": True}, "loud", None),
    ],
)
def test_bad_input_is_a_4xx_naming_the_field_and_the_limit(client, body, field, limit):
    assert_error(client.post("/api/attention", json=body), 422, field, limit)


def test_over_the_real_server(http):
    r = http.post("/api/attention", json={"sentence": "bank account", "causal": True})
    assert r.status_code == 200
    assert r.json()["heads"]["weights"][0][0] == [1, 0]
    assert_error(http.post("/api/attention", json={"heads": 5}), 422, "heads", "must divide")
    page = http.get("/attention")
    assert page.status_code == 200 and "<math" in page.text and 'id="att-sentence"' in page.text


def test_edited_weight_cells_replace_the_seeded_projections(client):
    cells = {"W_Q": [[0, 1, 2.5], [3, 3, -4]], "W_O": [[7, 0, 1]]}
    body = post(client, sentence="river bank", heads=2, weight_overrides=cells)
    x, _ = embed(tokenize("river bank"))
    w_q, w_k, w_v, w_o = (w.copy() for w in weights())
    w_q[0, 1], w_q[3, 3], w_o[7, 0] = 2.5, -4, 1
    t = multi_head_attention(
        x, x, x, 2, np.concatenate([w_q, w_k, w_v]), None, w_o, None, average_attn_weights=False
    )
    close(body["weights"]["W_Q"], w_q)
    close(body["weights"]["W_O"], w_o)
    close(body["heads"]["weights"], t.stages["attn_weights"])
    close(body["output"], t.output)
    assert not np.allclose(body["output"], post(client, sentence="river bank", heads=2)["output"])


def additive_engine(sentence: str, state: np.ndarray | None = None, decoder: int = 0):
    h, _ = embed(tokenize(sentence))
    return additive_attention(h[decoder] if state is None else state, h, *additive_weights())


@pytest.mark.parametrize("decoder", [0, 2])
def test_additive_matches_the_engine_for_a_token_decoder_state(client, decoder):
    r = client.post(
        "/api/attention/additive", json={"sentence": "the fish swam to the shore", "decoder": decoder}
    )
    assert r.status_code == 200, r.text[:300]
    body = r.json()
    t = additive_engine("the fish swam to the shore", decoder=decoder)
    for name in ("projected_state", "projected_keys", "summed", "tanh", "scores", "weights"):
        close(body["stages"][name], t.stages[name])
    close(body["context"], t.output)
    close(body["steps"]["weighted"], t.steps["weighted"])
    close(np.array(body["steps"]["weighted"]).sum(axis=0), t.output)
    assert body["num_steps"] == 6 and body["params"]["decoder"] == decoder
    assert len(body["equations"]) == 6 and "<math" in body["equations"][0]
    assert math.isclose(sum(body["stages"]["weights"]), 1, rel_tol=1e-5)


def test_additive_reference_by_hand_and_an_edited_decoder_state(client):
    state = [1, 0, -2, 0, 0.5, 0, 0, 3]
    body = client.post(
        "/api/attention/additive", json={"sentence": "bank account", "decoder_state": state}
    ).json()
    h, _ = embed(["bank", "account"])
    w1, w2, v = additive_weights()
    scores = np.array(
        [sum(v[a] * math.tanh((w1 @ state)[a] + (w2 @ hj)[a]) for a in range(len(v))) for hj in h]
    )
    weights_ = np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum()
    close(body["stages"]["scores"], scores)
    close(body["context"], weights_ @ h)
    assert body["params"]["decoder"] is None and w1.shape == (8, 8) and v.shape == (8,)


@pytest.mark.parametrize(
    ("body", "field", "limit"),
    [
        ({"sentence": "river bank", "decoder": 2}, "decoder", "below 2"),
        ({"decoder": -1}, "decoder", "0"),
        ({"decoder_state": [1, 2]}, "decoder_state", "8"),
        ({"decoder_state": [11] * 8}, "decoder_state", "10"),
        ({"sentence": "a " * 17}, "sentence", "16"),
        ({"heads": 2}, "heads", None),
    ],
)
def test_additive_bad_input_is_a_4xx_naming_the_field(client, body, field, limit):
    assert_error(client.post("/api/attention/additive", json=body), 422, field, limit)
