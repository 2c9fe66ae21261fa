"""The layer table's torch column: each node as the torch module (its constructor line, as the calculator
writes it) or the torch code that does what it does, from the ONNX attributes and the shapes."""

from __future__ import annotations

import numpy as np

from layerlab.app.config import Settings
from layerlab.engine.calculator import torch_line
from layerlab.engine.graph.run import layer_table
from layerlab.models.onnx_file import read_onnx
from tests.engine.graph_reference import model, node, randn


def torch_column(nodes, shape, weights) -> list[str]:
    graph = read_onnx(model(nodes, shape, weights).SerializeToString(), Settings())
    return [r.torch for r in layer_table(graph, shape[1:])]


def test_windows_pads_and_joins_read_as_torch_code():
    rng = np.random.default_rng(5)
    w, t, b = randn(rng, 4, 2, 3, 3), randn(rng, 4, 3, 2, 2), randn(rng, 3)
    nodes = [
        node("Conv", ["x", "w"], "c", pads=[1, 0, 2, 1]),  # uneven: padded first, as the runner does
        node("Conv", ["x", "w"], "s", auto_pad="SAME_UPPER", strides=[2, 2]),  # 9 -> 5: pads 1, 1
        node("AveragePool", ["c"], "a", kernel_shape=[2, 2], pads=[1, 1, 1, 1]),  # count_include_pad 0
        node("MaxPool", ["c"], "m", kernel_shape=[3, 3], strides=[1, 1], ceil_mode=1),
        node("ConvTranspose", ["s", "t", "b"], "u", strides=[2, 2], group=1),
        node("Concat", ["a", "a"], "j", axis=1),
        node("Add", ["j", "j"], "y"),
        node("Transpose", ["y"], "p", perm=[0, 2, 3, 1]),
    ]
    assert torch_column(nodes, [1, 2, 9, 9], {"w": w, "t": t, "b": b}) == [
        "nn.ZeroPad2d((0, 1, 1, 2)), nn.Conv2d(2, 4, kernel_size=3, bias=False)",
        "nn.Conv2d(2, 4, kernel_size=3, stride=2, padding=1, bias=False)",
        "nn.AvgPool2d(kernel_size=2, stride=1, padding=1, count_include_pad=False)",
        "nn.MaxPool2d(kernel_size=3, stride=1, ceil_mode=True)",
        "nn.ConvTranspose2d(4, 3, kernel_size=2, stride=2)",
        "torch.cat(dim=1)",
        "x + y",
        "x.permute(0, 2, 3, 1)",
    ]


def test_linear_norms_and_softmax_name_their_sizes():
    rng = np.random.default_rng(6)
    nodes = [
        node("Gemm", ["x", "w"], "g", transB=1),
        node("LayerNormalization", ["g", "s", "o"], "n", axis=-1, epsilon=1e-6),
        node("MatMul", ["n", "v"], "h"),
        node("Softmax", ["h"], "y", axis=-1),
    ]
    weights = {"w": randn(rng, 6, 5), "s": randn(rng, 6), "o": randn(rng, 6), "v": randn(rng, 6, 3)}
    assert torch_column(nodes, [2, 5], weights) == [
        "nn.Linear(5, 6, bias=False)", "nn.LayerNorm(6, eps=1e-06)",
        "nn.Linear(6, 3, bias=False)", "nn.Softmax(dim=1)",
    ]  # fmt: skip
    assert torch_line("Conv2d", {"kernel_size": 3}, (1, 8)) == "nn.Conv2d(1, 8, kernel_size=3)"
