"""A small Sequential state_dict and its layer list, written as safetensors or .npz bytes."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace

import numpy as np
from safetensors.numpy import save

from layerlab.app.config import settings
from layerlab.engine.calculator import Layer

INPUT_SHAPE = (2, 6, 6)
# conv 2 -> 3 (3x3, padding 1), batch norm, relu, max pool 2, flatten, linear 27 -> 4, softmax
LAYERS = [
    Layer("Conv2d", {"out_channels": 3, "kernel_size": 3, "padding": 1}),
    Layer("BatchNorm2d"),
    Layer("ReLU"),
    Layer("MaxPool2d", {"kernel_size": 2}),
    Layer("Flatten"),
    Layer("Linear", {"out_features": 4}),
    Layer("Softmax"),
]
LAYERS_JSON = [{"kind": layer.kind, "args": dict(layer.args)} for layer in LAYERS]
CONFIG = replace(settings, max_model_bytes=1 << 20, max_model_tensor_elements=10_000, max_model_layer_list=16)


def state_dict(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "0.weight": rng.normal(size=(3, 2, 3, 3)).astype(np.float32),
        "0.bias": rng.normal(size=3).astype(np.float32),
        "1.weight": rng.uniform(0.5, 2, 3).astype(np.float32),
        "1.bias": rng.normal(size=3).astype(np.float32),
        "1.running_mean": rng.normal(size=3).astype(np.float32),
        "1.running_var": rng.uniform(0.5, 2, 3).astype(np.float32),
        "1.num_batches_tracked": np.array(7, dtype=np.int64),
        "5.weight": rng.normal(size=(4, 27)).astype(np.float32),
        "5.bias": rng.normal(size=4).astype(np.float32),
    }


def safetensors_bytes(tensors: dict[str, np.ndarray]) -> bytes:
    return save(tensors)


def npz_bytes(tensors: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **tensors)
    return buffer.getvalue()


def zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()
