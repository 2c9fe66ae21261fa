"""Attention against the plain-loop references, its traces, its errors, the vocabulary and the √d_k demo."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from layerlab.engine.attention import (
    additive_attention,
    entropy,
    multi_head_attention,
    scaled_dot_product_attention,
    softmax,
    sqrt_dk_demo,
)
from layerlab.engine.vocab import (
    DIM,
    FEATURES,
    PRESETS,
    SENSES,
    VOCAB,
    embed,
    projections,
    tokenize,
    unknown_vector,
)
from tests.engine.attention_reference import additive_loop, mha_loop, sdpa_loop

ROOT = Path(__file__).resolve().parents[2]
TIGHT = {"rtol": 1e-12, "atol": 1e-12}

# (query, key, value) shapes: unbatched, batched, (N, H, ...) and broadcast leading dimensions
SDPA_SHAPES = [
    pytest.param((3, 4), (5, 4), (5, 2), id="unbatched-L3-S5"),
    pytest.param((2, 3, 4), (2, 5, 4), (2, 5, 3), id="batch2"),
    pytest.param((2, 3, 4, 2), (2, 3, 6, 2), (2, 3, 6, 5), id="batch2-heads3"),
    pytest.param((3, 4, 4), (1, 4, 4), (4, 3), id="broadcast-key-and-value"),
    pytest.param((1, 1), (1, 1), (1, 1), id="single-token"),
]
MASKS = ["none", "bool", "float", "float-with-inf", "causal"]
SCALES = [None, 0.3, 2.0]


def _mask(rng: np.random.Generator, kind: str, shape: tuple[int, ...]) -> np.ndarray | None:
    """A random mask of the given kind and shape (None for "none" and "causal")."""
    if kind == "bool":
        return rng.random(shape) > 0.3
    if kind == "float":
        return rng.standard_normal(shape)
    if kind == "float-with-inf":
        return np.where(rng.random(shape) > 0.3, rng.standard_normal(shape), -np.inf)
    return None


def _sdpa_case(seed: int, q_shape, k_shape, v_shape, mask_kind: str, full_mask: bool):
    rng = np.random.default_rng(seed)
    q, k, v = (rng.standard_normal(shape) for shape in (q_shape, k_shape, v_shape))
    batch = np.broadcast_shapes(q_shape[:-2], k_shape[:-2], v_shape[:-2])
    grid = (*batch, q_shape[-2], k_shape[-2]) if full_mask else (q_shape[-2], k_shape[-2])
    return q, k, v, _mask(rng, mask_kind, grid)


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("mask_kind", MASKS)
@pytest.mark.parametrize("q_shape, k_shape, v_shape", SDPA_SHAPES)
def test_sdpa_matches_loop_reference_for_shapes_masks_and_scales(q_shape, k_shape, v_shape, mask_kind, scale):
    for seed, full_mask in enumerate((False, True)):
        q, k, v, mask = _sdpa_case(seed, q_shape, k_shape, v_shape, mask_kind, full_mask)
        causal = mask_kind == "causal"
        trace = scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal, scale=scale)
        expected_out, expected_weights = sdpa_loop(q, k, v, mask, causal, scale)
        assert trace.output.shape == expected_out.shape
        np.testing.assert_allclose(trace.output, expected_out, **TIGHT)
        np.testing.assert_allclose(trace.stages["weights"], expected_weights, **TIGHT)


@pytest.mark.parametrize("mask_kind", ["none", "float", "causal"])
def test_sdpa_weight_rows_are_nonnegative_and_sum_to_one(mask_kind):
    q, k, v, mask = _sdpa_case(3, (2, 6, 4), (2, 7, 4), (2, 7, 3), mask_kind, full_mask=True)
    weights = scaled_dot_product_attention(q, k, v, mask, is_causal=mask_kind == "causal").stages["weights"]
    assert (weights >= 0).all()
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=0, atol=1e-12)


@pytest.mark.parametrize("length, source", [(5, 5), (3, 6), (6, 3)])
def test_sdpa_causal_mask_zeroes_every_weight_above_the_diagonal(length, source):
    rng = np.random.default_rng(5)
    q, k, v = (
        rng.standard_normal((2, length, 4)),
        rng.standard_normal((2, source, 4)),
        rng.standard_normal((2, source, 3)),
    )
    trace = scaled_dot_product_attention(q, k, v, is_causal=True)
    above = np.triu(np.ones((length, source), dtype=bool), k=1)
    assert (trace.stages["weights"][:, above] == 0).all()
    assert (trace.stages["weights"][:, ~above] > 0).all()
    assert np.isneginf(trace.stages["mask"][:, above]).all()
    assert (trace.stages["mask"][:, ~above] == 0).all()
    # query 0 sees key 0 only: its output is value row 0
    np.testing.assert_allclose(trace.output[:, 0], v[:, 0], **TIGHT)


def test_sdpa_row_with_every_key_masked_gives_nan_like_torch_reference_code():
    rng = np.random.default_rng(7)
    q, k, v = rng.standard_normal((4, 3)), rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    mask = np.ones((4, 5), dtype=bool)
    mask[2] = False
    trace = scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert np.isnan(trace.stages["weights"][2]).all()
    assert np.isnan(trace.output[2]).all()
    assert np.isfinite(np.delete(trace.output, 2, axis=0)).all()
    assert trace.params["fully_masked_rows"] == 1
    assert np.isnan(trace.step(2)["entropy"])
    np.testing.assert_allclose(trace.output, sdpa_loop(q, k, v, mask)[0], **TIGHT)


def test_sdpa_bool_mask_equals_float_mask_of_zero_and_minus_infinity():
    q, k, v, mask = _sdpa_case(11, (2, 4, 3), (2, 6, 3), (2, 6, 2), "bool", full_mask=True)
    as_bool = scaled_dot_product_attention(q, k, v, attn_mask=mask)
    as_float = scaled_dot_product_attention(q, k, v, attn_mask=np.where(mask, 0.0, -np.inf))
    np.testing.assert_array_equal(as_bool.output, as_float.output)
    np.testing.assert_array_equal(as_bool.stages["mask"], np.where(mask, 0.0, -np.inf))
    assert (as_bool.params["mask_kind"], as_float.params["mask_kind"]) == ("bool", "float")


@pytest.mark.parametrize("mask_kind", MASKS)
def test_sdpa_stages_chain_from_scores_to_output(mask_kind):
    q, k, v, mask = _sdpa_case(13, (2, 4, 8), (2, 5, 8), (2, 5, 3), mask_kind, full_mask=False)
    trace = scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=mask_kind == "causal")
    st = trace.stages
    assert trace.params["scale"] == 1 / math.sqrt(8)
    for b in range(2):
        for i in range(4):
            for j in range(5):
                assert st["scores"][b, i, j] == pytest.approx(float(q[b, i] @ k[b, j]), rel=1e-12)
    np.testing.assert_array_equal(st["scaled"], st["scores"] * trace.params["scale"])
    np.testing.assert_array_equal(st["masked"], st["scaled"] + st["mask"])
    if mask_kind in ("float", "float-with-inf"):
        np.testing.assert_array_equal(st["mask"], np.broadcast_to(mask, (2, 4, 5)))
    if mask_kind == "none":
        assert (st["mask"] == 0).all()
    np.testing.assert_allclose(trace.output, st["weights"] @ v, **TIGHT)


def test_sdpa_steps_agree_with_stages_and_output():
    q, k, v, mask = _sdpa_case(17, (2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 2), "float", full_mask=True)
    trace = scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=0.7)
    assert trace.num_steps == 2 * 3 * 4
    np.testing.assert_array_equal(trace.steps["index"], list(itertools.product(range(2), range(3), range(4))))
    for s in range(trace.num_steps):
        step = trace.step(s)
        at = tuple(step["index"])
        for name in ("scores", "scaled", "mask", "masked", "weights"):
            np.testing.assert_array_equal(step[name], trace.stages[name][at], err_msg=name)
        assert step["max"] == step["masked"].max()
        np.testing.assert_allclose(step["exp"], np.exp(step["masked"] - step["max"]), **TIGHT)
        assert step["sum"] == pytest.approx(step["exp"].sum(), rel=1e-12)
        np.testing.assert_allclose(step["weights"], step["exp"] / step["sum"], **TIGHT)
        # the output row is the weighted sum of the value rows, added up term by term here
        terms = [step["weights"][j] * v[at[:-1]][j] for j in range(v.shape[-2])]
        np.testing.assert_allclose(np.sum(terms, axis=0), trace.output[at], **TIGHT)
        assert "weighted_values" not in step  # R*S*Ev numbers: left out of the record on purpose
        np.testing.assert_array_equal(step["output"], trace.output[at])
        w = step["weights"]
        assert step["entropy"] == pytest.approx(-sum(x * math.log(x) for x in w if x > 0), rel=1e-12)
        assert step["max_weight"] == w.max()


def test_sdpa_without_record_steps_keeps_stages_and_no_steps():
    q, k, v, _ = _sdpa_case(19, (3, 4), (5, 4), (5, 2), "none", full_mask=False)
    trace = scaled_dot_product_attention(q, k, v, record_steps=False)
    assert trace.steps == {} and trace.num_steps == 0
    np.testing.assert_allclose(trace.output, sdpa_loop(q, k, v)[0], **TIGHT)


def _mha_case(rng, batched: bool, heads: int, head_dim: int, length: int, source: int, biases: bool):
    embed_dim = heads * head_dim
    lead = (2,) if batched else ()
    x = rng.standard_normal((*lead, length, embed_dim))
    mem = rng.standard_normal((2, *lead, source, embed_dim))  # key and value: same shape, other numbers
    weights = {
        "in_proj_weight": rng.standard_normal((3 * embed_dim, embed_dim)) / math.sqrt(embed_dim),
        "in_proj_bias": rng.standard_normal(3 * embed_dim) if biases else None,
        "out_proj_weight": rng.standard_normal((embed_dim, embed_dim)) / math.sqrt(embed_dim),
        "out_proj_bias": rng.standard_normal(embed_dim) if biases else None,
    }
    return x, *mem, weights


def _mha_masks(rng, masks: str, batched: bool, heads: int, length: int, source: int) -> dict:
    n = 2 if batched else 1
    kpm_shape = (n, source) if batched else (source,)
    out = {}
    if "kpm-bool" in masks:
        out["key_padding_mask"] = rng.random(kpm_shape) < 0.3
    if "kpm-float" in masks:
        out["key_padding_mask"] = rng.standard_normal(kpm_shape)
    if "attn2d-bool" in masks:
        out["attn_mask"] = rng.random((length, source)) < 0.3
    if "attn3d-float" in masks:
        out["attn_mask"] = rng.standard_normal((n * heads, length, source))
    if "causal" in masks:
        out["is_causal"] = True
    return out


MHA_MASKS = [
    "none",
    "kpm-bool",
    "kpm-float",
    "attn2d-bool",
    "attn3d-float",
    "kpm-bool+attn3d-float",
    "causal",
    "causal+kpm-bool",
]


@pytest.mark.parametrize("masks", MHA_MASKS)
@pytest.mark.parametrize("heads, head_dim", [(1, 3), (2, 2), (4, 2)])
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
def test_multi_head_attention_matches_loop_reference(batched, heads, head_dim, masks):
    rng = np.random.default_rng(heads * 100 + MHA_MASKS.index(masks) * 2 + batched)
    length, source = (4, 4) if "causal" in masks else (3, 5)
    x, key, value, weights = _mha_case(rng, batched, heads, head_dim, length, source, biases=heads != 2)
    mask_args = _mha_masks(rng, masks, batched, heads, length, source)
    for average in (True, False):
        trace = multi_head_attention(
            x, key, value, heads, **weights, **mask_args, average_attn_weights=average
        )
        out, attn, head_outputs = mha_loop(
            x, key, value, heads, **weights, **mask_args, average_attn_weights=average
        )
        np.testing.assert_allclose(trace.output, out, **TIGHT)
        np.testing.assert_allclose(trace.stages["attn_weights"], attn, **TIGHT)
        np.testing.assert_allclose(trace.stages["head_outputs"], head_outputs, **TIGHT)
    assert trace.params["num_heads"] == heads and trace.params["head_dim"] == head_dim


def test_multi_head_attention_each_head_is_sdpa_on_its_slice_of_the_projections():
    rng = np.random.default_rng(23)
    heads, head_dim = 3, 2
    x, key, value, weights = _mha_case(rng, True, heads, head_dim, 4, 5, biases=True)
    kpm = np.array([[False, False, True, False, False], [False, True, True, False, False]])
    trace = multi_head_attention(x, key, value, heads, **weights, key_padding_mask=kpm)
    st = trace.stages
    embed_dim = heads * head_dim
    np.testing.assert_allclose(
        st["q"], x @ weights["in_proj_weight"][:embed_dim].T + weights["in_proj_bias"][:embed_dim], **TIGHT
    )
    for h in range(heads):
        cols = slice(h * head_dim, (h + 1) * head_dim)
        for name in ("q", "k", "v"):
            np.testing.assert_array_equal(st[f"{name}_heads"][:, h], st[name][..., cols])
        one = scaled_dot_product_attention(
            st["q_heads"][:, h], st["k_heads"][:, h], st["v_heads"][:, h], attn_mask=~kpm[:, None, :]
        )
        np.testing.assert_allclose(st["weights"][:, h], one.stages["weights"], **TIGHT)
        np.testing.assert_allclose(st["head_outputs"][:, h], one.output, **TIGHT)
        np.testing.assert_array_equal(st["concat"][..., cols], st["head_outputs"][:, h])
    np.testing.assert_allclose(
        trace.output, st["concat"] @ weights["out_proj_weight"].T + weights["out_proj_bias"], **TIGHT
    )
    assert (st["weights"][0, :, :, 2] == 0).all() and (st["weights"][1, :, :, 1:3] == 0).all()
    np.testing.assert_allclose(st["weights"].sum(axis=-1), 1.0, rtol=0, atol=1e-12)


@pytest.mark.parametrize("is_causal", [False, True])
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
def test_multi_head_attention_with_one_head_and_identity_projections_is_sdpa(batched, is_causal):
    rng = np.random.default_rng(29)
    x = rng.standard_normal((2, 5, 4) if batched else (5, 4))
    eye = np.eye(4)
    trace = multi_head_attention(x, x, x, 1, np.vstack([eye, eye, eye]), None, eye, None, is_causal=is_causal)
    single = scaled_dot_product_attention(x, x, x, is_causal=is_causal)
    np.testing.assert_allclose(trace.output, single.output, **TIGHT)
    np.testing.assert_allclose(trace.stages["attn_weights"], single.stages["weights"], **TIGHT)


def test_multi_head_attention_is_causal_equals_a_bool_upper_triangle_attn_mask():
    rng = np.random.default_rng(31)
    x, _, _, weights = _mha_case(rng, True, 2, 3, 5, 5, biases=True)
    upper = np.triu(np.ones((5, 5), dtype=bool), k=1)  # True = may not attend, as torch's MHA reads it
    causal = multi_head_attention(x, x, x, 2, **weights, is_causal=True)
    masked = multi_head_attention(x, x, x, 2, **weights, attn_mask=upper)
    np.testing.assert_array_equal(causal.output, masked.output)
    assert (causal.stages["weights"][..., upper] == 0).all()


def test_multi_head_attention_need_weights_and_average_control_the_attn_weights_stage():
    rng = np.random.default_rng(37)
    x, key, value, weights = _mha_case(rng, True, 2, 2, 3, 4, biases=False)
    assert "attn_weights" not in multi_head_attention(x, key, value, 2, **weights, need_weights=False).stages
    per_head = multi_head_attention(x, key, value, 2, **weights, average_attn_weights=False).stages
    averaged = multi_head_attention(x, key, value, 2, **weights).stages
    assert per_head["attn_weights"].shape == (2, 2, 3, 4) and averaged["attn_weights"].shape == (2, 3, 4)
    np.testing.assert_allclose(averaged["attn_weights"], per_head["attn_weights"].mean(axis=1), **TIGHT)


@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
def test_multi_head_attention_stage_shapes_and_step_index(batched):
    rng = np.random.default_rng(41)
    x, key, value, weights = _mha_case(rng, batched, 2, 3, 4, 5, biases=True)
    trace = multi_head_attention(x, key, value, 2, **weights)
    lead = (2,) if batched else ()
    expected = {
        "q": (*lead, 4, 6), "k": (*lead, 5, 6), "v": (*lead, 5, 6),
        "q_heads": (*lead, 2, 4, 3), "k_heads": (*lead, 2, 5, 3), "v_heads": (*lead, 2, 5, 3),
        "scores": (*lead, 2, 4, 5), "scaled": (*lead, 2, 4, 5), "mask": (*lead, 2, 4, 5),
        "masked": (*lead, 2, 4, 5), "weights": (*lead, 2, 4, 5), "head_outputs": (*lead, 2, 4, 3),
        "concat": (*lead, 4, 6), "attn_weights": (*lead, 4, 5),
    }  # fmt: skip
    assert {name: s.shape for name, s in trace.stages.items()} == expected
    assert trace.output.shape == (*lead, 4, 6)
    ranges = [range(n) for n in (*lead, 2, 4)]
    np.testing.assert_array_equal(trace.steps["index"], list(itertools.product(*ranges)))


def test_additive_attention_matches_loop_reference_and_its_trace_is_consistent():
    rng = np.random.default_rng(43)
    for state_dim, enc_dim, att_dim, steps in [(3, 4, 5, 6), (1, 1, 1, 1), (4, 2, 3, 7)]:
        s, h = rng.standard_normal(state_dim), rng.standard_normal((steps, enc_dim))
        w1, w2, v = (
            rng.standard_normal((att_dim, state_dim)),
            rng.standard_normal((att_dim, enc_dim)),
            rng.standard_normal(att_dim),
        )
        trace = additive_attention(s, h, w1, w2, v)
        context, weights = additive_loop(s, h, w1, w2, v)
        np.testing.assert_allclose(trace.output, context, **TIGHT)
        np.testing.assert_allclose(trace.stages["weights"], weights, **TIGHT)
        st = trace.stages
        np.testing.assert_allclose(st["projected_state"], w1 @ s, **TIGHT)
        np.testing.assert_allclose(st["summed"], st["projected_state"] + st["projected_keys"], **TIGHT)
        np.testing.assert_array_equal(st["tanh"], np.tanh(st["summed"]))
        assert st["weights"].sum() == pytest.approx(1.0, abs=1e-12)
        assert trace.num_steps == steps
        np.testing.assert_allclose(trace.steps["weighted"].sum(axis=0), trace.output, **TIGHT)
        np.testing.assert_array_equal(trace.step(steps - 1)["scores"], st["scores"][-1])


def test_additive_attention_with_zero_v_attends_uniformly():
    rng = np.random.default_rng(47)
    h = rng.standard_normal((4, 3))
    trace = additive_attention(
        rng.standard_normal(2), h, rng.standard_normal((5, 2)), rng.standard_normal((5, 3)), np.zeros(5)
    )
    np.testing.assert_allclose(trace.stages["weights"], 0.25, **TIGHT)
    np.testing.assert_allclose(trace.output, h.mean(axis=0), **TIGHT)


def test_softmax_temperature_divides_the_logits_and_flattens_the_distribution():
    x = np.array([1.0, 2.0, 4.0])
    np.testing.assert_allclose(softmax(x, temperature=2.0), softmax(x / 2.0), **TIGHT)
    hot, cold = softmax(x, temperature=5.0), softmax(x, temperature=0.2)
    assert entropy(hot) > entropy(softmax(x)) > entropy(cold)
    assert entropy(np.full(4, 0.25)) == pytest.approx(math.log(4))
    with pytest.raises(ValueError, match="temperature"):
        softmax(x, temperature=0.0)


def test_tokenize_lowercases_and_splits_on_spaces_and_punctuation():
    assert tokenize("The River-Bank, by  the bank's  ACCOUNT!") == [
        "the",
        "river",
        "bank",
        "by",
        "the",
        "bank",
        "s",
        "account",
    ]
    assert tokenize("  ...  ") == []


def test_vocabulary_vectors_have_one_entry_per_named_feature_and_are_read_only():
    assert len(FEATURES) == DIM == 8
    assert 35 <= len(VOCAB) <= 50
    assert all(vector.shape == (DIM,) and not vector.flags.writeable for vector in VOCAB.values())
    assert len({vector.tobytes() for vector in VOCAB.values()}) > 30  # mostly distinct words
    bank = dict(zip(FEATURES, VOCAB["bank"], strict=True))
    assert bank["finance"] > 0 and bank["water"] > 0 and bank["nature"] > 0


def test_embed_reports_unknown_words_and_gives_them_deterministic_vectors():
    x, unknown = embed(["the", "zebra", "bank", "zebra", "quokka"])
    assert x.shape == (5, DIM)
    assert unknown == ["zebra", "quokka"]
    np.testing.assert_array_equal(x[0], VOCAB["the"])
    np.testing.assert_array_equal(x[1], x[3])
    np.testing.assert_array_equal(x[1], unknown_vector("zebra"))
    assert not np.array_equal(x[1], x[4])
    assert embed([])[0].shape == (0, DIM)


def test_unknown_word_vector_does_not_depend_on_python_hash_seed():
    # this process runs with a random str-hash seed; the child with a fixed, almost surely different, one
    code = "from layerlab.engine.vocab import unknown_vector; print(unknown_vector('zebra').tolist())"
    child = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=ROOT,
        env={"PYTHONHASHSEED": "1"},
    )
    assert child.stdout == f"{unknown_vector('zebra').tolist()}\n"


def test_embed_overrides_replace_a_vocabulary_vector_or_add_a_word():
    edited = np.arange(DIM, dtype=float)
    x, unknown = embed(["bank", "zebra"], overrides={"bank": edited, "zebra": -edited})
    np.testing.assert_array_equal(x, [edited, -edited])
    assert unknown == []
    with pytest.raises(ValueError, match="bank"):
        embed(["bank"], overrides={"bank": np.ones(DIM + 1)})


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def _contextual_bank(text: str) -> np.ndarray:
    """Self-attention with identity projections (Q = K = V = embeddings): the new vector of "bank"."""
    tokens = tokenize(text)
    x, unknown = embed(tokens)
    assert unknown == []
    return scaled_dot_product_attention(x, x, x).output[tokens.index("bank")]


def test_seed_004_river_bank_and_bank_account_give_bank_different_contextual_vectors():
    river, finance = _contextual_bank(PRESETS["river bank"]), _contextual_bank(PRESETS["bank account"])
    assert _cosine(river, finance) < 0.9
    senses = SENSES["bank"]
    # alone, "bank" sits between its senses; its neighbours pull it to one side
    alone = VOCAB["bank"]
    assert abs(_cosine(alone, senses["river"]) - _cosine(alone, senses["finance"])) < 0.05
    assert (
        _cosine(river, senses["river"]) > _cosine(alone, senses["river"]) > _cosine(river, senses["finance"])
    )
    assert (
        _cosine(finance, senses["finance"])
        > _cosine(alone, senses["finance"])
        > _cosine(finance, senses["river"])
    )


def test_seed_004_sentence_presets_pull_bank_towards_the_sense_of_their_context():
    senses = SENSES["bank"]
    river, finance = _contextual_bank(PRESETS["by the river"]), _contextual_bank(PRESETS["at the bank"])
    assert _cosine(river, senses["river"]) > _cosine(river, senses["finance"]) + 0.2
    assert _cosine(finance, senses["finance"]) > _cosine(finance, senses["river"]) + 0.2


def test_every_preset_uses_only_vocabulary_words():
    for text in PRESETS.values():
        assert embed(tokenize(text))[1] == []


def test_projections_are_deterministic_torch_linear_shaped_and_scaled():
    first, again, other = projections(8, 4, seed=3), projections(8, 4, seed=3), projections(8, 4, seed=4)
    assert [w.shape for w in first] == [(4, 8)] * 3
    for a, b, c in zip(first, again, other, strict=True):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)
    big = np.concatenate(projections(64, 64, seed=0))
    assert big.std() == pytest.approx(1 / 8, rel=0.05)
    with pytest.raises(ValueError, match="d_k"):
        projections(8, 0)


D_VALUES = (1, 4, 16, 64, 256, 512)


def test_seed_000_unscaled_score_spread_grows_like_sqrt_dk_and_scaling_keeps_it_at_one():
    stats = sqrt_dk_demo(D_VALUES, n_keys=16, seed=0)
    np.testing.assert_array_equal(stats["d_k"], D_VALUES)
    np.testing.assert_allclose(stats["unscaled_std"], np.sqrt(D_VALUES), rtol=0.08)
    np.testing.assert_allclose(stats["scaled_std"], 1.0, rtol=0.08)


def test_seed_000_unscaled_softmax_saturates_as_dk_grows_and_scaled_does_not():
    stats = sqrt_dk_demo(D_VALUES, n_keys=16, seed=1)
    assert (np.diff(stats["unscaled_max_weight"]) > 0).all() and stats["unscaled_max_weight"][-1] > 0.9
    assert (np.diff(stats["unscaled_entropy"]) < 0).all() and stats["unscaled_entropy"][-1] < 0.3
    assert stats["scaled_max_weight"].max() - stats["scaled_max_weight"].min() < 0.1
    assert (stats["scaled_entropy"] > 0.8 * math.log(16)).all()
    again = sqrt_dk_demo(D_VALUES, n_keys=16, seed=1)
    for name, column in stats.items():
        np.testing.assert_array_equal(again[name], column)


def _ok():
    rng = np.random.default_rng(53)
    return {
        "query": rng.standard_normal((2, 3, 4)),
        "key": rng.standard_normal((2, 5, 4)),
        "value": rng.standard_normal((2, 5, 6)),
    }


@pytest.mark.parametrize(
    "change, message",
    [
        pytest.param({"query": np.ones(4)}, "query must have shape", id="query-1d"),
        pytest.param({"key": np.ones((2, 5, 3))}, "same last dimension E", id="query-key-E-mismatch"),
        pytest.param({"value": np.ones((2, 4, 6))}, "same length S", id="key-value-S-mismatch"),
        pytest.param(
            {"key": np.ones((3, 5, 4)), "value": np.ones((3, 5, 6))}, "do not broadcast", id="batch-mismatch"
        ),
        pytest.param({"query": np.ones((2, 0, 4))}, "non-empty", id="empty-query"),
        pytest.param({"dropout_p": 0.1}, "dropout_p must be 0", id="dropout"),
        pytest.param(
            {"is_causal": True, "attn_mask": np.ones((3, 5), bool)}, "is_causal", id="causal-and-mask"
        ),
        pytest.param({"attn_mask": np.ones((3, 4), bool)}, "does not broadcast", id="mask-wrong-S"),
        pytest.param({"attn_mask": np.ones((3, 3, 5), bool)}, "does not broadcast", id="mask-wrong-batch"),
        pytest.param({"attn_mask": np.ones((1, 2, 3, 5))}, "does not broadcast", id="mask-too-many-dims"),
        pytest.param({"attn_mask": np.array([["a"] * 5] * 3)}, "boolean or real", id="mask-of-strings"),
        pytest.param({"scale": math.inf}, "scale must be finite", id="infinite-scale"),
    ],
)
def test_sdpa_rejects_invalid_arguments_with_clear_value_error(change, message):
    with pytest.raises(ValueError, match=message):
        scaled_dot_product_attention(**(_ok() | change))


def _ok_mha():
    rng = np.random.default_rng(59)
    x, key, value, weights = _mha_case(rng, True, 2, 3, 4, 5, biases=True)
    return {"query": x, "key": key, "value": value, "num_heads": 2, **weights}


@pytest.mark.parametrize(
    "change, message",
    [
        pytest.param({"num_heads": 4}, "divisible by num_heads", id="E-not-divisible-by-heads"),
        pytest.param({"num_heads": 0}, "divisible by num_heads", id="zero-heads"),
        pytest.param({"query": np.ones((2, 4, 7))}, "embedding dimension", id="query-E-differs-from-key"),
        pytest.param({"value": np.ones((2, 6, 6))}, "same shape", id="key-value-shape-mismatch"),
        pytest.param(
            {"key": np.ones((3, 5, 6)), "value": np.ones((3, 5, 6))}, "batch size", id="batch-mismatch"
        ),
        pytest.param({"query": np.ones(6)}, r"\(N, L, E\) or all \(L, E\)", id="query-1d"),
        pytest.param(
            {"key": np.ones((5, 6))}, r"\(N, L, E\) or all \(L, E\)", id="key-unbatched-query-batched"
        ),
        pytest.param({"in_proj_weight": np.ones((6, 6))}, "in_proj_weight", id="in-proj-weight-shape"),
        pytest.param({"in_proj_bias": np.ones(6)}, "in_proj_bias", id="in-proj-bias-shape"),
        pytest.param({"out_proj_weight": np.ones((6, 5))}, "out_proj_weight", id="out-proj-weight-shape"),
        pytest.param({"out_proj_bias": np.ones(5)}, "out_proj_bias", id="out-proj-bias-shape"),
        pytest.param({"key_padding_mask": np.zeros((2, 4), bool)}, "key_padding_mask", id="kpm-wrong-S"),
        pytest.param({"key_padding_mask": np.zeros(5, bool)}, "key_padding_mask", id="kpm-unbatched-shape"),
        pytest.param({"attn_mask": np.zeros((5, 4), bool)}, "attn_mask", id="attn-mask-transposed"),
        pytest.param({"attn_mask": np.zeros((2, 4, 5))}, "N\\*num_heads", id="attn-mask-3d-heads-only"),
    ],
)
def test_multi_head_attention_rejects_invalid_arguments_with_clear_value_error(change, message):
    with pytest.raises(ValueError, match=message):
        multi_head_attention(**(_ok_mha() | change))


@pytest.mark.parametrize(
    "change, message",
    [
        pytest.param({"W1": np.ones((4, 2))}, "W1", id="W1-shape"),
        pytest.param({"W2": np.ones((5, 3))}, "W2", id="W2-shape"),
        pytest.param({"v": np.ones((5, 1))}, "v must have shape", id="v-2d"),
        pytest.param({"encoder_states": np.ones(3)}, "encoder_states", id="encoder-states-1d"),
        pytest.param({"decoder_state": np.ones((3, 1))}, "decoder_state", id="decoder-state-2d"),
    ],
)
def test_additive_attention_rejects_invalid_arguments_with_clear_value_error(change, message):
    call = {
        "decoder_state": np.ones(3),
        "encoder_states": np.ones((4, 2)),
        "W1": np.ones((5, 3)),
        "W2": np.ones((5, 2)),
        "v": np.ones(5),
    }
    with pytest.raises(ValueError, match=message):
        additive_attention(**(call | change))


@pytest.mark.parametrize(
    "kwargs",
    [{"d_values": ()}, {"d_values": (4, 0)}, {"d_values": (1.5, 2.0)}, {"n_keys": 0}, {"n_queries": 0}],
    ids=["no-d", "zero-d", "float-d", "zero-keys", "zero-queries"],
)
def test_sqrt_dk_demo_rejects_invalid_arguments_with_value_error(kwargs):
    with pytest.raises(ValueError):
        sqrt_dk_demo(**kwargs)
