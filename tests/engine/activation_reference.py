"""Plain scalar references for the activations, written from their definitions with `math` alone,
one number at a time, so nothing is shared with engine/activations.py. Slow on purpose."""

from __future__ import annotations

import math

import numpy as np


def elementwise(f, x: np.ndarray) -> np.ndarray:
    """f applied to every number of x, by a Python loop."""
    flat = [f(float(v)) for v in np.asarray(x, dtype=np.float64).reshape(-1)]
    return np.array(flat, dtype=np.float64).reshape(np.shape(x))


def sigmoid(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v)) if v >= 0 else math.exp(v) / (1.0 + math.exp(v))


def tanh(v: float) -> float:
    return math.tanh(v)


def relu(v: float) -> float:
    return v if v > 0 else 0.0


def leaky_relu(v: float, slope: float) -> float:
    return v if v > 0 else slope * v


def elu(v: float, alpha: float) -> float:
    return v if v > 0 else alpha * math.expm1(v)


def gelu(v: float) -> float:
    return 0.5 * v * (1.0 + math.erf(v / math.sqrt(2.0)))


def gelu_tanh(v: float) -> float:
    return 0.5 * v * (1.0 + math.tanh(math.sqrt(2.0 / math.pi) * (v + 0.044715 * v**3)))


def prelu(x: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """torch's rule read literally: weight[c] for the element whose index on dim 1 is c."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(weight, dtype=np.float64).reshape(-1)
    out = np.empty_like(x)
    for index in np.ndindex(x.shape):
        a = w[0] if w.size == 1 else w[index[1] if x.ndim > 1 else 0]
        out[index] = x[index] if x[index] > 0 else a * x[index]
    return out


def softmax(x: np.ndarray, dim: int) -> np.ndarray:
    """exp(x_i) / sum_j exp(x_j) along dim, each line summed by a loop (inputs kept small)."""
    x = np.moveaxis(np.asarray(x, dtype=np.float64), dim, -1)
    out = np.empty_like(x)
    for index in np.ndindex(x.shape[:-1]):
        line = [math.exp(v) for v in x[index]]
        total = sum(line)
        out[index] = [v / total for v in line]
    return np.moveaxis(out, -1, dim)


def maxout(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """max over pieces j of sum_i weight[j, o, i] x[..., i] + bias[j, o], by loops."""
    x = np.asarray(x, dtype=np.float64)
    k, out_features, in_features = weight.shape
    out = np.empty(x.shape[:-1] + (out_features,))
    for index in np.ndindex(x.shape[:-1]):
        for o in range(out_features):
            values = [
                sum(weight[j, o, i] * x[index][i] for i in range(in_features)) + bias[j, o] for j in range(k)
            ]
            out[index + (o,)] = max(values)
    return out


def central_difference(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """(f(x + h) - f(x - h)) / 2h, element by element, for an element-wise f on arrays."""
    return (f(x + h) - f(x - h)) / (2.0 * h)
