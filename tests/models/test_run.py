"""Opened models run by the engine: the built-ins equal their own engine code, a state_dict equals the
engine's functions called directly, the CLI prints the table, the notebook view loads nothing."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import layerlab.functional as F
from layerlab.app.config import settings
from layerlab.engine.cnn import circle
from layerlab.engine.cnn.model import forward, load_weights
from layerlab.engine.graph.ir import GraphError
from layerlab.models import ModelFileError, load
from tests.models.helpers import (
    CONFIG,
    INPUT_SHAPE,
    LAYERS,
    LAYERS_JSON,
    npz_bytes,
    safetensors_bytes,
    state_dict,
)
from tests.notebook.test_notebook import REMOTE

LAYERLAB = Path(sys.executable).with_name("layerlab")


def test_the_small_cnn_graph_equals_the_engines_forward():
    model, params = load("small-cnn"), load_weights()
    rng = np.random.default_rng(0)
    for image in (rng.uniform(size=(28, 28)), rng.normal(size=(1, 28, 28))):
        ran, direct = model.run(image), forward(image, params)
        np.testing.assert_allclose(
            ran.values["/7/Gemm_output_0"], direct.stages["logits"], rtol=0, atol=1e-12
        )
        np.testing.assert_allclose(ran.values["output"], direct.output, rtol=0, atol=1e-12)
        np.testing.assert_allclose(ran.values["/3/Conv_output_0"], direct.stages["conv2"], rtol=0, atol=1e-12)
    assert sum(row.parameters for row in model.table()) == 5258


def test_the_circle_graph_equals_the_detector():
    model = load("circle")
    for image in circle.SHAPES.values():
        ran, direct = model.run(image), circle.detect(image)
        np.testing.assert_allclose(ran.values["/0/Conv_output_0"][0], direct.stages["parts"], atol=1e-12)
        np.testing.assert_allclose(ran.values["output"], direct.output[None], atol=1e-12)


def engine_directly(x: np.ndarray, p: dict[str, np.ndarray]) -> np.ndarray:
    p = {k: v.astype(np.float64) for k, v in p.items()}
    y = F.conv2d(x, p["0.weight"], p["0.bias"], padding=1)
    y = F.batch_norm(y, p["1.running_mean"], p["1.running_var"], p["1.weight"], p["1.bias"], eps=1e-5)
    y = F.max_pool2d(F.relu(y), 2)
    y = F.linear(np.asarray(y).reshape(1, -1), p["5.weight"], p["5.bias"])
    return np.asarray(F.softmax(y, dim=1))


@pytest.mark.parametrize("write", [safetensors_bytes, npz_bytes], ids=["safetensors", "npz"])
def test_a_state_dict_round_trip_equals_the_engine_called_directly(write):
    tensors = state_dict(seed=3)
    model = load(write(tensors), LAYERS_JSON, INPUT_SHAPE, config=CONFIG)
    x = np.random.default_rng(4).normal(size=(1, *INPUT_SHAPE))
    np.testing.assert_allclose(model.run(x).values["output"], engine_directly(x, tensors), atol=1e-12)
    assert [r.parameters for r in model.table()] == [57, 6, 0, 0, 0, 112, 0]


def test_run_adapts_the_image_to_the_input():
    model = load("small-cnn")
    rgb = np.random.default_rng(5).uniform(size=(3, 40, 30))
    ran = model.run(rgb)  # three channels to luma, 40x30 resized to 28x28
    assert ran.values["input"].shape == (1, 1, 28, 28)
    with pytest.raises(ModelFileError) as caught:
        model.run(np.zeros((2, 28, 28)))
    assert caught.value.field == "image"


def test_a_state_dict_without_its_layer_list_is_refused():
    with pytest.raises(ModelFileError) as caught:
        load(safetensors_bytes(state_dict()), config=CONFIG)
    assert caught.value.field == "layers"
    with pytest.raises(ModelFileError) as caught:
        load(safetensors_bytes(state_dict()), LAYERS, config=CONFIG)
    assert caught.value.field == "input_shape"


def test_the_notebook_view_is_the_table_and_the_last_output_loading_nothing():
    page = load("small-cnn")._repr_html_()
    assert "/0/Conv" in page and "5,258" in page and "layerlab-trace" in page
    assert not any(pattern.search(page) for pattern in REMOTE)
    assert not re.search(r"https?://", page)


def test_the_cli_prints_the_table_and_refuses_a_pickle(tmp_path):
    weights, layers = tmp_path / "net.safetensors", tmp_path / "layers.json"
    weights.write_bytes(safetensors_bytes(state_dict()))
    layers.write_text(json.dumps({"input_shape": list(INPUT_SHAPE), "layers": LAYERS_JSON}))
    done = subprocess.run(
        [LAYERLAB, "model", weights, "--layers", layers], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(
        line.startswith("/0/Conv") and "(1, 3, 6, 6)" in line and line.endswith("57") for line in lines
    )
    assert lines[-1].startswith("total") and lines[-1].endswith("175")
    checkpoint = tmp_path / "model.pt"
    checkpoint.write_bytes(b"\x80\x02}q\x00.")
    done = subprocess.run([LAYERLAB, "model", checkpoint], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "torch.onnx.export" in done.stderr and done.stdout == ""


def test_an_onnx_file_opens_through_the_onnx_reader_and_runs():
    weight = np.random.default_rng(6).normal(size=(2, 1, 3, 3)).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["y"], name="relu"),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 1, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 2, 8, 8])],
        [numpy_helper.from_array(weight, "w")],
    )
    data = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()
    model = load(data, config=CONFIG)
    assert model.kind == "onnx" and [r.parameters for r in model.table()] == [18, 0]
    image = np.random.default_rng(7).uniform(size=(8, 8))
    expected = np.maximum(np.asarray(F.conv2d(image[None, None], weight.astype(np.float64), padding=1)), 0)
    np.testing.assert_allclose(model.run(image).values["y"], expected, atol=1e-5)
    with pytest.raises(ModelFileError) as caught:
        load(data, LAYERS, INPUT_SHAPE, config=CONFIG)
    assert caught.value.field == "layers"


def test_the_settings_bound_one_nodes_multiply_adds():
    """A node past max_model_products is refused by name before it runs (its time is bounded)."""
    model = load("small-cnn", config=replace(settings, max_model_products=10_000))
    with pytest.raises(GraphError, match="Conv") as caught:
        model.run(np.zeros((28, 28)))
    assert "Conv" in caught.value.argument
    assert load("small-cnn").run(np.zeros((28, 28))).values  # the defaults run it
