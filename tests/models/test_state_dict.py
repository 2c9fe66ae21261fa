"""A state_dict beside a layer list, as a Graph of ONNX-named nodes; every refusal names its key."""

from __future__ import annotations

import json

import numpy as np
import pytest

from layerlab.engine.calculator import Layer
from layerlab.models.builtin import BUILTIN, builtin
from layerlab.models.errors import ModelFileError
from layerlab.models.state_dict import parse_layer_file, parse_layers, read_state_dict
from tests.models.helpers import (
    CONFIG,
    INPUT_SHAPE,
    LAYERS,
    LAYERS_JSON,
    npz_bytes,
    safetensors_bytes,
    state_dict,
)


def refused(tensors: dict, layers=LAYERS, shape=INPUT_SHAPE) -> ModelFileError:
    with pytest.raises(ModelFileError) as caught:
        read_state_dict(safetensors_bytes(tensors), layers, shape, CONFIG)
    return caught.value


@pytest.mark.parametrize("write", [safetensors_bytes, npz_bytes], ids=["safetensors", "npz"])
def test_a_state_dict_becomes_the_nodes_torch_onnx_export_writes(write):
    graph = read_state_dict(write(state_dict()), LAYERS, INPUT_SHAPE, CONFIG)
    ops = ["Conv", "BatchNormalization", "Relu", "MaxPool", "Flatten", "Gemm", "Softmax"]
    assert [n.op for n in graph.nodes] == ops
    assert [n.name for n in graph.nodes] == [f"/{i}/{op}" for i, op in enumerate(ops)]
    assert graph.inputs[0].shape == (None, *INPUT_SHAPE) and graph.outputs == ("output",)
    assert all(a.outputs[0] == b.inputs[0] for a, b in zip(graph.nodes, graph.nodes[1:], strict=False))
    conv, bn, _, pool, flatten, gemm, softmax = graph.nodes
    assert conv.inputs[1:] == ("0.weight", "0.bias") and conv.attrs["pads"] == (1, 1, 1, 1)
    assert bn.inputs[1:] == ("1.weight", "1.bias", "1.running_mean", "1.running_var")
    assert bn.attrs["epsilon"] == 1e-5
    assert pool.attrs["kernel_shape"] == pool.attrs["strides"] == (2, 2)
    assert gemm.attrs["transB"] == 1 and flatten.attrs["axis"] == softmax.attrs["axis"] == 1
    assert "1.num_batches_tracked" not in graph.initializers  # a buffer that changes nothing
    for key, value in state_dict().items():
        if key in graph.initializers:
            assert np.array_equal(graph.initializers[key], value)


def test_a_missing_key_is_named_with_the_shape_the_layers_imply():
    tensors = state_dict()
    del tensors["5.bias"]
    error = refused(tensors)
    assert error.field == "5.bias" and "(4,)" in str(error) and "nn.Linear(27, 4)" in str(error)


def test_a_wrong_shape_is_named_with_the_shape_the_layers_imply():
    tensors = state_dict() | {"0.weight": np.zeros((3, 1, 3, 3), np.float32)}
    error = refused(tensors)
    assert error.field == "0.weight" and "(3, 1, 3, 3)" in str(error) and "(3, 2, 3, 3)" in str(error)
    tensors = state_dict() | {"5.weight": np.zeros((4, 28), np.float32)}  # a Linear fed 27 features
    assert refused(tensors).field == "5.weight"


def test_an_unexpected_key_is_named():
    error = refused(state_dict() | {"2.weight": np.ones(3, np.float32)})
    assert error.field == "2.weight" and "ReLU" in str(error) and "no parameters" in str(error)
    error = refused(state_dict() | {"9.weight": np.ones(3, np.float32)})
    assert error.field == "9.weight" and "7 layers" in str(error)


def test_a_layer_list_torch_would_reject_names_its_layer():
    bad = [*LAYERS[:5], Layer("Conv2d", {"out_channels": 1, "kernel_size": 3})]  # a conv after Flatten
    error = refused(state_dict(), bad)
    assert error.field == "layers[5]"
    assert refused(state_dict(), LAYERS, (0, 6, 6)).field == "input_shape"


def test_too_many_layers_are_refused():
    error = refused(state_dict(), [Layer("ReLU")] * (CONFIG.max_model_layer_list + 1))
    assert error.field == "layers" and "max_model_layer_list" in str(error)
    with pytest.raises(ModelFileError, match="max_model_layer_list"):
        parse_layers(json.dumps([{"kind": "ReLU"}] * (CONFIG.max_model_layer_list + 1)), CONFIG)


def test_the_layer_list_reads_from_the_calculators_json():
    assert parse_layers(json.dumps(LAYERS_JSON)) == LAYERS
    layers, shape = parse_layer_file(json.dumps({"input_shape": list(INPUT_SHAPE), "layers": LAYERS_JSON}))
    assert layers == LAYERS and shape == INPUT_SHAPE
    for text in ("not json", '{"layers": 3}', '[{"kind": 3}]', '[{"kind": "ReLU", "extra": 1}]', "[]"):
        with pytest.raises(ModelFileError) as caught:
            parse_layers(text)
        assert caught.value.field.startswith("layers")


def test_an_attribute_prefix_is_read_as_the_sequential_itself():
    tensors = {f"features.{k}": v for k, v in state_dict().items()}
    graph = read_state_dict(safetensors_bytes(tensors), LAYERS, INPUT_SHAPE, CONFIG)
    assert "0.weight" in graph.initializers


def test_padding_modes_same_and_groups_become_pad_and_conv_attributes():
    layers = [
        Layer("Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1, "padding_mode": "reflect"}),
        Layer("Conv2d", {"out_channels": 4, "kernel_size": 4, "padding": "same", "groups": 2, "bias": False}),
    ]
    tensors = {"0.weight": np.ones((4, 2, 3, 3)), "0.bias": np.zeros(4), "1.weight": np.ones((4, 2, 4, 4))}
    graph = read_state_dict(tensors, layers, INPUT_SHAPE, CONFIG)
    pad, conv0, conv1 = graph.nodes
    assert pad.op == "Pad" and pad.attrs["mode"] == "reflect"
    assert graph.initializers[pad.inputs[1]].tolist() == [0, 0, 1, 1, 0, 0, 1, 1]
    assert conv0.attrs["pads"] == (0, 0, 0, 0)
    assert conv1.attrs["pads"] == (1, 1, 2, 2) and conv1.attrs["group"] == 2 and len(conv1.inputs) == 2


def test_the_built_in_models_take_the_state_dict_path():
    small = builtin("small-cnn")
    assert [n.op for n in small.nodes] == ["Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool"] + [
        "Flatten",
        "Gemm",
        "Softmax",
    ]
    assert sum(v.size for v in small.initializers.values()) == 5258
    circle = builtin("circle")
    assert [n.op for n in circle.nodes] == ["Conv", "Conv"] and circle.nodes[0].attrs["strides"] == (2, 2)
    assert set(BUILTIN) == {"small-cnn", "circle"}
    with pytest.raises(ModelFileError) as caught:
        builtin("resnet")
    assert caught.value.field == "model"
