"""Plain-loop references for engine/cnn/layers.py, written from the definitions (one output at a time)."""

from __future__ import annotations

import math

import numpy as np


def conv2d_loop(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """y[n, o, i, j] = b[o] + sum over c, u, v of w[o, c, u, v] * x[n, c, i + u, j + v]."""
    n_batch, channels, height, width = x.shape
    c_out, _, kh, kw = w.shape
    y = np.zeros((n_batch, c_out, height - kh + 1, width - kw + 1))
    for n in range(n_batch):
        for o in range(c_out):
            for i in range(height - kh + 1):
                for j in range(width - kw + 1):
                    total = b[o]
                    for c in range(channels):
                        for u in range(kh):
                            for v in range(kw):
                                total += w[o, c, u, v] * x[n, c, i + u, j + v]
                    y[n, o, i, j] = total
    return y


def relu_loop(x: np.ndarray) -> np.ndarray:
    out = x.copy()
    for idx in np.ndindex(x.shape):
        out[idx] = x[idx] if x[idx] > 0 else 0.0
    return out


def max_pool2x2_loop(x: np.ndarray) -> np.ndarray:
    """The largest of each non-overlapping 2x2 block; a trailing odd row or column is left out."""
    n_batch, channels, height, width = x.shape
    y = np.zeros((n_batch, channels, height // 2, width // 2))
    for n in range(n_batch):
        for c in range(channels):
            for i in range(height // 2):
                for j in range(width // 2):
                    y[n, c, i, j] = max(x[n, c, 2 * i + u, 2 * j + v] for u in range(2) for v in range(2))
    return y


def linear_loop(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    y = np.zeros((x.shape[0], w.shape[0]))
    for n in range(x.shape[0]):
        for o in range(w.shape[0]):
            y[n, o] = b[o] + sum(w[o, k] * x[n, k] for k in range(x.shape[1]))
    return y


def cross_entropy_loop(logits: np.ndarray, target: np.ndarray) -> float:
    """Mean over the batch of log(sum exp z) - z[target]."""
    total = 0.0
    for n in range(logits.shape[0]):
        top = max(logits[n])
        total += top + math.log(sum(math.exp(z - top) for z in logits[n])) - logits[n, target[n]]
    return total / logits.shape[0]


def numeric_gradient(
    f, x: np.ndarray, h: float = 1e-6, at: list[tuple[int, ...]] | None = None
) -> np.ndarray:
    """Central differences of the scalar f() with respect to the entries of x (changed in place and put
    back): every entry, shaped like x, or only those listed in `at`, in that order."""
    entries = list(np.ndindex(x.shape)) if at is None else at
    grad = np.zeros(len(entries))
    for k, idx in enumerate(entries):
        keep = x[idx]
        x[idx] = keep + h
        up = f()
        x[idx] = keep - h
        down = f()
        x[idx] = keep
        grad[k] = (up - down) / (2 * h)
    return grad.reshape(x.shape) if at is None else grad
