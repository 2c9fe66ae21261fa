"""ONNX's arithmetic: MatMul and Gemm (a product by a weight runs as the engine's traced linear),
element-wise operators (binary with broadcasting, comparisons, Where, unary, Clip, Cast) and
reductions; all but the products are plain NumPy.
Operator definitions: https://github.com/onnx/onnx/blob/main/docs/Operators.md
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from layerlab.engine import functional as F
from layerlab.engine.graph.ops_context import (
    Context,
    Result,
    axis_index,
    broadcast,
    ints,
    plain,
    traced,
    zeros,
)

# ONNX TensorProto element types (onnx.TensorProto.FLOAT = 1, ...), for Cast's `to`
ONNX_DTYPES: dict[int, str] = {
    1: "float32",
    2: "uint8",
    3: "int8",
    4: "uint16",
    5: "int16",
    6: "int32",
    7: "int64",
    9: "bool",
    10: "float16",
    11: "float64",
    12: "uint32",
    13: "uint64",
}


# --- matrix products -----------------------------------------------------------------------------


def _matmul_shape(ctx: Context, a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    if not a or not b:
        raise ctx.error("MatMul needs inputs of at least one dimension")
    a2, b2 = (1, *a) if len(a) == 1 else a, (*b, 1) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        raise ctx.error(f"inner dimensions differ: {a} @ {b}")
    try:
        batch = np.broadcast_shapes(a2[:-2], b2[:-2])
    except ValueError as e:
        raise ctx.error(f"batch dimensions do not broadcast: {a} @ {b}") from e
    shape = (*batch, a2[-2], b2[-1])
    shape = shape[:-2] + shape[-1:] if len(a) == 1 else shape
    return shape[:-1] if len(b) == 1 else shape


def matmul(ctx: Context, a: np.ndarray, b: np.ndarray) -> Result:
    shape = ctx.guard(_matmul_shape(ctx, a.shape, b.shape))
    ctx.work(math.prod(shape) * a.shape[-1])
    dtype = np.result_type(a, b)
    if ctx.shapes_only:
        return zeros(ctx, shape, dtype)
    if b.ndim == 2 and ctx.constant(1) and dtype.kind == "f":  # x times a weight: a linear layer
        return traced(F.linear(a, b.T))
    return plain(np.matmul(a.astype(np.float64), b.astype(np.float64)).astype(dtype))


def gemm(ctx: Context, a: np.ndarray, b: np.ndarray, c: np.ndarray | None = None) -> Result:
    alpha, beta = float(ctx.attr("alpha", 1.0)), float(ctx.attr("beta", 1.0))
    a = a.T if ctx.attr("transA", 0) else a
    weight = b if ctx.attr("transB", 0) else b.T  # (out_features, in_features), as torch's
    if a.ndim != 2 or weight.ndim != 2 or a.shape[1] != weight.shape[1]:
        raise ctx.error(f"A {a.shape} and B {b.shape} (transA/transB applied) do not multiply")
    shape = ctx.guard((a.shape[0], weight.shape[0]))
    ctx.work(math.prod(shape) * a.shape[1])
    if c is not None:
        try:
            np.broadcast_shapes(np.shape(c), shape)
        except ValueError as e:
            raise ctx.error(f"C {np.shape(c)} does not broadcast to {shape}") from e
    if ctx.shapes_only:
        return zeros(ctx, shape, a.dtype)
    row = c is not None and np.ndim(c) >= 1 and np.shape(c)[-1] == shape[1] and np.size(c) == shape[1]
    bias = beta * np.reshape(c, -1) if row else None
    trace = F.linear(a, weight if alpha == 1.0 else alpha * weight, bias)
    if c is None or row:
        return traced(trace)
    trace.output = (np.asarray(trace.output) + beta * c).astype(a.dtype)  # a C by rows: added after
    trace.params["added_c"] = True
    return traced(trace)


# --- element-wise arithmetic ---------------------------------------------------------------------


def _divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if a.dtype.kind in "iu" and np.asarray(b).dtype.kind in "iu":
        if np.any(b == 0):
            raise ZeroDivisionError("integer division by zero")
        return (np.sign(a) * np.sign(b) * (np.abs(a) // np.abs(b))).astype(a.dtype)  # truncates, as C
    return a / b


_BINARY: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "Add": np.add,
    "Sub": np.subtract,
    "Mul": np.multiply,
    "Div": _divide,
    "Pow": np.power,
    "Max": np.maximum,
    "Min": np.minimum,
}
_COMPARE: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "Equal": np.equal,
    "Less": np.less,
    "Greater": np.greater,
    "LessOrEqual": np.less_equal,
    "GreaterOrEqual": np.greater_equal,
}


def _binary(
    function: Callable[[np.ndarray, np.ndarray], np.ndarray], keep_type: bool
) -> Callable[..., Result]:
    def op(ctx: Context, a: np.ndarray, b: np.ndarray) -> Result:
        shape = broadcast(ctx, a, b)
        dtype = a.dtype if keep_type else np.dtype(bool)
        if ctx.skips(shape):
            return zeros(ctx, shape, dtype)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return plain(np.asarray(function(a, b)).astype(dtype, copy=False))

    return op


def where(ctx: Context, condition: np.ndarray, a: np.ndarray, b: np.ndarray) -> Result:
    shape = broadcast(ctx, condition, a, b)
    if ctx.skips(shape):
        return zeros(ctx, shape, a.dtype)
    return plain(np.where(condition.astype(bool), a, b).astype(a.dtype, copy=False))


_erf = np.vectorize(math.erf, otypes=[np.float64])
_UNARY: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "Sqrt": np.sqrt,
    "Erf": _erf,
    "Exp": np.exp,
    "Log": np.log,
    "Neg": np.negative,
    "Abs": np.abs,
    "Reciprocal": np.reciprocal,
    "Floor": np.floor,
    "Ceil": np.ceil,
    "Not": np.logical_not,
}


def _unary(function: Callable[[np.ndarray], np.ndarray]) -> Callable[..., Result]:
    def op(ctx: Context, x: np.ndarray) -> Result:
        if ctx.skips(x.shape):
            return zeros(ctx, x.shape, x.dtype)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return plain(np.asarray(function(x)).astype(x.dtype, copy=False))

    return op


def clip(
    ctx: Context, x: np.ndarray, low: np.ndarray | None = None, high: np.ndarray | None = None
) -> Result:
    low = ctx.attr("min") if low is None else low  # opset 6's attributes, opset 11's inputs
    high = ctx.attr("max") if high is None else high
    out = x if low is None else np.maximum(x, np.asarray(low, x.dtype))
    return plain(out if high is None else np.minimum(out, np.asarray(high, x.dtype)))


def cast(ctx: Context, x: np.ndarray) -> Result:
    to = ctx.attr("to")
    name = ONNX_DTYPES.get(to) if isinstance(to, int | np.integer) else to
    if name is None:
        raise ctx.error(f"Cast to ONNX type {to!r} is not supported")
    return plain(x.astype(name))


# --- reductions ----------------------------------------------------------------------------------


def _reduce(function: Callable[..., np.ndarray]) -> Callable[..., Result]:
    def op(ctx: Context, x: np.ndarray, axes: np.ndarray | None = None) -> Result:
        axes = ctx.attr("axes") if axes is None else axes  # an attribute before opset 18
        keep = bool(ctx.attr("keepdims", 1))
        if axes is None or np.size(axes) == 0:
            if ctx.attr("noop_with_empty_axes", 0):
                return plain(x)
            picked = tuple(range(x.ndim))
        else:
            picked = tuple(axis_index(ctx, a, x.ndim) for a in ints(axes))
        out = function(x.astype(np.float64) if x.dtype.kind == "f" else x, axis=picked, keepdims=keep)
        return plain(np.asarray(out).astype(x.dtype))

    return op


OPS: dict[str, Callable[..., Result]] = {
    "MatMul": matmul,
    "Gemm": gemm,
    **{name: _binary(f, True) for name, f in _BINARY.items()},
    **{name: _binary(f, False) for name, f in _COMPARE.items()},
    "Where": where,
    **{name: _unary(f) for name, f in _UNARY.items()},
    "Clip": clip,
    "Cast": cast,
    "ReduceMean": _reduce(np.mean),
    "ReduceSum": _reduce(np.sum),
    "ReduceMax": _reduce(np.max),
}
