"""The ONNX operators Layerlab runs, by op_type (`OPS`), and `apply`, which runs one node.

Each family lives in its own module, with ONNX's semantics (opsets 13 to 21):
- ops_conv: Conv, ConvTranspose, MaxPool, AveragePool, the global pools (and ONNX's padding rules);
- ops_norm: the normalizations, the activations, Softmax and LogSoftmax;
- ops_math: MatMul, Gemm, element-wise arithmetic and comparisons, Clip, Cast, the reductions;
- ops_tensor: shapes and indexing (Reshape, Transpose, Concat, Gather, Slice, Pad, ...);
- ops_context: what every operator receives (`Context`) and returns (`Result`).
Operators with something to step through (convolutions, pools, normalizations, activations, Softmax,
Gemm and MatMul by a weight) go through the engine's traced functions (`layerlab.functional`, torch's
names), so their node carries a Trace; the rest are plain NumPy.
Operator definitions: https://github.com/onnx/onnx/blob/main/docs/Operators.md
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from layerlab.engine.errors import ArgumentError
from layerlab.engine.graph import ops_conv, ops_math, ops_norm, ops_tensor
from layerlab.engine.graph.ir import GraphError, Node
from layerlab.engine.graph.ops_context import Context, Result

OPS: dict[str, Callable[..., Result]] = {**ops_conv.OPS, **ops_norm.OPS, **ops_math.OPS, **ops_tensor.OPS}


def apply(
    node: Node,
    inputs: Sequence[np.ndarray | None],
    *,
    max_elements: int | None = None,
    shapes_only: bool = False,
    constants: Sequence[bool] = (),
    max_products: int | None = None,
) -> Result:
    """Run one node: its outputs (in the node's order) and its engine Trace (None for plain ops).

    The engine's own argument errors come back as a GraphError naming the node.
    """
    ctx = Context(node, max_elements, shapes_only, tuple(constants), max_products)
    try:
        return OPS[node.op](ctx, *inputs)
    except GraphError:
        raise
    except (ArgumentError, ValueError, TypeError, IndexError, ZeroDivisionError) as e:
        raise ctx.error(str(e)) from e
