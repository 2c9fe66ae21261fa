"""A model's graph as plain data: nodes named by ONNX operator types, tensors as NumPy arrays.

Readers (ONNX files, a state_dict beside a layer list, the built-in models) all produce a `Graph`;
`engine/graph/run.py` runs one. Shapes are NCHW, weights in torch's (and ONNX's) layouts, e.g. a Conv
node's weight is (C_out, C_in/group, kH, kW).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from layerlab.engine.errors import ArgumentError


@dataclass(frozen=True)
class Tensor:
    """A graph input or output: its name, element type and shape (None for a dimension left open,
    e.g. the batch)."""

    name: str
    shape: tuple[int | None, ...]
    dtype: str = "float32"  # NumPy's name for the element type


@dataclass(frozen=True)
class Node:
    """One operator application, as in ONNX: `op` is the ONNX op_type ("Conv", "Relu", "Add", ...),
    `inputs`/`outputs` are value names ("" for an optional input left out), `attrs` its attributes
    as Python values (ints, floats, strings, tuples of them, or np.ndarray for tensor attributes)."""

    name: str
    op: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Graph:
    """Nodes in an order that runs (every input computed before it is read), the graph's inputs and
    outputs, and the initializers (the weights) by value name."""

    nodes: tuple[Node, ...]
    inputs: tuple[Tensor, ...]
    outputs: tuple[str, ...]
    initializers: dict[str, np.ndarray]
    name: str = "model"

    def producer(self, value: str) -> Node | None:
        """The node that writes value (None for a graph input or an initializer)."""
        return next((n for n in self.nodes if value in n.outputs), None)


class GraphError(ArgumentError):
    """A graph that cannot be run: `.argument` names the node (or initializer, or input) at fault."""


def fixed_values(graph: Graph) -> set[str]:
    """The values written in the file: initializers and Constant nodes' outputs."""
    return set(graph.initializers) | {v for n in graph.nodes if n.op == "Constant" for v in n.outputs}
