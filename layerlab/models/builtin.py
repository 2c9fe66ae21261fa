"""Layerlab's own models as Graphs, each a layer list and a state_dict read as a learner's file is.

"small-cnn": engine/cnn's trained small CNN (its shipped weights), a Sequential of
Conv2d(1, 8, 3), ReLU, MaxPool2d(2), Conv2d(8, 16, 3), ReLU, MaxPool2d(2), Flatten, Linear(400, 10),
Softmax on (1, 28, 28): 5,258 parameters, the state_dict keys "0.*", "3.*" and "7.*".
"circle": seed 000's circle detector (engine/cnn/circle.py), Conv2d(1, 5, 3, stride=2, bias=False)
then Conv2d(5, 1, 2) on (1, 5, 5), no activations, as the seed has none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from safetensors.numpy import save

from layerlab.engine.calculator import Layer
from layerlab.engine.cnn import circle
from layerlab.engine.cnn.model import load_weights
from layerlab.engine.graph.ir import Graph
from layerlab.models.errors import ModelFileError
from layerlab.models.state_dict import read_state_dict


@dataclass(frozen=True)
class Builtin:
    """A built-in model: what the page says of it, its layer list, input shape and state_dict."""

    label: str
    input_shape: tuple[int, ...]
    layers: tuple[Layer, ...]
    state_dict: Callable[[], dict[str, np.ndarray]]


def _conv(out_channels: int, kernel_size: int, **more: object) -> Layer:
    return Layer("Conv2d", {"out_channels": out_channels, "kernel_size": kernel_size, **more})


def _small_cnn_state_dict() -> dict[str, np.ndarray]:
    """engine/cnn's weights under the keys torch gives the same Sequential ("conv1" is layer 0)."""
    position = {"conv1": "0", "conv2": "3", "fc": "7"}
    return {f"{position[m]}.{p}": w for (m, p), w in ((k.split("."), w) for k, w in load_weights().items())}


def _circle_state_dict() -> dict[str, np.ndarray]:
    return {"0.weight": circle.kernels(), "1.weight": circle.detector(), "1.bias": np.array([circle.BIAS])}


_POOL = Layer("MaxPool2d", {"kernel_size": 2})
BUILTIN: dict[str, Builtin] = {
    "small-cnn": Builtin(
        "The small CNN (trained on digits)",
        (1, 28, 28),
        (_conv(8, 3), Layer("ReLU"), _POOL, _conv(16, 3), Layer("ReLU"), _POOL, Layer("Flatten"))
        + (Layer("Linear", {"out_features": 10}), Layer("Softmax")),
        _small_cnn_state_dict,
    ),
    "circle": Builtin(
        "Seed 000's circle detector",
        (1, 5, 5),
        (_conv(5, 3, stride=circle.STRIDE, bias=False), _conv(1, 2)),
        _circle_state_dict,
    ),
}


def builtin(name: str) -> Graph:
    """A built-in model's Graph, through the safetensors path a learner's state_dict takes."""
    model = BUILTIN.get(name)
    if model is None:
        raise ModelFileError(
            "model", f"no built-in model {name!r}; there are {', '.join(map(repr, BUILTIN))}"
        )
    data = save(model.state_dict())
    return read_state_dict(data, list(model.layers), model.input_shape, name=name)
