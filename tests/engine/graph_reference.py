"""Small ONNX graphs built with onnx.helper, and the check that Layerlab's run of one equals
onnxruntime's at every value (every intermediate is made a graph output, so onnxruntime returns it)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from layerlab.app.config import Settings
from layerlab.engine.graph.run import GraphRun, run
from layerlab.models.onnx_file import read_onnx

OPSET = 20  # Gelu's first; LayerNormalization (17) and ReduceMean's axes input (18) are older
TOLERANCE = 1e-5


def model(
    nodes: Sequence[onnx.NodeProto],
    input_shape: Sequence[int | None],
    weights: dict[str, np.ndarray] | None = None,
    opset: int = OPSET,
    input_name: str = "x",
) -> onnx.ModelProto:
    """A model of these nodes reading one float input; every value any node writes is an output."""
    initializers = [numpy_helper.from_array(np.asarray(v), k) for k, v in (weights or {}).items()]
    image = helper.make_tensor_value_info(input_name, TensorProto.FLOAT, list(input_shape))
    last = helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.UNDEFINED, None)
    graph = helper.make_graph(list(nodes), "test", [image], [last], initializers)
    built = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=10)
    inferred = onnx.shape_inference.infer_shapes(built)
    typed = {v.name: v for v in inferred.graph.value_info}
    typed.update({v.name: v for v in inferred.graph.output})
    written = [name for node in nodes for name in node.output if name]
    del built.graph.output[:]
    built.graph.output.extend(typed[name] for name in written)
    return built


def compare(built: onnx.ModelProto, x: np.ndarray) -> GraphRun:
    """Run the model with Layerlab and onnxruntime; assert every output equal to 1e-5 (relative
    and absolute) with the same shape and kind of dtype; return Layerlab's run."""
    data = built.SerializeToString()
    graph = read_onnx(data, Settings())
    name = built.graph.input[0].name
    ours = run(graph, {name: x})
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    names = [o.name for o in built.graph.output]
    for value, theirs in zip(names, session.run(names, {name: x}), strict=True):
        mine = ours.values[value]
        assert mine.shape == theirs.shape, (value, mine.shape, theirs.shape)
        assert mine.dtype.kind == theirs.dtype.kind, (value, mine.dtype, theirs.dtype)
        np.testing.assert_allclose(mine, theirs, rtol=TOLERANCE, atol=TOLERANCE, err_msg=value)
    return ours


def node(op: str, inputs: Sequence[str], outputs: Sequence[str] | str, **attrs: object) -> onnx.NodeProto:
    """helper.make_node, named after its first output."""
    outs = [outputs] if isinstance(outputs, str) else list(outputs)
    return helper.make_node(op, list(inputs), outs, name=f"{op.lower()}_{outs[0]}", **attrs)


def randn(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.standard_normal(shape).astype(np.float32)
