"""ONNX's normalizations (BatchNormalization, InstanceNormalization, LayerNormalization), activations
and Softmax / LogSoftmax, on the engine's traced functions (torch's names) where torch has one.
Operator definitions: https://github.com/onnx/onnx/blob/main/docs/Operators.md
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from layerlab.engine import functional as F
from layerlab.engine.graph.ops_context import Context, Result, broadcast, plain, traced, zeros
from layerlab.engine.trace import Trace

# --- normalization -------------------------------------------------------------------------------


def batch_normalization(
    ctx: Context, x: np.ndarray, scale: np.ndarray, bias: np.ndarray, mean: np.ndarray, var: np.ndarray
) -> Result:
    if ctx.attr("training_mode", 0):
        raise ctx.error("training_mode 1 is not supported: Layerlab runs inference (running statistics)")
    if x.ndim < 2 or any(np.shape(t) != (x.shape[1],) for t in (scale, bias, mean, var)):
        raise ctx.error(
            f"scale, B, mean and var must be ({x.shape[1] if x.ndim > 1 else '?'},) for input {x.shape}"
        )
    if ctx.shapes_only:
        return zeros(ctx, x.shape, x.dtype)
    eps = float(ctx.attr("epsilon", 1e-5))
    return traced(F.batch_norm(x, mean, var, scale, bias, False, 0.1, eps))


def instance_normalization(ctx: Context, x: np.ndarray, scale: np.ndarray, bias: np.ndarray) -> Result:
    if x.ndim < 3 or np.shape(scale) != (x.shape[1],) or np.shape(bias) != (x.shape[1],):
        raise ctx.error(f"scale and B must be (C,) for an input (N, C, ...), got {x.shape}")
    if ctx.shapes_only:
        return zeros(ctx, x.shape, x.dtype)
    eps = float(ctx.attr("epsilon", 1e-5))
    return traced(F.instance_norm(x, None, None, scale, bias, True, 0.1, eps))


def layer_normalization(
    ctx: Context, x: np.ndarray, scale: np.ndarray, bias: np.ndarray | None = None
) -> Result:
    axis = int(ctx.attr("axis", -1))
    if not -x.ndim <= axis < x.ndim:
        raise ctx.error(f"axis {axis} is out of range for input {x.shape}")
    axis %= x.ndim
    shape = x.shape[axis:]
    try:
        scale = np.broadcast_to(scale, shape)
        bias = None if bias is None else np.broadcast_to(bias, shape)
    except ValueError as e:
        raise ctx.error(f"Scale {np.shape(scale)} and B do not broadcast to {shape}") from e
    stats_shape = (*x.shape[:axis], *([1] * len(shape)))
    if ctx.shapes_only:
        return plain(
            np.zeros(x.shape, x.dtype), np.zeros(stats_shape, np.float32), np.zeros(stats_shape, np.float32)
        )
    eps = float(ctx.attr("epsilon", 1e-5))
    trace = F.layer_norm(x, shape, scale, bias, eps)
    axes = tuple(range(axis, x.ndim))
    x64 = x.astype(np.float64)
    mean = x64.mean(axis=axes, keepdims=True)
    inv_std = 1.0 / np.sqrt(((x64 - mean) ** 2).mean(axis=axes, keepdims=True) + eps)
    return (np.asarray(trace.output), mean.astype(np.float32), inv_std.astype(np.float32)), trace


# --- activations ---------------------------------------------------------------------------------


def _activation(function: Callable[..., Trace], **attrs: tuple[str, Any]) -> Callable[..., Result]:
    """An element-wise (or softmax) operator through the engine's traced function; attrs maps the
    function's keyword to (the ONNX attribute, its default)."""

    def op(ctx: Context, x: np.ndarray) -> Result:
        if ctx.shapes_only:
            return zeros(ctx, x.shape, x.dtype)
        kwargs = {key: ctx.attr(name, default) for key, (name, default) in attrs.items()}
        kwargs = {k: v.decode() if isinstance(v, bytes) else v for k, v in kwargs.items()}
        return traced(function(x, **kwargs))

    return op


def _softmax(function: Callable[..., Trace]) -> Callable[..., Result]:
    """Softmax / LogSoftmax along axis; before opset 13 (the reader marks it "flatten_at_axis"), one
    softmax over all the axes from axis on."""

    def op(ctx: Context, x: np.ndarray) -> Result:
        axis = int(ctx.attr("axis", -1))
        if not -max(x.ndim, 1) <= axis < max(x.ndim, 1):
            raise ctx.error(f"axis {axis} is out of range for input {x.shape}")
        if ctx.shapes_only:
            return zeros(ctx, x.shape, x.dtype)
        if not ctx.attr("flatten_at_axis"):
            return traced(function(x, axis))
        trace = function(x.reshape(math.prod(x.shape[: axis % x.ndim]), -1), 1)
        trace.output = np.asarray(trace.output).reshape(x.shape)
        return traced(trace)

    return op


def prelu(ctx: Context, x: np.ndarray, slope: np.ndarray) -> Result:
    broadcast(ctx, x, slope)
    if ctx.shapes_only:
        return zeros(ctx, x.shape, x.dtype)
    aligned = (1,) * (x.ndim - slope.ndim) + slope.shape  # as broadcasting lines slope up with x
    per_channel = x.ndim > 1 and aligned[1] == x.shape[1] and math.prod(aligned) == x.shape[1]
    if slope.size == 1 or per_channel:
        return traced(F.prelu(x, slope.reshape(-1)))  # one slope, or one per channel: torch's PReLU
    return plain(np.where(x > 0, x, x * slope).astype(x.dtype))


def _hard_sigmoid(x: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    return np.clip(alpha * x + beta, 0.0, 1.0)


def hard_sigmoid(ctx: Context, x: np.ndarray) -> Result:
    alpha, beta = float(ctx.attr("alpha", 0.2)), float(ctx.attr("beta", 0.5))
    return plain(_hard_sigmoid(x.astype(np.float64), alpha, beta).astype(x.dtype))


def hard_swish(ctx: Context, x: np.ndarray) -> Result:
    x64 = x.astype(np.float64)
    return plain((x64 * _hard_sigmoid(x64, 1 / 6, 0.5)).astype(x.dtype))


OPS: dict[str, Callable[..., Result]] = {
    "BatchNormalization": batch_normalization,
    "LayerNormalization": layer_normalization,
    "Relu": _activation(F.relu),
    "LeakyRelu": _activation(F.leaky_relu, negative_slope=("alpha", 0.01)),
    "Sigmoid": _activation(F.sigmoid),
    "Tanh": _activation(F.tanh),
    "Gelu": _activation(F.gelu, approximate=("approximate", "none")),
    "Elu": _activation(F.elu, alpha=("alpha", 1.0)),
    "PRelu": prelu,
    "HardSigmoid": hard_sigmoid,
    "HardSwish": hard_swish,
    "Softmax": _softmax(F.softmax),
    "LogSoftmax": _softmax(F.log_softmax),
    "InstanceNormalization": instance_normalization,
}
