"""ONNX's shape and index operators (Reshape, Transpose, Concat, Gather, Slice, Pad, ...) and the
pass-throughs (Identity, Dropout at inference, Constant), all plain NumPy: no Trace.
Operator definitions: https://github.com/onnx/onnx/blob/main/docs/Operators.md
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from layerlab.engine.graph.ops_context import Context, Result, axis_index, ints, plain, zeros

# --- shapes --------------------------------------------------------------------------------------


def identity(ctx: Context, x: np.ndarray, *rest: np.ndarray | None) -> Result:
    return plain(x)


def dropout(ctx: Context, x: np.ndarray, *rest: np.ndarray | None) -> Result:
    return plain(x, np.ones(x.shape, bool))  # inference: the identity, mask all true


def constant(ctx: Context) -> Result:
    for name in ("value", "value_float", "value_floats", "value_int", "value_ints"):
        if name in ctx.node.attrs:
            value = np.asarray(ctx.attr(name))
            if name.startswith("value_int"):
                value = value.astype(np.int64)
            elif name.startswith("value_float"):
                value = value.astype(np.float32)
            ctx.guard(value.shape)
            return plain(value)
    raise ctx.error("a Constant needs a value, value_float(s) or value_int(s) attribute")


def shape(ctx: Context, x: np.ndarray) -> Result:
    start, end = int(ctx.attr("start", 0)), ctx.attr("end")
    dims = np.array(x.shape, np.int64)
    return plain(dims[start:] if end is None else dims[start : int(end)])


def gather(ctx: Context, x: np.ndarray, indices: np.ndarray) -> Result:
    axis = axis_index(ctx, int(ctx.attr("axis", 0)), x.ndim)
    indices = indices.astype(np.int64)
    size = x.shape[axis]
    if np.any((indices < -size) | (indices >= size)):
        raise ctx.error(f"indices out of range for axis {axis} of size {size}")
    ctx.guard((*x.shape[:axis], *indices.shape, *x.shape[axis + 1 :]))
    return plain(np.take(x, np.where(indices < 0, indices + size, indices), axis=axis))


def _axes_input(ctx: Context, axes: np.ndarray | None) -> tuple[int, ...] | None:
    axes = ctx.attr("axes") if axes is None else axes  # an attribute before opset 13
    return None if axes is None else ints(axes)


def unsqueeze(ctx: Context, x: np.ndarray, axes: np.ndarray | None = None) -> Result:
    picked = _axes_input(ctx, axes)
    if not picked:
        raise ctx.error("Unsqueeze needs axes")
    ndim = x.ndim + len(picked)
    return plain(np.expand_dims(x, tuple(axis_index(ctx, a, ndim) for a in picked)))


def squeeze(ctx: Context, x: np.ndarray, axes: np.ndarray | None = None) -> Result:
    picked = _axes_input(ctx, axes)
    if picked is None:
        return plain(np.squeeze(x))
    picked = tuple(axis_index(ctx, a, x.ndim) for a in picked)
    if any(x.shape[a] != 1 for a in picked):
        raise ctx.error(f"cannot squeeze axes {picked} of shape {x.shape}")
    return plain(np.squeeze(x, picked))


def flatten(ctx: Context, x: np.ndarray) -> Result:
    axis = int(ctx.attr("axis", 1))
    if not -x.ndim <= axis <= x.ndim:
        raise ctx.error(f"axis {axis} is out of range for input {x.shape}")
    axis += x.ndim if axis < 0 else 0
    return plain(x.reshape(math.prod(x.shape[:axis]), math.prod(x.shape[axis:])))


def reshape(ctx: Context, x: np.ndarray, target: np.ndarray) -> Result:
    dims = list(ints(target))
    if not ctx.attr("allowzero", 0):
        for i, d in enumerate(dims):
            if d == 0:
                if i >= x.ndim:
                    raise ctx.error(
                        f"shape {tuple(ints(target))}: dimension {i} copies an input dimension "
                        "that does not exist"
                    )
                dims[i] = x.shape[i]
    if dims.count(-1) > 1 or min(dims, default=0) < -1:
        raise ctx.error(f"shape {tuple(ints(target))} has more than one -1 or a negative size")
    if -1 in dims:
        known = math.prod(d for d in dims if d != -1)
        if known == 0 or x.size % known:
            raise ctx.error(f"cannot reshape {x.shape} to {tuple(ints(target))}")
        dims[dims.index(-1)] = x.size // known
    if math.prod(dims) != x.size:
        raise ctx.error(f"cannot reshape {x.shape} ({x.size} elements) to {tuple(dims)}")
    return plain(x.reshape(dims))


def expand(ctx: Context, x: np.ndarray, target: np.ndarray) -> Result:
    dims = ints(target)
    if min(dims, default=0) < 0:
        raise ctx.error(f"shape {dims} has a negative size")
    try:
        shape = np.broadcast_shapes(x.shape, dims)
    except ValueError as e:
        raise ctx.error(f"input {x.shape} does not broadcast to {dims}") from e
    return plain(np.broadcast_to(x, ctx.guard(shape)).copy())


def _checked_shape(ctx: Context, target: np.ndarray) -> tuple[int, ...]:
    dims = ints(target)
    if min(dims, default=0) < 0:
        raise ctx.error(f"shape {dims} has a negative size")
    return ctx.guard(dims, "the shape asked for")


def constant_of_shape(ctx: Context, target: np.ndarray) -> Result:
    value = ctx.attr("value")
    fill = np.zeros(1, np.float32) if value is None else np.asarray(value).reshape(-1)[:1]
    return plain(np.full(_checked_shape(ctx, target), fill[0], dtype=fill.dtype))


def range_(ctx: Context, start: np.ndarray, limit: np.ndarray, delta: np.ndarray) -> Result:
    if delta == 0:
        raise ctx.error("delta must not be 0")
    count = max(math.ceil((float(limit) - float(start)) / float(delta)), 0)
    ctx.guard((count,))
    return plain((start + np.arange(count) * delta).astype(np.result_type(start)))


def tile(ctx: Context, x: np.ndarray, repeats: np.ndarray) -> Result:
    times = ints(repeats)
    if len(times) != x.ndim or min(times, default=0) < 0:
        raise ctx.error(f"repeats {times} must be {x.ndim} non-negative ints")
    ctx.guard([size * t for size, t in zip(x.shape, times, strict=True)])
    return plain(np.tile(x, times))


def trilu(ctx: Context, x: np.ndarray, k: np.ndarray | None = None) -> Result:
    if x.ndim < 2:
        raise ctx.error(f"Trilu needs a matrix (or a batch of them), got shape {x.shape}")
    diagonal = 0 if k is None else int(np.asarray(k).reshape(-1)[0])
    keep = np.triu if ctx.attr("upper", 1) else np.tril
    return plain(keep(x, diagonal))


def transpose(ctx: Context, x: np.ndarray) -> Result:
    perm = ctx.attr("perm")
    perm = tuple(reversed(range(x.ndim))) if perm is None else ints(perm)
    if sorted(perm) != list(range(x.ndim)):
        raise ctx.error(f"perm {perm} is not a permutation of {x.ndim} axes")
    return plain(np.transpose(x, perm))


def concat(ctx: Context, *xs: np.ndarray) -> Result:
    xs = tuple(x for x in xs if x is not None)
    axis = axis_index(ctx, int(ctx.attr("axis", 0)), xs[0].ndim)
    first = xs[0].shape
    if any(
        x.ndim != len(first) or x.shape[:axis] + x.shape[axis + 1 :] != first[:axis] + first[axis + 1 :]
        for x in xs
    ):
        raise ctx.error(f"inputs {[x.shape for x in xs]} differ outside axis {axis}")
    ctx.guard((*first[:axis], sum(x.shape[axis] for x in xs), *first[axis + 1 :]))
    return plain(np.concatenate(xs, axis=axis))


def split(ctx: Context, x: np.ndarray, sizes: np.ndarray | None = None) -> Result:
    axis = axis_index(ctx, int(ctx.attr("axis", 0)), x.ndim)
    sizes = ctx.attr("split") if sizes is None else sizes  # an attribute before opset 13
    count = len(ctx.node.outputs)
    if sizes is None:
        parts = int(ctx.attr("num_outputs", count))
        step = -(-x.shape[axis] // parts)  # the last part is smaller when it does not divide
        sizes = [min(step, x.shape[axis] - i * step) for i in range(parts)]
    sizes = ints(sizes)
    if sum(sizes) != x.shape[axis] or min(sizes) < 0:
        raise ctx.error(f"split {sizes} does not add up to axis {axis}'s {x.shape[axis]}")
    return plain(*np.split(x, np.cumsum(sizes)[:-1], axis=axis))


def slice_(
    ctx: Context,
    x: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    axes: np.ndarray | None = None,
    steps: np.ndarray | None = None,
) -> Result:
    starts, ends = ints(starts), ints(ends)
    axes = tuple(range(len(starts))) if axes is None else ints(axes)
    steps = (1,) * len(starts) if steps is None else ints(steps)
    if not len(starts) == len(ends) == len(axes) == len(steps) or 0 in steps:
        raise ctx.error("starts, ends, axes and steps must have one entry each, steps non-zero")
    index = [slice(None)] * x.ndim
    for start, end, axis, step in zip(starts, ends, axes, steps, strict=True):
        size = x.shape[axis_index(ctx, axis, x.ndim)]
        clamp = max(-size - 1, min(size + 1, end))  # INT64_MAX / INT64_MIN mean "to the end"
        index[axis % x.ndim] = slice(max(-size - 1, min(size, start)), clamp, step)
    return plain(x[tuple(index)])


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
    amounts = ints(ctx.attr("pads") if pads is None else pads)
    picked = tuple(range(x.ndim)) if axes is None else tuple(axis_index(ctx, a, x.ndim) for a in ints(axes))
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
        return zeros(ctx, shape, x.dtype)
    crop = tuple(
        slice(max(-lo, 0), size - max(-hi, 0)) for size, (lo, hi) in zip(x.shape, widths, strict=True)
    )
    grow = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
    value = ctx.attr("value") if value is None else value  # an attribute before opset 11
    fill = 0 if value is None or np.size(value) == 0 else np.asarray(value).reshape(-1)[0]
    kwargs = {"constant_values": fill} if mode == "constant" else {}
    return plain(np.pad(x[crop], grow, mode=mode, **kwargs))


OPS: dict[str, Callable[..., Result]] = {
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
