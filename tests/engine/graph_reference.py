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


def resnet18(weight: float = 0.0, classes: int = 1000) -> onnx.ModelProto:
    """ResNet-18 (He et al. 2016, torchvision's layout) as torch exports it in training mode: Conv
    without bias, BatchNormalization unfused; every weight `weight` (ones or zeros build quickly)."""
    nodes, weights = [], {}

    def conv_bn(x: str, name: str, c_in: int, c_out: int, k: int, stride: int, relu: bool) -> str:
        weights[f"{name}.weight"] = np.full((c_out, c_in, k, k), weight, np.float32)
        for part in ("bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"):
            weights[f"{name}.{part}"] = np.ones(c_out, np.float32)
        pad = [k // 2] * 4
        nodes.append(node("Conv", [x, f"{name}.weight"], f"{name}.conv", strides=[stride] * 2, pads=pad))
        bn = [f"{name}.conv", *(f"{name}.bn.{p}" for p in ("weight", "bias", "running_mean", "running_var"))]
        nodes.append(node("BatchNormalization", bn, f"{name}.bn"))
        if not relu:
            return f"{name}.bn"
        nodes.append(node("Relu", [f"{name}.bn"], f"{name}.relu"))
        return f"{name}.relu"

    x = conv_bn("x", "stem", 3, 64, 7, 2, True)
    nodes.append(node("MaxPool", [x], "maxpool", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]))
    x, c_in = "maxpool", 64
    for stage, c_out in enumerate((64, 128, 256, 512), start=1):
        for block in range(2):
            name, stride = f"layer{stage}.{block}", 2 if stage > 1 and block == 0 else 1
            y = conv_bn(x, f"{name}.a", c_in, c_out, 3, stride, True)
            y = conv_bn(y, f"{name}.b", c_out, c_out, 3, 1, False)
            skip = conv_bn(x, f"{name}.downsample", c_in, c_out, 1, stride, False) if stride > 1 else x
            nodes.append(node("Add", [y, skip], f"{name}.add"))
            nodes.append(node("Relu", [f"{name}.add"], f"{name}.out"))
            x, c_in = f"{name}.out", c_out
    weights["fc.weight"] = np.full((classes, 512), weight, np.float32)
    weights["fc.bias"] = np.zeros(classes, np.float32)
    nodes += [
        node("GlobalAveragePool", [x], "avgpool"),
        node("Flatten", ["avgpool"], "flat"),
        node("Gemm", ["flat", "fc.weight", "fc.bias"], "logits", transB=1),
    ]
    initializers = [numpy_helper.from_array(v, k) for k, v in weights.items()]
    image = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 224, 224])
    out = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", classes])
    graph = helper.make_graph(nodes, "resnet18", [image], [out], initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=10)
