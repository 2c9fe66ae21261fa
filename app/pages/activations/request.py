"""From a validated activations request to the engine call: the activation as a function of an
array, and the conv feature map it is applied to (with the conv page's settings for a link back)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

from layerlab.app.errors import engine_errors
from layerlab.app.pages.activations.schemas import ActivationParams, MapRequest
from layerlab.engine import activations as A
from layerlab.engine.conv import conv2d
from layerlab.engine.images import sample_image
from layerlab.engine.kernels import PRESETS
from layerlab.engine.trace import Trace


def activation(req: ActivationParams) -> Callable[[np.ndarray], Trace]:
    """The engine function req.kind with req's arguments, taking one array of numbers."""
    kind = req.kind
    if kind == "leaky_relu":
        return partial(A.leaky_relu, negative_slope=req.negative_slope)
    if kind == "prelu":
        return partial(A.prelu, weight=np.array([req.weight]))
    if kind == "elu":
        return partial(A.elu, alpha=req.alpha)
    if kind == "gelu":
        return partial(A.gelu, approximate=req.approximate)
    if kind == "maxout":
        w = np.array([[piece[0]] for piece in req.pieces])  # (k, in_features=1)
        b = np.array([piece[1] for piece in req.pieces])  # (k,)
        return lambda x: A.maxout(np.asarray(x)[..., None], w, b)
    return {"sigmoid": A.sigmoid, "tanh": A.tanh, "relu": A.relu}[kind]


def apply(req: ActivationParams, x: np.ndarray) -> Trace:
    with engine_errors("kind"):
        return activation(req)(x)


def conv_state(req: MapRequest) -> dict:
    """The conv page's settings that draw this feature map (its URL state, static/js/urlstate.js)."""
    return {
        "image": req.image,
        "size": req.size,
        "color": "gray",
        "weight": [[(req.gain * PRESETS[req.kernel].weights).tolist()]],
        "bias": [0.0],
        "stride": [1, 1],
        "padding": "same",
        "padding_mode": "zeros",
        "dilation": [1, 1],
        "relu": req.kind == "relu",
        "filter": 0,
        "step": 0,
    }


def feature_map(req: MapRequest) -> np.ndarray:
    """The grey sample convolved with gain times the kernel preset, 'same' padding: (H, W)."""
    x = sample_image(req.image, req.size, "gray")  # (1, H, W)
    w = req.gain * PRESETS[req.kernel].weights[None, None]  # (1, 1, kH, kW)
    with engine_errors("kernel"):
        return conv2d(x, w, padding="same", record_steps=False).output[0]
