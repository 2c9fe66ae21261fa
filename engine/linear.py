"""Fully connected layers: F.linear traced neuron by neuron, and parameter counts of a stack.

A fully connected (dense) layer holds one row of weights per neuron: weight (out_features,
in_features). Each neuron takes the dot product of its row with the input and adds its bias,
y = x W^T + b (seed 001: "every single neuron has its weights in a row of W"; seed 003:
y_in = W x + b, one hyperplane per neuron).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from layerlab.engine.calculator import Layer, analyse
from layerlab.engine.trace import RecordSteps, Trace, recorded_trace


def linear(
    input: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None = None,
    *,
    record_steps: RecordSteps = "lazy",
) -> Trace:
    """torch.nn.functional.linear: input @ weight.T + bias, one step per (sample, neuron).

    Parameters
    ----------
    input : ndarray of shape (*, in_features)
    weight : ndarray of shape (out_features, in_features)
    bias : ndarray of shape (out_features,) or None

    Steps run through the flattened leading axes, and within a sample neuron by neuron:
    index (S, ndim) where the result lands in the output, sample and neuron, the inputs, the
    neuron's weights, their products, the products' sum, the bias and the result.
    record_steps as conv2d's ("lazy", the default, records steps when they are read).

    The output is one BLAS matmul; a step sums its products pairwise, so its result may differ
    from the output in the last bits (~1e-16 relative), never more.
    """
    x = np.asarray(input, dtype=np.float64)
    w = np.asarray(weight, dtype=np.float64)
    if w.ndim != 2:
        raise ValueError(f"weight must be (out_features, in_features), got shape {w.shape}")
    out_features, in_features = w.shape
    if x.ndim < 1 or x.shape[-1] != in_features:
        raise ValueError(f"input's last axis must be in_features = {in_features}, got shape {x.shape}")
    b = np.zeros(out_features) if bias is None else np.asarray(bias, dtype=np.float64)
    if b.shape != (out_features,):
        raise ValueError(f"bias must be (out_features,) = ({out_features},), got shape {b.shape}")
    lead = x.shape[:-1]
    rows = x.reshape(-1, in_features)  # (R, in)
    output = (rows @ w.T + b).reshape(*lead, out_features)  # one BLAS matmul
    params = {"in_features": in_features, "out_features": out_features, "bias": bias is not None}
    params["input_shape"], params["output_shape"] = tuple(x.shape), tuple(output.shape)
    recorder = functools.partial(_linear_steps, rows, w, b, lead)
    return recorded_trace("linear", params, output, {}, record_steps, recorder, len(rows) * out_features)


def _linear_steps(
    rows: np.ndarray, w: np.ndarray, b: np.ndarray, lead: tuple[int, ...], steps: range
) -> dict[str, np.ndarray]:
    """linear's steps steps.start..steps.stop: sample by sample, neuron by neuron within one."""
    out_features = len(w)
    flat = np.arange(steps.start, steps.stop)
    samples, neurons = flat // out_features, flat % out_features  # (S,) each
    inputs, weights = np.take(rows, samples, axis=0), np.take(w, neurons, axis=0)  # (S, in) each
    products = inputs * weights  # (S, in)
    sums = products.sum(axis=1)  # (S,)
    result = sums + b[neurons]  # (S,)
    index = np.column_stack([*np.unravel_index(samples, lead), neurons]) if lead else neurons[:, None]
    return {
        "index": index.astype(np.int64),
        "sample": samples,
        "neuron": neurons,
        "inputs": inputs,
        "weights": weights,
        "products": products,
        "sum": sums,
        "bias": b[neurons],
        "result": result,
    }


def parameter_count(sizes: Sequence[int], bias: bool = True) -> Trace:
    """Weights and biases of the fully connected stack sizes[0] -> sizes[1] -> ... (seed 001).

    Each layer l holds n_{l-1} * n_l weights and n_l biases; seed 001 counts 26 for 3-4-2 and
    41 for 3-4-4-1. The per-layer totals come from layerlab.engine.calculator (nn.Linear's count).
    output: the total. stages: weights, biases, parameters, macs per layer (L,).
    """
    sizes = [int(n) for n in sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"sizes must be two or more layer sizes >= 1, got {sizes}")
    report = analyse((sizes[0],), [Layer("Linear", {"out_features": n, "bias": bias}) for n in sizes[1:]])
    weights = np.array([a * b for a, b in zip(sizes, sizes[1:], strict=False)], dtype=np.int64)
    biases = np.array(sizes[1:] if bias else [0] * (len(sizes) - 1), dtype=np.int64)
    per_layer = np.array([r.parameters for r in report.layers], dtype=np.int64)
    params = {"sizes": sizes, "bias": bias, "torch": [r.torch for r in report.layers]}
    stages = {
        "weights": weights,
        "biases": biases,
        "parameters": per_layer,
        "macs": np.array([r.macs for r in report.layers], dtype=np.int64),
    }
    return Trace("parameter_count", params, np.array(report.total_parameters), stages=stages)
