"""engine.calculator_graph.analyse_graph: ResNet-18 from its published architecture, a skip, a concat,
wiring."""

from __future__ import annotations

from collections import Counter

import pytest

from layerlab.app.config import Settings
from layerlab.engine.calculator import Layer, StackError, analyse
from layerlab.engine.calculator_graph import GraphLayer, analyse_graph
from layerlab.engine.graph.run import layer_table
from layerlab.models.onnx_file import read_onnx
from tests.engine.graph_reference import resnet18 as resnet18_onnx


def conv(name: str, out: int, k: int, stride: int = 1, padding: int = 0, source: str | None = None):
    args = {"out_channels": out, "kernel_size": k, "stride": stride, "padding": padding, "bias": False}
    return GraphLayer(name, "Conv2d", args, (source,) if source else ())


def basic_block(prefix: str, source: str, out: int, stride: int) -> list[GraphLayer]:
    """torchvision's BasicBlock: conv3x3-bn-relu-conv3x3-bn, plus the input (or a 1x1 conv + bn), relu."""
    layers = [
        conv(f"{prefix}.conv1", out, 3, stride, 1, source),
        GraphLayer(f"{prefix}.bn1", "BatchNorm2d"),
        GraphLayer(f"{prefix}.relu1", "ReLU"),
        conv(f"{prefix}.conv2", out, 3, 1, 1),
        GraphLayer(f"{prefix}.bn2", "BatchNorm2d"),
    ]
    skip = source
    if stride != 1:  # the first block of layer2..layer4 halves the map and widens the channels
        layers += [conv(f"{prefix}.downsample.0", out, 1, stride, 0, source)]
        layers += [GraphLayer(f"{prefix}.downsample.1", "BatchNorm2d")]
        skip = f"{prefix}.downsample.1"
    layers += [GraphLayer(f"{prefix}.add", "Add", {}, (f"{prefix}.bn2", skip))]
    return layers + [GraphLayer(f"{prefix}.relu2", "ReLU")]


def resnet18() -> list[GraphLayer]:
    """He et al. 2015, as torchvision.models.resnet18 builds it (its module names)."""
    layers = [
        conv("conv1", 64, 7, 2, 3, "x"),
        GraphLayer("bn1", "BatchNorm2d"),
        GraphLayer("relu", "ReLU"),
        GraphLayer("maxpool", "MaxPool2d", {"kernel_size": 3, "stride": 2, "padding": 1}),
    ]
    source = "maxpool"
    for stage, (width, stride) in enumerate(((64, 1), (128, 2), (256, 2), (512, 2)), start=1):
        for block in range(2):
            layers += basic_block(f"layer{stage}.{block}", source, width, stride if block == 0 else 1)
            source = f"layer{stage}.{block}.relu2"
    layers += [GraphLayer("avgpool", "AdaptiveAvgPool2d", {"output_size": (1, 1)})]
    return layers + [GraphLayer("flatten", "Flatten"), GraphLayer("fc", "Linear", {"out_features": 1000})]


def test_resnet18_has_torchvisions_shapes_and_11_689_512_parameters():
    report = analyse_graph({"x": (3, 224, 224)}, resnet18())
    rows = {r.name: r for r in report.layers}

    def params(prefix: str) -> int:
        return sum(r.parameters for r in report.layers if r.name.startswith(prefix))

    assert (
        rows["conv1"].output_shape == (64, 112, 112) and rows["conv1"].parameters == 64 * 3 * 7 * 7 == 9_408
    )
    assert rows["bn1"].parameters == 128
    assert rows["maxpool"].output_shape == (64, 56, 56)
    # per stage: the output after its last block, and its parameters (3x3 convs without bias, 2C per BN,
    # the 1x1 downsample and its BN in the first block of layer2..layer4), as torchinfo lists them
    stages = {
        "layer1": ((64, 56, 56), 4 * 64 * 64 * 9 + 4 * 128),  # 147,968
        "layer2": ((128, 28, 28), 128 * 64 * 9 + 3 * 128 * 128 * 9 + 128 * 64 + 5 * 256),  # 525,568
        "layer3": ((256, 14, 14), 256 * 128 * 9 + 3 * 256 * 256 * 9 + 256 * 128 + 5 * 512),  # 2,099,712
        "layer4": ((512, 7, 7), 512 * 256 * 9 + 3 * 512 * 512 * 9 + 512 * 256 + 5 * 1024),  # 8,393,728
    }
    for stage, (shape, count) in stages.items():
        assert rows[f"{stage}.1.relu2"].output_shape == shape
        assert params(stage + ".") == count
    assert [params(f"layer{i}.") for i in range(1, 5)] == [147_968, 525_568, 2_099_712, 8_393_728]
    assert rows["layer2.0.downsample.0"].parameters == 128 * 64 == 8_192
    assert rows["layer2.0.add"].input_shapes == ((128, 28, 28), (128, 28, 28))
    assert rows["layer2.0.add"].torch == "layer2.0.bn2 + layer2.0.downsample.1"
    assert rows["avgpool"].output_shape == (512, 1, 1)
    assert rows["avgpool"].torch == "nn.AdaptiveAvgPool2d(output_size=1)"
    assert rows["fc"].output_shape == (1000,) and rows["fc"].parameters == 512 * 1000 + 1000 == 513_000
    assert rows["conv1"].torch == "nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)"
    assert report.total_parameters == 11_689_512
    assert report.output_shape == (1000,) and report.outputs == {"fc": (1000,)}
    # MACs: conv1, then per stage (OH*OW) * the 3x3 and 1x1 taps of its convolutions, then fc
    macs = 64 * 112 * 112 * 3 * 49 + 56 * 56 * 4 * 64 * 64 * 9
    for width, side in ((128, 28), (256, 14), (512, 7)):
        macs += side * side * (width * width // 2 * 9 + 3 * width * width * 9 + width * width // 2)
    assert report.total_macs == macs + 512 * 1000 == 1_814_073_344  # torchinfo's 1.81 G mult-adds
    # the skip's field is inside the main branch's, so the join keeps the larger: 435 pixels at layer4
    assert rows["layer4.1.relu2"].receptive_field == (435, 435) and rows["layer4.1.relu2"].jump == (32, 32)
    assert rows["avgpool"].receptive_field == (435 + 6 * 32, 435 + 6 * 32)
    assert rows["fc"].receptive_field is None


def test_a_residual_skip_of_another_shape_raises_naming_the_add():
    layers = basic_block("block", "x", 128, 2)
    layers = [layer for layer in layers if "downsample" not in layer.name]  # the 1x1 conv left out
    layers[-2] = GraphLayer("block.add", "Add", {}, ("block.bn2", "x"))
    with pytest.raises(StackError) as caught:
        analyse_graph({"x": (64, 56, 56)}, layers)
    assert caught.value.name == "block.add" and caught.value.index == 5
    assert str(caught.value) == (
        "layer 5 'block.add' (Add): adds inputs of one shape, "
        "but 'block.bn2' is (128, 28, 28) and 'x' is (64, 56, 56)"
    )


def test_concat_adds_the_channels_of_its_branches_and_refuses_other_sides():
    branches = [
        conv("a", 16, 1, source="x"),
        conv("b", 24, 3, padding=1, source="x"),
        GraphLayer("pool", "MaxPool2d", {"kernel_size": 3, "stride": 1, "padding": 1}, ("x",)),
    ]
    joined = analyse_graph(
        {"x": (8, 10, 10)}, [*branches, GraphLayer("cat", "Concat", {}, ("a", "b", "pool"))]
    )
    cat = joined.layers[-1]
    assert cat.output_shape == (16 + 24 + 8, 10, 10) and cat.parameters == 0
    assert cat.torch == "torch.cat([a, b, pool], dim=1)"
    assert cat.receptive_field == (3, 3) and cat.start == (0.0, 0.0)  # the 3x3 fields hold the 1x1's
    assert joined.outputs == {"cat": (48, 10, 10)}
    wide = analyse_graph(
        {"x": (8, 10, 10)}, [*branches[:2], GraphLayer("w", "Concat", {"dim": 3}, ("a", "a"))]
    )
    assert wide.layers[-1].output_shape == (16, 10, 20) and wide.layers[-1].receptive_field is None
    assert wide.outputs == {"b": (24, 10, 10), "w": (16, 10, 20)}
    strided = [branches[0], conv("s", 24, 3, stride=2, padding=1, source="x")]
    with pytest.raises(
        StackError, match=r"layer 2 'cat' \(Concat\): concatenates along dim 1, so every other"
    ):
        analyse_graph({"x": (8, 10, 10)}, [*strided, GraphLayer("cat", "Concat", {}, ("a", "s"))])


@pytest.mark.parametrize(
    ("layers", "index", "fragment"),
    [
        (
            [GraphLayer("r", "ReLU", {}, ("y",))],
            0,
            "reads 'y', which is neither an input nor an earlier layer",
        ),
        ([GraphLayer("x", "ReLU")], 0, "the name 'x' is already taken"),
        ([GraphLayer("r", "ReLU", {}, ("x", "x"))], 0, "takes one input, got 2: x, x"),
        ([GraphLayer("s", "Add", {}, ("x",))], 0, "joins 2 or more inputs, got 1"),
        ([GraphLayer("c", "Concat", {"dim": 0}, ("x", "x"))], 0, "not the batch"),
        ([GraphLayer("p", "AdaptiveAvgPool2d", {"output_size": 0})], 0, "output_size must be"),
    ],
)
def test_wiring_mistakes_name_the_layer(layers, index, fragment):
    with pytest.raises(StackError) as caught:
        analyse_graph({"x": (4, 8, 8)}, layers)
    assert caught.value.index == index and fragment in str(caught.value)
    assert str(caught.value).startswith(f"layer {index} {layers[index].name!r}")


def test_a_chain_is_the_same_as_analyse_and_keeps_rejecting_joins():
    layers = [
        Layer("Conv2d", {"out_channels": 4, "kernel_size": 3}),
        Layer("AdaptiveAvgPool2d", {"output_size": 3}),
    ]
    chain = analyse((1, 7, 7), layers).layers
    graph = analyse_graph(
        {"x": (1, 7, 7)}, [GraphLayer(str(i), layer.kind, layer.args) for i, layer in enumerate(layers)]
    )
    assert [(r.output_shape, r.parameters, r.receptive_field) for r in chain] == [
        (r.output_shape, r.parameters, r.receptive_field) for r in graph.layers
    ]
    assert chain[1].output_shape == (4, 3, 3) and chain[1].receptive_field is None  # 5 cells into 3: uneven
    with pytest.raises(StackError, match=r"layer 0 \(Add\): joins 2 or more inputs.*use analyse_graph"):
        analyse((1, 7, 7), [Layer("Add")])


def test_resnet18_layer_by_layer_equals_the_onnx_graph_runners_table():
    """The calculator and engine.graph's layer table (an ONNX ResNet-18 built with onnx.helper) agree."""
    onnx_names = {
        "Conv2d": "Conv",
        "BatchNorm2d": "BatchNormalization",
        "ReLU": "Relu",
        "MaxPool2d": "MaxPool",
    }
    onnx_names |= {
        "AdaptiveAvgPool2d": "GlobalAveragePool",
        "Linear": "Gemm",
        "Add": "Add",
        "Flatten": "Flatten",
    }
    ours = Counter(
        (onnx_names[r.kind], r.output_shape, r.parameters)
        for r in analyse_graph({"x": (3, 224, 224)}, resnet18()).layers
    )
    table = layer_table(read_onnx(resnet18_onnx().SerializeToString(), Settings()), (3, 224, 224))
    assert ours == Counter((r.op, r.output_shape[1:], r.parameters) for r in table)
