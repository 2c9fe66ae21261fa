"""From a model file (or a built-in) and an image to the engine's graph run, and the page's JSON.

The readers and the runner are layerlab.models and layerlab.engine.graph; this module opens, keeps,
fits the input, caps what is sent, and builds the links to the conv, pooling and norm pages.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

import numpy as np
from PIL import Image

from layerlab.app.config import current_settings
from layerlab.app.config import in_effect as S
from layerlab.app.errors import ApiError
from layerlab.app.inputs import UploadStore, load_image
from layerlab.app.pages.model import text as mt
from layerlab.app.pages.model.schemas import ModelInput, ModelRunRequest
from layerlab.app.pages.model.store import ModelStore, Opened, model_id, unknown
from layerlab.app.pages.network.request import load_input as network_input
from layerlab.engine.cnn.data import sample_digit
from layerlab.engine.errors import ArgumentError
from layerlab.engine.functional import avg_pool2d
from layerlab.engine.graph.ir import Graph
from layerlab.engine.graph.run import check, layer_table, run
from layerlab.models.builtin import builtin
from layerlab.models.errors import ModelFileError
from layerlab.models.onnx_file import read_onnx
from layerlab.models.sniff import kind_of
from layerlab.models.state_dict import parse_input_shape, parse_layer_file, read_state_dict


def _file_error(exc: Exception) -> ApiError:
    """A reader's ModelFileError(field, message) or the engine's GraphError as a 422 naming the field."""
    field = getattr(exc, "field", None) or getattr(exc, "argument", None) or "file"
    return ApiError(422, str(field), str(exc))


def parse_shape(text: str | None) -> tuple[int, ...] | None:
    """The input shape field, "1,28,28" or "[1, 28, 28]", as (C, H, W); None when left empty."""
    if text is None or not text.strip():
        return None
    shape = parse_input_shape(text)
    if len(shape) != 3:
        raise ApiError(422, "input_shape", f"this page runs images: give C, H, W, not {shape}")
    return shape


def _input_shape(graph: Graph, given: tuple[int, ...] | None) -> tuple[str, tuple[int, int, int]]:
    """The graph's one image input and its (C, H, W): from the file, open sizes from `given`."""
    inputs = [t for t in graph.inputs if t.name not in graph.initializers]
    if len(inputs) != 1:
        raise ApiError(422, "file", f"the model has {len(inputs)} inputs; this page feeds one image")
    first = inputs[0]
    dims = tuple(first.shape)
    if len(dims) != 4:
        raise ApiError(
            422, "file", f"input {first.name!r} has shape {dims}; this page runs (N, C, H, W) images"
        )
    chw = list(dims[1:])
    for i, d in enumerate(chw):
        if d is None or d < 1:
            if given is None:
                raise ApiError(
                    422, "input_shape", f"input {first.name!r} leaves its sizes open {dims}: give C, H, W"
                )
            chw[i] = given[i]
        elif given is not None and given[i] != d:
            raise ApiError(422, "input_shape", f"the file fixes the input at {tuple(dims[1:])}, not {given}")
    c, h, w = chw
    side = S.max_model_input_side
    if max(h, w) > side:
        raise ApiError(422, "input_shape", f"the input is {h}x{w}; this page runs images up to {side}x{side}")
    return first.name, (c, h, w)


def _opened(key: str, name: str, kind: str, graph: Graph, given: tuple[int, ...] | None) -> Opened:
    input_name, chw = _input_shape(graph, given)
    try:
        check(graph, current_settings())
        rows = layer_table(graph, (1, *chw), max_elements=current_settings().max_model_tensor_elements)
    except ArgumentError as exc:
        raise _file_error(exc) from exc
    return Opened(key, name, kind, graph, input_name, chw, list(rows))


def open_file(
    data: bytes, name: str, layers_text: str | None, shape_text: str | None, store: ModelStore
) -> Opened:
    """Read an ONNX file, or a safetensors/.npz state_dict with its layer list, check it, keep it."""
    try:
        given = parse_shape(shape_text)
    except ModelFileError as exc:
        raise _file_error(exc) from exc
    key = model_id(data, layers_text or "", str(given or ""))
    if (kept := store.get(key)) is not None:
        return kept
    config = current_settings()
    try:
        kind = kind_of(data, name, config=config)
        if kind == "onnx":
            graph = read_onnx(data, config)
        else:
            if not (layers_text and layers_text.strip()):
                raise ApiError(422, "layers", f"a {kind} file holds weights only: give its layer list too")
            layers, in_file = parse_layer_file(layers_text, config)
            given = given or (in_file if in_file is not None and len(in_file) == 3 else None)
            if given is None:
                raise ApiError(
                    422, "input_shape", "a state_dict needs the input shape (C, H, W) beside its layers"
                )
            graph = read_state_dict(data, layers, given, config, name=name)
            kind = "state_dict"
    except (ModelFileError, ArgumentError) as exc:
        raise _file_error(exc) from exc
    return store.put(_opened(key, name, kind, graph, given if kind == "onnx" else None))


def open_builtin(name: str, store: ModelStore) -> Opened:
    """A built-in model (the small CNN, the circle detector) through the same path as a file."""
    key = f"builtin:{name}"
    if (kept := store.get(key)) is not None:
        return kept
    label = {"small-cnn": "small CNN (digits)", "circle": "circle detector (seed 000)"}[name]
    return store.put(_opened(key, label, "builtin", builtin(name), None))


def find(key: str, store: ModelStore) -> Opened:
    """The opened model named by a request (a built-in opens on demand)."""
    model = store.get(key)
    if model is None and key.startswith("builtin:"):
        name = key.removeprefix("builtin:")
        if name not in mt.BUILTIN_NAMES:
            raise ApiError(
                422, "model", f"unknown built-in {name!r}; choose one of {', '.join(mt.BUILTIN_NAMES)}"
            )
        model = open_builtin(name, store)
    if model is None:
        raise unknown(key)
    return model


def opened_body(model: Opened) -> dict:
    """The layer column: each node's name, op, torch line, output shape and parameters, and the words."""
    rows = [
        {
            "name": r.name,
            "op": r.op,
            "torch": r.torch,
            "inputs": list(r.inputs),
            "output_shape": list(r.output_shape),
            "parameters": int(r.parameters),
            "link": mt.link_page(r.op),
        }
        for r in model.rows
    ]
    total = sum(r["parameters"] for r in rows)
    return {
        "id": model.id,
        "name": model.name,
        "kind": model.kind,
        "input": {"name": model.input_name, "shape": list(model.input_shape)},
        "layers": rows,
        "total_parameters": total,
        "explain": mt.explain(model.name, model.input_shape, rows, total),
    }


# ---- the input ---------------------------------------------------------------------------------------


def _resize(planes: np.ndarray, h: int, w: int) -> np.ndarray:
    """(C, h0, w0) resized to exactly (C, h, w) (box filter down, bilinear up)."""
    if planes.shape[1:] == (h, w):
        return planes
    method = (
        Image.Resampling.BOX if planes.shape[1] >= h and planes.shape[2] >= w else Image.Resampling.BILINEAR
    )
    return np.stack(
        [np.asarray(Image.fromarray(p.astype(np.float32), mode="F").resize((w, h), method)) for p in planes]
    ).astype(np.float64)


def _channels(picture: np.ndarray, c: int) -> np.ndarray:
    """A grey (1, H, W) or colour (3, H, W) picture as c channels: grey repeated, colour kept or made grey."""
    if c == picture.shape[0]:
        return picture
    grey = picture if picture.shape[0] == 1 else np.tensordot([0.299, 0.587, 0.114], picture, axes=1)[None]
    return np.repeat(grey, c, axis=0)


def load_input(req: ModelInput, model: Opened, uploads: UploadStore) -> tuple[np.ndarray, str]:
    """The model's input (1, C, H, W), fitted to its input shape, and where it came from. The small CNN
    reads its input as on its own page (fitted as its training digits were, dark ink turned over)."""
    if model.id == "builtin:small-cnn":
        x, where = network_input(req, uploads)
        return x[None, None], where
    c, h, w = model.input_shape
    if req.source == "sample":
        picture, where = (
            sample_digit(req.digit, req.seed)[None],
            f"generated digit {req.digit}, seed {req.seed}",
        )
    elif req.source == "matrix":
        picture = np.asarray(req.matrix, dtype=np.float64)[None]
        where = f"your drawing ({picture.shape[1]}x{picture.shape[2]})"
    else:
        color = "gray" if c == 1 else "rgb"
        picture = load_image(req.image, max(h, w), color, uploads)  # a sample drawn at the model's size
        where = "the uploaded picture" if req.image.startswith("upload:") else f"the sample {req.image!r}"
    x = _resize(_channels(picture, c), h, w)
    return x[None], where


# ---- running ---------------------------------------------------------------------------------------


PREVIEW_SIDE = (
    32  # "every layer's maps" draws a map larger than this as the means of blocks (one click: full)
)


def _budget() -> int:
    """Values of maps one answer carries: max_model_maps full-size maps at max_model_input_side."""
    return S.max_model_maps * S.max_model_input_side**2


def _maps(value: np.ndarray, full: bool) -> dict:
    """One node's output as the page draws it: up to max_model_maps channels of (H, W), or a vector.
    Unless `full`, maps larger than PREVIEW_SIDE come as the means of f x f blocks (avg_pool2d, the
    edge blocks' means over the cells they hold), with f named."""
    v = np.asarray(value)
    if v.ndim == 4:
        maps, f = v[0, : S.max_model_maps], -(-max(v.shape[2:]) // PREVIEW_SIDE)
        body = {"kind": "maps", "channels": int(v.shape[1]), "preview": 1}
        if full or f == 1:
            return body | {"maps": maps}
        pooled = avg_pool2d(maps.astype(np.float64), f, f, ceil_mode=True, count_include_pad=False)
        return body | {"maps": np.asarray(pooled.output), "preview": f}
    if v.ndim == 2:
        return {"kind": "vector", "vector": v[0, : S.max_model_maps * 64], "length": int(v.shape[1])}
    return {"kind": "other", "shape": list(v.shape)}


def _size(body: dict) -> int:
    return int(np.size(body.get("maps", body.get("vector", 0))))


def _probabilities(graph: Any, values: dict[str, np.ndarray], labels: list[str] | None) -> dict | None:
    """A classifier's class probabilities: its Softmax's output, or the softmax of its last output."""
    last = np.asarray(values[graph.outputs[0]])
    if last.ndim != 2 or last.shape[1] < 2:
        return None
    node = graph.producer(graph.outputs[0])
    if node is not None and node.op == "Softmax":
        probs, how = last[0].astype(np.float64), f"the output of {node.name} (Softmax)"
    else:
        z = last[0].astype(np.float64)
        e = np.exp(z - z.max())
        probs, how = e / e.sum(), f"softmax of {graph.outputs[0]!r}, the last output (the logits)"
    names = labels or [str(k) for k in range(len(probs))]
    return {"probs": probs, "labels": names, "predicted": int(probs.argmax()), "how": how}


class _Runs:
    """The last few runs per worker (their values), so a link after a run does not run the model again."""

    def __init__(self, capacity: int = 2) -> None:
        self._runs: OrderedDict[str, tuple[np.ndarray, dict[str, np.ndarray], str]] = OrderedDict()
        self._capacity, self._lock = capacity, threading.Lock()

    def get(self, key: str) -> tuple[np.ndarray, dict[str, np.ndarray], str] | None:
        with self._lock:
            return self._runs.get(key)

    def put(self, key: str, ran: tuple[np.ndarray, dict[str, np.ndarray], str]) -> None:
        with self._lock:
            self._runs[key] = ran
            while len(self._runs) > self._capacity:
                self._runs.popitem(last=False)


_RUNS = _Runs()


def run_model(req: ModelInput, model: Opened, uploads: UploadStore) -> tuple[np.ndarray, dict, list, str]:
    """The input, every value the engine computed (by name), the node runs, and where the input came from."""
    x, where = load_input(req, model, uploads)
    try:
        result = run(
            model.graph,
            {model.input_name: x.astype(np.float32)},
            max_elements=S.max_model_tensor_elements,
            max_products=S.max_model_products,
        )
    except ArgumentError as exc:
        raise _file_error(exc) from exc
    _RUNS.put(_run_key(req, model), (x, result.values, where))
    return x, result.values, [n.node for n in result.nodes], where


def _run_key(req: ModelInput, model: Opened) -> str:
    fields = req.model_dump(include={"source", "matrix", "digit", "seed", "image", "invert"})
    return model.id + json.dumps(fields, sort_keys=True)


def values_of(req: ModelInput, model: Opened, uploads: UploadStore) -> dict[str, np.ndarray]:
    """Every value of the model's run on this input: the last run's when it was this one."""
    kept = _RUNS.get(_run_key(req, model))
    return kept[1] if kept is not None else run_model(req, model, uploads)[1]


def run_body(req: ModelRunRequest, model: Opened, uploads: UploadStore) -> dict:
    """Every layer's maps (within the budget, the selected layer's always) and the probabilities."""
    x, values, nodes, where = run_model(req, model, uploads)
    budget = _budget()
    layers = []
    for node in nodes:
        body = {"name": node.name, "op": node.op, "shape": list(np.shape(values[node.outputs[0]]))}
        maps = _maps(values[node.outputs[0]], full=node.name == req.layer)
        if _size(maps) <= budget or node.name == req.layer:
            budget -= _size(maps)
            body |= maps
        else:
            body |= {
                "kind": "omitted",
                "why": "over this answer's budget of values: click the layer to see it",
            }
        layers.append(body)
    return {
        "model": model.id,
        "source": where,
        "input": x[0, : S.max_model_maps],
        "layers": layers,
        "classes": _probabilities(model.graph, values, model.labels),
    }
