"""Attention, traced stage by stage: scaled dot-product, multi-head and additive.

`scaled_dot_product_attention` mirrors `torch.nn.functional.scaled_dot_product_attention`
(softmax(QKᵀ·scale + mask)·V, scale = 1/√E by default), `multi_head_attention` mirrors
`torch.nn.functional.multi_head_attention_forward` as `nn.MultiheadAttention(batch_first=True)`
calls it, and `additive_attention` is Bahdanau's score vᵀ·tanh(W₁s + W₂hⱼ). Seeds 000 and 004
define the first two (and argue for the √d_k, which `sqrt_dk_demo` measures); seed 003 the third.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np

from layerlab.engine.activations import softmax_parts
from layerlab.engine.trace import RecordSteps, Trace, recorded_trace


def softmax(x: np.ndarray, axis: int = -1, temperature: float = 1.0) -> np.ndarray:
    """softmax(x / temperature) along axis (the engine's one softmax, `softmax_parts`)."""
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    return softmax_parts(np.asarray(x, dtype=np.float64) / temperature, axis)["output"]


def entropy(weights: np.ndarray, axis: int = -1) -> np.ndarray:
    """Shannon entropy in nats, -Σ w·ln w with 0·ln 0 = 0; NaN where a row holds NaN."""
    w = np.asarray(weights, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(w > 0, w * np.log(w), 0.0)
    return np.where(np.isnan(w).any(axis=axis), np.nan, -terms.sum(axis=axis))


def _causal_bias(length: int, source: int) -> np.ndarray:
    """0 on and below the diagonal, -inf above: torch's ones(L, S).tril(0), top-left aligned."""
    return np.where(np.tri(length, source, dtype=bool), 0.0, -np.inf)


def _as_bias(mask: np.ndarray, name: str, true_masks: bool) -> np.ndarray:
    """A boolean or float mask as the additive one: bool True adds -inf when true_masks else 0."""
    m = np.asarray(mask)
    if m.dtype == bool:
        return np.where(m if true_masks else ~m, -np.inf, 0.0)
    if not np.issubdtype(m.dtype, np.number) or np.iscomplexobj(m):
        raise ValueError(f"{name} must be boolean or real-valued, got dtype {m.dtype}")
    return m.astype(np.float64)


def _mask_kind(mask: np.ndarray | None) -> str | None:
    """How a mask is read: None, "bool" or "float"."""
    return None if mask is None else "bool" if np.asarray(mask).dtype == bool else "float"


def scaled_dot_product_attention(
    query: np.ndarray,
    key: np.ndarray,
    value: np.ndarray,
    attn_mask: np.ndarray | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    *,
    record_steps: RecordSteps = "lazy",
) -> Trace:
    """softmax(Q·Kᵀ·scale + mask)·V, recording every stage and one step per query row (on demand;
    record_steps as conv2d's).

    Parameters
    ----------
    query : ndarray of shape (..., L, E)
    key : ndarray of shape (..., S, E)
    value : ndarray of shape (..., S, Ev); the three leading shapes broadcast, as torch's matmuls do
    attn_mask : None, a boolean array (True = this key takes part) or a float array added to the
        scaled scores; it must broadcast to (..., L, S)
    dropout_p : must be 0: the engine is deterministic
    is_causal : mask keys after the query (tril of an (L, S) matrix of ones); excludes attn_mask
    scale : None for 1/√E

    Returns
    -------
    Trace with output (..., L, Ev) and stages "scores" Q·Kᵀ, "scaled", "mask" (the additive mask
    actually applied: 0 or -inf from a bool mask or is_causal, the values of a float mask),
    "masked" and "weights", each (..., L, S). Steps, one per query row in C order of (..., L):
    index (R, ndim - 1), scores, scaled, mask, masked, exp (e^(masked - max)) and weights (R, S),
    max and sum (the softmax denominator) (R,), output (R, Ev) = weights·V, entropy (nats) and
    max_weight (R,). The terms of each output row, weights[r, j]·value[j], are not stored: they would be
    R·S·Ev numbers (64 MB at 8 heads of 128 tokens), three quarters of the trace's cost for a picture
    the attention route draws in 2-D from the weights.

    A row whose keys are all masked gives NaN weights and output: softmax of only -inf, as in
    torch's documented reference code and in nn.MultiheadAttention's need_weights path. (torch
    >= 2.5's SDPA kernels use a "safe" softmax that returns zeros there instead.)
    """
    q, k, v = (np.asarray(a, dtype=np.float64) for a in (query, key, value))
    for name, a, rows in (("query", q, "L, E"), ("key", k, "S, E"), ("value", v, "S, Ev")):
        if a.ndim < 2 or 0 in a.shape[-2:]:
            raise ValueError(f"{name} must have shape (..., {rows}) with non-empty L, S, E, got {a.shape}")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"query and key must have the same last dimension E, got {q.shape[-1]} and {k.shape[-1]}"
        )
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"key and value must have the same length S, got {k.shape[-2]} and {v.shape[-2]}")
    try:
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ValueError(
            f"leading dimensions of query {q.shape}, key {k.shape} and value {v.shape} do not broadcast"
        ) from None
    if dropout_p != 0:
        raise ValueError(f"dropout_p must be 0 (the engine is deterministic), got {dropout_p}")
    if is_causal and attn_mask is not None:
        raise ValueError("attn_mask must be None when is_causal=True (torch rejects both)")
    (length, embed), (source, value_dim) = q.shape[-2:], v.shape[-2:]
    scale_factor = 1.0 / math.sqrt(embed) if scale is None else float(scale)
    if not math.isfinite(scale_factor):
        raise ValueError(f"scale must be finite, got {scale}")
    grid = (*batch, length, source)
    if is_causal:
        bias = np.broadcast_to(_causal_bias(length, source), grid)
    elif attn_mask is None:  # a read-only broadcast zero: no (..., L, S) array to fill
        bias = np.broadcast_to(np.zeros(()), grid)
    else:
        bias = _as_bias(attn_mask, "attn_mask", true_masks=False)
        try:
            bias = np.broadcast_to(bias, grid)  # only the mask's own 1s stretch: grid stays the shape
        except ValueError:
            raise ValueError(
                f"attn_mask of shape {bias.shape} does not broadcast to (..., L, S) = {grid}"
            ) from None
    q = np.broadcast_to(q, (*batch, length, embed))
    k = np.broadcast_to(k, (*batch, source, embed))
    v = np.broadcast_to(v, (*batch, source, value_dim))
    scores = q @ np.swapaxes(k, -1, -2)  # (..., L, S)
    scaled = scores * scale_factor
    masked = scaled if attn_mask is None and not is_causal else scaled + bias  # no mask: the same numbers
    parts = softmax_parts(masked)  # fully masked rows: NaN on purpose
    row_max, total = parts["max"][..., 0], parts["sum"][..., 0]  # (..., L)
    exp, weights = parts["exp"], parts["output"]  # (..., L, S)
    out = weights @ v  # (..., L, Ev)
    fully_masked = int(np.isneginf(row_max).sum())  # a row's max is -inf when all of it is
    params = {
        "scale": scale_factor,
        "scale_given": scale is not None,
        "is_causal": bool(is_causal),
        "mask_kind": "causal" if is_causal else _mask_kind(attn_mask),
        "query_len": length,
        "key_len": source,
        "embed_dim": embed,
        "fully_masked_rows": fully_masked,
    }
    stages = {"scores": scores, "scaled": scaled, "mask": bias, "masked": masked, "weights": weights}
    columns = {name: stage.reshape(-1, source) for name, stage in stages.items() if name != "weights"}
    columns |= {"max": row_max.reshape(-1), "exp": exp.reshape(-1, source), "sum": total.reshape(-1)}
    columns |= {"weights": weights.reshape(-1, source), "output": out.reshape(-1, value_dim)}
    recorder = functools.partial(_attention_rows, (*batch, length), columns)
    total_rows = math.prod((*batch, length))
    return recorded_trace(
        "scaled_dot_product_attention", params, out, stages, record_steps, recorder, total_rows
    )


def _attention_rows(
    grid: tuple[int, ...], columns: dict[str, np.ndarray], rows: range
) -> dict[str, np.ndarray]:
    """The steps of query rows rows.start..rows.stop (C order of (..., L)): views of the stages' rows
    (`columns`, each (R, ...)) plus the index, entropy and max_weight of those rows."""
    picked = {name: column[rows.start : rows.stop] for name, column in columns.items()}
    index = np.unravel_index(np.arange(rows.start, rows.stop), grid)
    weights = picked["weights"]
    # -Σ w ln w with ln w = (masked - max) - ln sum: the softmax's own parts, no logarithm per weight
    with np.errstate(invalid="ignore", divide="ignore"):  # all-masked rows: NaN, as their weights
        shifted = picked["masked"] - picked["max"][:, None]
        np.copyto(shifted, 0.0, where=weights <= 0)  # masked keys: 0·ln 0 = 0, not 0·-inf
        row_entropy = np.log(picked["sum"]) - np.einsum("rs,rs->r", weights, shifted)
    return {
        "index": np.stack(index, axis=1).astype(np.int32).reshape(-1, len(grid)),
        **{name: picked[name] for name in ("scores", "scaled", "mask", "masked", "max", "exp", "sum")},
        "weights": weights,
        "output": picked["output"],
        "entropy": row_entropy,
        "max_weight": weights.max(axis=-1),
    }


def _check_shape(array: np.ndarray | None, shape: tuple[int, ...], name: str) -> np.ndarray | None:
    """The array as float64, or a ValueError naming the expected shape."""
    if array is None:
        return None
    a = np.asarray(array, dtype=np.float64)
    if a.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {a.shape}")
    return a


def _mha_bias(
    attn_mask, key_padding_mask, is_causal, n, heads, length, source, unbatched
) -> np.ndarray | None:
    """The (N, H, L, S) additive mask torch merges from attn_mask, key_padding_mask (bool True = ignore)."""
    if attn_mask is None and key_padding_mask is None and not is_causal:
        return None
    total = np.zeros((n, heads, length, source))
    if attn_mask is not None:
        m = _as_bias(attn_mask, "attn_mask", true_masks=True)
        if m.shape == (length, source):
            total += m
        elif m.shape == (n * heads, length, source):
            total += m.reshape(n, heads, length, source)
        else:
            lead = "num_heads" if unbatched else "N*num_heads"
            raise ValueError(
                f"attn_mask must have shape (L, S) = {(length, source)} or ({lead}, L, S) = "
                f"{(n * heads, length, source)}, got {m.shape}"
            )
    if key_padding_mask is not None:
        m = _as_bias(key_padding_mask, "key_padding_mask", true_masks=True)
        expected = (source,) if unbatched else (n, source)
        if m.shape != expected:
            raise ValueError(
                f"key_padding_mask must have shape {expected} ((N, S), or (S,) unbatched), got {m.shape}"
            )
        total += m.reshape(n, 1, 1, source)
    if is_causal:
        total += _causal_bias(length, source)
    return total


def multi_head_attention(
    query: np.ndarray,
    key: np.ndarray,
    value: np.ndarray,
    num_heads: int,
    in_proj_weight: np.ndarray,
    in_proj_bias: np.ndarray | None,
    out_proj_weight: np.ndarray,
    out_proj_bias: np.ndarray | None,
    key_padding_mask: np.ndarray | None = None,
    attn_mask: np.ndarray | None = None,
    need_weights: bool = True,
    average_attn_weights: bool = True,
    is_causal: bool = False,
    *,
    record_steps: RecordSteps = "lazy",
) -> Trace:
    """Multi-head attention as nn.MultiheadAttention(E, num_heads, batch_first=True) computes it.

    Parameters
    ----------
    query : ndarray of shape (N, L, E) or (L, E) unbatched
    key, value : ndarrays of shape (N, S, E) or (S, E)
    in_proj_weight : ndarray of shape (3E, E), the rows [W_q; W_k; W_v] (q = query·W_qᵀ + b_q)
    in_proj_bias : ndarray of shape (3E,) or None
    out_proj_weight : ndarray of shape (E, E); out_proj_bias : (E,) or None
    key_padding_mask : (N, S) or (S,); bool True = ignore that key, float = added
    attn_mask : (L, S) or (N*num_heads, L, S) ((num_heads, L, S) unbatched); bool True = may NOT
        attend (the opposite of SDPA's bool mask), float = added
    is_causal : add the causal mask. torch treats it as a hint that attn_mask is causal and needs
        attn_mask too; here it builds the mask, added to attn_mask if given (equal when the hint is true)

    Returns
    -------
    Trace with output (N, L, E) and stages "q", "k", "v" (the projections, (N, L|S, E)),
    "q_heads", "k_heads", "v_heads" (N, H, L|S, head_dim) (E split into num_heads contiguous
    chunks), per-head "scores", "scaled", "mask", "masked", "weights" (N, H, L, S),
    "head_outputs" (N, H, L, head_dim), "concat" (N, L, E) and, when need_weights,
    "attn_weights" (N, L, S) averaged over heads or (N, H, L, S). Unbatched: no N anywhere.
    Steps are scaled_dot_product_attention's, one per (n, head, query) row (index without n
    when unbatched).
    """
    x_q, x_k, x_v = (np.asarray(a, dtype=np.float64) for a in (query, key, value))
    if x_q.ndim not in (2, 3) or x_k.ndim != x_q.ndim or x_v.ndim != x_q.ndim:
        shapes = f"{x_q.shape}, {x_k.shape}, {x_v.shape}"
        raise ValueError(f"query, key and value must all be (N, L, E) or all (L, E), got {shapes}")
    unbatched = x_q.ndim == 2
    if unbatched:
        x_q, x_k, x_v = x_q[None], x_k[None], x_v[None]
    n, length, embed = x_q.shape
    if x_k.shape != x_v.shape:
        raise ValueError(f"key and value must have the same shape, got {x_k.shape} and {x_v.shape}")
    if x_k.shape[0] != n or x_k.shape[2] != embed:
        raise ValueError(f"key must have batch size {n} and embedding dimension {embed}, got {x_k.shape}")
    if not isinstance(num_heads, (int, np.integer)) or num_heads < 1 or embed % num_heads:
        raise ValueError(
            f"embed_dim E={embed} must be divisible by num_heads (a positive int), got {num_heads}"
        )
    heads, head_dim, source = int(num_heads), embed // int(num_heads), x_k.shape[1]
    w_in = _check_shape(in_proj_weight, (3 * embed, embed), "in_proj_weight")
    b_in = _check_shape(in_proj_bias, (3 * embed,), "in_proj_bias")
    w_out = _check_shape(out_proj_weight, (embed, embed), "out_proj_weight")
    b_out = _check_shape(out_proj_bias, (embed,), "out_proj_bias")
    b_in = np.zeros(3 * embed) if b_in is None else b_in
    projected = [
        x @ w_in[i * embed : (i + 1) * embed].T + b_in[i * embed : (i + 1) * embed]  # (N, L|S, E)
        for i, x in enumerate((x_q, x_k, x_v))
    ]
    split = [p.reshape(n, -1, heads, head_dim).transpose(0, 2, 1, 3) for p in projected]  # (N, H, L|S, hd)
    bias = _mha_bias(attn_mask, key_padding_mask, is_causal, n, heads, length, source, unbatched)
    inner = scaled_dot_product_attention(*split, attn_mask=bias, record_steps=record_steps)
    concat = inner.output.transpose(0, 2, 1, 3).reshape(n, length, embed)  # (N, L, E)
    out = concat @ w_out.T + (0.0 if b_out is None else b_out)
    stages = dict(zip(("q", "k", "v", "q_heads", "k_heads", "v_heads"), (*projected, *split), strict=True))
    stages |= inner.stages | {"head_outputs": inner.output, "concat": concat}
    if need_weights:
        stages["attn_weights"] = (
            inner.stages["weights"].mean(axis=1) if average_attn_weights else inner.stages["weights"]
        )
    if unbatched:
        stages = {name: s[0] for name, s in stages.items()}
    params = {
        "num_heads": heads,
        "head_dim": head_dim,
        "embed_dim": embed,
        "query_len": length,
        "key_len": source,
        "scale": inner.params["scale"],
        "has_in_proj_bias": in_proj_bias is not None,
        "has_out_proj_bias": out_proj_bias is not None,
        "key_padding_mask": _mask_kind(key_padding_mask),
        "attn_mask": _mask_kind(attn_mask),
        "is_causal": bool(is_causal),
        "need_weights": bool(need_weights),
        "average_attn_weights": bool(average_attn_weights),
        "fully_masked_rows": inner.params["fully_masked_rows"],
    }
    out = out[0] if unbatched else out
    return inner.derive(
        "multi_head_attention_forward", params, out, stages, _drop_batch if unbatched else None
    )


def _drop_batch(steps: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """An unbatched call's steps: the index without its n (always 0)."""
    return {**steps, "index": steps["index"][:, 1:]}


def additive_attention(
    decoder_state: np.ndarray,
    encoder_states: np.ndarray,
    W1: np.ndarray,
    W2: np.ndarray,
    v: np.ndarray,
    *,
    record_steps: RecordSteps = "lazy",
) -> Trace:
    """Bahdanau attention (seed 003): eⱼ = vᵀ·tanh(W₁s + W₂hⱼ), a = softmax(e), context = Σ aⱼhⱼ.

    Parameters
    ----------
    decoder_state : ndarray of shape (Ds,), the query s
    encoder_states : ndarray of shape (T, Dh), the keys and values hⱼ
    W1 : ndarray of shape (A, Ds); W2 : ndarray of shape (A, Dh); v : ndarray of shape (A,)

    Returns
    -------
    Trace with output the context (Dh,), stages "projected_state" W₁s (A,), "projected_keys"
    W₂hⱼ (T, A), "summed" W₁s + W₂hⱼ and "tanh" (T, A), "scores" and "weights" (T,); steps, one
    per encoder state j: index, the row j of each (T, ...) stage, and "weighted" aⱼhⱼ (Dh,).
    """
    s, h, w1, w2, vec = (np.asarray(a, dtype=np.float64) for a in (decoder_state, encoder_states, W1, W2, v))
    if s.ndim != 1 or h.ndim != 2 or 0 in s.shape or 0 in h.shape:
        raise ValueError(
            f"decoder_state must be (Ds,) and encoder_states (T, Dh), got {s.shape} and {h.shape}"
        )
    if vec.ndim != 1 or vec.size == 0:
        raise ValueError(f"v must have shape (A,), got {vec.shape}")
    _check_shape(w1, (vec.size, s.size), "W1")
    _check_shape(w2, (vec.size, h.shape[1]), "W2")
    projected_state = w1 @ s  # (A,)
    projected_keys = h @ w2.T  # (T, A)
    summed = projected_state + projected_keys  # (T, A)
    tanh = np.tanh(summed)
    scores = tanh @ vec  # (T,)
    weights = softmax(scores)
    names = ("projected_keys", "summed", "tanh", "scores", "weights")
    stages = dict(zip(names, (projected_keys, summed, tanh, scores, weights), strict=True))
    recorder = functools.partial(_additive_rows, dict(stages), h)
    stages["projected_state"] = projected_state
    params = {"state_dim": s.size, "encoder_dim": h.shape[1], "attention_dim": vec.size, "num_states": len(h)}
    context = weights @ h  # (Dh,)
    return recorded_trace("additive_attention", params, context, stages, record_steps, recorder, len(h))


def _additive_rows(columns: dict[str, np.ndarray], h: np.ndarray, rows: range) -> dict[str, np.ndarray]:
    """additive_attention's steps for encoder states rows.start..rows.stop."""
    picked = {name: column[rows.start : rows.stop] for name, column in columns.items()}
    weighted = picked["weights"][:, None] * h[rows.start : rows.stop]
    return {"index": np.arange(rows.start, rows.stop, dtype=np.int32), **picked, "weighted": weighted}


def sqrt_dk_demo(
    d_values: Sequence[int] = (1, 4, 16, 64, 256), n_keys: int = 16, seed: int = 0, n_queries: int = 256
) -> dict[str, np.ndarray]:
    """Why divide by √d_k (seed 000): softmax statistics of random scores with and without it.

    For each d_k, n_queries queries each meet n_keys keys, all entries drawn from N(0, 1), so a
    dot product q·k has variance d_k. Returns arrays of shape (len(d_values),): "d_k",
    "unscaled_std" (≈ √d_k) and "scaled_std" (≈ 1) of the scores, and the mean over queries of
    the softmax's entropy in nats ("unscaled_entropy", "scaled_entropy"; ln n_keys is uniform)
    and of its largest weight ("unscaled_max_weight" heads for 1 as the softmax saturates,
    "scaled_max_weight" stays put).
    """
    d = np.asarray(d_values)
    if d.ndim != 1 or d.size == 0 or not np.issubdtype(d.dtype, np.integer) or (d < 1).any():
        raise ValueError(f"d_values must be a non-empty sequence of positive ints, got {d_values!r}")
    if n_keys < 1 or n_queries < 1:
        raise ValueError(f"n_keys and n_queries must be positive, got {n_keys} and {n_queries}")
    rng = np.random.default_rng(seed)
    names = ("std", "entropy", "max_weight")
    stats: dict[str, list[float]] = {
        f"{kind}_{name}": [] for kind in ("unscaled", "scaled") for name in names
    }
    for d_k in d.tolist():
        q = rng.standard_normal((n_queries, 1, d_k))
        k = rng.standard_normal((n_queries, n_keys, d_k))
        scores = (q * k).sum(axis=-1)  # (n_queries, n_keys)
        for kind, s in (("unscaled", scores), ("scaled", scores / math.sqrt(d_k))):
            w = softmax(s)
            stats[f"{kind}_std"].append(float(s.std()))
            stats[f"{kind}_entropy"].append(float(entropy(w).mean()))
            stats[f"{kind}_max_weight"].append(float(w.max(axis=-1).mean()))
    return {"d_k": d.astype(np.int64)} | {name: np.array(values) for name, values in stats.items()}
