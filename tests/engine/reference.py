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


# --- references for engine/grouped.py and engine/variants.py -------------------------------------


def conv1d_loop(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    stride: int = 1,
    padding: int | str = 0,
    dilation: int = 1,
    groups: int = 1,
    padding_mode: str = "zeros",
) -> np.ndarray:
    """Reference conv1d: x (N, C_in, L), w (C_out, C_in/groups, k) -> (N, C_out, L_out).

    out[n, o, p] = bias[o] + sum over c, j of padded[n, g*Cg + c, p*stride + j*dilation] * w[o, c, j]
    """
    n_batch, _, length = x.shape
    c_out, c_group, k = w.shape
    if padding == "valid":
        left = right = 0
    elif padding == "same":
        total = dilation * (k - 1)
        left, right = total // 2, total - total // 2
    else:
        left = right = padding
    out_len = (length + left + right - dilation * (k - 1) - 1) // stride + 1
    out = np.zeros((n_batch, c_out, out_len))
    for n in range(n_batch):
        for o in range(c_out):
            group = o // (c_out // groups)
            for p in range(out_len):
                total = 0.0 if b is None else float(b[o])
                for c in range(c_group):
                    for j in range(k):
                        src = _source(p * stride + j * dilation - left, length, padding_mode)
                        if src is not None:
                            total += float(x[n, group * c_group + c, src]) * float(w[o, c, j])
                out[n, o, p] = total
    return out


def channel_shuffle_loop(x: np.ndarray, groups: int) -> np.ndarray:
    """Reference channel shuffle: with C = g*n, output channel i*g + j is input channel j*n + i."""
    per_group = x.shape[1] // groups
    out = np.empty_like(x)
    for j in range(groups):
        for i in range(per_group):
            out[:, i * groups + j] = x[:, j * per_group + i]
    return out


def tiled_conv2d_loop(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
) -> np.ndarray:
    """Reference tiled convolution: x (N, C_in, H, W), w (tH, tW, C_out, C_in, kH, kW), zero padding.

    Output (y, x) uses the kernel w[y % tH, x % tW].
    """
    n_batch, c_in, height, width = x.shape
    th, tw, c_out, _, kh, kw = w.shape
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    oh = (height + 2 * ph - kh) // sh + 1
    ow = (width + 2 * pw - kw) // sw + 1
    out = np.zeros((n_batch, c_out, oh, ow))
    for n in range(n_batch):
        for o in range(c_out):
            for oy in range(oh):
                for ox in range(ow):
                    kernel = w[oy % th, ox % tw, o]
                    total = 0.0 if b is None else float(b[o])
                    for c in range(c_in):
                        for i in range(kh):
                            for j in range(kw):
                                row, col = oy * sh + i - ph, ox * sw + j - pw
                                if 0 <= row < height and 0 <= col < width:
                                    total += float(x[n, c, row, col]) * float(kernel[c, i, j])
                    out[n, o, oy, ox] = total
    return out


def conv_transpose2d_loop(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    output_padding: int | tuple[int, int] = 0,
    groups: int = 1,
    dilation: int | tuple[int, int] = 1,
) -> np.ndarray:
    """Reference conv_transpose2d, written as the scatter it is defined by.

    Every input element x[n, c, i, j] adds x[n, c, i, j] * w[c, o, u, v] to output channel
    g*Cog + o (g = c // (C_in / groups)) at row i*sh - ph + u*dh, column j*sw - pw + v*dw;
    contributions landing outside the output are dropped (that is what padding does here).

    x : ndarray of shape (N, C_in, H, W)
    w : ndarray of shape (C_in, C_out/groups, kH, kW)
    b : ndarray of shape (C_out,) or None
    Returns ndarray of shape (N, C_out, OH, OW), OH = (H-1)*sh - 2*ph + dh*(kH-1) + oph + 1.
    """
    n_batch, c_in, height, width = x.shape
    _, c_og, kh, kw = w.shape
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    oph, opw = _pair(output_padding)
    dh, dw = _pair(dilation)
    oh = (height - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
    ow = (width - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
    in_per_group = c_in // groups
    out = np.zeros((n_batch, c_og * groups, oh, ow))
    for n in range(n_batch):
        for c in range(c_in):
            group = c // in_per_group
            for i in range(height):
                for j in range(width):
                    for o in range(c_og):
                        for u in range(kh):
                            for v in range(kw):
                                row = i * sh - ph + u * dh
                                col = j * sw - pw + v * dw
                                if 0 <= row < oh and 0 <= col < ow:
                                    out[n, group * c_og + o, row, col] += float(x[n, c, i, j]) * float(
                                        w[c, o, u, v]
                                    )
    if b is not None:
        for o in range(c_og * groups):
            out[:, o] += float(b[o])
    return out


def conv_transpose1d_loop(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    stride: int = 1,
    padding: int = 0,
    output_padding: int = 0,
    groups: int = 1,
    dilation: int = 1,
) -> np.ndarray:
    """Reference conv_transpose1d: x[n, c, i] * w[c, o, u] lands at position i*s - p + u*d.

    x : ndarray of shape (N, C_in, L); w : ndarray of shape (C_in, C_out/groups, k)
    Returns ndarray of shape (N, C_out, (L-1)*s - 2p + d*(k-1) + output_padding + 1).
    """
    n_batch, c_in, length = x.shape
    _, c_og, k = w.shape
    out_length = (length - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1
    in_per_group = c_in // groups
    out = np.zeros((n_batch, c_og * groups, out_length))
    for n in range(n_batch):
        for c in range(c_in):
            group = c // in_per_group
            for i in range(length):
                for o in range(c_og):
                    for u in range(k):
                        position = i * stride - padding + u * dilation
                        if 0 <= position < out_length:
                            out[n, group * c_og + o, position] += float(x[n, c, i]) * float(w[c, o, u])
    if b is not None:
        for o in range(c_og * groups):
            out[:, o] += float(b[o])
    return out
