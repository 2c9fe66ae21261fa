"""Read an ONNX file (what torch.onnx.export and the Keras / TensorFlow converters write) as a Graph.

The `onnx` package parses and checks the file; nothing is run or unpickled. Limits (app/config.py's
Settings) are checked from the protobuf's declared sizes before any tensor becomes a NumPy array:
the file's bytes, the node count, each initializer's and each Constant's elements, and all the
initializers together. Weights stored outside the file (external data) are refused: a file must be
complete in itself. Float16 and float64 tensors become float32 (the engine computes in float64 and
keeps float32 values); integer tensors (shapes, indices) keep their type.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import onnx
from onnx import AttributeProto, TensorProto, helper, numpy_helper

from layerlab.engine.graph.ir import Graph, Node, Tensor
from layerlab.models.errors import ModelFileError

_FLOATS = (TensorProto.FLOAT16, TensorProto.DOUBLE, TensorProto.BFLOAT16)
_OLDEST_OPSET = 7  # before it, BatchNormalization and others had attributes Layerlab does not read


def _parse(data: bytes, config: Any) -> onnx.ModelProto:
    if len(data) > config.max_model_bytes:
        raise ModelFileError(
            "file", f"the file is {len(data):,} bytes, more than the limit {config.max_model_bytes:,}"
        )
    try:
        model = onnx.ModelProto.FromString(data)
    except Exception as e:  # protobuf's DecodeError and the like: not a whole ONNX file
        raise ModelFileError("file", f"not an ONNX file, or a truncated one ({e})") from e
    if model.ir_version <= 0 or not model.HasField("graph") or not model.graph.node:
        raise ModelFileError("file", "not an ONNX file: no graph of nodes in it")
    return model


def _elements(tensor: TensorProto) -> int:
    return math.prod(int(d) for d in tensor.dims)


def _check_tensor(tensor: TensorProto, what: str, config: Any) -> None:
    """Refuse external data and oversized tensors from the declared dims, before any conversion."""
    if tensor.data_location == TensorProto.EXTERNAL or len(tensor.external_data):
        raise ModelFileError(
            what, f"{what}'s data is stored outside the file (external data): save the model as one file"
        )
    if min((int(d) for d in tensor.dims), default=0) < 0:
        raise ModelFileError(what, f"{what} has a negative dimension {tuple(tensor.dims)}")
    size = _elements(tensor)
    if size > config.max_model_tensor_elements:
        raise ModelFileError(
            what, f"{what} holds {size:,} elements, more than the limit {config.max_model_tensor_elements:,}"
        )


def _array(tensor: TensorProto, what: str) -> np.ndarray:
    try:
        array = numpy_helper.to_array(tensor)
    except Exception as e:  # data shorter than its dims, an unknown type
        raise ModelFileError(what, f"{what} cannot be read: {e}") from e
    if tensor.data_type in _FLOATS:
        array = array.astype(np.float32)
    return array


def _attribute(attr: AttributeProto, node: str, config: Any) -> Any:
    if attr.type in (AttributeProto.GRAPH, AttributeProto.GRAPHS):
        return "subgraph"  # If / Loop / Scan: refused by check() as operators Layerlab does not run
    if attr.type == AttributeProto.TENSOR:
        _check_tensor(attr.t, node, config)
        return _array(attr.t, node)
    if attr.type in (AttributeProto.SPARSE_TENSOR, AttributeProto.TENSORS, AttributeProto.SPARSE_TENSORS):
        raise ModelFileError(
            node, f"node {node!r}: attribute {attr.name!r} holds tensors Layerlab does not read"
        )
    value = helper.get_attribute_value(attr)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list):
        return tuple(v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in value)
    return value


def _shape(value: onnx.ValueInfoProto) -> tuple[int | None, ...]:
    dims = value.type.tensor_type.shape.dim
    return tuple(int(d.dim_value) if d.HasField("dim_value") else None for d in dims)


def _nodes(graph: onnx.GraphProto, opset: int, config: Any) -> tuple[Node, ...]:
    nodes, seen = [], set()
    for i, proto in enumerate(graph.node):
        name = proto.name or f"{proto.op_type.lower()}_{i}"
        if name in seen:
            name = f"{name}_{i}"
        seen.add(name)
        op = proto.op_type if proto.domain in ("", "ai.onnx") else f"{proto.domain}.{proto.op_type}"
        attrs = {a.name: _attribute(a, name, config) for a in proto.attribute}
        if op == "Softmax" and opset < 13:  # the older Softmax: a 2-D softmax of the input flattened at axis
            attrs = {"axis": attrs.get("axis", 1), "flatten_at_axis": 1}
        nodes.append(Node(name, op, tuple(proto.input), tuple(proto.output), attrs))
    return tuple(nodes)


def read_onnx(data: bytes, config: Any) -> Graph:
    """The Graph in an ONNX file's bytes, or ModelFileError naming the field ("file", or the node or
    initializer at fault) and the limit or the problem. Operators are not checked here: `check`
    (layerlab.engine.graph.run) names every one Layerlab does not run."""
    model = _parse(data, config)
    graph = model.graph
    if len(graph.node) > config.max_model_nodes:
        raise ModelFileError(
            "file", f"the graph has {len(graph.node):,} nodes, more than the limit {config.max_model_nodes:,}"
        )
    total = 0
    for tensor in graph.initializer:
        _check_tensor(tensor, tensor.name, config)
        total += _elements(tensor)
    if total > config.max_model_parameters:
        raise ModelFileError(
            "file",
            f"the initializers hold {total:,} elements, more than the limit {config.max_model_parameters:,}",
        )
    if len(graph.sparse_initializer):
        raise ModelFileError("file", "sparse initializers are not supported")
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as e:
        raise ModelFileError("file", f"the ONNX checker refused the file: {str(e).splitlines()[0]}") from e
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    if opset < _OLDEST_OPSET:
        raise ModelFileError(
            "file", f"opset {opset} is older than {_OLDEST_OPSET}: export with a newer opset"
        )
    initializers = {t.name: _array(t, t.name) for t in graph.initializer}
    inputs = [v for v in graph.input if v.name not in initializers]
    if len(inputs) != 1:
        names = [v.name for v in inputs]
        raise ModelFileError("file", f"Layerlab runs a model with one input (an image), this one has {names}")
    elem = inputs[0].type.tensor_type.elem_type
    dtype = np.float32 if elem in (*_FLOATS, TensorProto.FLOAT) else helper.tensor_dtype_to_np_dtype(elem)
    image = Tensor(inputs[0].name, _shape(inputs[0]), np.dtype(dtype).name)
    return Graph(
        nodes=_nodes(graph, opset, config),
        inputs=(image,),
        outputs=tuple(v.name for v in graph.output),
        initializers=initializers,
        name=graph.name or "model",
    )
