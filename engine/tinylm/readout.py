"""Reading the tiny transformer's output: the next word's probabilities under a temperature and top-k
(as Transformer Explainer's sampling), the likeliest next words and a seeded sample, and a token's
residual stream through the blocks."""

from __future__ import annotations

import math

import numpy as np

from layerlab.engine.tinylm.model import Forward


def next_token_probs(logits: np.ndarray, temperature: float = 1.0, top_k: int | None = None) -> np.ndarray:
    """softmax(logits / temperature) over the top_k largest logits (the others exactly 0).

    logits : ndarray of shape (V,); temperature > 0 (→ 0: the argmax, → ∞: uniform over the kept);
    top_k : None (all V) or 1..V. Ties at the k-th logit keep the first in index order.
    """
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 1 or z.size == 0:
        raise ValueError(f"logits must have shape (V,), got {z.shape}")
    if np.isnan(z).any() or np.isposinf(z).any():
        raise ValueError("logits must not hold NaN or +inf")
    if not (isinstance(temperature, (int, float, np.floating)) and 0 < temperature < math.inf):
        raise ValueError(f"temperature must be positive and finite, got {temperature!r}")
    if top_k is not None and (
        not isinstance(top_k, (int, np.integer)) or isinstance(top_k, bool) or not 1 <= top_k <= z.size
    ):
        raise ValueError(f"top_k must be None or an int in 1..{z.size}, got {top_k!r}")
    kept = np.ones(z.size, dtype=bool)
    if top_k is not None and top_k < z.size:
        kept[:] = False
        kept[np.argsort(-z, kind="stable")[:top_k]] = True
    # subtract the max before dividing: a tiny temperature then sends the rest to -inf, not inf - inf
    scaled = np.where(kept, (z - z[kept].max()) / temperature, -np.inf)
    e = np.exp(scaled)
    return e / e.sum()


def residual_stream(f: Forward) -> tuple[np.ndarray, np.ndarray]:
    """The first sentence's residual stream: each stage's vectors (S, T, D), S = 1 + 2 * n_layers, and
    their Euclidean norms (S, T)."""
    vectors = np.stack([r[0] for r in f.resid])
    return vectors, np.linalg.norm(vectors, axis=2)


def top_next_words(
    logits: np.ndarray, temperature: float, top_k: int | None, seed: int, top: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per position of logits (T, V): the `top` likeliest next ids (T, top) and their probabilities
    (T, top) under `next_token_probs(temperature, top_k)`, and one id per position (T,) sampled from
    those probabilities with np.random.default_rng(seed). With top_k, at most top_k are listed (the
    rest have probability 0 and are no candidates)."""
    top = min(top, top_k) if top_k else top
    ids, probs, sampled = [], [], []
    for row in logits:
        p = next_token_probs(row, temperature=temperature, top_k=top_k)
        order = np.argsort(-p, kind="stable")[:top]
        ids.append(order)
        probs.append(p[order])
        sampled.append(int(np.random.default_rng(seed).choice(p.size, p=p)))
    return np.array(ids), np.array(probs), np.array(sampled)
