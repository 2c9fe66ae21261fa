"""From a validated conv request to engine arguments, and from a trace to the page's JSON."""

from __future__ import annotations

import struct

import numpy as np

from layerlab.app.errors import engine_errors
from layerlab.app.inputs import UploadStore, load_image
from layerlab.app.mathml import tex
from layerlab.app.pages.conv.schemas import ConvParams
from layerlab.engine.activations import relu
from layerlab.engine.calculator import Layer, analyse
from layerlab.engine.conv import conv2d, output_size
from layerlab.engine.trace import Trace

# a live answer over the WebSocket starts with seq, layers, filters, rows, cols (uint32, little-endian)
LIVE_HEADER = struct.Struct("<5I")


def engine_args(
    req: ConvParams, uploads: UploadStore
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, dict]:
    """(input (C, H, W), weight (F, C, kH, kW), bias (F,) or None, keyword arguments) for conv2d.

    The geometry is the engine's to check: its ArgumentError names the argument, which is also
    the request field (weight, stride, padding, dilation), so engine_errors() names the field.
    """
    x = load_image(req.image, req.size, req.color, uploads)
    w = np.asarray(req.weight, dtype=np.float64)
    b = None if req.bias is None else np.asarray(req.bias, dtype=np.float64)
    kwargs = {
        "stride": req.stride,
        "padding": req.padding,
        "dilation": req.dilation,
        "padding_mode": req.padding_mode,
    }
    return x, w, b, kwargs


def live_work(req: ConvParams) -> int:
    """About how many multiply-adds a live request costs (output cells taken as the input's)."""
    kernels = req.weight[0]
    return req.size * req.size * len(kernels[0]) * len(kernels[0][0]) * len(kernels) * req.num_filters


def live_maps(req: ConvParams, uploads: UploadStore) -> np.ndarray:
    """Every filter's output map, and their ReLU when asked: float32 (layers, F, OH, OW)."""
    x, w, b, kwargs = engine_args(req, uploads)
    with engine_errors():
        maps = conv2d(x, w, b, **kwargs, record_steps=False).output  # (F, OH, OW)
    return np.stack([maps, relu(maps).output] if req.relu else [maps]).astype("<f4")


def map_ranges(layers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each map's smallest and largest value, (layers * F,) each, in the order of the maps."""
    return layers.min(axis=(2, 3)).ravel(), layers.max(axis=(2, 3)).ravel()


def live_frame(seq: int, layers: np.ndarray) -> bytes:
    """One binary WebSocket answer: LIVE_HEADER, each map's minimum, each map's maximum (float32), the maps.

    Every part is 4-byte aligned, so the page reads the maps as a Float32Array without copying.
    """
    lo, hi = map_ranges(layers)
    return b"".join((LIVE_HEADER.pack(seq, *layers.shape), lo.tobytes(), hi.tobytes(), layers.tobytes()))


def size_formulas(trace: Trace) -> dict[str, str]:
    """The output-size formula per axis, MathML, with this trace's numbers plugged in."""
    p = trace.params
    formulas = {}
    for axis, (name, letter) in enumerate((("height", "H"), ("width", "W"))):
        size, k = p["input_size"][axis], p["kernel_size"][axis]
        s, d = p["stride"][axis], p["dilation"][axis]
        before, after = p["pads"][2 * axis], p["pads"][2 * axis + 1]
        pad = f"2\\cdot {before}" if before == after else f"{before} + {after}"
        out = output_size(size, before + after, k, s, d)
        formulas[name] = str(
            tex(
                rf"{letter}_{{out}} = \left\lfloor \frac{{{size} + {pad} - {d}\cdot({k} - 1) - 1}}{{{s}}}"
                rf" \right\rfloor + 1 = {out}"
            )
        )
    return formulas


def parameter_formula(weight_shape: tuple[int, ...], has_bias: bool) -> str:
    """The layer's learnable-parameter count, MathML, with its numbers (seed 002 counts Keras layers so)."""
    filters, channels, kh, kw = weight_shape
    count = filters * channels * kh * kw + (filters if has_bias else 0)
    bias = f" + {filters}" if has_bias else ""
    return str(tex(rf"\text{{parameters}} = {filters}\cdot {channels}\cdot {kh}\cdot {kw}{bias} = {count}"))


def torch_line(req: ConvParams, input_shape: tuple[int, int, int]) -> str:
    """The nn.Conv2d constructor for the current settings, as the calculator prints it."""
    kernel = (len(req.weight[0][0]), len(req.weight[0][0][0]))
    args = {
        "out_channels": req.num_filters,
        "kernel_size": kernel,
        "stride": req.stride,
        "padding": req.padding,
        "dilation": req.dilation,
        "bias": req.bias is not None,
        "padding_mode": req.padding_mode,
    }
    return analyse(input_shape, [Layer("Conv2d", args)]).layers[0].torch
