"""From the convolution-family requests to engine arguments: inputs and fixed weights (the engine checks
the geometry, naming the argument at fault).

The weights the page does not let the user type are presets (tiled, residual) or drawn from a
generator seeded by (salt, output channel, input channel, kernel size) (grouped), so a link
reproduces them and adding a channel leaves the other channels' kernels as they were.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from layerlab.app.pages.family.schemas import (
    Conv1dRequest,
    FlattenedRequest,
    GroupedRequest,
    ResidualRequest,
    TiledRequest,
    TransposedRequest,
)
from layerlab.engine import family_parts
from layerlab.engine.family_parts import fit_kernel
from layerlab.engine.images import sample_image
from layerlab.engine.kernels import PRESETS

WEIGHT_SEED = 3  # seed 003 describes every variant on the page
WEIGHT_STD = 0.5

# Channels past R, G, B are fixed mixes of them: (label, weights on R, G, B, offset).
CHANNEL_MIXES = (
    ("luma", (0.299, 0.587, 0.114), 0.0),
    ("R−G", (1.0, -1.0, 0.0), 0.0),
    ("G−B", (0.0, 1.0, -1.0), 0.0),
    ("B−R", (-1.0, 0.0, 1.0), 0.0),
    ("1−R", (-1.0, 0.0, 0.0), 1.0),
    ("1−G", (0.0, -1.0, 0.0), 1.0),
    ("1−B", (0.0, 0.0, -1.0), 1.0),
    ("(R+G)/2", (0.5, 0.5, 0.0), 0.0),
    ("(G+B)/2", (0.0, 0.5, 0.5), 0.0),
)
RESIDUAL_PRESETS = ("sobel_x", "sobel_y", "edge", "emboss")  # conv1's middle channels, in order
# the tiled view's default kernels, one per tile position in row-major order
TILE_PRESETS = ("sobel_x", "sobel_y", "edge", "sharpen", "gaussian_blur", "emboss", "prewitt_x", "prewitt_y")


@lru_cache(maxsize=64)
def channel_stack(size: int, channels: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """(C, size, size) channels of the sample scene and their names: R, G, B, then CHANNEL_MIXES."""
    rgb = sample_image("scene", size, "rgb")  # (3, H, W) in [0, 1]
    planes, names = list(rgb[:channels]), ["R", "G", "B"][:channels]
    for name, weights, offset in CHANNEL_MIXES[: max(0, channels - 3)]:
        planes.append(np.tensordot(np.array(weights), rgb, axes=1) + offset)
        names.append(name)
    stack = np.stack(planes)
    stack.flags.writeable = False
    return stack, tuple(names)


def gray_or_rgb(color: str, size: int) -> tuple[np.ndarray, list[str]]:
    """The sample scene as (1, H, W) grey or (3, H, W) RGB, with channel names."""
    return sample_image("scene", size, color), (["R", "G", "B"] if color == "rgb" else ["gray"])


def seeded_weight(salt: str, c_out: int, c_in: int, groups: int, k: int) -> np.ndarray:
    """(C_out, C_in/groups, k, k) seed 003's kernels, drawn by the engine (family_parts.seeded_weight)."""
    return family_parts.seeded_weight(WEIGHT_SEED, salt, c_out, c_in, groups, k, WEIGHT_STD)


def seeded_bias(salt: str, c_out: int) -> np.ndarray:
    """(C_out,) biases, seeded like the kernels."""
    return family_parts.seeded_bias(WEIGHT_SEED, salt, c_out, WEIGHT_STD)


# conv1d's arguments as the request names them (the engine's geometry errors name the first)
CONV1D_FIELDS = {"input": "signal", "weight": "kernel"}


def conv1d_args(req: Conv1dRequest) -> tuple[np.ndarray, np.ndarray, dict]:
    """(signal (1, L), weight (1, 1, k), keyword arguments) for engine.grouped.conv1d (which checks them)."""
    x = np.asarray(req.signal, dtype=np.float64)[None]
    w = np.asarray(req.kernel, dtype=np.float64)[None, None]
    kwargs = {
        "stride": req.stride,
        "padding": req.padding,
        "dilation": req.dilation,
        "padding_mode": req.padding_mode,
    }
    return x, w, kwargs


def transposed_args(req: TransposedRequest) -> tuple[np.ndarray, np.ndarray, dict]:
    """(input (1, H, W), weight (1, 1, kH, kW), keyword arguments) for engine.transposed (which checks
    them: a padding that crops the whole output is its error, naming "padding" and the most allowed)."""
    x = np.asarray(req.input, dtype=np.float64)[None]
    w = np.asarray(req.kernel, dtype=np.float64)[None, None]
    s, p, d, o = req.stride, req.padding, req.dilation, req.output_padding
    kwargs = {"stride": s, "padding": p, "output_padding": o, "dilation": d}
    return x, w, kwargs


def grouped_layer(req: GroupedRequest) -> dict:
    """The layer a grouped-view request describes: input, weights, groups and the kernel actually used."""
    x, names = channel_stack(req.size, req.in_channels)
    c_in, c_out = req.in_channels, req.out_channels
    k = 1 if req.mode == "pointwise" else req.kernel_size
    groups = {"grouped": req.groups, "depthwise": c_in}.get(req.mode, 1)
    if req.mode == "separable":
        groups = c_in  # of the depthwise half
    layer = {"x": x, "names": names, "kernel": k, "groups": groups, "padding": req.padding}
    if req.mode == "separable":
        layer["depthwise"] = seeded_weight("depthwise", c_in, c_in, c_in, k)  # (C_in, 1, k, k)
        layer["pointwise"] = seeded_weight("pointwise", c_out, c_in, 1, 1)  # (C_out, C_in, 1, 1)
        layer["depthwise_bias"] = seeded_bias("depthwise", c_in) if req.bias else None
        layer["pointwise_bias"] = seeded_bias("pointwise", c_out) if req.bias else None
    else:
        layer["weight"] = seeded_weight("conv", c_out, c_in, groups, k)  # (C_out, C_in/g, k, k)
        layer["bias"] = seeded_bias("conv", c_out) if req.bias else None
    return layer


def tiled_args(req: TiledRequest) -> tuple[np.ndarray, np.ndarray, dict]:
    """(grey scene (1, H, W), weight (tH, tW, 1, 1, k, k), keyword arguments) for tiled_conv2d."""
    th, tw = req.tile
    k = req.kernel_size
    if req.weight is None:
        names = [TILE_PRESETS[i % len(TILE_PRESETS)] for i in range(th * tw)]
        kernels = np.array([fit_kernel(PRESETS[n].weights, k) for n in names]).reshape(th, tw, k, k)
    else:
        kernels = np.asarray(req.weight, dtype=np.float64)
    x = sample_image("scene", req.size, "gray")
    kwargs = {"tile": (th, tw), "stride": req.stride, "padding": req.padding}
    return x, kernels[:, :, None, None], kwargs


# flattened_conv2d's 1-D filters as the request names them (the engine's span errors name the first)
FLATTENED_FIELDS = {
    "channel_weight": "channel",
    "vertical_weight": "vertical",
    "horizontal_weight": "horizontal",
}


def flattened_args(req: FlattenedRequest) -> tuple[np.ndarray, list[str], dict]:
    """(scene (C, H, W), channel names, keyword arguments) for flattened_conv2d (one output channel)."""
    x, names = gray_or_rgb(req.color, req.size)
    kwargs = {
        "channel_weight": np.array([req.channel], dtype=np.float64),  # (1, C_in)
        "vertical_weight": np.array([req.vertical], dtype=np.float64),  # (1, kH)
        "horizontal_weight": np.array([req.horizontal], dtype=np.float64),  # (1, kW)
        "padding": req.padding,
    }
    return x, names, kwargs


def rank_one_kernel(kwargs: dict) -> np.ndarray:
    """(1, C_in, kH, kW) the full kernel a flattened convolution equals: channel x vertical x horizontal."""
    ch, vert, hor = kwargs["channel_weight"][0], kwargs["vertical_weight"][0], kwargs["horizontal_weight"][0]
    return family_parts.rank_one_kernel(ch, vert, hor)[None]


def residual_args(req: ResidualRequest) -> tuple[np.ndarray, list[str], dict]:
    """(scene (C, H, W), channel names, keyword arguments) for residual_block, no biases.

    conv1's middle channel m is an edge preset (RESIDUAL_PRESETS) averaged over the input
    channels; conv2 adds `scale` times half the middle channels' mean back onto every channel
    (a centre tap), so the block brightens the edges conv1 finds.
    """
    x, names = gray_or_rgb(req.color, req.size)
    c, m, k = x.shape[0], req.mid_channels, req.kernel_size
    edges = np.array(
        [fit_kernel(PRESETS[RESIDUAL_PRESETS[i % len(RESIDUAL_PRESETS)]].weights, k) for i in range(m)]
    )
    centre = fit_kernel(PRESETS["identity"].weights, k)  # (k, k): 1 in the middle
    kwargs = {
        "weight1": np.repeat(edges[:, None] / c, c, axis=1),  # (M, C, k, k)
        "bias1": None,
        "weight2": np.broadcast_to(req.scale * 0.5 / m * centre, (c, m, k, k)).copy(),  # (C, M, k, k)
        "bias2": None,
    }
    return x, names, kwargs
