"""One function per ONNX operator, with ONNX's semantics (opsets 13 to 21), run by Layerlab's engine.

Operators with something to step through (Conv, ConvTranspose, MaxPool, AveragePool, the global
pools, BatchNormalization, LayerNormalization, Gemm and MatMul by a weight, the activations and
Softmax) go through the engine's traced functions (`layerlab.functional`, torch's names), so their
node carries a Trace; the rest (shapes, indexing, arithmetic) are plain NumPy.

ONNX allows what torch does not: padding different at the start and the end of an axis (auto_pad
SAME_UPPER / SAME_LOWER, or explicit pads), or wider than half a pooling window. Such a node pads its
input first (zeros; -inf for MaxPool) and runs the engine's function with padding 0; its trace's
params say so under "onnx_pads" (the (top, left, bottom, right) applied before the call).

Every operator is `op(ctx, *inputs) -> (outputs, trace)`: inputs in the node's order (None for an
optional input left out), `ctx` the node's attributes, the bound on every value computed (checked
before the value is made) and whether to compute values at all (`shapes_only`: the heavy operators
then return zeros of the right shape, for the layer table).
Operator definitions: https://github.com/onnx/onnx/blob/main/docs/Operators.md
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from layerlab.engine import functional as F
from layerlab.engine.errors import ArgumentError
from layerlab.engine.graph.ir import GraphError, Node
from layerlab.engine.trace import Trace

Result = tuple[tuple[np.ndarray, ...], Trace | None]

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


_SHAPE_VALUES = 64  # more elements than a shape tensor has (at most one per dimension, and a few)


@dataclass
class Context:
    """What an operator needs besides its inputs: its node, the bound on values, the mode."""

    node: Node
    max_elements: int | None = None
    shapes_only: bool = False
    constants: tuple[bool, ...] = ()  # which inputs are fixed in the file (initializers, Constants)
    max_products: int | None = None  # multiply-adds one node may do (a bound on its time)

    def attr(self, name: str, default: Any = None) -> Any:
        return self.node.attrs.get(name, default)

    def error(self, message: str) -> GraphError:
        return GraphError(self.node.name, f"node {self.node.name!r} ({self.node.op}): {message}")

    def guard(self, shape: Sequence[int], what: str = "its output") -> tuple[int, ...]:
        """shape, after checking that a value of that shape stays within max_elements."""
        shape = tuple(int(d) for d in shape)
        if min(shape, default=0) < 0:
            raise self.error(f"{what} would have a negative dimension: {shape}")
        size = math.prod(shape)
        if self.max_elements is not None and size > self.max_elements:
            raise self.error(
                f"{what} would hold {size:,} elements {shape}, more than the limit {self.max_elements:,}"
            )
        return shape

    def work(self, products: int) -> None:
        """Check that a node doing `products` multiply-adds stays within max_products."""
        if self.max_products is not None and products > self.max_products:
            raise self.error(
                f"it would do {products:,} multiply-adds, more than the limit {self.max_products:,}"
            )

    def skips(self, shape: Sequence[int]) -> bool:
        """Whether a cheap operator may return zeros of its shape: in a shapes-only run, for a value
        larger than any shape computation (which must be computed: a Reshape may read it)."""
        return self.shapes_only and math.prod(shape) > _SHAPE_VALUES

    def constant(self, index: int) -> bool:
        return index < len(self.constants) and self.constants[index]


def _traced(trace: Trace) -> Result:
    return (np.asarray(trace.output),), trace


def _plain(*arrays: np.ndarray) -> Result:
    return tuple(np.asarray(a) for a in arrays), None


def _ints(value: Any) -> tuple[int, ...]:
    return tuple(int(v) for v in np.asarray(value).reshape(-1))


# --- windows: strides, dilations and pads as ONNX writes them ------------------------------------


def _spatial(
    ctx: Context, x: np.ndarray, kernel: tuple[int, ...], ranks: tuple[int, ...] = (2,)
) -> tuple[tuple[int, ...], ...]:
    """(strides, dilations, pads begin, pads end), each per spatial axis, auto_pad resolved."""
    rank = x.ndim - 2
    if rank not in ranks or len(kernel) != rank:
        shapes = " or ".join({1: "(N, C, L)", 2: "(N, C, H, W)"}[r] for r in ranks)
        raise ctx.error(f"Layerlab runs {ctx.node.op} on {shapes} inputs, got input shape {x.shape}")
    strides = tuple(_ints(ctx.attr("strides", (1,) * rank)))
    dilations = tuple(_ints(ctx.attr("dilations", (1,) * rank)))
    if len(strides) != rank or len(dilations) != rank or min(strides + dilations) < 1:
        raise ctx.error(f"strides {strides} and dilations {dilations} must be {rank} positive ints each")
    auto_pad = ctx.attr("auto_pad", "NOTSET")
    if isinstance(auto_pad, bytes):
        auto_pad = auto_pad.decode()
    if auto_pad == "NOTSET":
        pads = _ints(ctx.attr("pads", (0,) * 2 * rank))
        if len(pads) != 2 * rank or min(pads) < 0:
            raise ctx.error(
                f"pads must be {2 * rank} non-negative ints (all begins, then all ends), got {pads}"
            )
        return strides, dilations, pads[:rank], pads[rank:]
    if auto_pad == "VALID":
        return strides, dilations, (0,) * rank, (0,) * rank
    if auto_pad not in ("SAME_UPPER", "SAME_LOWER"):
        raise ctx.error(f"auto_pad {auto_pad!r} is not NOTSET, VALID, SAME_UPPER or SAME_LOWER")
    begin, end = [], []
    for size, k, s, d in zip(x.shape[2:], kernel, strides, dilations, strict=True):
        total = max(0, (-(-size // s) - 1) * s + (k - 1) * d + 1 - size)
        small, large = total // 2, total - total // 2
        begin.append(small if auto_pad == "SAME_UPPER" else large)
        end.append(large if auto_pad == "SAME_UPPER" else small)
    return strides, dilations, tuple(begin), tuple(end)


def _window_out(size: int, pads: int, span: int, stride: int, ceil: bool) -> int:
    return (size + pads - span + (stride - 1 if ceil else 0)) // stride + 1


def _prepad(ctx: Context, x: np.ndarray, begin: Sequence[int], end: Sequence[int], fill: float) -> np.ndarray:
    widths = ((0, 0), (0, 0), *zip(begin, end, strict=True))
    shape = ctx.guard(
        [size + lo + hi for size, (lo, hi) in zip(x.shape, widths, strict=True)], "its padded input"
    )
    if ctx.shapes_only:
        return np.zeros(shape, x.dtype)
    return np.pad(x, widths, constant_values=fill)


def _noting(trace: Trace, begin: Sequence[int], end: Sequence[int]) -> Trace:
    trace.params["onnx_pads"] = (*begin, *end)
    return trace


def _zeros(ctx: Context, shape: Sequence[int], dtype: Any = np.float32) -> Result:
    return _plain(np.zeros(ctx.guard(shape), dtype))


# --- convolution ---------------------------------------------------------------------------------


def conv(ctx: Context, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> Result:
    kernel = tuple(w.shape[2:])
    strides, dilations, begin, end = _spatial(ctx, x, kernel, ranks=(1, 2))
    group = int(ctx.attr("group", 1))
    if w.ndim != x.ndim or x.shape[1] != w.shape[1] * group or w.shape[0] % group:
        raise ctx.error(f"weight {w.shape} does not fit input {x.shape} with group {group}")
    out = [
        _window_out(size, p0 + p1, (k - 1) * d + 1, s, False)
        for size, p0, p1, k, d, s in zip(x.shape[2:], begin, end, kernel, dilations, strides, strict=True)
    ]
    shape = ctx.guard((x.shape[0], w.shape[0], *out))
    ctx.work(math.prod(shape) * math.prod(w.shape[1:]))
    if ctx.shapes_only:
        return _zeros(ctx, shape, x.dtype)
    padding = begin
    if begin != end:
        x, padding = _prepad(ctx, x, begin, end, 0.0), (0,) * len(begin)
    if x.ndim == 3:
        trace = F.conv1d(x, w, b, strides[0], padding[0], dilations[0], group)
    else:
        trace = F.conv2d(x, w, b, strides, padding, dilations, group)
    return _traced(_noting(trace, begin, end) if padding != begin else trace)


def conv_transpose(ctx: Context, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> Result:
    if ctx.attr("output_shape") is not None:
        raise ctx.error("output_shape is not supported: give pads and output_padding instead")
    if ctx.attr("auto_pad", "NOTSET") not in ("NOTSET", "VALID", b"NOTSET", b"VALID"):
        raise ctx.error(f"auto_pad {ctx.attr('auto_pad')!r} is not supported on ConvTranspose")
    kernel = tuple(w.shape[2:])
    strides, dilations, begin, end = _spatial(ctx, x, kernel)
    group = int(ctx.attr("group", 1))
    extra = _ints(ctx.attr("output_padding", (0, 0)))
    if w.ndim != 4 or x.shape[1] != w.shape[0] or w.shape[0] % group:
        raise ctx.error(f"weight {w.shape} does not fit input {x.shape} with group {group}")
    full = [
        s * (size - 1) + e + (k - 1) * d + 1
        for size, s, e, k, d in zip(x.shape[2:], strides, extra, kernel, dilations, strict=True)
    ]
    shape = ctx.guard(
        (x.shape[0], w.shape[1] * group, *(f - p0 - p1 for f, p0, p1 in zip(full, begin, end, strict=True)))
    )
    ctx.guard((x.shape[0], w.shape[1] * group, *full), "its output before cropping")
    ctx.work(x.size * math.prod(w.shape[1:]))
    if ctx.shapes_only:
        return _zeros(ctx, shape, x.dtype)
    if begin == end:
        return _traced(F.conv_transpose2d(x, w, b, strides, begin, extra, group, dilations))
    trace = F.conv_transpose2d(x, w, b, strides, 0, extra, group, dilations)
    out = np.asarray(trace.output)[:, :, begin[0] : full[0] - end[0], begin[1] : full[1] - end[1]]
    trace.params["onnx_pads"] = (*begin, *end)  # cropped from the output, as ONNX defines its pads
    trace.stages["uncropped"] = trace.output
    trace.output = out
    return _traced(trace)


# --- pooling -------------------------------------------------------------------------------------


def _pool_setup(ctx: Context, x: np.ndarray) -> tuple:
    kernel = _ints(ctx.attr("kernel_shape", ()))
    if len(kernel) != 2 or min(kernel) < 1:
        raise ctx.error(f"kernel_shape must be two positive ints, got {kernel}")
    strides, dilations, begin, end = _spatial(ctx, x, kernel)
    ceil = bool(ctx.attr("ceil_mode", 0))
    out = [
        _window_out(size, p0 + p1, (k - 1) * d + 1, s, ceil)
        for size, p0, p1, k, d, s in zip(x.shape[2:], begin, end, kernel, dilations, strides, strict=True)
    ]
    if ceil:  # a last window starting in the end padding is dropped, as torch and onnxruntime do
        out = [
            o - ((o - 1) * s >= size + p0)
            for o, s, size, p0 in zip(out, strides, x.shape[2:], begin, strict=True)
        ]
    if min(out) < 1:
        raise ctx.error(
            f"the window {kernel} (dilation {dilations}) is larger than the padded input {x.shape}"
        )
    # torch's functions take the same pads at both ends, at most half the kernel
    native = begin == end and all(p <= k // 2 for p, k in zip(begin, kernel, strict=True))
    shape = ctx.guard((*x.shape[:2], *out))
    ctx.work(math.prod(shape) * math.prod(kernel))
    return kernel, strides, dilations, begin, end, ceil, shape, native


def max_pool(ctx: Context, x: np.ndarray) -> Result:
    kernel, strides, dilations, begin, end, ceil, shape, native = _pool_setup(ctx, x)
    indices = len(ctx.node.outputs) > 1 and ctx.node.outputs[1] != ""
    if indices and ctx.attr("storage_order", 0):
        raise ctx.error("storage_order 1 (column-major indices) is not supported")
    if ctx.shapes_only:
        return _plain(np.zeros(shape, x.dtype), np.zeros(shape, np.int64))
    padded = x if native else _prepad(ctx, x, begin, end, -np.inf)
    padding = begin if native else (0, 0)
    trace, where = F.max_pool2d(padded, kernel, strides, padding, dilations, ceil, return_indices=True)
    if not native:
        trace = _noting(trace, begin, end)
        row, col = np.divmod(where, padded.shape[3])
        where = (row - begin[0]) * x.shape[3] + (col - begin[1])
    n, c, h, w = x.shape
    planes = (np.arange(n)[:, None] * c + np.arange(c)[None, :])[:, :, None, None] * (h * w)
    outputs = (np.asarray(trace.output), (where + planes).astype(np.int64))
    return outputs[: 2 if indices else 1], trace


def average_pool(ctx: Context, x: np.ndarray) -> Result:
    kernel, strides, dilations, begin, end, ceil, shape, native = _pool_setup(ctx, x)
    include = bool(ctx.attr("count_include_pad", 0))
    if dilations != (1, 1):
        raise ctx.error(f"dilations {dilations} on AveragePool are not supported")
    if not native and (ceil or not include):  # padding first would count the padding as input
        raise ctx.error(
            f"pads {(*begin, *end)} (uneven, or wider than half the kernel {kernel}) are supported with "
            "count_include_pad 1 and ceil_mode 0 only"
        )
    if ctx.shapes_only:
        return _zeros(ctx, shape, x.dtype)
    if native:
        return _traced(F.avg_pool2d(x, kernel, strides, begin, ceil, include))
    padded = _prepad(ctx, x, begin, end, 0.0)
    return _traced(_noting(F.avg_pool2d(padded, kernel, strides, 0, ceil, True), begin, end))


def _global(function: Callable[[np.ndarray, int], Trace]) -> Callable[..., Result]:
    """GlobalAveragePool / GlobalMaxPool: torch's adaptive pool to 1 x 1."""

    def op(ctx: Context, x: np.ndarray) -> Result:
        if x.ndim != 4:
            raise ctx.error(f"Layerlab pools (N, C, H, W) inputs, got shape {x.shape}")
        if ctx.shapes_only:
            return _zeros(ctx, (*x.shape[:2], 1, 1), x.dtype)
        return _traced(function(x, 1))

    return op


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
        return _zeros(ctx, x.shape, x.dtype)
    eps = float(ctx.attr("epsilon", 1e-5))
    return _traced(F.batch_norm(x, mean, var, scale, bias, False, 0.1, eps))


def instance_normalization(ctx: Context, x: np.ndarray, scale: np.ndarray, bias: np.ndarray) -> Result:
    if x.ndim < 3 or np.shape(scale) != (x.shape[1],) or np.shape(bias) != (x.shape[1],):
        raise ctx.error(f"scale and B must be (C,) for an input (N, C, ...), got {x.shape}")
    if ctx.shapes_only:
        return _zeros(ctx, x.shape, x.dtype)
    eps = float(ctx.attr("epsilon", 1e-5))
    return _traced(F.instance_norm(x, None, None, scale, bias, True, 0.1, eps))


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
        return _plain(
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
            return _zeros(ctx, x.shape, x.dtype)
        kwargs = {key: ctx.attr(name, default) for key, (name, default) in attrs.items()}
        kwargs = {k: v.decode() if isinstance(v, bytes) else v for k, v in kwargs.items()}
        return _traced(function(x, **kwargs))

    return op


def _softmax(function: Callable[..., Trace]) -> Callable[..., Result]:
    """Softmax / LogSoftmax along axis; before opset 13 (the reader marks it "flatten_at_axis"), one
    softmax over all the axes from axis on."""

    def op(ctx: Context, x: np.ndarray) -> Result:
        axis = int(ctx.attr("axis", -1))
        if not -max(x.ndim, 1) <= axis < max(x.ndim, 1):
            raise ctx.error(f"axis {axis} is out of range for input {x.shape}")
        if ctx.shapes_only:
            return _zeros(ctx, x.shape, x.dtype)
        if not ctx.attr("flatten_at_axis"):
            return _traced(function(x, axis))
        trace = function(x.reshape(math.prod(x.shape[: axis % x.ndim]), -1), 1)
        trace.output = np.asarray(trace.output).reshape(x.shape)
        return _traced(trace)

    return op


def prelu(ctx: Context, x: np.ndarray, slope: np.ndarray) -> Result:
    _broadcast(ctx, x, slope)
    if ctx.shapes_only:
        return _zeros(ctx, x.shape, x.dtype)
    aligned = (1,) * (x.ndim - slope.ndim) + slope.shape  # as broadcasting lines slope up with x
    per_channel = x.ndim > 1 and aligned[1] == x.shape[1] and math.prod(aligned) == x.shape[1]
    if slope.size == 1 or per_channel:
        return _traced(F.prelu(x, slope.reshape(-1)))  # one slope, or one per channel: torch's PReLU
    return _plain(np.where(x > 0, x, x * slope).astype(x.dtype))


def _hard_sigmoid(x: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    return np.clip(alpha * x + beta, 0.0, 1.0)


def hard_sigmoid(ctx: Context, x: np.ndarray) -> Result:
    alpha, beta = float(ctx.attr("alpha", 0.2)), float(ctx.attr("beta", 0.5))
    return _plain(_hard_sigmoid(x.astype(np.float64), alpha, beta).astype(x.dtype))


def hard_swish(ctx: Context, x: np.ndarray) -> Result:
    x64 = x.astype(np.float64)
    return _plain((x64 * _hard_sigmoid(x64, 1 / 6, 0.5)).astype(x.dtype))


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
        return _zeros(ctx, shape, dtype)
    if b.ndim == 2 and ctx.constant(1) and dtype.kind == "f":  # x times a weight: a linear layer
        return _traced(F.linear(a, b.T))
    return _plain(np.matmul(a.astype(np.float64), b.astype(np.float64)).astype(dtype))


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
        return _zeros(ctx, shape, a.dtype)
    row = c is not None and np.ndim(c) >= 1 and np.shape(c)[-1] == shape[1] and np.size(c) == shape[1]
    bias = beta * np.reshape(c, -1) if row else None
    trace = F.linear(a, weight if alpha == 1.0 else alpha * weight, bias)
    if c is None or row:
        return _traced(trace)
    trace.output = (np.asarray(trace.output) + beta * c).astype(a.dtype)  # a C by rows: added after
    trace.params["added_c"] = True
    return _traced(trace)


# --- element-wise arithmetic ---------------------------------------------------------------------


def _broadcast(ctx: Context, *arrays: np.ndarray) -> tuple[int, ...]:
    try:
        return ctx.guard(np.broadcast_shapes(*(np.shape(a) for a in arrays)))
    except ValueError as e:
        raise ctx.error(f"inputs {[np.shape(a) for a in arrays]} do not broadcast") from e


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
        shape = _broadcast(ctx, a, b)
        dtype = a.dtype if keep_type else np.dtype(bool)
        if ctx.skips(shape):
            return _zeros(ctx, shape, dtype)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return _plain(np.asarray(function(a, b)).astype(dtype, copy=False))

    return op


def where(ctx: Context, condition: np.ndarray, a: np.ndarray, b: np.ndarray) -> Result:
    shape = _broadcast(ctx, condition, a, b)
    if ctx.skips(shape):
        return _zeros(ctx, shape, a.dtype)
    return _plain(np.where(condition.astype(bool), a, b).astype(a.dtype, copy=False))


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
            return _zeros(ctx, x.shape, x.dtype)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return _plain(np.asarray(function(x)).astype(x.dtype, copy=False))

    return op


def clip(
    ctx: Context, x: np.ndarray, low: np.ndarray | None = None, high: np.ndarray | None = None
) -> Result:
    low = ctx.attr("min") if low is None else low  # opset 6's attributes, opset 11's inputs
    high = ctx.attr("max") if high is None else high
    out = x if low is None else np.maximum(x, np.asarray(low, x.dtype))
    return _plain(out if high is None else np.minimum(out, np.asarray(high, x.dtype)))


def cast(ctx: Context, x: np.ndarray) -> Result:
    to = ctx.attr("to")
    name = ONNX_DTYPES.get(to) if isinstance(to, int | np.integer) else to
    if name is None:
        raise ctx.error(f"Cast to ONNX type {to!r} is not supported")
    return _plain(x.astype(name))


# --- reductions ----------------------------------------------------------------------------------


def _reduce(function: Callable[..., np.ndarray]) -> Callable[..., Result]:
    def op(ctx: Context, x: np.ndarray, axes: np.ndarray | None = None) -> Result:
        axes = ctx.attr("axes") if axes is None else axes  # an attribute before opset 18
        keep = bool(ctx.attr("keepdims", 1))
        if axes is None or np.size(axes) == 0:
            if ctx.attr("noop_with_empty_axes", 0):
                return _plain(x)
            picked = tuple(range(x.ndim))
        else:
            picked = tuple(_axis(ctx, a, x.ndim) for a in _ints(axes))
        out = function(x.astype(np.float64) if x.dtype.kind == "f" else x, axis=picked, keepdims=keep)
        return _plain(np.asarray(out).astype(x.dtype))

    return op


# --- shapes --------------------------------------------------------------------------------------


def _axis(ctx: Context, axis: int, ndim: int) -> int:
    if not -ndim <= axis < ndim:
        raise ctx.error(f"axis {axis} is out of range for {ndim} dimensions")
    return int(axis) % ndim


def identity(ctx: Context, x: np.ndarray, *rest: np.ndarray | None) -> Result:
    return _plain(x)


def dropout(ctx: Context, x: np.ndarray, *rest: np.ndarray | None) -> Result:
    return _plain(x, np.ones(x.shape, bool))  # inference: the identity, mask all true


def constant(ctx: Context) -> Result:
    for name in ("value", "value_float", "value_floats", "value_int", "value_ints"):
        if name in ctx.node.attrs:
            value = np.asarray(ctx.attr(name))
            if name.startswith("value_int"):
                value = value.astype(np.int64)
            elif name.startswith("value_float"):
                value = value.astype(np.float32)
            ctx.guard(value.shape)
            return _plain(value)
    raise ctx.error("a Constant needs a value, value_float(s) or value_int(s) attribute")


def shape(ctx: Context, x: np.ndarray) -> Result:
    start, end = int(ctx.attr("start", 0)), ctx.attr("end")
    dims = np.array(x.shape, np.int64)
    return _plain(dims[start:] if end is None else dims[start : int(end)])


def gather(ctx: Context, x: np.ndarray, indices: np.ndarray) -> Result:
    axis = _axis(ctx, int(ctx.attr("axis", 0)), x.ndim)
    indices = indices.astype(np.int64)
    size = x.shape[axis]
    if np.any((indices < -size) | (indices >= size)):
        raise ctx.error(f"indices out of range for axis {axis} of size {size}")
    ctx.guard((*x.shape[:axis], *indices.shape, *x.shape[axis + 1 :]))
    return _plain(np.take(x, np.where(indices < 0, indices + size, indices), axis=axis))


def _axes_input(ctx: Context, axes: np.ndarray | None) -> tuple[int, ...] | None:
    axes = ctx.attr("axes") if axes is None else axes  # an attribute before opset 13
    return None if axes is None else _ints(axes)


def unsqueeze(ctx: Context, x: np.ndarray, axes: np.ndarray | None = None) -> Result:
    picked = _axes_input(ctx, axes)
    if not picked:
        raise ctx.error("Unsqueeze needs axes")
    ndim = x.ndim + len(picked)
    return _plain(np.expand_dims(x, tuple(_axis(ctx, a, ndim) for a in picked)))


def squeeze(ctx: Context, x: np.ndarray, axes: np.ndarray | None = None) -> Result:
    picked = _axes_input(ctx, axes)
    if picked is None:
        return _plain(np.squeeze(x))
    picked = tuple(_axis(ctx, a, x.ndim) for a in picked)
    if any(x.shape[a] != 1 for a in picked):
        raise ctx.error(f"cannot squeeze axes {picked} of shape {x.shape}")
    return _plain(np.squeeze(x, picked))


def flatten(ctx: Context, x: np.ndarray) -> Result:
    axis = int(ctx.attr("axis", 1))
    if not -x.ndim <= axis <= x.ndim:
        raise ctx.error(f"axis {axis} is out of range for input {x.shape}")
    axis += x.ndim if axis < 0 else 0
    return _plain(x.reshape(math.prod(x.shape[:axis]), math.prod(x.shape[axis:])))


def reshape(ctx: Context, x: np.ndarray, target: np.ndarray) -> Result:
    dims = list(_ints(target))
    if not ctx.attr("allowzero", 0):
        for i, d in enumerate(dims):
            if d == 0:
                if i >= x.ndim:
                    raise ctx.error(
                        f"shape {tuple(_ints(target))}: dimension {i} copies an input dimension "
                        "that does not exist"
                    )
                dims[i] = x.shape[i]
    if dims.count(-1) > 1 or min(dims, default=0) < -1:
        raise ctx.error(f"shape {tuple(_ints(target))} has more than one -1 or a negative size")
    if -1 in dims:
        known = math.prod(d for d in dims if d != -1)
        if known == 0 or x.size % known:
            raise ctx.error(f"cannot reshape {x.shape} to {tuple(_ints(target))}")
        dims[dims.index(-1)] = x.size // known
    if math.prod(dims) != x.size:
        raise ctx.error(f"cannot reshape {x.shape} ({x.size} elements) to {tuple(dims)}")
    return _plain(x.reshape(dims))


def expand(ctx: Context, x: np.ndarray, target: np.ndarray) -> Result:
    dims = _ints(target)
    if min(dims, default=0) < 0:
        raise ctx.error(f"shape {dims} has a negative size")
    try:
        shape = np.broadcast_shapes(x.shape, dims)
    except ValueError as e:
        raise ctx.error(f"input {x.shape} does not broadcast to {dims}") from e
    return _plain(np.broadcast_to(x, ctx.guard(shape)).copy())


def _checked_shape(ctx: Context, target: np.ndarray) -> tuple[int, ...]:
    dims = _ints(target)
    if min(dims, default=0) < 0:
        raise ctx.error(f"shape {dims} has a negative size")
    return ctx.guard(dims, "the shape asked for")


def constant_of_shape(ctx: Context, target: np.ndarray) -> Result:
    value = ctx.attr("value")
    fill = np.zeros(1, np.float32) if value is None else np.asarray(value).reshape(-1)[:1]
    return _plain(np.full(_checked_shape(ctx, target), fill[0], dtype=fill.dtype))


def range_(ctx: Context, start: np.ndarray, limit: np.ndarray, delta: np.ndarray) -> Result:
    if delta == 0:
        raise ctx.error("delta must not be 0")
    count = max(math.ceil((float(limit) - float(start)) / float(delta)), 0)
    ctx.guard((count,))
    return _plain((start + np.arange(count) * delta).astype(np.result_type(start)))


def tile(ctx: Context, x: np.ndarray, repeats: np.ndarray) -> Result:
    times = _ints(repeats)
    if len(times) != x.ndim or min(times, default=0) < 0:
        raise ctx.error(f"repeats {times} must be {x.ndim} non-negative ints")
    ctx.guard([size * t for size, t in zip(x.shape, times, strict=True)])
    return _plain(np.tile(x, times))


def trilu(ctx: Context, x: np.ndarray, k: np.ndarray | None = None) -> Result:
    if x.ndim < 2:
        raise ctx.error(f"Trilu needs a matrix (or a batch of them), got shape {x.shape}")
    diagonal = 0 if k is None else int(np.asarray(k).reshape(-1)[0])
    keep = np.triu if ctx.attr("upper", 1) else np.tril
    return _plain(keep(x, diagonal))


def transpose(ctx: Context, x: np.ndarray) -> Result:
    perm = ctx.attr("perm")
    perm = tuple(reversed(range(x.ndim))) if perm is None else _ints(perm)
    if sorted(perm) != list(range(x.ndim)):
        raise ctx.error(f"perm {perm} is not a permutation of {x.ndim} axes")
    return _plain(np.transpose(x, perm))


def concat(ctx: Context, *xs: np.ndarray) -> Result:
    xs = tuple(x for x in xs if x is not None)
    axis = _axis(ctx, int(ctx.attr("axis", 0)), xs[0].ndim)
    first = xs[0].shape
    if any(
        x.ndim != len(first) or x.shape[:axis] + x.shape[axis + 1 :] != first[:axis] + first[axis + 1 :]
        for x in xs
    ):
        raise ctx.error(f"inputs {[x.shape for x in xs]} differ outside axis {axis}")
    ctx.guard((*first[:axis], sum(x.shape[axis] for x in xs), *first[axis + 1 :]))
    return _plain(np.concatenate(xs, axis=axis))


def split(ctx: Context, x: np.ndarray, sizes: np.ndarray | None = None) -> Result:
    axis = _axis(ctx, int(ctx.attr("axis", 0)), x.ndim)
    sizes = ctx.attr("split") if sizes is None else sizes  # an attribute before opset 13
    count = len(ctx.node.outputs)
    if sizes is None:
        parts = int(ctx.attr("num_outputs", count))
        step = -(-x.shape[axis] // parts)  # the last part is smaller when it does not divide
        sizes = [min(step, x.shape[axis] - i * step) for i in range(parts)]
    sizes = _ints(sizes)
    if sum(sizes) != x.shape[axis] or min(sizes) < 0:
        raise ctx.error(f"split {sizes} does not add up to axis {axis}'s {x.shape[axis]}")
    return _plain(*np.split(x, np.cumsum(sizes)[:-1], axis=axis))


def slice_(
    ctx: Context,
    x: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    axes: np.ndarray | None = None,
    steps: np.ndarray | None = None,
) -> Result:
    starts, ends = _ints(starts), _ints(ends)
    axes = tuple(range(len(starts))) if axes is None else _ints(axes)
    steps = (1,) * len(starts) if steps is None else _ints(steps)
    if not len(starts) == len(ends) == len(axes) == len(steps) or 0 in steps:
        raise ctx.error("starts, ends, axes and steps must have one entry each, steps non-zero")
    index = [slice(None)] * x.ndim
    for start, end, axis, step in zip(starts, ends, axes, steps, strict=True):
        size = x.shape[_axis(ctx, axis, x.ndim)]
        clamp = max(-size - 1, min(size + 1, end))  # INT64_MAX / INT64_MIN mean "to the end"
        index[axis % x.ndim] = slice(max(-size - 1, min(size, start)), clamp, step)
    return _plain(x[tuple(index)])


def pad(
    ctx: Context,
    x: np.ndarray,
    pads: np.ndarray | None = None,
    value: np.ndarray | None = None,
    axes: np.ndarray | None = None,
) -> Result:
    mode = ctx.attr("mode", "constant")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    if mode not in ("constant", "reflect", "edge"):
        raise ctx.error(f"mode {mode!r} is not constant, reflect or edge")
    amounts = _ints(ctx.attr("pads") if pads is None else pads)
    picked = tuple(range(x.ndim)) if axes is None else tuple(_axis(ctx, a, x.ndim) for a in _ints(axes))
    if len(amounts) != 2 * len(picked):
        raise ctx.error(f"pads {amounts} must hold two amounts (begin, end) per axis of {picked}")
    widths = [[0, 0] for _ in range(x.ndim)]
    for i, axis in enumerate(picked):
        widths[axis] = [amounts[i], amounts[i + len(picked)]]
    shape = ctx.guard([size + lo + hi for size, (lo, hi) in zip(x.shape, widths, strict=True)])
    if mode == "reflect" and any(
        lo >= size or hi >= size for size, (lo, hi) in zip(x.shape, widths, strict=True) if lo or hi
    ):
        raise ctx.error(f"reflect padding {amounts} must be smaller than the input {x.shape}")
    if ctx.skips(shape):
        return _zeros(ctx, shape, x.dtype)
    crop = tuple(
        slice(max(-lo, 0), size - max(-hi, 0)) for size, (lo, hi) in zip(x.shape, widths, strict=True)
    )
    grow = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
    value = ctx.attr("value") if value is None else value  # an attribute before opset 11
    fill = 0 if value is None or np.size(value) == 0 else np.asarray(value).reshape(-1)[0]
    kwargs = {"constant_values": fill} if mode == "constant" else {}
    return _plain(np.pad(x[crop], grow, mode=mode, **kwargs))


OPS: dict[str, Callable[..., Result]] = {
    "Conv": conv,
    "ConvTranspose": conv_transpose,
    "MaxPool": max_pool,
    "AveragePool": average_pool,
    "GlobalAveragePool": _global(F.adaptive_avg_pool2d),
    "GlobalMaxPool": _global(F.adaptive_max_pool2d),
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
    "Identity": identity,
    "Dropout": dropout,
    "Constant": constant,
    "Shape": shape,
    "Gather": gather,
    "Unsqueeze": unsqueeze,
    "Squeeze": squeeze,
    "Flatten": flatten,
    "Reshape": reshape,
    "Expand": expand,
    "Transpose": transpose,
    "ConstantOfShape": constant_of_shape,
    "Range": range_,
    "Tile": tile,
    "Trilu": trilu,
    "Concat": concat,
    "Split": split,
    "Slice": slice_,
    "Pad": pad,
}


def apply(
    node: Node,
    inputs: Sequence[np.ndarray | None],
    *,
    max_elements: int | None = None,
    shapes_only: bool = False,
    constants: Sequence[bool] = (),
    max_products: int | None = None,
) -> Result:
    """Run one node: its outputs (in the node's order) and its engine Trace (None for plain ops).

    The engine's own argument errors come back as a GraphError naming the node.
    """
    ctx = Context(node, max_elements, shapes_only, tuple(constants), max_products)
    try:
        return OPS[node.op](ctx, *inputs)
    except GraphError:
        raise
    except (ArgumentError, ValueError, TypeError, IndexError, ZeroDivisionError) as e:
        raise ctx.error(str(e)) from e
