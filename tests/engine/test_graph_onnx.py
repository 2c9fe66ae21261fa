"""Whole ONNX graphs run by Layerlab equal onnxruntime at every node; the ONNX reader's refusals."""

from __future__ import annotations

import dataclasses

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from layerlab.app.config import Settings
from layerlab.engine.graph.ir import GraphError
from layerlab.engine.graph.run import check, layer_table, run
from layerlab.models.errors import ModelFileError
from layerlab.models.onnx_file import read_onnx
from tests.engine.graph_reference import compare, model, node, randn, resnet18


def _bn(rng: np.random.Generator, prefix: str, c: int) -> dict[str, np.ndarray]:
    return {
        f"{prefix}_s": randn(rng, c),
        f"{prefix}_b": randn(rng, c),
        f"{prefix}_m": randn(rng, c),
        f"{prefix}_v": rng.uniform(0.5, 2.0, c).astype(np.float32),
    }


def sequential_cnn(rng: np.random.Generator) -> onnx.ModelProto:
    nodes = [
        node("Conv", ["x", "w1", "b1"], "c1", pads=[1, 1, 1, 1]),
        node("BatchNormalization", ["c1", "bn_s", "bn_b", "bn_m", "bn_v"], "n1", epsilon=1e-3),
        node("Relu", ["n1"], "r1"),
        node("MaxPool", ["r1"], "p1", kernel_shape=[2, 2], strides=[2, 2]),
        node("Conv", ["p1", "w2", "b2"], "c2", strides=[2, 2]),
        node("Relu", ["c2"], "r2"),
        node("GlobalAveragePool", ["r2"], "g"),
        node("Flatten", ["g"], "f"),
        node("Gemm", ["f", "fc_w", "fc_b"], "logits", transB=1),
        node("Softmax", ["logits"], "probs", axis=1),
    ]
    weights = {
        "w1": randn(rng, 4, 3, 3, 3),
        "b1": randn(rng, 4),
        **_bn(rng, "bn", 4),
        "w2": randn(rng, 6, 4, 3, 3),
        "b2": randn(rng, 6),
        "fc_w": randn(rng, 5, 6),
        "fc_b": randn(rng, 5),
    }
    return model(nodes, [1, 3, 12, 12], weights)


def test_sequential_cnn_equals_onnxruntime_at_every_node():
    rng = np.random.default_rng(0)
    ours = compare(sequential_cnn(rng), randn(rng, 1, 3, 12, 12))
    traced = {r.node.op: r.trace.op for r in ours.nodes if r.trace is not None}
    assert traced["Conv"] == "conv2d" and traced["MaxPool"] == "max_pool2d"
    assert traced["BatchNormalization"] == "batch_norm" and traced["Gemm"] == "linear"
    assert [r.node.op for r in ours.nodes if r.trace is None] == ["Flatten"]


def test_residual_block_with_add_equals_onnxruntime():
    rng = np.random.default_rng(1)
    nodes = [
        node("Conv", ["x", "w1"], "c1", pads=[1, 1, 1, 1]),
        node("BatchNormalization", ["c1", "a_s", "a_b", "a_m", "a_v"], "n1"),
        node("Relu", ["n1"], "r1"),
        node("Conv", ["r1", "w2"], "c2", pads=[1, 1, 1, 1]),
        node("BatchNormalization", ["c2", "b_s", "b_b", "b_m", "b_v"], "n2"),
        node("Add", ["n2", "x"], "sum"),
        node("Relu", ["sum"], "out"),
    ]
    weights = {
        "w1": randn(rng, 4, 4, 3, 3),
        "w2": randn(rng, 4, 4, 3, 3),
        **_bn(rng, "a", 4),
        **_bn(rng, "b", 4),
    }
    compare(model(nodes, [2, 4, 7, 7], weights), randn(rng, 2, 4, 7, 7))


def test_depthwise_separable_block_equals_onnxruntime():
    rng = np.random.default_rng(2)
    nodes = [
        node("Conv", ["x", "dw", "dw_b"], "d", group=6, pads=[1, 1, 1, 1], strides=[2, 2]),
        node("Clip", ["d", "lo", "hi"], "d6"),
        node("Conv", ["d6", "pw", "pw_b"], "p"),
        node("LeakyRelu", ["p"], "out", alpha=0.2),
    ]
    weights = {
        "dw": randn(rng, 6, 1, 3, 3),
        "dw_b": randn(rng, 6),
        "pw": randn(rng, 8, 6, 1, 1),
        "pw_b": randn(rng, 8),
        "lo": np.array(0.0, np.float32),
        "hi": np.array(6.0, np.float32),
    }
    compare(model(nodes, [1, 6, 9, 9], weights), randn(rng, 1, 6, 9, 9))


def attention_block(rng: np.random.Generator, t: int = 5, d: int = 8, heads: int = 2) -> onnx.ModelProto:
    """Self-attention as torch exports it: Q/K/V MatMul + Add, heads split by Reshape/Transpose,
    scores scaled by Div, Softmax, weighted sum, heads merged, out projection, residual, LayerNorm,
    a GELU MLP."""
    dk = d // heads
    nodes = []
    for p in "qkv":
        nodes += [
            node("MatMul", ["x", f"w{p}"], f"{p}_mm"),
            node("Add", [f"{p}_mm", f"b{p}"], f"{p}_lin"),
            node("Reshape", [f"{p}_lin", "split_heads"], f"{p}_h"),
        ]
    nodes += [
        node("Transpose", ["q_h"], "q", perm=[0, 2, 1, 3]),
        node("Transpose", ["k_h"], "kt", perm=[0, 2, 3, 1]),
        node("Transpose", ["v_h"], "v", perm=[0, 2, 1, 3]),
        node("MatMul", ["q", "kt"], "scores"),
        node("Div", ["scores", "scale"], "scaled"),
        node("Softmax", ["scaled"], "weights", axis=-1),
        node("MatMul", ["weights", "v"], "heads"),
        node("Transpose", ["heads"], "merged_t", perm=[0, 2, 1, 3]),
        node("Reshape", ["merged_t", "merge_heads"], "merged"),
        node("MatMul", ["merged", "wo"], "o_mm"),
        node("Add", ["o_mm", "bo"], "attn"),
        node("Add", ["x", "attn"], "resid"),
        node("LayerNormalization", ["resid", "ln_s", "ln_b"], "ln", axis=-1, epsilon=1e-5),
        node("MatMul", ["ln", "w_fc"], "fc"),
        node("Gelu", ["fc"], "act"),
        node("MatMul", ["act", "w_proj"], "mlp"),
        node("Add", ["ln", "mlp"], "out"),
    ]
    weights = {f"w{p}": randn(rng, d, d) for p in "qkvo"}
    weights |= {f"b{p}": randn(rng, d) for p in "qkvo"}
    weights |= {
        "split_heads": np.array([0, 0, heads, dk], np.int64),
        "merge_heads": np.array([0, 0, -1], np.int64),
        "scale": np.array(np.sqrt(dk), np.float32),
        "ln_s": randn(rng, d),
        "ln_b": randn(rng, d),
        "w_fc": randn(rng, d, 2 * d),
        "w_proj": randn(rng, 2 * d, d),
    }
    return model(nodes, [1, t, d], weights)


def test_attention_block_equals_onnxruntime():
    rng = np.random.default_rng(3)
    ours = compare(attention_block(rng), randn(rng, 1, 5, 8))
    ops = {r.node.outputs[0]: r.trace.op for r in ours.nodes if r.trace is not None}
    assert ops["q_mm"] == "linear" and ops["weights"] == "softmax" and ops["ln"] == "layer_norm"
    assert "scores" not in ops  # a product of two activations is plain NumPy, not a layer


def test_layer_table_counts_parameters_as_torch_does():
    rng = np.random.default_rng(0)
    graph = read_onnx(sequential_cnn(rng).SerializeToString(), Settings())
    rows = layer_table(graph, (3, 12, 12))
    assert [r.torch for r in rows] == [
        "nn.Conv2d(3, 4, kernel_size=3, padding=1)", "nn.BatchNorm2d(4, eps=0.001)", "nn.ReLU()",
        "nn.MaxPool2d(kernel_size=2)", "nn.Conv2d(4, 6, kernel_size=3, stride=2)", "nn.ReLU()",
        "nn.AdaptiveAvgPool2d(output_size=1)", "nn.Flatten()", "nn.Linear(6, 5)", "nn.Softmax(dim=1)",
    ]  # fmt: skip
    assert [r.output_shape for r in rows] == [
        (1, 4, 12, 12), (1, 4, 12, 12), (1, 4, 12, 12), (1, 4, 6, 6), (1, 6, 2, 2), (1, 6, 2, 2),
        (1, 6, 1, 1), (1, 6), (1, 5), (1, 5),
    ]  # fmt: skip
    # conv 4*3*9 + 4, batch norm 4 + 4 (running mean and var are buffers), conv 6*4*9 + 6, linear 5*6 + 5
    assert [r.parameters for r in rows] == [112, 8, 0, 0, 222, 0, 0, 0, 35, 0]
    assert rows[4].inputs == ("p1",)


def test_layer_table_of_attention_counts_linear_biases_after_matmul():
    graph = read_onnx(attention_block(np.random.default_rng(3)).SerializeToString(), Settings())
    rows = layer_table(graph, (1, 5, 8))
    d = 8
    assert sum(r.parameters for r in rows) == 4 * (d * d + d) + 2 * d + d * 2 * d * 2
    assert {r.name: r.output_shape for r in rows}["matmul_scores"] == (1, 2, 5, 5)


def test_layer_table_of_resnet18_has_torchs_parameter_count_and_shapes():
    graph = read_onnx(resnet18().SerializeToString(), Settings())
    rows = {r.name: r for r in layer_table(graph, (3, 224, 224))}
    assert sum(r.parameters for r in rows.values()) == 11_689_512  # torchvision's resnet18()
    shapes = {name: rows[name].output_shape for name in rows}
    assert shapes["relu_stem.relu"] == (1, 64, 112, 112) and shapes["maxpool_maxpool"] == (1, 64, 56, 56)
    assert shapes["relu_layer2.1.out"] == (1, 128, 28, 28) and shapes["relu_layer3.1.out"] == (1, 256, 14, 14)
    assert shapes["relu_layer4.1.out"] == (1, 512, 7, 7) and shapes["gemm_logits"] == (1, 1000)
    assert rows["conv_layer2.0.downsample.conv"].parameters == 64 * 128
    assert rows["batchnormalization_stem.bn"].parameters == 2 * 64  # weight and bias, not the running stats


def test_unsupported_operators_are_all_named_with_their_nodes():
    nodes = [
        node("Resize", ["x", "", "scales"], "up", mode="nearest"),
        node("Relu", ["up"], "r"),
        node("Round", ["r"], "out"),
    ]
    built = model(nodes, [1, 1, 4, 4], {"scales": np.array([1, 1, 2, 2], np.float32)})
    graph = read_onnx(built.SerializeToString(), Settings())
    with pytest.raises(GraphError) as caught:
        check(graph)
    assert caught.value.argument == "resize_up"
    assert "node 'resize_up' uses 'Resize', which Layerlab does not run" in str(caught.value)
    assert "node 'round_out' uses 'Round'" in str(caught.value)
    with pytest.raises(GraphError, match="resize_up"):
        run(graph, {"x": np.zeros((1, 1, 4, 4), np.float32)})


def test_a_value_read_before_it_is_written_is_named():
    rng = np.random.default_rng(0)
    graph = read_onnx(sequential_cnn(rng).SerializeToString(), Settings())
    swapped = dataclasses.replace(graph, nodes=(graph.nodes[1], graph.nodes[0], *graph.nodes[2:]))
    with pytest.raises(GraphError, match="reads 'c1'") as caught:
        check(swapped)
    assert caught.value.argument == graph.nodes[1].name


def test_a_value_past_max_elements_raises_naming_the_node_before_it_is_made():
    nodes = [node("Relu", ["x"], "r"), node("Expand", ["r", "huge"], "big")]
    built = model(nodes, [1, 4], {"huge": np.array([10**6, 10**6, 4], np.int64)})
    graph = read_onnx(built.SerializeToString(), Settings())
    with pytest.raises(GraphError, match="more than the limit") as caught:
        run(graph, {"x": np.ones((1, 4), np.float32)}, max_elements=10**6)
    assert caught.value.argument == "expand_big"


def test_a_matmul_blow_up_is_refused_before_it_is_computed():
    nodes = [node("Transpose", ["x"], "col", perm=[1, 0]), node("MatMul", ["col", "x"], "outer")]
    graph = read_onnx(model(nodes, [1, 5000]).SerializeToString(), Settings())
    with pytest.raises(GraphError, match="25,000,000 elements") as caught:
        run(graph, {"x": np.ones((1, 5000), np.float32)}, max_elements=1_000_000)
    assert caught.value.argument == "matmul_outer"


# --- the reader ----------------------------------------------------------------------------------


def test_a_truncated_file_and_garbage_bytes_are_refused_as_the_file():
    data = sequential_cnn(np.random.default_rng(0)).SerializeToString()
    for bad in (data[: len(data) // 2], b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, b"", b"hello"):
        with pytest.raises(ModelFileError) as caught:
            read_onnx(bad, Settings())
        assert caught.value.field == "file"


def test_an_initializer_over_the_element_limit_is_refused_before_it_is_read(monkeypatch):
    data = sequential_cnn(np.random.default_rng(0)).SerializeToString()
    limits = dataclasses.replace(Settings(), max_model_tensor_elements=100)

    def never(*args, **kwargs):
        raise AssertionError("an initializer was converted before its size was checked")

    monkeypatch.setattr(numpy_helper, "to_array", never)
    with pytest.raises(ModelFileError, match="w1 holds 108 elements, more than the limit 100") as caught:
        read_onnx(data, limits)
    assert caught.value.field == "w1"


def test_file_node_and_parameter_limits_are_named():
    data = sequential_cnn(np.random.default_rng(0)).SerializeToString()
    for limits, words in [
        ({"max_model_bytes": 100}, "bytes, more than the limit 100"),
        ({"max_model_nodes": 3}, "10 nodes, more than the limit 3"),
        ({"max_model_parameters": 200}, "more than the limit 200"),
    ]:
        with pytest.raises(ModelFileError, match=words):
            read_onnx(data, dataclasses.replace(Settings(), **limits))


def test_external_data_is_refused():
    built = sequential_cnn(np.random.default_rng(0))
    weight = built.graph.initializer[0]
    weight.data_location = TensorProto.EXTERNAL
    weight.ClearField("raw_data")
    weight.external_data.add(key="location", value="weights.bin")
    with pytest.raises(ModelFileError, match="outside the file") as caught:
        read_onnx(built.SerializeToString(), Settings())
    assert caught.value.field == weight.name


def test_reader_keeps_the_input_shape_with_open_dimensions_and_converts_float16():
    rng = np.random.default_rng(0)
    nodes = [node("Conv", ["x", "w"], "y")]
    built = model(nodes, [None, 2, 5, 5], {"w": randn(rng, 3, 2, 3, 3)})
    built.graph.initializer[0].CopyFrom(
        numpy_helper.from_array(randn(rng, 3, 2, 3, 3).astype(np.float16), "w")
    )
    graph = read_onnx(built.SerializeToString(), Settings())
    assert graph.inputs[0].shape == (None, 2, 5, 5) and graph.inputs[0].dtype == "float32"
    assert graph.initializers["w"].dtype == np.float32


def test_subgraphs_are_refused_as_unsupported_operators():
    then = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["a"])],
        "then",
        [],
        [helper.make_tensor_value_info("a", 1, [1, 3])],
    )
    nodes = [
        node("ReduceMax", ["x"], "m", keepdims=0),
        node("Greater", ["m", "zero"], "cond"),
        node("If", ["cond"], "y", then_branch=then, else_branch=then),
    ]
    graph_proto = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", 1, [1, 3])],
        [helper.make_tensor_value_info("y", 1, [1, 3])],
        [numpy_helper.from_array(np.array(0.0, np.float32), "zero")],
    )
    built = helper.make_model(graph_proto, opset_imports=[helper.make_opsetid("", 20)], ir_version=10)
    graph = read_onnx(built.SerializeToString(), Settings())
    with pytest.raises(GraphError, match="node 'if_y' uses 'If', which Layerlab does not run"):
        check(graph)


def test_a_constant_over_the_element_limit_two_inputs_and_an_old_opset_are_refused():
    big = helper.make_tensor("c", TensorProto.FLOAT, [20, 20], np.zeros(400, np.float32))
    constant = [
        helper.make_node("Constant", [], ["c"], name="big_constant", value=big),
        node("Add", ["x", "c"], "y"),
    ]
    limits = dataclasses.replace(Settings(), max_model_tensor_elements=100)
    with pytest.raises(ModelFileError, match="big_constant holds 400 elements") as caught:
        read_onnx(model(constant, [20, 20]).SerializeToString(), limits)
    assert caught.value.field == "big_constant"

    two = model([node("Add", ["x", "x"], "y")], [2, 2])
    two.graph.input.append(helper.make_tensor_value_info("z", TensorProto.FLOAT, [2, 2]))
    with pytest.raises(ModelFileError, match="one input"):
        read_onnx(two.SerializeToString(), Settings())

    old = model([node("Relu", ["x"], "y")], [2, 2])
    old.opset_import[0].version = 6
    with pytest.raises(ModelFileError, match="opset 6"):
        read_onnx(old.SerializeToString(), Settings())


def test_layer_table_computes_shape_arithmetic_done_in_floats():
    """Shape -> Cast to float -> Div -> Cast to int64 -> Reshape, as exports of x.view(n, c // 2, -1) do."""
    nodes = [
        node("Relu", ["x"], "r"),
        node("Shape", ["r"], "s"),
        node("Cast", ["s"], "sf", to=TensorProto.FLOAT),
        node("Div", ["sf", "halves"], "half"),
        node("Cast", ["half"], "hi", to=TensorProto.INT64),
        node("Slice", ["hi", "zero", "two"], "nc"),
        node("Concat", ["nc", "minus_one"], "target", axis=0),
        node("Reshape", ["r", "target"], "y"),
    ]
    weights = {
        "halves": np.array([1, 2, 1, 1], np.float32),
        "zero": np.array([0], np.int64),
        "two": np.array([2], np.int64),
        "minus_one": np.array([-1], np.int64),
    }
    built = model(nodes, [2, 6, 4, 4], weights)
    compare(built, randn(np.random.default_rng(14), 2, 6, 4, 4))
    rows = layer_table(read_onnx(built.SerializeToString(), Settings()), (6, 4, 4))
    assert rows[-1].output_shape == (2, 3, 32)
