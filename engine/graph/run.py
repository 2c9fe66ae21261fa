"""Check a Graph, run it node by node on the engine, and tabulate its layers as torchinfo would.

`check` refuses, before anything runs, a graph naming an operator Layerlab does not run or reading a
value no earlier node, input or initializer provides. `run` keeps every value and every node's
Trace, so each layer can be opened and stepped through. `layer_table` gives one row per node with
its output shape and the parameters torch would count (BatchNormalization's running mean and
variance are buffers, not parameters), computed from shapes alone: no convolution is run for it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from layerlab.engine.graph.ir import Graph, GraphError, Node, fixed_values
from layerlab.engine.graph.ops import OPS, apply
from layerlab.engine.graph.torch_lines import torch_code
from layerlab.engine.trace import Trace

SUPPORTED: frozenset[str] = frozenset(OPS)

Shape = tuple[int, ...]


@dataclass(frozen=True)
class NodeRun:
    """One node as it ran: the shapes it read (None for an optional input left out) and wrote, and
    its engine Trace (None for a plain NumPy operator such as Reshape or Add)."""

    node: Node
    input_shapes: tuple[Shape | None, ...]
    output_shapes: tuple[Shape, ...]
    trace: Trace | None


@dataclass
class GraphRun:
    """Every value a run computed (the feeds too), by name, and every node's run in order."""

    values: dict[str, np.ndarray]
    nodes: list[NodeRun]
    outputs: tuple[str, ...] = ()

    def output(self, index: int = 0) -> np.ndarray:
        """The graph's index-th output value."""
        return self.values[self.outputs[index]]


@dataclass(frozen=True)
class LayerRow:
    """One row of the layer table: the node, torch's name for what it does, the values it reads
    (initializers left out), its first output's shape and the parameters torch counts in it."""

    name: str
    op: str
    torch: str
    inputs: tuple[str, ...]
    output_shape: Shape
    parameters: int


# the inputs (by position) of each operator that torch holds as parameters
_PARAMETER_INPUTS: dict[str, tuple[int, ...]] = {
    "Conv": (1, 2),
    "ConvTranspose": (1, 2),
    "BatchNormalization": (1, 2),  # scale and B; mean and var are buffers
    "LayerNormalization": (1, 2),
    "Gemm": (1, 2),
    "MatMul": (0, 1),
}


def check(graph: Graph, limits: Any = None) -> None:
    """Raise GraphError if the graph cannot run: every unsupported node named at once (the first as
    `.argument`), then the first value read before anything writes it, a value written twice, an
    output never written. limits (the Settings) bounds the node count by its max_model_nodes."""
    most = getattr(limits, "max_model_nodes", None)
    if most is not None and len(graph.nodes) > most:
        raise GraphError("nodes", f"the graph has {len(graph.nodes)} nodes, more than the limit {most}")
    unsupported = [n for n in graph.nodes if n.op not in SUPPORTED]
    if unsupported:
        named = "; ".join(f"node {n.name!r} uses {n.op!r}, which Layerlab does not run" for n in unsupported)
        raise GraphError(unsupported[0].name, named)
    known = {t.name for t in graph.inputs} | set(graph.initializers)
    for node in graph.nodes:
        for value in node.inputs:
            if value and value not in known:
                raise GraphError(
                    node.name,
                    f"node {node.name!r} reads {value!r}, which no earlier node, graph input or "
                    "initializer provides",
                )
        for value in node.outputs:
            if value and value in known:
                raise GraphError(node.name, f"node {node.name!r} writes {value!r}, which is already written")
            known.add(value)
    for value in graph.outputs:
        if value not in known:
            raise GraphError(value, f"the graph's output {value!r} is never computed")


def _feeds(graph: Graph, feeds: Mapping[str, Any], max_elements: int | None) -> dict[str, np.ndarray]:
    values: dict[str, np.ndarray] = {}
    for tensor in graph.inputs:
        if tensor.name in graph.initializers:
            continue
        if tensor.name not in feeds:
            raise GraphError(tensor.name, f"the graph's input {tensor.name!r} is not given")
        value = np.asarray(feeds[tensor.name], dtype=tensor.dtype)
        fits = len(value.shape) == len(tensor.shape) and all(
            want is None or want == got for want, got in zip(tensor.shape, value.shape, strict=True)
        )
        if not fits:
            wanted = tuple("?" if d is None else d for d in tensor.shape)
            raise GraphError(
                tensor.name, f"input {tensor.name!r} must have shape {wanted}, got {value.shape}"
            )
        if max_elements is not None and value.size > max_elements:
            raise GraphError(tensor.name, f"input {tensor.name!r} holds more than {max_elements:,} elements")
        values[tensor.name] = value
    return values


def _execute(
    graph: Graph,
    feeds: Mapping[str, Any],
    max_elements: int | None,
    max_products: int | None,
    shapes_only: bool,
) -> GraphRun:
    check(graph)
    values = _feeds(graph, feeds, max_elements)
    known = {**graph.initializers, **values}
    fixed = fixed_values(graph)
    runs: list[NodeRun] = []
    for node in graph.nodes:
        inputs = [known[v] if v else None for v in node.inputs]
        while inputs and inputs[-1] is None:  # trailing optional inputs left out: the defaults
            inputs.pop()
        outputs, trace = apply(
            node,
            inputs,
            max_elements=max_elements,
            shapes_only=shapes_only,
            constants=[v in fixed for v in node.inputs],
            max_products=max_products,
        )
        named = [v for v in node.outputs if v]
        if len(outputs) < len(node.outputs):
            raise GraphError(
                node.name,
                f"node {node.name!r} ({node.op}) gives {len(outputs)} outputs, not {len(node.outputs)}",
            )
        for value, array in zip(node.outputs, outputs, strict=False):
            if not value:
                continue
            if max_elements is not None and array.size > max_elements:
                raise GraphError(
                    node.name,
                    f"node {node.name!r} ({node.op}) computed {array.size:,} elements, "
                    f"more than the limit {max_elements:,}",
                )
            known[value] = values[value] = array
        shapes = tuple(None if a is None else tuple(np.shape(a)) for a in inputs)
        out_shapes = tuple(tuple(np.shape(known[v])) for v in named)
        runs.append(NodeRun(node, shapes, out_shapes, trace))
    return GraphRun(values, runs, graph.outputs)


def run(
    graph: Graph,
    feeds: Mapping[str, Any],
    *,
    max_elements: int | None = None,
    max_products: int | None = None,
) -> GraphRun:
    """Run every node in order on the engine; feeds maps each graph input (not an initializer) to
    its array, of its declared shape (None dimensions free) and cast to its declared dtype.

    max_elements bounds every value: a node whose output (or padded input) would hold more raises
    GraphError naming it before the value is made. max_products bounds the multiply-adds (window
    cells for a pool) of one Conv, ConvTranspose, pool, MatMul or Gemm, so its time: ResNet-18's
    largest layer does 118 million.
    """
    return _execute(graph, feeds, max_elements, max_products, shapes_only=False)


def _parameter_values(node: Node, graph: Graph, producers: Mapping[str, Node]) -> list[str]:
    """The initializers this node reads that torch holds as parameters."""
    picked = [node.inputs[i] for i in _PARAMETER_INPUTS.get(node.op, ()) if i < len(node.inputs)]
    if node.op == "Add":  # a bias after MatMul by a weight: how torch exports Linear on (B, T, D)
        matmul = [producers.get(v) for v in node.inputs]
        if any(p is not None and p.op == "MatMul" for p in matmul):
            picked = list(node.inputs)
    return [
        v for v in picked if v in graph.initializers and np.asarray(graph.initializers[v]).dtype.kind == "f"
    ]


def layer_table(
    graph: Graph, input_shape: Sequence[int], *, max_elements: int | None = None
) -> list[LayerRow]:
    """One row per node for an input of input_shape (the graph input's full shape, or without its
    batch dimension, then the declared batch or 1). Shapes come from a run on zeros in which the
    heavy operators compute only their output shapes; each initializer's parameters are counted once
    (at its first reader), so the total equals torch's `sum(p.numel() for p in model.parameters())`.
    """
    inputs = [t for t in graph.inputs if t.name not in graph.initializers]
    if len(inputs) != 1:
        raise GraphError("inputs", f"the layer table needs one graph input, the graph has {len(inputs)}")
    shape = tuple(int(d) for d in input_shape)
    if len(shape) == len(inputs[0].shape) - 1:  # without the batch: the declared one, else 1
        shape = (inputs[0].shape[0] or 1, *shape)
    zeros = np.zeros(shape, dtype=inputs[0].dtype)
    ran = _execute(graph, {inputs[0].name: zeros}, max_elements, None, shapes_only=True)
    producers = {v: n for n in graph.nodes for v in n.outputs if v}
    counted: set[str] = set()
    rows = []
    for node_run in ran.nodes:
        node = node_run.node
        owned = [v for v in _parameter_values(node, graph, producers) if v not in counted]
        counted.update(owned)
        rows.append(
            LayerRow(
                name=node.name,
                op=node.op,
                torch=torch_code(node, node_run.input_shapes, (node_run.output_shapes or ((),))[0], graph),
                inputs=tuple(v for v in node.inputs if v and v not in graph.initializers),
                output_shape=node_run.output_shapes[0] if node_run.output_shapes else (),
                parameters=sum(math.prod(np.shape(graph.initializers[v])) for v in owned),
            )
        )
    return rows
