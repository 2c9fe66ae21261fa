"""engine.attention_heads against plain loops: the heads, the mask, the value plane and its picture."""

from __future__ import annotations

import math

import numpy as np
import pytest

from layerlab.engine.attention_heads import (
    attention_mask,
    context_vector,
    cosine_similarity,
    plane_picture,
    self_attention_heads,
    value_plane,
)
from layerlab.engine.errors import ArgumentError


def loop_attention(x, w_q, w_k, w_v, w_o, heads, allowed, scale):
    """Per head, per query: scores, a softmax over the allowed keys, the weighted sum; then W_O."""
    length, d = x.shape
    d_k = d // heads
    concat = np.zeros((length, d))
    weights = np.zeros((heads, length, length))
    for h in range(heads):
        cols = slice(h * d_k, (h + 1) * d_k)
        q, k, v = (x @ w[cols].T for w in (w_q, w_k, w_v))  # rows cols of W are head h's features
        for i in range(length):
            scores = [scale * float(q[i] @ k[j]) if allowed[i, j] else -math.inf for j in range(length)]
            top = max(scores)
            exps = [math.exp(s - top) for s in scores]
            for j in range(length):
                weights[h, i, j] = exps[j] / sum(exps)
                concat[i, cols] += weights[h, i, j] * v[j]
    return concat @ w_o.T, weights


@pytest.mark.parametrize(
    ("heads", "causal", "padding", "scale"), [(1, False, 0, None), (2, True, 1, 0.7), (4, False, 2, 1.0)]
)
def test_self_attention_heads_matches_loop_reference(heads, causal, padding, scale):
    rng = np.random.default_rng([16, heads])
    length, d = 5, 8
    x = rng.normal(size=(length, d))
    w_q, w_k, w_v, w_o = rng.normal(size=(4, d, d)) / math.sqrt(d)
    allowed = attention_mask(length, causal, padding)
    t = self_attention_heads(x, w_q, w_k, w_v, w_o, heads, attn_mask=allowed, scale=scale)
    expected, weights = loop_attention(
        x, w_q, w_k, w_v, w_o, heads, allowed, scale or 1 / math.sqrt(d // heads)
    )
    np.testing.assert_allclose(t.output, expected, atol=1e-12)
    np.testing.assert_allclose(t.stages["weights"], weights, atol=1e-12)
    assert t.num_steps == heads * length
    last = t.step(-1)  # head H-1, query L-1: steps are head-major
    assert last["index"].tolist() == [heads - 1, length - 1]
    np.testing.assert_allclose(last["weights"], weights[-1, -1], atol=1e-12)


def test_attention_mask_hides_later_and_padded_keys():
    allowed = attention_mask(4, causal=True, padding=1)
    expected = [[j <= i and j < 3 for j in range(4)] for i in range(4)]
    assert allowed.tolist() == expected


def test_attention_mask_refuses_padding_every_key_naming_padding():
    with pytest.raises(ArgumentError) as caught:
        attention_mask(3, padding=3)
    assert caught.value.argument == "padding"


def test_value_plane_keeps_the_leading_singular_plane():
    rng = np.random.default_rng(5)
    v = rng.normal(size=(2, 6, 4))
    bases, kept = value_plane(v)
    for h in range(2):
        gram = v[h].T @ v[h]  # (d_k, d_k): its top eigenvectors span the plane
        eigenvalues, vectors = np.linalg.eigh(gram)
        top = vectors[:, ::-1][:, :2]
        projector = top @ top.T
        np.testing.assert_allclose(bases[h] @ bases[h].T, projector, atol=1e-10)
        assert kept[h] == pytest.approx(eigenvalues[::-1][:2].sum() / eigenvalues.sum())
        assert all(bases[h][np.abs(bases[h][:, a]).argmax(), a] > 0 for a in range(2))


def test_plane_picture_output_is_the_sum_of_weighted_values():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(4, 8))
    w_q, w_k, w_v, w_o = rng.normal(size=(4, 8, 8))
    t = self_attention_heads(x, w_q, w_k, w_v, w_o, 2)
    picture = plane_picture(t)
    np.testing.assert_allclose(picture["weighted"].sum(axis=1), picture["output"], atol=1e-10)
    assert picture["points"].shape == (2, 4, 2)


def test_cosine_similarity_is_zero_for_a_zero_vector():
    assert cosine_similarity(np.zeros(3), np.ones(3)) == 0.0
    assert cosine_similarity(np.array([1.0, 0]), np.array([1.0, 1])) == pytest.approx(1 / math.sqrt(2))


def test_context_vector_is_the_head_averaged_weighted_sum_of_the_embeddings():
    rng = np.random.default_rng(4)
    weights, x = rng.random((3, 5, 5)), rng.normal(size=(5, 4))
    for query in (0, 3):
        loop = [
            sum(sum(weights[h, query, j] for h in range(3)) / 3 * x[j, d] for j in range(5)) for d in range(4)
        ]
        np.testing.assert_allclose(context_vector(weights, x, query), loop, rtol=1e-12)
