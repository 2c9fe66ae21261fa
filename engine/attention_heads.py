"""Multi-head self-attention with a free scale, and the 2-D picture of each head's values.

The attention page (seeds 000, 004) varies what nn.MultiheadAttention fixes: the scale (1/√d_k,
1, or either over a temperature) and a boolean mask built from causal and padded keys. Heads
split Q, K, V into contiguous chunks of d_k = D / H columns, as nn.MultiheadAttention does.

The picture projects each head's values onto their two leading right singular vectors: a linear
map, so a query's projected output is exactly the weighted sum of the projected values.
"""

from __future__ import annotations

import numpy as np

from layerlab.engine.attention import scaled_dot_product_attention
from layerlab.engine.errors import ArgumentError
from layerlab.engine.trace import Trace


def attention_mask(length: int, causal: bool = False, padding: int = 0) -> np.ndarray:
    """(L, L) bool, True where query i may attend to key j (SDPA's bool mask).

    causal hides the keys after each query; the last `padding` keys take no part (their
    queries still ask).
    """
    if not 0 <= padding < length:
        raise ArgumentError("padding", f"must leave at least one real key: below {length}, got {padding}")
    allowed = np.tri(length, dtype=bool) if causal else np.ones((length, length), dtype=bool)
    allowed[:, length - padding :] = False
    return allowed


def split_heads(m: np.ndarray, heads: int) -> np.ndarray:
    """(L, D) -> (H, L, D/H): contiguous column chunks, one per head."""
    length, d = m.shape
    if heads < 1 or d % heads:
        raise ArgumentError("num_heads", f"embed_dim {d} must be divisible by num_heads, got {heads}")
    return m.reshape(length, heads, d // heads).transpose(1, 0, 2)


def self_attention_heads(
    x: np.ndarray,
    w_q: np.ndarray,
    w_k: np.ndarray,
    w_v: np.ndarray,
    w_o: np.ndarray,
    num_heads: int,
    attn_mask: np.ndarray | None = None,
    scale: float | None = None,
) -> Trace:
    """Self-attention of x over itself in num_heads heads, no biases, any scale.

    Parameters
    ----------
    x : ndarray of shape (L, D)
    w_q, w_k, w_v, w_o : ndarrays of shape (D, D), rows are output features (Q = X·W_Qᵀ)
    attn_mask : (L, L) bool, True = may attend (SDPA's convention), or None
    scale : the factor on QKᵀ (None: 1/√d_k)

    Returns
    -------
    Trace "multi_head_attention_forward" (or "scaled_dot_product_attention" for one head) with
    output (L, D) = concat · W_Oᵀ; stages "q", "k", "v" (L, D), "q_heads", "k_heads", "v_heads"
    (H, L, d_k), SDPA's per-head "scores", "scaled", "mask", "masked", "weights" (H, L, L),
    "head_outputs" (H, L, d_k) and "concat" (L, D); SDPA's steps, one per (head, query) row,
    head-major (index (S, 2)), on demand.
    """
    x = np.asarray(x, dtype=np.float64)
    projected = [x @ np.asarray(w, dtype=np.float64).T for w in (w_q, w_k, w_v)]  # (L, D) each
    q_heads, k_heads, v_heads = (split_heads(p, num_heads) for p in projected)  # (H, L, d_k)
    inner = scaled_dot_product_attention(q_heads, k_heads, v_heads, attn_mask=attn_mask, scale=scale)
    heads, length, d_k = q_heads.shape
    concat = inner.output.transpose(1, 0, 2).reshape(length, -1)  # (L, D)
    names = ("q", "k", "v", "q_heads", "k_heads", "v_heads")
    stages = dict(zip(names, (*projected, q_heads, k_heads, v_heads), strict=True))
    stages |= inner.stages | {"head_outputs": inner.output, "concat": concat}
    op = "multi_head_attention_forward" if heads > 1 else inner.op
    params = {**inner.params, "heads": heads, "d_k": d_k}
    return inner.derive(op, params, concat @ np.asarray(w_o, dtype=np.float64).T, stages)


def value_plane(v_heads: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each head's value vectors in 2-D: the two leading right singular vectors of V_h (no centring).

    v_heads : ndarray of shape (H, L, d_k). Returns the bases (H, d_k, 2) (a head with d_k = 1
    gets a zero second axis) and the fraction of Σ‖v‖² the plane keeps, (H,). Signs are fixed
    so each axis's largest entry is positive.
    """
    heads, _, d_k = v_heads.shape
    bases, kept = np.zeros((heads, d_k, 2)), np.zeros(heads)
    for h in range(heads):
        _, s, vt = np.linalg.svd(v_heads[h], full_matrices=False)
        axes = vt[:2].T  # (d_k, ≤2)
        signs = np.sign(axes[np.abs(axes).argmax(axis=0), range(axes.shape[1])])
        bases[h, :, : axes.shape[1]] = axes * np.where(signs == 0, 1, signs)
        total = float((s**2).sum())
        kept[h] = float((s[:2] ** 2).sum()) / total if total > 0 else 1.0
    return bases, kept


def plane_picture(trace: Trace) -> dict[str, np.ndarray]:
    """A self_attention_heads trace's outputs as weighted sums of values, in each head's value plane.

    Returns points (H, L, 2) the projected values, weighted (S, L, 2) each step's weighted
    values, output (S, 2) each step's projected output (their sum), and kept (H,) (value_plane).
    Reads every step (one per (head, query)).
    """
    v_heads = trace.stages["v_heads"]  # (H, L, d_k)
    bases, kept = value_plane(v_heads)
    points = v_heads @ bases  # (H, L, 2)
    steps = trace.steps
    head = steps["index"][:, 0]  # (S,)
    weighted = steps["weights"][:, :, None] * points[head]  # (S, L, 2)
    output = np.einsum("sd,sdk->sk", steps["output"], bases[head])  # (S, 2)
    return {"points": points, "weighted": weighted, "output": output, "kept": kept}


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """a·b / (‖a‖‖b‖), 0 when either is zero."""
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) or 1.0))


def context_vector(weights: np.ndarray, x: np.ndarray, query: int) -> np.ndarray:
    """(D,) Σⱼ w̄ᵢⱼ·xⱼ: query i's attention weights averaged over the heads, (H, L, L) -> (L,), applied
    to the embeddings x (L, D) themselves, so the context is read in x's own features."""
    return np.asarray(weights, dtype=np.float64)[:, query].mean(axis=0) @ np.asarray(x, dtype=np.float64)
