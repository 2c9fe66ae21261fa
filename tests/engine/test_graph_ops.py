"""Each ONNX operator's attributes, one node at a time on a few seeded random shapes, equal onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

from layerlab.app.config import Settings
from layerlab.engine.graph.ir import GraphError
from layerlab.engine.graph.run import layer_table, run
from layerlab.models.onnx_file import read_onnx
from tests.engine.graph_reference import compare, model, node, randn


def one(
    op: str, x: np.ndarray, inputs: dict[str, np.ndarray | None] | None = None, outputs: int = 1, **attrs
):
    """One `op` node reading x then `inputs` (None: an optional input left out), compared to onnxruntime."""
    inputs = inputs or {}
    names = ["x", *("" if v is None else k for k, v in inputs.items())]
    weights = {k: v for k, v in inputs.items() if v is not None}
    outs = [f"y{i}" for i in range(outputs)]
    return compare(model([node(op, names, outs, **attrs)], list(x.shape), weights), x)


CONVS = [
    dict(strides=[2, 1], pads=[1, 0, 2, 1]),
    dict(dilations=[2, 2], pads=[2, 2, 2, 2]),
    dict(group=2, strides=[2, 2]),
    dict(auto_pad="SAME_UPPER", strides=[2, 2]),
    dict(auto_pad="SAME_LOWER", strides=[2, 3]),
    dict(auto_pad="VALID", dilations=[1, 2]),
]


@pytest.mark.parametrize("attrs", CONVS)
def test_conv_strides_pads_dilations_groups_auto_pad(attrs):
    rng = np.random.default_rng(len(str(attrs)))
    group = attrs.get("group", 1)
    x, w = randn(rng, 2, 4, 9, 8), randn(rng, 6, 4 // group, 3, 2)
    ours = one("Conv", x, {"w": w, "b": randn(rng, 6)}, **attrs)
    assert ours.nodes[0].trace.op == "conv2d"
    params = ours.nodes[0].trace.params
    if attrs is CONVS[0]:  # uneven pads: the input is padded first, and the trace says so
        assert params["onnx_pads"] == (1, 0, 2, 1) and params["padding"] == (0, 0)
    if attrs is CONVS[4]:  # SAME_LOWER on an even total: even pads, run as torch's padding
        assert "onnx_pads" not in params and params["padding"] == (1, 0)


@pytest.mark.parametrize(
    "attrs",
    [dict(strides=[2], pads=[2, 1]), dict(dilations=[2], group=2), dict(auto_pad="SAME_UPPER", strides=[3])],
)
def test_conv_1d(attrs):
    rng = np.random.default_rng(len(str(attrs)))
    group = attrs.get("group", 1)
    w = randn(rng, 6, 4 // group, 3)
    built = model([node("Conv", ["x", "w"], "y", **attrs)], [2, 4, 11], {"w": w})
    ours = compare(built, randn(rng, 2, 4, 11))
    assert ours.nodes[0].trace.op == "conv1d"
    row = layer_table(read_onnx(built.SerializeToString(), Settings()), (4, 11))[0]
    assert "nn.Conv1d(4, 6, kernel_size=3" in row.torch and row.parameters == w.size


@pytest.mark.parametrize(
    "attrs",
    [
        dict(strides=[2, 2]),
        dict(strides=[2, 3], pads=[1, 1, 1, 1], output_padding=[1, 2]),
        dict(strides=[2, 1], pads=[0, 1, 2, 0], dilations=[1, 2]),
        dict(group=2, strides=[1, 2]),
    ],
)
def test_conv_transpose_strides_pads_output_padding_groups(attrs):
    rng = np.random.default_rng(len(str(attrs)))
    group = attrs.get("group", 1)
    x, w = randn(rng, 1, 4, 5, 4), randn(rng, 4, 6 // group, 3, 3)
    ours = one("ConvTranspose", x, {"w": w, "b": randn(rng, 6)}, **attrs)
    assert ours.nodes[0].trace.op == "conv_transpose2d"


@pytest.mark.parametrize(
    "attrs",
    [
        dict(kernel_shape=[2, 2], strides=[2, 2]),
        dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1),
        dict(kernel_shape=[3, 2], pads=[0, 1, 2, 0]),
        dict(kernel_shape=[2, 2], strides=[2, 2], auto_pad="SAME_UPPER"),
        dict(kernel_shape=[3, 3], strides=[2, 1], dilations=[2, 1], ceil_mode=1),
        dict(kernel_shape=[2, 3], strides=[3, 2], ceil_mode=1),
        dict(kernel_shape=[3, 3], strides=[2, 2], pads=[0, 0, 1, 1], ceil_mode=1),
        dict(kernel_shape=[3, 3], strides=[2, 2], pads=[2, 2, 2, 2]),
    ],
)
def test_max_pool_with_indices(attrs):
    rng = np.random.default_rng(len(str(attrs)))
    ours = one("MaxPool", randn(rng, 2, 3, 9, 7), outputs=2, **attrs)
    assert ours.nodes[0].trace.op == "max_pool2d"


@pytest.mark.parametrize(
    "attrs",
    [
        dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=1),
        dict(kernel_shape=[3, 2], strides=[2, 2], ceil_mode=1),
        dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1),
        dict(kernel_shape=[2, 2], pads=[0, 1, 1, 0], count_include_pad=1),
        dict(kernel_shape=[3, 3], auto_pad="SAME_UPPER"),
        dict(kernel_shape=[3, 3], pads=[2, 2, 2, 2], count_include_pad=1),
        dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1, count_include_pad=1),
        dict(kernel_shape=[3, 3], strides=[3, 3], pads=[1, 1, 1, 1], ceil_mode=1, count_include_pad=1),
    ],
)
def test_average_pool_count_include_pad_and_ceil_mode(attrs):
    rng = np.random.default_rng(len(str(attrs)))
    ours = one("AveragePool", randn(rng, 1, 3, 8, 7), **attrs)
    assert ours.nodes[0].trace.op == "avg_pool2d"


@pytest.mark.parametrize(
    ("op", "attrs", "words"),
    [
        (
            "AveragePool",
            dict(kernel_shape=[2, 2], pads=[0, 0, 1, 1], ceil_mode=1, count_include_pad=1),
            "count_include_pad 1 and ceil_mode 0 only",
        ),
        (
            "AveragePool",
            dict(kernel_shape=[2, 2], auto_pad="SAME_UPPER", strides=[2, 2]),
            "count_include_pad 1 and ceil_mode 0 only",
        ),
        ("MaxPool", dict(kernel_shape=[2, 2], auto_pad="SAME_MIDDLE"), "auto_pad 'SAME_MIDDLE'"),
    ],
)
def test_attribute_errors_name_the_node(op, attrs, words):
    x = np.zeros((1, 1, 5, 5), np.float32)
    built = model([node(op, ["x"], "y", **attrs)], list(x.shape))
    built.graph.output[0].CopyFrom(
        helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", "c", "h", "w"])
    )
    graph = read_onnx(built.SerializeToString(), Settings())
    with pytest.raises(GraphError, match=words) as caught:
        run(graph, {"x": x})
    assert caught.value.argument == f"{op.lower()}_y"


@pytest.mark.parametrize(
    ("a_shape", "b_shape", "c_shape", "attrs"),
    [
        ((3, 4), (5, 4), (5,), dict(transB=1)),
        ((4, 3), (4, 5), (3, 5), dict(transA=1, alpha=0.5, beta=2.0)),
        ((3, 4), (4, 5), (3, 1), dict()),
        ((3, 4), (4, 5), (), dict(beta=-1.0)),
        ((3, 4), (4, 5), None, dict(alpha=3.0)),
    ],
)
def test_gemm_transposes_alpha_beta_and_c_shapes(a_shape, b_shape, c_shape, attrs):
    rng = np.random.default_rng(len(a_shape + b_shape) + len(attrs))
    c = None if c_shape is None else randn(rng, *c_shape)
    ours = one("Gemm", randn(rng, *a_shape), {"b": randn(rng, *b_shape), "c": c}, **attrs)
    assert ours.nodes[0].trace.op == "linear"


@pytest.mark.parametrize(
    ("target", "allowzero"),
    [([0, -1], 0), ([-1, 6], 0), ([2, 0, 2, -1], 0), ([0, 3, 4, 1], 1), ([24], 0)],
)
def test_reshape_zero_and_minus_one(target, allowzero):
    x = randn(np.random.default_rng(0), 2, 3, 4)
    if allowzero:
        x = np.zeros((0, 3, 4), np.float32)
    one("Reshape", x, {"shape": np.array(target, np.int64)}, allowzero=allowzero)


@pytest.mark.parametrize("mode", ["constant", "reflect", "edge"])
def test_pad_modes_with_axes_and_negative_pads(mode):
    rng = np.random.default_rng(5)
    x = randn(rng, 1, 2, 5, 6)
    one(
        "Pad",
        x,
        {"pads": np.array([0, 0, 1, 2, 0, 0, 3, 1], np.int64), "v": np.array(1.5, np.float32)},
        mode=mode,
    )
    one(
        "Pad",
        x,
        {"pads": np.array([2, -1, 1, 3], np.int64), "v": None, "axes": np.array([2, 3], np.int64)},
        mode=mode,
    )


def test_shape_ops_as_torch_exports_them():
    """Shape -> Gather -> Unsqueeze -> Concat -> Reshape, Slice, Split, Squeeze, Expand, Cast, Where."""
    rng = np.random.default_rng(6)
    nodes = [
        node("Shape", ["x"], "s"),
        node("Gather", ["s", "zero"], "n", axis=0),
        node("Unsqueeze", ["n", "zero_axis"], "n1"),
        node("Concat", ["n1", "minus_one"], "target", axis=0),
        node("Reshape", ["x", "target"], "flat"),
        node("Slice", ["flat", "starts", "ends", "axes", "steps"], "sliced"),
        node("Split", ["x", "halves"], ["top", "bottom"], axis=2),
        node("Unsqueeze", ["top", "zero_axis"], "top5"),
        node("Squeeze", ["top5", "zero_axis"], "top4"),
        node("Expand", ["row", "s"], "rows"),
        node("Cast", ["s"], "s_float", to=1),
        node("Greater", ["x", "rows"], "bigger"),
        node("Where", ["bigger", "x", "rows"], "max"),
        node("Transpose", ["max"], "t", perm=[3, 1, 0, 2]),
        node("Flatten", ["t"], "f", axis=-1),
        node("Split", ["f"], ["f0", "f1", "f2"], axis=1, num_outputs=3),
        node("Shape", ["x"], "tail", start=-2),
    ]
    weights = {
        "zero": np.array(0, np.int64),
        "zero_axis": np.array([0], np.int64),
        "minus_one": np.array([-1], np.int64),
        "starts": np.array([1, -30], np.int64),
        "ends": np.array([2**62, -2], np.int64),
        "axes": np.array([0, -1], np.int64),
        "steps": np.array([1, 3], np.int64),
        "halves": np.array([1, 3], np.int64),
        "row": randn(rng, 5),
    }
    compare(model(nodes, [2, 3, 4, 5], weights, opset=18), randn(rng, 2, 3, 4, 5))


def test_arithmetic_reductions_and_activations():
    rng = np.random.default_rng(7)
    nodes = [
        node("Mul", ["x", "x"], "sq"),
        node("ReduceMean", ["sq", "last"], "ms", keepdims=1),
        node("Add", ["ms", "eps"], "mse"),
        node("Sqrt", ["mse"], "rms"),
        node("Div", ["x", "rms"], "normed"),
        node("Pow", ["normed", "three"], "cubed"),
        node("Sub", ["cubed", "x"], "d"),
        node("Erf", ["d"], "e"),
        node("Sigmoid", ["e"], "sg"),
        node("Tanh", ["d"], "th"),
        node("Gelu", ["d"], "gt", approximate="tanh"),
        node("Softmax", ["gt"], "sm", axis=1),
        node("LayerNormalization", ["d", "ln_s"], ["ln", "ln_mean", "ln_inv"], axis=1),
        node("ReduceMean", ["ln"], "all", keepdims=0),
        node("Clip", ["d", "", "hi"], "clipped"),
        node("Dropout", ["clipped"], "dropped"),
        node("Identity", ["dropped"], "same"),
    ]
    weights = {
        "last": np.array([-1], np.int64),
        "eps": np.array(1e-6, np.float32),
        "three": np.array(3.0, np.float32),
        "ln_s": randn(rng, 3, 4),
        "hi": np.array(0.5, np.float32),
    }
    compare(model(nodes, [2, 3, 4], weights), randn(rng, 2, 3, 4))


def test_integer_division_truncates_as_onnxruntime():
    nodes = [
        node("Shape", ["x"], "s"),
        node("Sub", ["zero", "s"], "neg"),
        node("Div", ["neg", "two"], "half"),
    ]
    weights = {"zero": np.array([0], np.int64), "two": np.array([2], np.int64)}
    compare(model(nodes, [3, 5, 1], weights), np.zeros((3, 5, 1), np.float32))


def test_batch_norm_and_global_pools_follow_their_epsilon():
    rng = np.random.default_rng(8)
    stats = {
        "s": randn(rng, 3),
        "b": randn(rng, 3),
        "m": randn(rng, 3),
        "v": rng.uniform(0.1, 1, 3).astype(np.float32),
    }
    nodes = [
        node("BatchNormalization", ["x", "s", "b", "m", "v"], "bn", epsilon=0.1),
        node("GlobalAveragePool", ["bn"], "avg"),
        node("GlobalMaxPool", ["bn"], "max"),
    ]
    compare(model(nodes, [2, 3, 5, 4], stats), randn(rng, 2, 3, 5, 4))


def test_other_activations_and_instance_norm():
    rng = np.random.default_rng(9)
    nodes = [
        node("PRelu", ["x", "per_channel"], "p"),
        node("PRelu", ["p", "per_column"], "pc"),
        node("Elu", ["pc"], "e", alpha=0.7),
        node("HardSigmoid", ["e"], "hs"),
        node("HardSwish", ["e"], "hw"),
        node("InstanceNormalization", ["hw", "s", "b"], "inorm", epsilon=1e-3),
        node("LogSoftmax", ["inorm"], "ls", axis=1),
    ]
    weights = {
        "per_channel": randn(rng, 3, 1, 1),
        "per_column": randn(rng, 4),
        "s": randn(rng, 3),
        "b": randn(rng, 3),
    }
    ours = compare(model(nodes, [2, 3, 5, 4], weights), randn(rng, 2, 3, 5, 4))
    traces = [None if r.trace is None else r.trace.op for r in ours.nodes]
    assert traces == ["prelu", None, "elu", None, None, "instance_norm", "log_softmax"]


def test_softmax_before_opset_13_flattens_at_its_axis():
    rng = np.random.default_rng(10)
    nodes = [node("Softmax", ["x"], "s"), node("LogSoftmax", ["x"], "ls", axis=2)]
    compare(model(nodes, [2, 3, 4], opset=11), randn(rng, 2, 3, 4))


def test_matmul_by_a_constant_is_a_linear_layer_and_by_an_activation_is_not():
    rng = np.random.default_rng(11)
    w = helper.make_tensor("w", TensorProto.FLOAT, [4, 3], randn(rng, 4, 3).reshape(-1).tolist())
    nodes = [
        helper.make_node("Constant", [], ["w"], name="weight", value=w),
        node("MatMul", ["x", "w"], "y"),
        node("Transpose", ["y"], "yt", perm=[1, 0]),
        node("MatMul", ["y", "yt"], "gram"),
    ]
    ours = compare(model(nodes, [5, 4]), randn(rng, 5, 4))
    assert [r.trace is not None and r.trace.op for r in ours.nodes] == [False, "linear", False, False]


def test_max_products_bounds_a_nodes_work_before_it_runs():
    rng = np.random.default_rng(12)
    built = model(
        [node("Conv", ["x", "w"], "y", pads=[1, 1, 1, 1])], [1, 8, 16, 16], {"w": randn(rng, 8, 8, 3, 3)}
    )
    graph = read_onnx(built.SerializeToString(), Settings())
    x = randn(rng, 1, 8, 16, 16)
    assert run(graph, {"x": x}, max_products=8 * 16 * 16 * 72).nodes[0].trace.op == "conv2d"
    with pytest.raises(GraphError, match="147,456 multiply-adds, more than the limit 1,000") as caught:
        run(graph, {"x": x}, max_products=1000)
    assert caught.value.argument == "conv_y"


def test_causal_mask_as_torch_exports_it():
    """ConstantOfShape, Trilu, Equal, Where with -inf, Range, Tile and LessOrEqual, then Softmax."""
    rng = np.random.default_rng(13)
    one_value = helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0])
    nodes = [
        node("Transpose", ["x"], "xt", perm=[0, 2, 1]),
        node("MatMul", ["x", "xt"], "scores"),
        node("Shape", ["x"], "s", start=1, end=2),
        node("Concat", ["s", "s"], "square", axis=0),
        node("ConstantOfShape", ["square"], "ones", value=one_value),
        node("Trilu", ["ones"], "lower", upper=0),
        node("Equal", ["lower", "zero"], "future"),
        node("Where", ["future", "minus_inf", "scores"], "masked"),
        node("Softmax", ["masked"], "weights", axis=-1),
        node("Squeeze", ["s", "axis0"], "t"),
        node("Range", ["start", "t", "step"], "positions"),
        node("Tile", ["positions", "twice"], "tiled"),
        node("LessOrEqual", ["tiled", "three"], "early"),
    ]
    weights = {
        "zero": np.array(0.0, np.float32),
        "minus_inf": np.array(-np.inf, np.float32),
        "axis0": np.array([0], np.int64),
        "start": np.array(0, np.int64),
        "step": np.array(1, np.int64),
        "twice": np.array([2], np.int64),
        "three": np.array(3, np.int64),
    }
    ours = compare(model(nodes, [1, 5, 4], weights), randn(rng, 1, 5, 4))
    assert np.isneginf(ours.values["masked"][0, 0, 1])


def test_constant_of_shape_and_tile_are_bounded():
    nodes = [
        node("Shape", ["x"], "s"),
        node("Mul", ["s", "big"], "huge"),
        node("ConstantOfShape", ["huge"], "z"),
    ]
    graph = read_onnx(
        model(nodes, [2, 3], {"big": np.array([10**5, 10**5], np.int64)}).SerializeToString(), Settings()
    )
    with pytest.raises(GraphError, match="the shape asked for would hold") as caught:
        run(graph, {"x": np.zeros((2, 3), np.float32)}, max_elements=10**6)
    assert caught.value.argument == "constantofshape_z"
