"""Plain-loop references for the dense-layer engine, written without NumPy's vector maths."""

from __future__ import annotations

import itertools
import math

import numpy as np


def linear_loop(x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """y[..., j] = sum_i x[..., i] * w[j, i] + b[j], one output number at a time."""
    out_features, in_features = w.shape
    out = np.zeros((*x.shape[:-1], out_features))
    for lead in itertools.product(*(range(n) for n in x.shape[:-1])):
        for j in range(out_features):
            total = 0.0
            for i in range(in_features):
                total += float(x[(*lead, i)]) * float(w[j, i])
            out[(*lead, j)] = total + (0.0 if b is None else float(b[j]))
    return out


def activation_loop(name: str, z: float) -> float:
    if name == "identity":
        return z
    if name == "relu":
        return z if z > 0 else 0.0
    if name == "step":
        return 1.0 if z > 0 else 0.0
    if name == "sign":
        return 1.0 if z > 0 else (-1.0 if z < 0 else 0.0)
    if name == "sigmoid":
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))
    if name == "tanh":
        return math.tanh(z)
    raise ValueError(name)


def mlp_point(point, weights, biases, activations) -> list[tuple[list[float], list[float]]]:
    """Per layer (pre-activations, activations) of one point, neuron by neuron."""
    h, layers = [float(v) for v in point], []
    for w, b, name in zip(weights, biases, activations, strict=True):
        z = [sum(float(w[j][i]) * h[i] for i in range(len(h))) + float(b[j]) for j in range(len(w))]
        h = [activation_loop(name, v) for v in z]
        layers.append((z, h))
    return layers


def parameter_count_loop(sizes: list[int]) -> int:
    total = 0
    for previous, current in zip(sizes, sizes[1:], strict=False):
        for _neuron in range(current):
            total += previous + 1  # one weight per input, one bias
    return total


def bce_loop(params: dict, x: np.ndarray, y: np.ndarray, activation: str) -> float:
    """The 2 -> H -> 1 network's mean binary cross-entropy, one sample and one neuron at a time."""
    total = 0.0
    hidden = len(params["b1"])
    for k in range(len(y)):
        out = float(params["b2"])
        for j in range(hidden):
            z = (
                float(params["W1"][j, 0]) * x[k, 0]
                + float(params["W1"][j, 1]) * x[k, 1]
                + float(params["b1"][j])
            )
            out += float(params["w2"][j]) * activation_loop(activation, z)
        p = activation_loop("sigmoid", out)
        total += -(y[k] * math.log(p) + (1 - y[k]) * math.log(1 - p))
    return total / len(y)
