"""What every ONNX operator receives and returns, and the small helpers the operator families share.

Every operator is `op(ctx, *inputs) -> (outputs, trace)`: inputs in the node's order (None for an
optional input left out), `ctx` the node's attributes, the bound on every value computed (checked
before the value is made) and whether to compute values at all (`shapes_only`: the heavy operators
then return zeros of the right shape, for the layer table). `Result` is that pair: the outputs and
the engine Trace (None for a plain NumPy operator).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from layerlab.engine.graph.ir import GraphError, Node
from layerlab.engine.trace import Trace

Result = tuple[tuple[np.ndarray, ...], Trace | None]


_SHAPE_VALUES = 64  # more elements than a shape tensor has (at most one per dimension, and a few)


@dataclass
class Context:
    """What an operator needs besides its inputs: its node, the bound on values, the mode."""

    node: Node
    max_elements: int | None = None
    shapes_only: bool = False
    constants: tuple[bool, ...] = ()  # which inputs are fixed in the file (initializers, Constants)
    max_products: int | None = None  # multiply-adds one node may do (a bound on its time)

    def attr(self, name: str, default: Any = None) -> Any:
        return self.node.attrs.get(name, default)

    def error(self, message: str) -> GraphError:
        return GraphError(self.node.name, f"node {self.node.name!r} ({self.node.op}): {message}")

    def guard(self, shape: Sequence[int], what: str = "its output") -> tuple[int, ...]:
        """shape, after checking that a value of that shape stays within max_elements."""
        shape = tuple(int(d) for d in shape)
        if min(shape, default=0) < 0:
            raise self.error(f"{what} would have a negative dimension: {shape}")
        size = math.prod(shape)
        if self.max_elements is not None and size > self.max_elements:
            raise self.error(
                f"{what} would hold {size:,} elements {shape}, more than the limit {self.max_elements:,}"
            )
        return shape

    def work(self, products: int) -> None:
        """Check that a node doing `products` multiply-adds stays within max_products."""
        if self.max_products is not None and products > self.max_products:
            raise self.error(
                f"it would do {products:,} multiply-adds, more than the limit {self.max_products:,}"
            )

    def skips(self, shape: Sequence[int]) -> bool:
        """Whether a cheap operator may return zeros of its shape: in a shapes-only run, for a value
        larger than any shape computation (which must be computed: a Reshape may read it)."""
        return self.shapes_only and math.prod(shape) > _SHAPE_VALUES

    def constant(self, index: int) -> bool:
        return index < len(self.constants) and self.constants[index]


def traced(trace: Trace) -> Result:
    return (np.asarray(trace.output),), trace


def plain(*arrays: np.ndarray) -> Result:
    return tuple(np.asarray(a) for a in arrays), None


def ints(value: Any) -> tuple[int, ...]:
    return tuple(int(v) for v in np.asarray(value).reshape(-1))


def zeros(ctx: Context, shape: Sequence[int], dtype: Any = np.float32) -> Result:
    return plain(np.zeros(ctx.guard(shape), dtype))


def broadcast(ctx: Context, *arrays: np.ndarray) -> tuple[int, ...]:
    try:
        return ctx.guard(np.broadcast_shapes(*(np.shape(a) for a in arrays)))
    except ValueError as e:
        raise ctx.error(f"inputs {[np.shape(a) for a in arrays]} do not broadcast") from e


def axis_index(ctx: Context, axis: int, ndim: int) -> int:
    if not -ndim <= axis < ndim:
        raise ctx.error(f"axis {axis} is out of range for {ndim} dimensions")
    return int(axis) % ndim
