"""ONNX's convolutions and pools (Conv, ConvTranspose, MaxPool, AveragePool, the global pools) on the
engine's traced functions, so each node carries a Trace to step through.

ONNX allows what torch does not: padding different at the start and the end of an axis (auto_pad
SAME_UPPER / SAME_LOWER, or explicit pads), or wider than half a pooling window. Such a node pads its
input first (zeros; -inf for MaxPool) and runs the engine's function with padding 0; its trace's
params say so under "onnx_pads" (the (top, left, bottom, right) applied before the call).
Operator definitions: https://github.com/onnx/onnx/blob/main/docs/Operators.md
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from layerlab.engine import functional as F
from layerlab.engine.graph.ops_context import Context, Result, ints, plain, traced, zeros
from layerlab.engine.trace import Trace

# --- windows: strides, dilations and pads as ONNX writes them ------------------------------------


def _spatial(
    ctx: Context, x: np.ndarray, kernel: tuple[int, ...], ranks: tuple[int, ...] = (2,)
) -> tuple[tuple[int, ...], ...]:
    """(strides, dilations, pads begin, pads end), each per spatial axis, auto_pad resolved."""
    rank = x.ndim - 2
    if rank not in ranks or len(kernel) != rank:
        shapes = " or ".join({1: "(N, C, L)", 2: "(N, C, H, W)"}[r] for r in ranks)
        raise ctx.error(f"Layerlab runs {ctx.node.op} on {shapes} inputs, got input shape {x.shape}")
    strides = tuple(ints(ctx.attr("strides", (1,) * rank)))
    dilations = tuple(ints(ctx.attr("dilations", (1,) * rank)))
    if len(strides) != rank or len(dilations) != rank or min(strides + dilations) < 1:
        raise ctx.error(f"strides {strides} and dilations {dilations} must be {rank} positive ints each")
    auto_pad = ctx.attr("auto_pad", "NOTSET")
    if isinstance(auto_pad, bytes):
        auto_pad = auto_pad.decode()
    if auto_pad == "NOTSET":
        pads = ints(ctx.attr("pads", (0,) * 2 * rank))
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
        return zeros(ctx, shape, x.dtype)
    padding = begin
    if begin != end:
        x, padding = _prepad(ctx, x, begin, end, 0.0), (0,) * len(begin)
    if x.ndim == 3:
        trace = F.conv1d(x, w, b, strides[0], padding[0], dilations[0], group)
    else:
        trace = F.conv2d(x, w, b, strides, padding, dilations, group)
    return traced(_noting(trace, begin, end) if padding != begin else trace)


def conv_transpose(ctx: Context, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> Result:
    if ctx.attr("output_shape") is not None:
        raise ctx.error("output_shape is not supported: give pads and output_padding instead")
    if ctx.attr("auto_pad", "NOTSET") not in ("NOTSET", "VALID", b"NOTSET", b"VALID"):
        raise ctx.error(f"auto_pad {ctx.attr('auto_pad')!r} is not supported on ConvTranspose")
    kernel = tuple(w.shape[2:])
    strides, dilations, begin, end = _spatial(ctx, x, kernel)
    group = int(ctx.attr("group", 1))
    extra = ints(ctx.attr("output_padding", (0, 0)))
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
        return zeros(ctx, shape, x.dtype)
    if begin == end:
        return traced(F.conv_transpose2d(x, w, b, strides, begin, extra, group, dilations))
    trace = F.conv_transpose2d(x, w, b, strides, 0, extra, group, dilations)
    out = np.asarray(trace.output)[:, :, begin[0] : full[0] - end[0], begin[1] : full[1] - end[1]]
    trace.params["onnx_pads"] = (*begin, *end)  # cropped from the output, as ONNX defines its pads
    trace.stages["uncropped"] = trace.output
    trace.output = out
    return traced(trace)


# --- pooling -------------------------------------------------------------------------------------


def _pool_setup(ctx: Context, x: np.ndarray) -> tuple:
    kernel = ints(ctx.attr("kernel_shape", ()))
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
        return plain(np.zeros(shape, x.dtype), np.zeros(shape, np.int64))
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
        return zeros(ctx, shape, x.dtype)
    if native:
        return traced(F.avg_pool2d(x, kernel, strides, begin, ceil, include))
    padded = _prepad(ctx, x, begin, end, 0.0)
    return traced(_noting(F.avg_pool2d(padded, kernel, strides, 0, ceil, True), begin, end))


def _global(function: Callable[[np.ndarray, int], Trace]) -> Callable[..., Result]:
    """GlobalAveragePool / GlobalMaxPool: torch's adaptive pool to 1 x 1."""

    def op(ctx: Context, x: np.ndarray) -> Result:
        if x.ndim != 4:
            raise ctx.error(f"Layerlab pools (N, C, H, W) inputs, got shape {x.shape}")
        if ctx.shapes_only:
            return zeros(ctx, (*x.shape[:2], 1, 1), x.dtype)
        return traced(function(x, 1))

    return op


OPS: dict[str, Callable[..., Result]] = {
    "Conv": conv,
    "ConvTranspose": conv_transpose,
    "MaxPool": max_pool,
    "AveragePool": average_pool,
    "GlobalAveragePool": _global(F.adaptive_avg_pool2d),
    "GlobalMaxPool": _global(F.adaptive_max_pool2d),
}
