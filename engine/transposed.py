"""Transposed convolution ("deconvolution"), traced in both of its readings.

Mirrors `torch.nn.functional.conv_transpose2d` and `conv_transpose1d` (names, defaults,
NCHW layout, weight of shape (C_in, C_out/groups, kH, kW)). Seed 003, "Deconvolution
(Transposed Convolution)", describes the operation: the backward pass of a convolution,
which can also be drawn as a plain convolution over the input padded with zeros (and,
for stride two, with zeros inserted between its values). The trace holds both readings:

- scatter (the steps): each input element stamps value * kernel onto the output, its
  top-left corner at (i*s - p, j*s - p); overlapping stamps add, and the padding p crops
  the border of the result rather than padding the input;
- gather (the stages): insert s-1 zeros between input values, pad by d*(k-1) - p (plus
  output_padding at the bottom/right), then run a stride-1 conv2d with the kernel
  transposed per group and flipped in both spatial axes.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from layerlab.engine.conv import _pair, conv2d
from layerlab.engine.errors import ArgumentError
from layerlab.engine.trace import RecordSteps, Trace, recorded_trace


def _check(input, weight, bias, stride, padding, output_padding, groups, dilation):
    """Validate as torch does; return x (N, C_in, H, W), w, bias (C_out,), unbatched, params."""
    x = np.asarray(input, dtype=np.float64)
    w = np.asarray(weight, dtype=np.float64)
    unbatched = x.ndim == 3
    x = x[None] if unbatched else x
    if x.ndim != 4:
        raise ArgumentError("input", f"input must have shape (N, C, H, W) or (C, H, W), got {x.shape}")
    if w.ndim != 4:
        raise ArgumentError("weight", f"weight must have shape (C_in, C_out/groups, kH, kW), got {w.shape}")
    _, c_in, height, width = x.shape
    if w.shape[0] != c_in:
        raise ArgumentError("weight", f"weight has {w.shape[0]} input channels, the input has {c_in}")
    if groups < 1 or c_in % groups:
        raise ArgumentError("groups", f"groups={groups} must divide in_channels={c_in}")
    c_out, kernel = w.shape[1] * groups, w.shape[2:]
    b = np.zeros(c_out) if bias is None else np.asarray(bias, dtype=np.float64)
    if b.shape != (c_out,):
        raise ArgumentError("bias", f"bias must have shape ({c_out},), got {np.shape(bias)}")
    stride, dilation = _pair(stride, "stride"), _pair(dilation, "dilation")
    padding, out_pad = _pair(padding, "padding"), _pair(output_padding, "output_padding")
    checks = [("stride", stride, 1), ("dilation", dilation, 1), ("padding", padding, 0)]
    for name, value, least in [*checks, ("output_padding", out_pad, 0)]:
        if min(value) < least:
            raise ArgumentError(
                name,
                f"{name} must be {'positive' if least else 'non-negative'}, got {value}",
            )
    limit = tuple(max(s, d) for s, d in zip(stride, dilation, strict=True))
    if out_pad[0] >= limit[0] or out_pad[1] >= limit[1]:
        raise ArgumentError(
            "output_padding",
            f"output_padding {out_pad} must be smaller than either stride {stride} or dilation "
            f"{dilation}, that is below {limit} per axis",
        )
    axes = list(zip((height, width), stride, padding, dilation, kernel, out_pad, strict=True))
    size = tuple((h - 1) * s - 2 * p + d * (k - 1) + o + 1 for h, s, p, d, k, o in axes)
    for axis, name in enumerate(("height", "width")):
        if size[axis] < 1:
            most = (size[axis] + 2 * padding[axis] - 1) // 2  # the padding that leaves one row or column
            raise ArgumentError(
                "padding",
                f"padding {padding[axis]} crops the whole output: its {name} would be {size[axis]}, "
                f"too small for input size {(height, width)}; at most {most} leaves a row and a column",
            )
    before = [d * (k - 1) - p for _, _, p, d, k, _ in axes]  # gather padding; negative crops
    params = {
        "stride": stride,
        "padding": padding,
        "output_padding": out_pad,
        "dilation": dilation,
        "groups": groups,
        "input_size": (height, width),
        "output_size": size,
        "kernel_size": tuple(kernel),
        "has_bias": bias is not None,
        # (top, bottom, left, right) the gather reading pads the zero-inserted input by
        "gather_pads": (before[0], before[0] + out_pad[0], before[1], before[1] + out_pad[1]),
    }
    return x, w, b, unbatched, params


def _scatter(x: np.ndarray, w: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    """The output without bias, (N, C_out, OH, OW): one strided add per kernel tap, then the crop.

    The canvas holds every tap before padding crops it, plus the output_padding rows/columns.
    """
    n, c_in, height, width = x.shape
    _, c_og, kh, kw = w.shape
    g, (oh, ow) = params["groups"], params["output_size"]
    (sh, sw), (ph, pw), (dh, dw) = params["stride"], params["padding"], params["dilation"]
    x_g = x.reshape(n, g, c_in // g, height, width)
    w_g = w.reshape(g, c_in // g, c_og, kh, kw)
    full_h, full_w = (height - 1) * sh + dh * (kh - 1) + 1, (width - 1) * sw + dw * (kw - 1) + 1
    canvas = np.zeros((n, g, c_og, max(full_h, ph + oh), max(full_w, pw + ow)))
    for u in range(kh):
        for v in range(kw):
            tap = np.einsum("ngchw,gco->ngohw", x_g, w_g[..., u, v])  # (N, G, C_out/G, H, W)
            rows = slice(u * dh, u * dh + (height - 1) * sh + 1, sh)
            cols = slice(v * dw, v * dw + (width - 1) * sw + 1, sw)
            canvas[..., rows, cols] += tap
    return canvas[..., ph : ph + oh, pw : pw + ow].reshape(n, g * c_og, oh, ow)


def _scatter_steps(
    x: np.ndarray, w: np.ndarray, params: dict[str, Any], steps: range
) -> dict[str, np.ndarray]:
    """Input elements steps.start..steps.stop (flat C order over (n, c_in, i, j)), see conv_transpose2d."""
    (kh, kw), (oh, ow) = params["kernel_size"], params["output_size"]
    stride, padding, (dh, dw) = np.array(params["stride"]), np.array(params["padding"]), params["dilation"]
    n, c_in, height, width = x.shape
    # field-major in memory (long inner axis, fast), step-major in shape: (S, ...) transposed views
    flat = np.arange(steps.start, steps.stop)
    index = np.array(np.unravel_index(flat, x.shape), dtype=np.int32).reshape(4, -1)  # (4, S)
    origin = (index[2:] * stride[:, None] - padding[:, None]).astype(np.int32)  # (2, S), may be negative
    rows = origin[0] + np.arange(0, kh * dh, dh, dtype=np.int32)[:, None]  # (kH, S)
    cols = origin[1] + np.arange(0, kw * dw, dw, dtype=np.int32)[:, None]  # (kW, S)
    r, c = rows.T, cols.T
    inside = ((r >= 0) & (r < oh))[:, :, None] & ((c >= 0) & (c < ow))[:, None, :]  # (S, kH, kW)
    value = x.reshape(-1)[steps.start : steps.stop]
    channel = flat // (height * width) % c_in
    stamp = value[:, None] * w.reshape(c_in, -1)[channel]  # value * w[c_in]
    return {
        "index": index.T,
        "value": value,
        "origin": origin.T,
        "rows": rows.T,
        "cols": cols.T,
        "stamp": stamp.reshape(-1, *w.shape[1:]),  # (S, C_out/groups, kH, kW)
        "inside": inside,
    }


def _gather(x: np.ndarray, w: np.ndarray, params: dict[str, Any]) -> tuple[np.ndarray, ...]:
    """zero_inserted (N, C_in, (H-1)s+1, (W-1)s+1), padded, and flipped_weight (C_out, C_in/g, kH, kW)."""
    n, c_in, height, width = x.shape
    (sh, sw), g = params["stride"], params["groups"]
    zero_inserted = np.zeros((n, c_in, (height - 1) * sh + 1, (width - 1) * sw + 1))
    zero_inserted[..., ::sh, ::sw] = x
    pads = params["gather_pads"]
    top, bottom, left, right = (max(p, 0) for p in pads)
    padded = np.pad(zero_inserted, [(0, 0), (0, 0), (top, bottom), (left, right)])
    top, bottom, left, right = (max(-p, 0) for p in pads)  # a padding larger than d*(k-1) crops
    padded = padded[..., top : padded.shape[2] - bottom, left : padded.shape[3] - right]
    _, c_og, kh, kw = w.shape
    flipped = w.reshape(g, c_in // g, c_og, kh, kw).transpose(0, 2, 1, 3, 4)[..., ::-1, ::-1]
    return zero_inserted, padded, np.ascontiguousarray(flipped.reshape(g * c_og, c_in // g, kh, kw))


def conv_transpose2d(
    input: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    output_padding: int | tuple[int, int] = 0,
    groups: int = 1,
    dilation: int | tuple[int, int] = 1,
    *,
    record_steps: RecordSteps = "lazy",
) -> Trace:
    """Transposed 2-D convolution, recording the scatter reading as steps, the gather one as stages.

    Output size per axis: (H - 1)*s - 2p + d*(k - 1) + output_padding + 1 (seed 003).

    Parameters
    ----------
    input : ndarray of shape (N, C_in, H, W) or (C_in, H, W)
    weight : ndarray of shape (C_in, C_out/groups, kH, kW)
    bias : ndarray of shape (C_out,) or None
    output_padding : extra rows/columns at the bottom/right; smaller than stride or dilation.

    Returns
    -------
    Trace with output (N, C_out, OH, OW) (no N when unbatched); stages "weight" (as given),
    "zero_inserted" (N, C_in, (H-1)s+1, (W-1)s+1), "padded" (that, padded by params
    "gather_pads", a negative pad cropping) and "flipped_weight" (C_out, C_in/groups, kH, kW),
    such that conv2d(padded, flipped_weight, bias, dilation=dilation, groups=groups) gives
    the output (N dropped from the stages when unbatched); and one step per input element
    (n, c_in, i, j) in C order (n is 0 when unbatched) with fields index (S, 4), value (S,),
    origin (S, 2) = (i*s - p, j*s - p), rows (S, kH) and cols (S, kW) the output rows and
    columns the taps land on, stamp (S, C_out/groups, kH, kW) = value * weight[c_in], added to
    the output channels of c_in's group, and inside (S, kH, kW), the taps within the output.
    record_steps as conv2d's (steps are input elements here).
    """
    x, w, b, unbatched, params = _check(
        input, weight, bias, stride, padding, output_padding, groups, dilation
    )
    out = _scatter(x, w, params) + b[None, :, None, None]
    zero_inserted, padded, flipped = _gather(x, w, params)
    stages = {
        "weight": w,
        "zero_inserted": zero_inserted[0] if unbatched else zero_inserted,
        "padded": padded[0] if unbatched else padded,
        "flipped_weight": flipped,
    }
    recorder = functools.partial(_scatter_steps, x, w, params)
    out = out[0] if unbatched else out
    return recorded_trace("conv_transpose2d", params, out, stages, record_steps, recorder, x.size)


def conv_transpose2d_as_conv(
    input: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    output_padding: int | tuple[int, int] = 0,
    groups: int = 1,
    dilation: int | tuple[int, int] = 1,
    *,
    record_steps: RecordSteps = "lazy",
) -> Trace:
    """The gather reading as a full conv2d trace: a stride-1 convolution of the zero-inserted,
    padded input with the flipped weight (seed 003).

    Arguments as conv_transpose2d; record_steps as conv2d. Returns the conv2d Trace of that
    convolution (op "conv2d", output (N, C_out, OH, OW) as conv_transpose2d's) with the
    extra stage "zero_inserted" and params["transposed_from"], the transposed call's params.
    """
    x, w, b, unbatched, params = _check(
        input, weight, bias, stride, padding, output_padding, groups, dilation
    )
    zero_inserted, padded, flipped = _gather(x, w, params)
    source, b = (padded[0] if unbatched else padded), (None if bias is None else b)
    trace = conv2d(source, flipped, b, 1, 0, params["dilation"], groups, record_steps=record_steps)
    stages = {"zero_inserted": zero_inserted[0] if unbatched else zero_inserted, **trace.stages}
    return trace.derive("conv2d", trace.params | {"transposed_from": params}, trace.output, stages)


def _single(value: int | tuple[int]) -> int:
    """An int, or a 1-tuple holding one."""
    single = (value,) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(single) != 1:
        raise ValueError(
            f"stride, padding, output_padding and dilation must be ints or 1-tuples, got {value!r}"
        )
    return int(single[0])


def conv_transpose1d(
    input: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None = None,
    stride: int | tuple[int] = 1,
    padding: int | tuple[int] = 0,
    output_padding: int | tuple[int] = 0,
    groups: int = 1,
    dilation: int | tuple[int] = 1,
    *,
    record_steps: RecordSteps = "lazy",
) -> Trace:
    """Transposed 1-D convolution: conv_transpose2d on a height-1 input, height axis then dropped.

    Parameters
    ----------
    input : ndarray of shape (N, C_in, L) or (C_in, L)
    weight : ndarray of shape (C_in, C_out/groups, k)
    bias : ndarray of shape (C_out,) or None

    Returns
    -------
    Trace with output (N, C_out, L_out), L_out = (L-1)*s - 2p + d*(k-1) + output_padding + 1;
    the stages of conv_transpose2d with their height axis dropped; steps with fields
    index (S, 3) = (n, c_in, i), value (S,), origin (S,) = i*s - p, cols (S, k) the output
    positions of the taps, stamp (S, C_out/groups, k) and inside (S, k) (no rows field);
    params as conv_transpose2d's, sizes as 1-tuples and gather_pads as (left, right).
    """
    x, w = np.asarray(input, dtype=np.float64), np.asarray(weight, dtype=np.float64)
    if x.ndim not in (2, 3):
        raise ValueError(f"input must have shape (N, C, L) or (C, L), got {x.shape}")
    if w.ndim != 3:
        raise ValueError(f"weight must have shape (C_in, C_out/groups, k), got {w.shape}")
    s, p, o, d = map(_single, (stride, padding, output_padding, dilation))
    flat = conv_transpose2d(
        x[..., None, :],
        w[..., None, :],
        bias,
        (1, s),
        (0, p),
        (0, o),
        groups,
        (1, d),
        record_steps=record_steps,
    )
    params = {key: value[1:] if isinstance(value, tuple) else value for key, value in flat.params.items()}
    params["gather_pads"] = flat.params["gather_pads"][2:]
    stages = {name: stage[..., 0, :] for name, stage in flat.stages.items()}
    return flat.derive("conv_transpose1d", params, flat.output[..., 0, :], stages, _transpose1d_steps)


def _transpose1d_steps(steps: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """conv_transpose2d's steps of a one-row input: the height axis dropped, rows (all 0) left out."""
    return {
        "index": steps["index"][:, [0, 1, 3]],
        "value": steps["value"],
        "origin": steps["origin"][:, 1],
        "cols": steps["cols"],
        "stamp": steps["stamp"][..., 0, :],
        "inside": steps["inside"][:, 0],
    }
