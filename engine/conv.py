"""2-D convolution (deep-learning cross-correlation), traced window by window.

Mirrors `torch.nn.functional.conv2d` (names, defaults, NCHW layout, weight of
shape (C_out, C_in/groups, kH, kW)) plus `padding_mode` from `torch.nn.Conv2d`.
Seeds 002 and 004 describe the operation: slide a kernel over the input and
at each position take the sum of the element-wise products.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from typing import Literal

import numpy as np

from layerlab.engine.errors import ArgumentError
from layerlab.engine.trace import RecordSteps, Trace, recorded_trace

PaddingMode = Literal["zeros", "reflect", "replicate", "circular"]
_NUMPY_PAD_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _pair(value: int | tuple[int, int] | list[int], name: str) -> tuple[int, int]:
    """Expand an int to (v, v); check a pair has two entries."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2:
        raise ArgumentError(name, f"{name} must be an int or a pair of ints, got {value!r}")
    return int(pair[0]), int(pair[1])


def resolve_padding(
    padding: int | tuple[int, int] | str,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
) -> tuple[int, int, int, int]:
    """Padding as (top, bottom, left, right), resolving "same" and "valid" as torch does.

    For "same" torch pads d*(k-1) in total per axis, the smaller half first,
    so an even kernel gets its extra row/column at the bottom/right.
    """
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0, 0, 0
        if padding != "same":
            raise ArgumentError(
                "padding",
                f"padding must be an int, a pair, 'same' or 'valid', got {padding!r}",
            )
        if stride != (1, 1):
            raise ArgumentError("padding", "padding='same' is not supported for strided convolutions")
        (top, bottom), (left, right) = (
            (total // 2, total - total // 2)
            for total in (dilation[0] * (kernel[0] - 1), dilation[1] * (kernel[1] - 1))
        )
        return top, bottom, left, right
    ph, pw = _pair(padding, "padding")
    if ph < 0 or pw < 0:
        raise ArgumentError("padding", f"padding must be non-negative, got {padding!r}")
    return ph, ph, pw, pw


def check_padding_mode(padding_mode: str, pads: Sequence[tuple[int, int]], sizes: Sequence[int]) -> None:
    """torch's limits on padding each axis of size sizes[i] by pads[i] = (before, after) in padding_mode.

    Reflect needs every pad < the size, circular every pad <= the size (it wraps at most once);
    zeros and replicate take any pad. Shared by conv2d (through pad2d) and engine.calculator.
    """
    if padding_mode not in _NUMPY_PAD_MODE:
        raise ArgumentError(
            "padding_mode",
            f"padding_mode must be one of {sorted(_NUMPY_PAD_MODE)}, got {padding_mode!r}",
        )
    most, fits = max(max(pair) for pair in pads), "x".join(str(size) for size in sizes)
    if padding_mode == "reflect" and any(max(pair) >= size for pair, size in zip(pads, sizes, strict=True)):
        raise ArgumentError("padding", f"reflect padding {most} must be smaller than the input size ({fits})")
    if padding_mode == "circular" and any(max(pair) > size for pair, size in zip(pads, sizes, strict=True)):
        raise ArgumentError("padding", f"circular padding {most} must not exceed the input size ({fits})")


def pad2d(x: np.ndarray, pads: tuple[int, int, int, int], padding_mode: PaddingMode) -> np.ndarray:
    """Pad the last two axes of x (..., H, W) by (top, bottom, left, right), within check_padding_mode."""
    height, width = x.shape[-2:]
    top, bottom, left, right = pads
    check_padding_mode(padding_mode, ((top, bottom), (left, right)), (height, width))
    if padding_mode == "zeros":  # the common case, without np.pad's general machinery (~40 us a call)
        out = np.zeros((*x.shape[:-2], top + height + bottom, left + width + right), dtype=x.dtype)
        out[..., top : top + height, left : left + width] = x
        return out
    widths = [(0, 0)] * (x.ndim - 2) + [(top, bottom), (left, right)]
    return np.pad(x, widths, mode=_NUMPY_PAD_MODE[padding_mode])


def output_size(size: int, pad_total: int, kernel: int, stride: int, dilation: int) -> int:
    """floor((H + pad_total - d*(k-1) - 1) / s) + 1, the formula torch documents for Conv2d."""
    return (size + pad_total - dilation * (kernel - 1) - 1) // stride + 1


def conv2d(
    input: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
    padding_mode: PaddingMode = "zeros",
    *,
    record_steps: RecordSteps = "lazy",
) -> Trace:
    """Convolve input with weight, recording every window on demand.

    Parameters
    ----------
    input : ndarray of shape (N, C_in, H, W) or (C_in, H, W)
    weight : ndarray of shape (C_out, C_in/groups, kH, kW)
    bias : ndarray of shape (C_out,) or None
    record_steps : "lazy" (the default) records a window only when the trace's steps are
        read (`t.steps`, `t.step(i)`, `t.steps_between(a, b)`); True records every output
        element now; False only computes the output (the live path); a slice (step 1)
        records just those flat output indices (C order) now, so a page can fetch a long
        trace a chunk at a time.

    Returns
    -------
    Trace with output of shape (N, C_out, OH, OW) (or (C_out, OH, OW) when the
    input was unbatched), stages "padded" (N, C_in, H + pads, W + pads) (no N when
    unbatched) and
    "weight", and one step per recorded output element in C order
    (n, c_out, row, col) with fields:
    index (S, 4), origin (S, 2) top-left of the window in padded coordinates,
    rows (S, kH) and cols (S, kW) the padded rows/columns the taps sample,
    window and products (S, C_in/groups, kH, kW), sum, bias and result (S,).
    """
    x = np.asarray(input, dtype=np.float64)
    w = np.asarray(weight, dtype=np.float64)
    unbatched = x.ndim == 3
    if unbatched:
        x = x[None]
    if x.ndim != 4:
        raise ArgumentError("input", f"input must have shape (N, C, H, W) or (C, H, W), got {x.shape}")
    if w.ndim != 4:
        raise ArgumentError("weight", f"weight must have shape (C_out, C_in/groups, kH, kW), got {w.shape}")
    n, c_in, height, width = x.shape
    c_out, c_group, kh, kw = w.shape
    if groups < 1 or c_in % groups or c_out % groups:
        raise ArgumentError(
            "groups",
            f"groups={groups} must divide both in_channels={c_in} and out_channels={c_out}",
        )
    if c_group != c_in // groups:
        raise ArgumentError(
            "weight",
            f"weight has {c_group} input channels per group, expected {c_in // groups}",
        )
    b = np.zeros(c_out) if bias is None else np.asarray(bias, dtype=np.float64)
    if b.shape != (c_out,):
        raise ArgumentError("bias", f"bias must have shape ({c_out},), got {np.shape(bias)}")
    stride, dilation = _pair(stride, "stride"), _pair(dilation, "dilation")
    if min(stride) < 1:
        raise ArgumentError("stride", f"stride must be positive, got {stride}")
    if min(dilation) < 1:
        raise ArgumentError("dilation", f"dilation must be positive, got {dilation}")
    pads = resolve_padding(padding, (kh, kw), stride, dilation)
    padded = pad2d(x, pads, padding_mode)
    span_h, span_w = dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1
    for axis, name in (0, "height"), (1, "width"):
        k, d, span, room = (kh, kw)[axis], dilation[axis], (span_h, span_w)[axis], padded.shape[2 + axis]
        if span > room:
            raise ArgumentError(
                "weight",
                f"the kernel {name} {k} with dilation {d} covers {span}, "
                f"more than the padded input {name} {room}",
            )
    oh = output_size(height, pads[0] + pads[1], kh, stride[0], dilation[0])
    ow = output_size(width, pads[2] + pads[3], kw, stride[1], dilation[1])
    params = {
        "stride": stride,
        "padding": padding if isinstance(padding, str) else _pair(padding, "padding"),
        "dilation": dilation,
        "groups": groups,
        "padding_mode": padding_mode,
        "pads": pads,  # (top, bottom, left, right) actually applied
        "input_size": (height, width),
        "padded_size": padded.shape[2:],
        "kernel_size": (kh, kw),
        "output_size": (oh, ow),
        "has_bias": bias is not None,
    }
    stages = {"padded": padded[0] if unbatched else padded, "weight": w}
    total = n * c_out * oh * ow
    recorder = functools.partial(_record, padded, w, b, stride, dilation, (oh, ow), groups)
    if record_steps is True:  # every step recorded now: they are the output
        steps = recorder(range(total))
        out = steps["result"].reshape(n, c_out, oh, ow)
        return Trace("conv2d", params, out[0] if unbatched else out, stages, steps)
    out = _shift_add(padded, w, stride, dilation, (oh, ow), groups) + b[None, :, None, None]
    out = out[0] if unbatched else out
    return recorded_trace("conv2d", params, out, stages, record_steps, recorder, total)


def _shift_add(
    padded: np.ndarray,
    w: np.ndarray,
    stride: tuple[int, int],
    dilation: tuple[int, int],
    out_size: tuple[int, int],
    groups: int,
) -> np.ndarray:
    """The convolution without its record: one strided slice of the padded input per kernel tap.

    padded : (N, C_in, Hp, Wp); w : (C_out, C_in/groups, kH, kW); returns (N, C_out, OH, OW).
    A Python loop over the Cg*kH*kW taps only; each tap is one vectorized multiply-add.
    """
    n, c_in, hp, wp = padded.shape
    c_out, c_group, kh, kw = w.shape
    (oh, ow), (sh, sw), (dh, dw) = out_size, stride, dilation
    x_g = padded.reshape(n, groups, c_group, hp, wp)
    w_g = w.reshape(groups, c_out // groups, c_group, kh, kw)
    out = np.zeros((n, groups, c_out // groups, oh, ow))
    # taps in the order (c, u, v) that `_record` sums its products in, so both give the same bits
    for c in range(c_group):
        for u in range(kh):
            for v in range(kw):
                rows = slice(u * dh, u * dh + sh * (oh - 1) + 1, sh)
                cols = slice(v * dw, v * dw + sw * (ow - 1) + 1, sw)
                tap = x_g[:, :, c, rows, cols]  # (N, G, OH, OW)
                out += w_g[None, :, :, c, u, v, None, None] * tap[:, :, None]
    return out.reshape(n, c_out, oh, ow)


def _record(
    padded: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    stride: tuple[int, int],
    dilation: tuple[int, int],
    out_size: tuple[int, int],
    groups: int,
    steps: range,
) -> dict[str, np.ndarray]:
    """The columnar record of output elements steps.start..steps.stop (flat C order), see conv2d.

    Built tap by tap like `_shift_add`: for each (n, c_out) plane the chunk touches, each kernel tap
    contributes one strided slice of the padded input, so no index array per step is ever gathered.
    """
    c_out, c_group, kh, kw = w.shape
    (oh, ow), (sh, sw), (dh, dw) = out_size, stride, dilation
    if not steps:
        ints, floats = np.zeros((0, 4), np.int32), np.zeros((0, c_group, kh, kw))
        return {
            "index": ints,
            "origin": ints[:, :2],
            "rows": np.zeros((0, kh), np.int32),
            "cols": np.zeros((0, kw), np.int32),
            "window": floats,
            "products": floats,
            "sum": np.zeros(0),
            "bias": np.zeros(0),
            "result": np.zeros(0),
        }
    plane = oh * ow
    w_flat = w.reshape(c_out, -1)
    # field-major in memory (long inner axis, fast), step-major in shape: (S, ...) transposed views
    window = np.empty((c_group * kh * kw, len(steps)))
    products = np.empty_like(window)
    total = np.zeros(len(steps))
    bias = np.empty(len(steps))  # each plane's bias, filled plane by plane (no gather by channel)
    index = np.empty((4, len(steps)), np.int32)  # n, c_out, row, col
    for p in range(steps.start // plane, (steps.stop - 1) // plane + 1):
        n, c = divmod(p, c_out)
        first = c // (c_out // groups) * c_group
        lo, hi = max(steps.start - p * plane, 0), min(steps.stop - p * plane, plane)
        r0, r1 = lo // ow, (hi - 1) // ow + 1  # the output rows this piece touches
        keep, here = (
            slice(lo - r0 * ow, hi - r0 * ow),
            slice(p * plane + lo - steps.start, p * plane + hi - steps.start),
        )
        win, prod, tot, weights = window[:, here], products[:, here], total[here], w_flat[c]
        whole_rows = lo == r0 * ow and hi == r1 * ow  # then each tap's slice goes straight into the record
        win_rows = win.reshape(len(win), r1 - r0, ow, copy=False) if whole_rows else None
        # tap by tap, each tap's row of window, products and running sum written while it is in cache,
        # in the tap order (ch, u, v) that `_shift_add` adds them in: identical bits
        for t, (ch, u, v) in enumerate(itertools.product(range(c_group), range(kh), range(kw))):
            rows = slice(u * dh + r0 * sh, u * dh + (r1 - 1) * sh + 1, sh)
            tap = padded[n, first + ch, rows, v * dw : v * dw + (ow - 1) * sw + 1 : sw]  # (rows, OW)
            if whole_rows:
                win_rows[t] = tap
            else:
                win[t] = tap.reshape(-1)[keep]
            np.multiply(win[t], weights[t], out=prod[t])  # this plane's filter
            tot += prod[t]
        index[0, here], index[1, here] = n, c
        bias[here] = b[c]
        if whole_rows:  # written in place as (rows, OW) views
            index[2, here].reshape(r1 - r0, ow)[:] = np.arange(r0, r1, dtype=np.int32)[:, None]
            index[3, here].reshape(r1 - r0, ow)[:] = np.arange(ow, dtype=np.int32)
        else:
            index[2, here] = np.repeat(np.arange(r0, r1, dtype=np.int32), ow)[keep]
            index[3, here] = np.tile(np.arange(ow, dtype=np.int32), r1 - r0)[keep]
    origin = index[2:] * np.array([[sh], [sw]], dtype=np.int32)  # (2, S)
    return {
        "index": index.T,
        "origin": origin.T,
        "rows": (origin[:1] + np.arange(0, dh * kh, dh, dtype=np.int32)[:, None]).T,
        "cols": (origin[1:] + np.arange(0, dw * kw, dw, dtype=np.int32)[:, None]).T,
        "window": window.T.reshape(-1, c_group, kh, kw),
        "products": products.T.reshape(-1, c_group, kh, kw),
        "sum": total,
        "bias": bias,
        "result": total + bias,
    }


def filter_inputs(
    input: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, groups: int, index: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The (input, weight, bias) that compute output channel `index` alone, with groups=1.

    Lets a page trace one filter's windows without recording all the others.
    input : (N, C_in, H, W) or (C_in, H, W); weight : (C_out, C_in/groups, kH, kW)
    """
    c_out, c_group = weight.shape[:2]
    if not 0 <= index < c_out:
        raise ValueError(f"filter index must be in [0, {c_out}), got {index}")
    group = index // (c_out // groups)
    channels = slice(group * c_group, (group + 1) * c_group)
    x = input[..., channels, :, :]
    return x, weight[index : index + 1], None if bias is None else bias[index : index + 1]
