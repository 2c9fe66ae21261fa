"""ResNet-18 as an ONNX file, built with onnx.helper (no PyTorch): random weights, seeded.

The graph torch.onnx.export writes for torchvision's resnet18 in eval mode without constant folding,
with its parameter names: conv1 (7x7/2, 64, no bias), bn1, relu, maxpool (3x3/2, pad 1), layer1..layer4
of two BasicBlocks each (3x3 convs without bias, each followed by BatchNormalization; a 1x1/2
conv + BN downsample on the first block of layer2..layer4; Add then Relu), GlobalAveragePool (what
AdaptiveAvgPool2d((1, 1)) exports as), Flatten and Gemm (fc, 512 -> 1000). 11,689,512 parameters
(the BN running means and variances are buffers, not counted), 69 nodes, float32, opset 17.

Weights are He-normal (std sqrt(2 / fan_in)) and the BN statistics near 0 and 1, so activations keep
their scale through the 18 layers and every node's values are ordinary numbers.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

PARAMETERS = 11_689_512  # torchvision's resnet18, sum(p.numel() for p in model.parameters())
INPUT = "input"
OUTPUT = "logits"


class _Builder:
    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []

    def weight(self, name: str, array: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(array.astype(np.float32), name))
        return name

    def node(self, op: str, name: str, inputs: list[str], **attrs: object) -> str:
        self.nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    def conv(self, name: str, x: str, c_in: int, c_out: int, k: int, stride: int, pad: int) -> str:
        w = self.rng.standard_normal((c_out, c_in, k, k)) * np.sqrt(2.0 / (c_in * k * k))
        inputs = [x, self.weight(f"{name}.weight", w)]
        return self.node("Conv", name, inputs, kernel_shape=[k, k], strides=[stride] * 2, pads=[pad] * 4)

    def bn(self, name: str, x: str, c: int) -> str:
        stats = [
            1 + 0.1 * self.rng.standard_normal(c),  # weight (gamma)
            0.1 * self.rng.standard_normal(c),  # bias (beta)
            0.1 * self.rng.standard_normal(c),  # running_mean
            self.rng.uniform(0.5, 1.5, c),  # running_var
        ]
        names = ("weight", "bias", "running_mean", "running_var")
        inputs = [x, *(self.weight(f"{name}.{n}", s) for n, s in zip(names, stats, strict=True))]
        return self.node("BatchNormalization", name, inputs, epsilon=1e-5)

    def block(self, prefix: str, x: str, c_in: int, c_out: int, stride: int) -> str:
        y = self.node(
            "Relu",
            f"{prefix}.relu1",
            [self.bn(f"{prefix}.bn1", self.conv(f"{prefix}.conv1", x, c_in, c_out, 3, stride, 1), c_out)],
        )
        y = self.bn(f"{prefix}.bn2", self.conv(f"{prefix}.conv2", y, c_out, c_out, 3, 1, 1), c_out)
        skip = x
        if stride != 1 or c_in != c_out:
            skip = self.bn(
                f"{prefix}.downsample.1",
                self.conv(f"{prefix}.downsample.0", x, c_in, c_out, 1, stride, 0),
                c_out,
            )
        return self.node("Relu", f"{prefix}.relu2", [self.node("Add", f"{prefix}.add", [y, skip])])


def model(seed: int = 0, classes: int = 1000) -> onnx.ModelProto:
    """ResNet-18 for a 1x3x224x224 float32 input named "input"; output "logits" (1, classes)."""
    b = _Builder(seed)
    x = b.node("Relu", "relu", [b.bn("bn1", b.conv("conv1", INPUT, 3, 64, 7, 2, 3), 64)])
    x = b.node("MaxPool", "maxpool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    c_in = 64
    for stage, width in enumerate((64, 128, 256, 512), start=1):
        for block in range(2):
            stride = 2 if stage > 1 and block == 0 else 1
            x = b.block(f"layer{stage}.{block}", x, c_in, width, stride)
            c_in = width
    x = b.node("Flatten", "flatten", [b.node("GlobalAveragePool", "avgpool", [x])], axis=1)
    fc_w = b.weight("fc.weight", b.rng.standard_normal((classes, 512)) / np.sqrt(512))
    fc_b = b.weight("fc.bias", 0.01 * b.rng.standard_normal(classes))
    b.nodes.append(helper.make_node("Gemm", [x, fc_w, fc_b], [OUTPUT], name="fc", transB=1))
    graph = helper.make_graph(
        b.nodes,
        "resnet18",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, [1, 3, 224, 224])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, [1, classes])],
        b.initializers,
    )
    proto = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="layerlab-bench"
    )
    proto.ir_version = 8  # what onnxruntime 1.17 and later read
    onnx.checker.check_model(proto)
    return proto


def file_bytes(seed: int = 0, classes: int = 1000) -> bytes:
    """The serialized ONNX file (about 47 MB)."""
    return model(seed, classes).SerializeToString()
