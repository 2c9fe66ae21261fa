"""2-D convolution (deep-learning cross-correlation), traced window by window.

Mirrors `torch.nn.functional.conv2d` (names, defaults, NCHW layout, weight of
shape (C_out, C_in/groups, kH, kW)) plus `padding_mode` from `torch.nn.Conv2d`.
Seeds 002 and 004 describe the operation: slide a kernel over the input and
at each position take the sum of the element-wise products.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from engine.trace import Trace

PaddingMode = Literal["zeros", "reflect", "replicate", "circular"]
_NUMPY_PAD_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _pair(value: int | tuple[int, int] | list[int], name: str) -> tuple[int, int]:
    """Expand an int to (v, v); check a pair has two entries."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2:
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
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
            raise ValueError(f"padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
        if stride != (1, 1):
            raise ValueError("padding='same' is not supported for strided convolutions")
        (top, bottom), (left, right) = (
            (total // 2, total - total // 2)
            for total in (dilation[0] * (kernel[0] - 1), dilation[1] * (kernel[1] - 1))
        )
        return top, bottom, left, right
    ph, pw = _pair(padding, "padding")
    if ph < 0 or pw < 0:
        raise ValueError(f"padding must be non-negative, got {padding!r}")
    return ph, ph, pw, pw


def pad2d(x: np.ndarray, pads: tuple[int, int, int, int], padding_mode: PaddingMode) -> np.ndarray:
    """Pad the last two axes of x (..., H, W) by (top, bottom, left, right).

    Same limits as torch: reflect needs pad < size, circular needs pad <= size.
    """
    if padding_mode not in _NUMPY_PAD_MODE:
        raise ValueError(f"padding_mode must be one of {sorted(_NUMPY_PAD_MODE)}, got {padding_mode!r}")
    height, width = x.shape[-2:]
    top, bottom, left, right = pads
    if padding_mode == "reflect" and (max(top, bottom) >= height or max(left, right) >= width):
        raise ValueError(f"reflect padding must be smaller than the input size ({height}x{width})")
    if padding_mode == "circular" and (max(top, bottom) > height or max(left, right) > width):
        raise ValueError(f"circular padding must not exceed the input size ({height}x{width})")
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
    record_steps: bool = True,
) -> Trace:
    """Convolve input with weight, recording every window.

    Parameters
    ----------
    input : ndarray of shape (N, C_in, H, W) or (C_in, H, W)
    weight : ndarray of shape (C_out, C_in/groups, kH, kW)
    bias : ndarray of shape (C_out,) or None
    record_steps : True records every output element; False only computes the
        output (the live path); a slice records just those flat output indices
        (C order), so a page can fetch a long trace a chunk at a time.

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
        raise ValueError(f"input must have shape (N, C, H, W) or (C, H, W), got {x.shape}")
    if w.ndim != 4:
        raise ValueError(f"weight must have shape (C_out, C_in/groups, kH, kW), got {w.shape}")
    n, c_in, height, width = x.shape
    c_out, c_group, kh, kw = w.shape
    if groups < 1 or c_in % groups or c_out % groups:
        raise ValueError(f"groups={groups} must divide both in_channels={c_in} and out_channels={c_out}")
    if c_group != c_in // groups:
        raise ValueError(f"weight has {c_group} input channels per group, expected {c_in // groups}")
    b = np.zeros(c_out) if bias is None else np.asarray(bias, dtype=np.float64)
    if b.shape != (c_out,):
        raise ValueError(f"bias must have shape ({c_out},), got {np.shape(bias)}")
    stride, dilation = _pair(stride, "stride"), _pair(dilation, "dilation")
    if min(stride) < 1:
        raise ValueError(f"stride must be positive, got {stride}")
    if min(dilation) < 1:
        raise ValueError(f"dilation must be positive, got {dilation}")
    pads = resolve_padding(padding, (kh, kw), stride, dilation)
    padded = pad2d(x, pads, padding_mode)
    span_h, span_w = dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1
    if span_h > padded.shape[2] or span_w > padded.shape[3]:
        raise ValueError(
            f"kernel footprint {span_h}x{span_w} (dilation included) is larger than "
            f"the padded input {padded.shape[2]}x{padded.shape[3]}"
        )
    # (N, C_in, OH, OW, kH, kW): a strided view, no copy yet
    windows = sliding_window_view(padded, (span_h, span_w), axis=(2, 3))
    windows = windows[:, :, :: stride[0], :: stride[1], :: dilation[0], :: dilation[1]]
    oh, ow = windows.shape[2:4]
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
    o_group = c_out // groups
    # (N, G, Cg, OH, OW, kH, kW) and (G, Og, Cg, kH, kW)
    windows_g = windows.reshape(n, groups, c_group, oh, ow, kh, kw)
    w_g = w.reshape(groups, o_group, c_group, kh, kw)

    steps_total = n * c_out * oh * ow
    picked = _pick_steps(record_steps, steps_total)
    if picked is None or len(picked) < steps_total:
        # sum over (Cg, kH, kW) within each group: (N, G, Og, OH, OW) -> (N, C_out, OH, OW)
        out = np.einsum("ngchwij,gocij->ngohw", windows_g, w_g, optimize=True)
        out = out.reshape(n, c_out, oh, ow) + b[None, :, None, None]
    stages = {"padded": padded[0] if unbatched else padded, "weight": w}
    if picked is None:
        return Trace("conv2d", params, out[0] if unbatched else out, stages)

    n_i, c_i, r_i, col_i = np.unravel_index(picked, (n, c_out, oh, ow))
    # advanced indices around a slice: (S, Cg, kH, kW), the window each step sees
    window = windows_g[n_i, c_i // o_group, :, r_i, col_i]
    products = window * w[c_i]
    total = products.sum(axis=(1, 2, 3))
    result = total + b[c_i]
    if len(picked) == steps_total:
        out = result.reshape(n, c_out, oh, ow)
    row_origin, col_origin = r_i * stride[0], col_i * stride[1]
    steps = {
        "index": np.stack([n_i, c_i, r_i, col_i], axis=1).astype(np.int32),
        "origin": np.stack([row_origin, col_origin], axis=1).astype(np.int32),
        "rows": (row_origin[:, None] + dilation[0] * np.arange(kh)).astype(np.int32),
        "cols": (col_origin[:, None] + dilation[1] * np.arange(kw)).astype(np.int32),
        "window": window,
        "products": products,
        "sum": total,
        "bias": b[c_i],
        "result": result,
    }
    return Trace("conv2d", params, out[0] if unbatched else out, stages, steps)


def _pick_steps(record_steps: bool | slice, steps_total: int) -> np.ndarray | None:
    """Flat output indices whose windows get recorded (None: record nothing)."""
    if record_steps is True:
        return np.arange(steps_total)
    if record_steps is False:
        return None
    return np.arange(steps_total)[record_steps]


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
