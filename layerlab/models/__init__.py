"""Open a model file (ONNX, or a safetensors / .npz state_dict beside a layer list) as an engine Graph.

    >>> from layerlab import models
    >>> m = models.load("model.onnx")                  # or a safetensors / .npz state_dict:
    >>> m = models.load("cnn.safetensors", layers="layers.json", input_shape="1,28,28")
    >>> m = models.load("small-cnn")                    # a built-in model: "small-cnn", "circle"
    >>> m.table()                                       # one row per node: op, torch line, shape, parameters
    >>> r = m.run(image)                                # every node's output, run by Layerlab's engine

Nothing is ever unpickled (a `.pt` file is refused with how to export ONNX or safetensors instead);
every size is checked against the `max_model_*` limits of the settings before it is read.

`Model.run(image)` adapts the image to the graph's input (C, H, W) by one rule: an (H, W) image is
one channel; one channel becomes three by repetition and three become one by their luma (ITU-R
BT.601, as Pillow's "L"); then each channel is resized to H x W with Pillow's bilinear filter when
its size differs (a graph whose input leaves H and W open keeps the image's, at most
`max_model_input_side` a side). The values are used as given (no normalisation).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from layerlab.app.config import Settings, settings
from layerlab.engine.calculator import Layer
from layerlab.engine.graph.ir import Graph
from layerlab.models.builtin import BUILTIN, builtin
from layerlab.models.errors import ModelFileError
from layerlab.models.sniff import check_size, kind_of
from layerlab.models.state_dict import as_layers, parse_layer_file, read_state_dict

if TYPE_CHECKING:
    from layerlab.engine.graph.run import GraphRun, LayerRow

__all__ = ["BUILTIN", "Model", "ModelFileError", "builtin", "load"]


@dataclass
class Model:
    """An opened model: its Graph, the kind of file it came from, and the last run."""

    graph: Graph
    kind: str  # "onnx", "safetensors", "npz" or "builtin"
    config: Settings = field(default=settings, repr=False)
    last_run: GraphRun | None = field(default=None, repr=False)

    @property
    def input_shape(self) -> tuple[int | None, ...]:
        """The graph input's shape without its batch axis, e.g. (1, 28, 28); None where left open."""
        return tuple(self.graph.inputs[0].shape[1:])

    def table(self) -> list[LayerRow]:
        """One row per node: name, op, torch line, inputs, output shape, parameters (torch's count)."""
        from layerlab.engine.graph.run import layer_table

        return layer_table(
            self.graph, self._table_shape(), max_elements=self.config.max_model_tensor_elements
        )

    def _table_shape(self) -> tuple[int, ...]:
        side = self.config.max_model_input_side
        return tuple(side if d is None else d for d in self.input_shape)

    def run(self, image: np.ndarray) -> GraphRun:
        """Every node's output on one image (H, W), (C, H, W) or (1, C, H, W), adapted by the rule above."""
        from layerlab.engine.graph.run import run

        x = adapt_image(image, self.input_shape, self.config.max_model_input_side)
        self.last_run = run(
            self.graph,
            {self.graph.inputs[0].name: x},
            max_elements=self.config.max_model_tensor_elements,
            max_products=self.config.max_model_products,
        )
        return self.last_run

    def __repr__(self) -> str:
        shape = "x".join("?" if d is None else str(d) for d in self.input_shape)
        return f"<Model {self.graph.name!r} ({self.kind}): {len(self.graph.nodes)} nodes, input {shape}>"

    def _repr_html_(self) -> str:
        """The layer table, then the last layer's output (of the last run, else of a built-in sample
        image) drawn by the notebook view: self-contained, nothing loaded over the network."""
        from layerlab.engine.trace import Trace
        from layerlab.notebook import trace_html

        rows = self.table()
        cells = "".join(
            "<tr>"
            + "".join(
                f"<td>{html.escape(str(v))}</td>" for v in (r.name, r.op, r.torch, _shape(r.output_shape))
            )
            + f'<td style="text-align:right">{r.parameters:,}</td></tr>'
            for r in rows
        )
        head = "".join(f"<th>{h}</th>" for h in ("name", "op", "torch", "output", "parameters"))
        total = sum(r.parameters for r in rows)
        table = (
            f"<div><b>{html.escape(repr(self))}</b><table><thead><tr>{head}</tr></thead><tbody>{cells}"
            f'<tr><td colspan="4">total</td><td style="text-align:right">{total:,}</td></tr></tbody></table>'
        )
        if self.last_run is None:
            self.run(_sample(self._table_shape()))
        last = self.last_run.nodes[-1] if self.last_run.nodes else None
        if last is None:
            return table + "</div>"
        trace = last.trace
        if trace is None:
            output = self.last_run.values[last.node.outputs[0]]
            trace = Trace(last.node.op, {"node": last.node.name}, output, {})
        return f"{table}<p>{html.escape(last.node.name)}</p>{trace_html(trace)}</div>"


def _shape(shape: Any) -> str:
    return "(" + ", ".join(map(str, shape)) + ")"


def _sample(shape: tuple[int, ...]) -> np.ndarray:
    """A built-in sample image (the digit) for a model's input shape."""
    from layerlab.engine.images import sample_image

    return sample_image("digit", max(4, min(shape[-1], 512)) if len(shape) == 3 else 28, "gray")


def load(
    source: str | Path | bytes,
    layers: Any = None,
    input_shape: Any = None,
    *,
    config: Settings | None = None,
) -> Model:
    """A Model from a file path, the file's bytes or a built-in model's name ("small-cnn", "circle").

    An ONNX file carries its graph; a safetensors or .npz state_dict needs `layers` (a list of
    calculator Layers or {"kind", "args"} dicts, their JSON text, or a path to a JSON file) and
    `input_shape` (C, H, W) (or "C,H,W"), unless the layer list's JSON holds "input_shape".
    ModelFileError (a ValueError) names the field and the problem.
    """
    config = config or settings
    if isinstance(source, str) and source in BUILTIN:
        return Model(builtin(source), "builtin", config)
    data, filename = _read(source, config)
    kind = kind_of(data, filename, config=config)
    name = Path(filename).stem if filename else "model"
    if kind == "onnx":
        if layers is not None:
            raise ModelFileError("layers", "an ONNX file carries its own graph: leave the layer list out")
        from layerlab.models.onnx_file import read_onnx

        return Model(read_onnx(data, config), kind, config)
    if layers is None:
        raise ModelFileError(
            "layers",
            "a state_dict holds the weights only: give the layer list (the calculator's JSON) "
            "and the input shape",
        )
    layer_list, shape = _layers(layers, config)
    shape = input_shape if input_shape is not None else shape
    if shape is None:
        raise ModelFileError("input_shape", "give the input shape (C, H, W) the layer list starts from")
    return Model(read_state_dict(data, layer_list, shape, config, name=name), kind, config)


def _read(source: str | Path | bytes, config: Settings) -> tuple[bytes, str | None]:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source), None
    if not isinstance(source, str | Path):
        raise ModelFileError(
            "file", f"a model is a path, bytes or a built-in name, not {type(source).__name__}"
        )
    path = Path(source)
    try:
        check_size(path.stat().st_size, config)  # before reading it
        return path.read_bytes(), path.name
    except OSError as e:
        builtins = ", ".join(map(repr, BUILTIN))
        raise ModelFileError(
            "file", f"cannot read {str(source)!r}: {e.strerror} (built-in models: {builtins})"
        ) from None


def _layers(layers: Any, config: Settings) -> tuple[list[Layer], tuple[int, ...] | None]:
    """A layer list given as Layers or dicts, as JSON text, or as a JSON file's path."""
    if isinstance(layers, Path) or (isinstance(layers, str) and not layers.lstrip().startswith(("[", "{"))):
        try:
            layers = Path(layers).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise ModelFileError("layers", f"cannot read the layer list {str(layers)!r}: {e}") from None
    if isinstance(layers, str | bytes):
        return parse_layer_file(layers, config)
    return as_layers(layers, config), None


def adapt_image(image: np.ndarray, shape: tuple[int | None, ...], max_side: int) -> np.ndarray:
    """An image as the graph's (1, C, H, W) input, by the rule in this module's docstring."""
    x = np.asarray(image, dtype=np.float64)
    if x.ndim == 4 and x.shape[0] == 1:
        x = x[0]
    elif x.ndim == 2:
        x = x[None]
    if x.ndim != 3:
        raise ModelFileError("image", f"the image must be (H, W), (C, H, W) or (1, C, H, W), not {x.shape}")
    if len(shape) != 3:
        raise ModelFileError("image", f"the model's input is {shape}, not an image (C, H, W)")
    channels, height, width = shape
    if channels is not None and x.shape[0] != channels:
        if {x.shape[0], channels} != {1, 3}:
            raise ModelFileError("image", f"the image has {x.shape[0]} channels; the model takes {channels}")
        from layerlab.engine.images import to_color

        x = to_color(x, "gray" if channels == 1 else "rgb")
    size = (min(height or x.shape[1], max_side), min(width or x.shape[2], max_side))
    if x.shape[1:] != size:
        x = np.stack([_resize(plane, size) for plane in x])
    return x[None]


def _resize(plane: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    from PIL import Image

    resized = Image.fromarray(plane.astype(np.float32)).resize(size[::-1], Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.float64)
