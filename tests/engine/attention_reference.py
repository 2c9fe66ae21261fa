"""Plain-loop references for engine/attention.py, from torch's documented definitions.

scaled_dot_product_attention follows the "equivalent to" code in torch's docs: an (L, S) bias,
-inf above the diagonal when causal, -inf where a bool mask is False, a float mask added, then
softmax(Q·Kᵀ·scale + bias)·V. multi_head_attention follows multi_head_attention_forward: in-
projection by the rows [W_q; W_k; W_v] of in_proj_weight, E cut into num_heads contiguous
chunks, attn_mask and key_padding_mask (bool True = ignore) merged additively, per-head
attention with scale 1/√head_dim, heads concatenated, out-projection. Every number here is a
Python float summed in a Python loop: nothing is shared with the engine. Slow on purpose.
"""

from __future__ import annotations

import math

import numpy as np

NEG_INF = float("-inf")


def softmax_loop(row: list[float]) -> list[float]:
    """softmax of one row; all -inf gives NaN everywhere (0/0), as torch.softmax."""
    top = max(row)
    if top == NEG_INF:
        return [math.nan] * len(row)
    exps = [math.exp(x - top) for x in row]
    total = sum(exps)
    return [e / total for e in exps]


def dot(a, b) -> float:
    return sum(float(x) * float(y) for x, y in zip(a, b, strict=True))


def attend_loop(q: np.ndarray, k: np.ndarray, v: np.ndarray, bias: np.ndarray, scale: float):
    """One (L, E), (S, E), (S, Ev) problem with an (L, S) additive bias -> (output, weights) lists."""
    out, weights = [], []
    for i in range(len(q)):
        row = [dot(q[i], k[j]) * scale + float(bias[i][j]) for j in range(len(k))]
        w = softmax_loop(row)
        weights.append(w)
        out.append([sum(w[j] * float(v[j][e]) for j in range(len(k))) for e in range(v.shape[1])])
    return out, weights


def sdpa_bias(length: int, source: int, attn_mask, is_causal: bool) -> np.ndarray:
    """The documented attn_bias for one (L, S) problem (attn_mask already picked for it)."""
    bias = np.zeros((length, source))
    for i in range(length):
        for j in range(source):
            if is_causal and j > i:
                bias[i, j] = NEG_INF
            if attn_mask is not None:
                if attn_mask.dtype == bool:
                    bias[i, j] = bias[i, j] if attn_mask[i, j] else NEG_INF
                else:
                    bias[i, j] += attn_mask[i, j]
    return bias


def sdpa_loop(query, key, value, attn_mask=None, is_causal=False, scale=None):
    """torch.nn.functional.scaled_dot_product_attention -> (output, weights) arrays."""
    batch = np.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2])
    length, source = query.shape[-2], key.shape[-2]
    s = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    out = np.zeros((*batch, length, value.shape[-1]))
    weights = np.zeros((*batch, length, source))
    q = np.broadcast_to(query, (*batch, *query.shape[-2:]))
    k = np.broadcast_to(key, (*batch, *key.shape[-2:]))
    v = np.broadcast_to(value, (*batch, *value.shape[-2:]))
    mask = None if attn_mask is None else np.broadcast_to(attn_mask, (*batch, length, source))
    for idx in np.ndindex(batch):
        bias = sdpa_bias(length, source, None if mask is None else mask[idx], is_causal)
        out[idx], weights[idx] = attend_loop(q[idx], k[idx], v[idx], bias, s)
    return out, weights


def linear_loop(x: np.ndarray, weight: np.ndarray, bias) -> np.ndarray:
    """y[t, o] = Σ_i x[t, i]·weight[o, i] + bias[o], one token t at a time."""
    b = [0.0] * len(weight) if bias is None else bias
    return np.array([[dot(row, weight[o]) + float(b[o]) for o in range(len(weight))] for row in x])


def mha_bias_term(value, is_bool: bool) -> float:
    """multi_head_attention_forward's reading of one mask entry: bool True = -inf, a float is added."""
    if is_bool:
        return NEG_INF if value else 0.0
    return float(value)


def mha_loop(
    query,
    key,
    value,
    num_heads,
    in_proj_weight,
    in_proj_bias,
    out_proj_weight,
    out_proj_bias,
    key_padding_mask=None,
    attn_mask=None,
    average_attn_weights=True,
    is_causal=False,
):
    """nn.MultiheadAttention(batch_first=True) forward -> (output, attn_weights, per-head outputs)."""
    unbatched = query.ndim == 2
    if unbatched:
        query, key, value = query[None], key[None], value[None]
        key_padding_mask = None if key_padding_mask is None else key_padding_mask[None]
    n, length, embed = query.shape
    source, head_dim = key.shape[1], embed // num_heads
    w = [in_proj_weight[i * embed : (i + 1) * embed] for i in range(3)]
    b = [None if in_proj_bias is None else in_proj_bias[i * embed : (i + 1) * embed] for i in range(3)]
    out = np.zeros((n, length, embed))
    all_weights = np.zeros((n, num_heads, length, source))
    head_outputs = np.zeros((n, num_heads, length, head_dim))
    for batch in range(n):
        q, k, v = (linear_loop(x[batch], w[i], b[i]) for i, x in enumerate((query, key, value)))
        concat = np.zeros((length, embed))
        for h in range(num_heads):
            bias = np.zeros((length, source))
            for i in range(length):
                for j in range(source):
                    if attn_mask is not None:
                        m = attn_mask[i, j] if attn_mask.ndim == 2 else attn_mask[batch * num_heads + h, i, j]
                        bias[i, j] += mha_bias_term(m, attn_mask.dtype == bool)
                    if key_padding_mask is not None:
                        m = key_padding_mask[batch, j]
                        bias[i, j] += mha_bias_term(m, key_padding_mask.dtype == bool)
                    if is_causal and j > i:
                        bias[i, j] += NEG_INF
            cols = slice(h * head_dim, (h + 1) * head_dim)
            o, wts = attend_loop(q[:, cols], k[:, cols], v[:, cols], bias, 1.0 / math.sqrt(head_dim))
            concat[:, cols] = o
            head_outputs[batch, h] = o
            all_weights[batch, h] = wts
        out[batch] = linear_loop(concat, out_proj_weight, out_proj_bias)
    attn = all_weights.mean(axis=1) if average_attn_weights else all_weights
    if unbatched:
        return out[0], attn[0], head_outputs[0]
    return out, attn, head_outputs


def additive_loop(s, h, w1, w2, v):
    """Bahdanau: e_j = Σ_a v[a]·tanh((W1 s)[a] + (W2 h_j)[a]); returns (context, weights)."""
    scores = []
    for hj in h:
        terms = [math.tanh(dot(w1[a], s) + dot(w2[a], hj)) for a in range(len(v))]
        scores.append(dot(v, terms))
    weights = softmax_loop(scores)
    context = [sum(weights[j] * float(h[j][d]) for j in range(len(h))) for d in range(h.shape[1])]
    return np.array(context), np.array(weights)
