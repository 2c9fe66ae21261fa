"""Convolution variants from seed 003: tiled, flattened, and the residual block.

Tiled convolution learns several kernels in one layer: neighbouring outputs use
different weights and the pattern repeats every tile. Flattened convolution
replaces one C x Y x X filter by three 1-D filters (across channels, vertical,
horizontal). A residual block adds its input back after two convolutions.
"""

from __future__ import annotations

import numpy as np

from layerlab.engine.activations import relu
from layerlab.engine.conv import _pair, conv2d, output_size, pad2d, resolve_padding
from layerlab.engine.errors import ArgumentError
from layerlab.engine.trace import Trace


def tiled_conv2d(
    input: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None = None,
    tile: int | tuple[int, int] = (2, 2),
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 0,
) -> Trace:
    """Tiled convolution (seed 003): weights untied within a tile of outputs, tied across tiles.

    out[n, o, i, j] = bias[o] + sum over c, u, v of
        padded[n, c, i*sh + u, j*sw + v] * weight[i % tH, j % tW, o, c, u, v]
    so tile (1, 1) is conv2d. Zero padding only.

    Parameters
    ----------
    input : ndarray of shape (N, C_in, H, W) or (C_in, H, W)
    weight : ndarray of shape (tH, tW, C_out, C_in, kH, kW), one kernel per tile position
    bias : ndarray of shape (C_out,) or None, shared by the whole tile

    Returns
    -------
    Trace "tiled_conv2d" with output (N, C_out, OH, OW), stages "padded" and "tile_index"
    (OH, OW, 2), the (row, col) of the weight each output position uses, and
    params["parameters"] = tH*tW*C_out*C_in*kH*kW (+ C_out with a bias).
    """
    x = np.asarray(input, dtype=np.float64)
    w = np.asarray(weight, dtype=np.float64)
    if x.ndim not in (3, 4):
        raise ArgumentError("input", f"input must have shape (N, C, H, W) or (C, H, W), got {x.shape}")
    th, tw = _pair(tile, "tile")
    if th < 1 or tw < 1:
        raise ArgumentError("tile", f"tile must be positive, got {(th, tw)}")
    if w.ndim != 6 or w.shape[:2] != (th, tw) or w.shape[3] != x.shape[-3]:
        raise ValueError(
            f"weight must have shape ({th}, {tw}, C_out, {x.shape[-3]}, kH, kW) for tile {(th, tw)}, "
            f"got {w.shape}"
        )
    c_out, c_in, kh, kw = w.shape[2:]
    b = np.zeros(c_out) if bias is None else np.asarray(bias, dtype=np.float64)
    if b.shape != (c_out,):
        raise ArgumentError("bias", f"bias must have shape ({c_out},), got {np.shape(bias)}")
    sh, sw = _pair(stride, "stride")
    if min(sh, sw) < 1:
        raise ArgumentError("stride", f"stride must be positive, got {(sh, sw)}")
    pads = resolve_padding(padding, (kh, kw), (sh, sw), (1, 1))
    padded = pad2d(x, pads, "zeros")
    height, width = x.shape[-2:]
    oh = output_size(height, pads[0] + pads[1], kh, sh, 1)
    ow = output_size(width, pads[2] + pads[3], kw, sw, 1)
    if oh < 1 or ow < 1:
        raise ArgumentError("weight", f"kernel {kh}x{kw} is larger than the padded input {padded.shape[-2:]}")
    out = np.zeros((*x.shape[:-3], c_out, oh, ow))
    # outputs (a + tH*k, b + tW*l) share weight[a, b]: their windows start at row a*sh + k*(tH*sh),
    # so they are one plain conv2d over the input cropped by (a*sh, b*sw) with stride (tH*sh, tW*sw)
    for a in range(min(th, oh)):
        for c in range(min(tw, ow)):
            part = conv2d(
                padded[..., a * sh :, c * sw :], w[a, c], stride=(th * sh, tw * sw), record_steps=False
            )
            out[..., a::th, c::tw] = part.output  # (N, C_out, ceil((OH-a)/tH), ceil((OW-c)/tW))
    out += b[:, None, None]
    rows, cols = np.meshgrid(np.arange(oh) % th, np.arange(ow) % tw, indexing="ij")
    params = {
        "tile": (th, tw),
        "stride": (sh, sw),
        "padding": padding if isinstance(padding, str) else _pair(padding, "padding"),
        "pads": pads,
        "kernel_size": (kh, kw),
        "output_size": (oh, ow),
        "has_bias": bias is not None,
        "parameters": th * tw * c_out * c_in * kh * kw + (c_out if bias is not None else 0),
    }
    stages = {"padded": padded, "tile_index": np.stack([rows, cols], axis=-1)}  # (OH, OW, 2)
    return Trace("tiled_conv2d", params, out, stages)


def flattened_conv2d(
    input: np.ndarray,
    channel_weight: np.ndarray,
    vertical_weight: np.ndarray,
    horizontal_weight: np.ndarray,
    bias: np.ndarray | None = None,
    padding: int | tuple[int, int] | str = 0,
) -> Trace:
    """Flattened convolution (seed 003): per output channel, three 1-D filters in a row.

    First across channels (a 1x1 convolution), then down the rows, then along the columns.
    The result equals conv2d (zero padding, stride 1) with the rank-1 kernel
    w[o, c, u, v] = channel[o, c] * vertical[o, u] * horizontal[o, v].

    Parameters
    ----------
    input : ndarray of shape (N, C_in, H, W) or (C_in, H, W)
    channel_weight : (C_out, C_in); vertical_weight : (C_out, kH); horizontal_weight : (C_out, kW)
    bias : ndarray of shape (C_out,) or None, added after the horizontal filter

    Returns
    -------
    Trace "flattened_conv2d" with output (N, C_out, OH, OW) and stages "after_channel"
    (N, C_out, H, W), "padded" (it, zero padded) and "after_vertical" (N, C_out, OH, W + pads).
    params["operations"] counts multiplications per output feature map as seed 003 does,
    with its a*a (the output side squared) taken as OH*OW:
    "full" = OH*OW*(C_in*kH*kW), "flattened" = OH*OW*(C_in + kH + kW).
    """
    x = np.asarray(input, dtype=np.float64)
    ch = np.asarray(channel_weight, dtype=np.float64)
    vert = np.asarray(vertical_weight, dtype=np.float64)
    hor = np.asarray(horizontal_weight, dtype=np.float64)
    if ch.ndim != 2 or vert.ndim != 2 or hor.ndim != 2 or not ch.shape[0] == vert.shape[0] == hor.shape[0]:
        raise ValueError(
            "channel, vertical and horizontal weights must have shapes (C_out, C_in), (C_out, kH), "
            f"(C_out, kW), got {ch.shape}, {vert.shape}, {hor.shape}"
        )
    c_out, c_in = ch.shape
    kh, kw = vert.shape[1], hor.shape[1]
    after_channel = conv2d(x, ch[:, :, None, None], record_steps=False).output  # (N, C_out, H, W)
    pads = resolve_padding(padding, (kh, kw), (1, 1), (1, 1))
    padded = pad2d(after_channel, pads, "zeros")  # (N, C_out, H + pads, W + pads)
    for argument, taps, side, name in (
        ("vertical_weight", kh, padded.shape[-2], "height"),
        ("horizontal_weight", kw, padded.shape[-1], "width"),
    ):
        if taps > side:
            raise ArgumentError(
                argument,
                f"{argument} of {taps} taps covers {taps}, more than the padded input's {name} {side} "
                f"(kernel {kh}x{kw}, padded input {padded.shape[-2:]})",
            )
    # each output channel filters only its own map: depthwise convolutions (groups = C_out)
    after_vertical = conv2d(padded, vert[:, None, :, None], groups=c_out, record_steps=False).output
    out = conv2d(after_vertical, hor[:, None, None, :], bias, groups=c_out, record_steps=False).output
    oh, ow = out.shape[-2:]
    params = {
        "padding": padding if isinstance(padding, str) else _pair(padding, "padding"),
        "pads": pads,
        "kernel_size": (kh, kw),
        "output_size": (oh, ow),
        "has_bias": bias is not None,
        "operations": {"full": oh * ow * c_in * kh * kw, "flattened": oh * ow * (c_in + kh + kw)},
    }
    stages = {"after_channel": after_channel, "padded": padded, "after_vertical": after_vertical}
    return Trace("flattened_conv2d", params, out, stages)


def residual_block(
    input: np.ndarray,
    weight1: np.ndarray,
    bias1: np.ndarray | None,
    weight2: np.ndarray,
    bias2: np.ndarray | None,
    stride: int = 1,
) -> Trace:
    """Basic residual block (seed 003): y = relu(conv2(relu(conv1(x))) + x).

    Both convolutions keep the size: stride 1 and torch's padding="same" (k//2 on each
    side for odd kernels). The shortcut is the identity, so C_out must equal C_in.

    Parameters
    ----------
    input : ndarray of shape (N, C, H, W) or (C, H, W)
    weight1 : (C_mid, C, kH, kW); bias1 : (C_mid,) or None
    weight2 : (C, C_mid, kH', kW'); bias2 : (C,) or None

    Returns
    -------
    Trace "residual_block" with output (N, C, H, W) and stages "conv1", "relu1", "conv2",
    "identity" (the input) and "sum" (conv2 + identity, before the last relu).
    """
    if _pair(stride, "stride") != (1, 1):
        raise ValueError(f"residual_block supports stride 1 only (no projection shortcut), got {stride}")
    x = np.asarray(input, dtype=np.float64)
    w1, w2 = np.asarray(weight1), np.asarray(weight2)
    if x.ndim not in (3, 4) or w1.ndim != 4 or w2.ndim != 4:
        raise ValueError(
            f"expected input (N, C, H, W) and 4-D weights, got {x.shape}, {w1.shape}, {w2.shape}"
        )
    if w1.shape[1] != x.shape[-3] or w2.shape[0] != x.shape[-3]:
        raise ValueError(
            f"the identity shortcut needs C_out == C_in: input {x.shape} has {x.shape[-3]} channels, "
            f"weight1 {w1.shape} takes {w1.shape[1]} and weight2 {w2.shape} gives {w2.shape[0]}"
        )
    conv1 = conv2d(x, w1, bias1, padding="same", record_steps=False)
    relu1 = relu(conv1.output).output
    conv2 = conv2d(relu1, w2, bias2, padding="same", record_steps=False)
    total = conv2.output + x
    params = {
        "stride": (1, 1),
        "kernel_sizes": (conv1.params["kernel_size"], conv2.params["kernel_size"]),
        "pads": (conv1.params["pads"], conv2.params["pads"]),
        "channels": (x.shape[-3], w1.shape[0], w2.shape[0]),  # in, middle, out
    }
    stages = {"conv1": conv1.output, "relu1": relu1, "conv2": conv2.output, "identity": x, "sum": total}
    return Trace("residual_block", params, relu(total).output, stages)
