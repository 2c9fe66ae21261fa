"""Opened models, kept per worker under their file's content address, least recently used dropped."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from layerlab.app.config import in_effect as S
from layerlab.app.errors import ApiError

UNKNOWN_MODEL = "unknown_model"  # the error type of a request naming a model this worker does not have


@dataclass(frozen=True)
class Opened:
    """A model ready to run: its graph, the one input it reads (C, H, W), its layer table and labels."""

    id: str
    name: str
    kind: str  # "onnx", "state_dict" or "builtin"
    graph: Any  # layerlab.engine.graph.ir.Graph
    input_name: str
    input_shape: tuple[int, int, int]
    rows: list = field(default_factory=list)  # layerlab.engine.graph.run.LayerRow, one per node
    labels: list[str] | None = None  # class names, when the model gives them


def model_id(data: bytes, *extra: str) -> str:
    """The id of an opened file: the SHA-256 of its bytes (and of the layer list and input shape that
    came with it), so the same file has the same id on every worker and the page can send it again."""
    digest = hashlib.sha256(data)
    for part in extra:
        digest.update(b"\0" + part.encode())
    return "model:" + digest.hexdigest()[:16]


class ModelStore:
    """Opened models by id, at most `capacity`, least recently used dropped first."""

    def __init__(self, capacity: int) -> None:
        self._models: OrderedDict[str, Opened] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def put(self, model: Opened) -> Opened:
        with self._lock:
            self._models[model.id] = model
            self._models.move_to_end(model.id)
            while len(self._models) > self._capacity:
                self._models.popitem(last=False)
        return model

    def get(self, key: str) -> Opened | None:
        with self._lock:
            model = self._models.get(key)
            if model is not None:
                self._models.move_to_end(key)
            return model

    def clear(self) -> None:
        """Forget every model, as a restarted worker or another machine would."""
        with self._lock:
            self._models.clear()


async def models_of(request: Request) -> ModelStore:
    """This app's store (made on first use: one per app, so per worker)."""
    store = getattr(request.app.state, "models", None)
    if store is None:
        store = request.app.state.models = ModelStore(request.app.state.settings.max_models_kept)
    return store


def unknown(key: str) -> ApiError:
    """404 with `"type": "unknown_model"`: the page opens the file again and retries once."""
    return ApiError(
        404,
        "model",
        f"{key} is not open on this server (models are kept in memory per worker, the latest "
        f"{S.max_models_kept}); open the file again",
        kind=UNKNOWN_MODEL,
    )
