"""Plain-loop references for engine/pool.py and engine/pool_regions.py, written from torch's definitions.

Each output element is computed on its own, reading the input through input coordinates (no padded
array, no shared index maths with the engine). Sources: the CPU kernels of torch's max_pool2d
(DilatedMaxPool2d), avg_pool2d (AvgPoolKernel), adaptive pooling, torch.nn.functional.lp_pool2d,
and torchvision's roi_pool. Slow on purpose.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import numpy as np


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[1])


def pool_output_size(
    size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool
) -> int:
    """torch's pooling_output_shape: floor or ceil of (size + 2p - d(k-1) - 1) / s, plus 1.

    In ceil mode the last window must start inside the input or the left padding, else it is dropped.
    """
    span = dilation * (kernel - 1) + 1
    exact = Fraction(size + 2 * padding - span, stride)
    out = (math.ceil(exact) if ceil_mode else math.floor(exact)) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def _sizes(x: np.ndarray, kernel, stride, padding, dilation, ceil_mode):
    kh, kw = _pair(kernel)
    sh, sw = _pair(kernel if stride is None else stride)
    ph, pw = _pair(padding)
    dh, dw = _pair(dilation)
    oh = pool_output_size(x.shape[2], kh, sh, ph, dh, ceil_mode)
    ow = pool_output_size(x.shape[3], kw, sw, pw, dw, ceil_mode)
    return (kh, kw), (sh, sw), (ph, pw), (dh, dw), (oh, ow)


def max_pool2d_loop(
    x: np.ndarray, kernel, stride=None, padding=0, dilation=1, ceil_mode=False
) -> tuple[np.ndarray, np.ndarray]:
    """Reference max_pool2d: x (N, C, H, W) -> (values, indices), both (N, C, OH, OW).

    Only real cells compete (the padding is -inf); the first strictly larger value wins, so ties go to
    the first cell in row-major order. A window without any real cell gives -inf and index -1.
    """
    n_batch, channels, height, width = x.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), (oh, ow) = _sizes(x, kernel, stride, padding, dilation, ceil_mode)
    values = np.full((n_batch, channels, oh, ow), -np.inf)
    indices = np.full((n_batch, channels, oh, ow), -1, dtype=np.int64)
    for n in range(n_batch):
        for c in range(channels):
            for oy in range(oh):
                for ox in range(ow):
                    best, where = None, -1
                    for i in range(kh):
                        for j in range(kw):
                            row, col = oy * sh - ph + i * dh, ox * sw - pw + j * dw
                            if 0 <= row < height and 0 <= col < width:
                                value = float(x[n, c, row, col])
                                if best is None or value > best:
                                    best, where = value, row * width + col
                    if best is not None:
                        values[n, c, oy, ox], indices[n, c, oy, ox] = best, where
    return values, indices


def avg_pool2d_loop(
    x: np.ndarray,
    kernel,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
) -> np.ndarray:
    """Reference avg_pool2d, following torch's CPU kernel.

    The window [h0, h0 + kH) is first cut at H + padding (so a ceil_mode overhang never counts), which
    gives the count_include_pad divisor; then it is cut to the input, whose cells are summed and give the
    other divisor.
    """
    n_batch, channels, height, width = x.shape
    (kh, kw), (sh, sw), (ph, pw), _, (oh, ow) = _sizes(x, kernel, stride, padding, 1, ceil_mode)
    out = np.zeros((n_batch, channels, oh, ow))
    for n in range(n_batch):
        for c in range(channels):
            for oy in range(oh):
                for ox in range(ow):
                    h0, w0 = oy * sh - ph, ox * sw - pw
                    h1, w1 = min(h0 + kh, height + ph), min(w0 + kw, width + pw)
                    pool_size = (h1 - h0) * (w1 - w0)
                    h0, w0, h1, w1 = max(h0, 0), max(w0, 0), min(h1, height), min(w1, width)
                    total = 0.0
                    for row in range(h0, h1):
                        for col in range(w0, w1):
                            total += float(x[n, c, row, col])
                    if divisor_override is not None:
                        divisor = divisor_override
                    elif count_include_pad:
                        divisor = pool_size
                    else:
                        divisor = (h1 - h0) * (w1 - w0)
                    out[n, c, oy, ox] = total / divisor
    return out


def lp_pool2d_loop(x: np.ndarray, norm_type: float, kernel, stride=None, ceil_mode=False) -> np.ndarray:
    """torch.nn.functional.lp_pool2d: (avg_pool2d(x^p, padding 0) * kH*kW) ^ (1/p), element by element."""
    kh, kw = _pair(kernel)
    with np.errstate(invalid="ignore"):
        powered = np.power(x, norm_type)
        averaged = avg_pool2d_loop(powered, kernel, stride, 0, ceil_mode)
        return np.power(averaged * (kh * kw), 1.0 / norm_type)


def mixed_pool2d_loop(x: np.ndarray, kernel, stride=None, padding=0, mix=0.5) -> np.ndarray:
    """mix * max_pool2d + (1 - mix) * avg_pool2d (count_include_pad), from the two references."""
    best, _ = max_pool2d_loop(x, kernel, stride, padding)
    return mix * best + (1 - mix) * avg_pool2d_loop(x, kernel, stride, padding)


def stochastic_pool2d_loop(
    x: np.ndarray, kernel, stride=None, training=True, seed=0
) -> tuple[np.ndarray, np.ndarray]:
    """Stochastic pooling, one window at a time: (values (N, C, OH, OW), draws (N, C, OH, OW, 2)).

    Weights are the activations clamped at 0. Training takes one uniform number per window, windows in
    C order, and walks the window row by row until the running weight exceeds u * total; evaluation
    returns sum(w_i * x_i) / sum(w_i). A window of zero total weight gives 0 and draw (-1, -1).
    """
    n_batch, channels = x.shape[:2]
    (kh, kw), (sh, sw), _, _, (oh, ow) = _sizes(x, kernel, stride, 0, 1, False)
    rng = np.random.default_rng(seed)
    out = np.zeros((n_batch, channels, oh, ow))
    draws = np.full((n_batch, channels, oh, ow, 2), -1, dtype=np.int64)
    for n in range(n_batch):
        for c in range(channels):
            for oy in range(oh):
                for ox in range(ow):
                    cells = [
                        (oy * sh + i, ox * sw + j, float(x[n, c, oy * sh + i, ox * sw + j]))
                        for i in range(kh)
                        for j in range(kw)
                    ]
                    total = 0.0
                    for _, _, value in cells:
                        total += max(value, 0.0)
                    u = rng.random() if training else None
                    if total <= 0:
                        continue
                    if not training:
                        out[n, c, oy, ox] = sum(max(v, 0.0) / total * v for _, _, v in cells)
                        continue
                    running, chosen = 0.0, None
                    for row, col, value in cells:
                        if value <= 0:
                            continue
                        chosen = (row, col, value)  # the last positive cell, should u * total round up
                        running += value
                        if running > u * total:
                            break
                    out[n, c, oy, ox] = chosen[2]
                    draws[n, c, oy, ox] = chosen[:2]
    return out, draws


def adaptive_bin(index: int, size: int, out: int) -> tuple[int, int]:
    """Bin `index` of `out` over `size` cells: [floor(index*size/out), ceil((index+1)*size/out))."""
    return math.floor(Fraction(index * size, out)), math.ceil(Fraction((index + 1) * size, out))


def adaptive_pool2d_loop(
    x: np.ndarray, output_size: tuple[int, int], mode: str
) -> tuple[np.ndarray, np.ndarray]:
    """Adaptive max or avg pooling: (values, indices) (N, C, OH, OW); indices (flat row*W + col) for max."""
    n_batch, channels, height, width = x.shape
    oh, ow = output_size
    out = np.zeros((n_batch, channels, oh, ow))
    indices = np.full((n_batch, channels, oh, ow), -1, dtype=np.int64)
    for n in range(n_batch):
        for c in range(channels):
            for oy in range(oh):
                h0, h1 = adaptive_bin(oy, height, oh)
                for ox in range(ow):
                    w0, w1 = adaptive_bin(ox, width, ow)
                    cells = [
                        (float(x[n, c, r, q]), r * width + q) for r in range(h0, h1) for q in range(w0, w1)
                    ]
                    if mode == "avg":
                        total = 0.0
                        for value, _ in cells:
                            total += value
                        out[n, c, oy, ox] = total / len(cells)
                    else:
                        best, where = cells[0]
                        for value, flat in cells[1:]:
                            if value > best:
                                best, where = value, flat
                        out[n, c, oy, ox], indices[n, c, oy, ox] = best, where
    return out, indices


def spatial_pyramid_pool2d_loop(x: np.ndarray, levels, mode: str) -> np.ndarray:
    """(N, C * sum(l*l)): for each level, the l x l adaptive pooling flattened channel by channel."""
    parts = [adaptive_pool2d_loop(x, (level, level), mode)[0].reshape(x.shape[0], -1) for level in levels]
    return np.concatenate(parts, axis=1)


def _c_round(value: float) -> int:
    """C's round(): halves away from zero."""
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def roi_pool2d_loop(x: np.ndarray, boxes: np.ndarray, output_size, spatial_scale=1.0) -> np.ndarray:
    """torchvision.ops.roi_pool, box by box and bin by bin: (K, C, OH, OW)."""
    _, channels, height, width = x.shape
    oh, ow = _pair(output_size)
    out = np.zeros((len(boxes), channels, oh, ow))
    for k, (batch, x1, y1, x2, y2) in enumerate(boxes):
        start_w, start_h = _c_round(x1 * spatial_scale), _c_round(y1 * spatial_scale)
        end_w, end_h = _c_round(x2 * spatial_scale), _c_round(y2 * spatial_scale)
        roi_w, roi_h = max(end_w - start_w + 1, 1), max(end_h - start_h + 1, 1)
        bin_h, bin_w = roi_h / oh, roi_w / ow
        for oy in range(oh):
            h0 = min(max(math.floor(oy * bin_h) + start_h, 0), height)
            h1 = min(max(math.ceil((oy + 1) * bin_h) + start_h, 0), height)
            for ox in range(ow):
                w0 = min(max(math.floor(ox * bin_w) + start_w, 0), width)
                w1 = min(max(math.ceil((ox + 1) * bin_w) + start_w, 0), width)
                for c in range(channels):
                    values = [float(x[int(batch), c, r, q]) for r in range(h0, h1) for q in range(w0, w1)]
                    out[k, c, oy, ox] = max(values) if values else 0.0
    return out
