"""Plain-loop reference for conv2d, written from the torch definition alone.

out[n, o, y, x] = bias[o] + sum over c, i, j of
    padded[n, g*Cg + c, y*sh + i*dh, x*sw + j*dw] * weight[o, c, i, j]
with g = o // (C_out / groups) the group of output channel o. Padding is done
by mapping each padded coordinate back to an input coordinate, one mode at a
time, so nothing here is shared with the engine. Slow on purpose.
"""

from __future__ import annotations

import numpy as np


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[1])


def torch_pads(
    padding: int | tuple[int, int] | str,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) as torch.nn.Conv2d applies them."""
    if padding == "valid":
        return 0, 0, 0, 0
    if padding == "same":
        if stride != (1, 1):
            raise ValueError("padding='same' needs stride 1")
        total_h = dilation[0] * (kernel[0] - 1)
        total_w = dilation[1] * (kernel[1] - 1)
        # torch puts the smaller half first (top/left)
        return total_h // 2, total_h - total_h // 2, total_w // 2, total_w - total_w // 2
    ph, pw = _pair(padding)
    return ph, ph, pw, pw


def _source(p: int, size: int, mode: str) -> int | None:
    """Input coordinate that padded coordinate p (relative to the input) reads, or None for a zero."""
    if 0 <= p < size:
        return p
    if mode == "zeros":
        return None
    if mode == "reflect":  # mirror about the edge element, which is not repeated
        return -p if p < 0 else 2 * (size - 1) - p
    if mode == "replicate":  # clamp to the edge element
        return 0 if p < 0 else size - 1
    if mode == "circular":  # wrap around
        return p % size
    raise ValueError(f"unknown padding_mode {mode!r}")


def pad_loop(x: np.ndarray, pads: tuple[int, int, int, int], padding_mode: str) -> np.ndarray:
    """x (N, C, H, W) padded by (top, bottom, left, right), one element at a time."""
    n_batch, channels, height, width = x.shape
    top, bottom, left, right = pads
    out = np.zeros((n_batch, channels, height + top + bottom, width + left + right))
    for n in range(n_batch):
        for c in range(channels):
            for py in range(out.shape[2]):
                for px in range(out.shape[3]):
                    row = _source(py - top, height, padding_mode)
                    col = _source(px - left, width, padding_mode)
                    if row is not None and col is not None:
                        out[n, c, py, px] = x[n, c, row, col]
    return out


def conv2d_loop(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
    padding_mode: str = "zeros",
) -> np.ndarray:
    """Reference conv2d.

    x : ndarray of shape (N, C_in, H, W)
    w : ndarray of shape (C_out, C_in/groups, kH, kW)
    b : ndarray of shape (C_out,) or None
    Returns ndarray of shape (N, C_out, OH, OW).
    """
    n_batch, _, height, width = x.shape
    c_out, c_group, kh, kw = w.shape
    sh, sw = _pair(stride)
    dh, dw = _pair(dilation)
    top, bottom, left, right = torch_pads(padding, (kh, kw), (sh, sw), (dh, dw))
    oh = (height + top + bottom - dh * (kh - 1) - 1) // sh + 1
    ow = (width + left + right - dw * (kw - 1) - 1) // sw + 1
    out_per_group = c_out // groups
    out = np.zeros((n_batch, c_out, oh, ow))
    for n in range(n_batch):
        for o in range(c_out):
            group = o // out_per_group
            for oy in range(oh):
                for ox in range(ow):
                    total = 0.0 if b is None else float(b[o])
                    for c in range(c_group):
                        channel = group * c_group + c
                        for i in range(kh):
                            for j in range(kw):
                                row = _source(oy * sh + i * dh - top, height, padding_mode)
                                col = _source(ox * sw + j * dw - left, width, padding_mode)
                                if row is None or col is None:
                                    continue
                                total += float(x[n, channel, row, col]) * float(w[o, c, i, j])
                    out[n, o, oy, ox] = total
    return out
