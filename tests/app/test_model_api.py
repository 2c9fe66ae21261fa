"""POST /api/model/{open,builtin,run,link} and the /model page: a model file built here with onnx.helper
runs layer by layer as onnxruntime runs it, its links open the same maps on /conv and /pool, and every
refusal names its field and limit."""

from __future__ import annotations

import io
import json
import pickle
from urllib.parse import parse_qs, urlsplit

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from fastapi.testclient import TestClient
from onnx import TensorProto, helper, numpy_helper

from layerlab.app.config import Settings
from layerlab.app.main import create_app
from layerlab.engine.cnn.data import sample_digit
from layerlab.engine.images import sample_image
from tests.app.helpers import assert_error, live_maps

F32 = {"rtol": 1e-5, "atol": 1e-5}  # arrays travel as float32
SIDE = 8


def onnx_model(c_in: int = 1, filters: int = 4, side: int = SIDE, classes: int = 3, seed: int = 0) -> bytes:
    """Conv(3x3, padding 1) - Relu - MaxPool(2) - Flatten - Gemm: a small classifier as an ONNX file."""
    rng = np.random.default_rng(seed)
    hidden = filters * (side // 2) ** 2
    weights = {
        "conv.weight": rng.normal(0, 0.5, (filters, c_in, 3, 3)).astype(np.float32),
        "conv.bias": rng.normal(0, 0.1, filters).astype(np.float32),
        "fc.weight": rng.normal(0, 0.2, (classes, hidden)).astype(np.float32),
        "fc.bias": rng.normal(0, 0.1, classes).astype(np.float32),
    }
    nodes = [
        helper.make_node("Conv", ["x", "conv.weight", "conv.bias"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("MaxPool", ["r"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "fc.weight", "fc.bias"], ["logits"], name="fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes,
        "small",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c_in, side, side])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, classes])],
        [numpy_helper.from_array(v, k) for k, v in weights.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model)
    return model.SerializeToString()


def reference(data: bytes, x: np.ndarray) -> dict[str, np.ndarray]:
    """Every value of the model by onnxruntime (each node's output made a graph output)."""
    model = onnx.load_from_string(data)
    model.graph.output.extend(helper.make_empty_tensor_value_info(n.output[0]) for n in model.graph.node[:-1])
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, {"x": x.astype(np.float32)}), strict=True))


def open_file(client, data: bytes, name: str = "small.onnx", **form) -> dict:
    r = client.post("/api/model/open", files={"file": (name, data)}, data=form)
    assert r.status_code == 200, r.text[:300]
    return r.json()


def post(client, url: str, **body) -> dict:
    r = client.post(url, json=body)
    assert r.status_code == 200, r.text[:300]
    return r.json()


def query(href: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(href).query).items()}


# ---- opening and running -----------------------------------------------------------------------


def test_an_onnx_file_opens_as_a_layer_column_with_torchs_parameter_counts(client):
    opened = open_file(client, onnx_model())
    assert opened["id"].startswith("model:") and opened["kind"] == "onnx"
    rows = [(r["name"], r["op"], r["output_shape"], r["parameters"]) for r in opened["layers"]]
    assert rows == [
        ("conv", "Conv", [1, 4, 8, 8], 4 * 9 + 4),
        ("relu", "Relu", [1, 4, 8, 8], 0),
        ("pool", "MaxPool", [1, 4, 4, 4], 0),
        ("flatten", "Flatten", [1, 64], 0),
        ("fc", "Gemm", [1, 3], 3 * 64 + 3),
    ]
    assert opened["total_parameters"] == 40 + 195 and opened["input"]["shape"] == [1, SIDE, SIDE]
    assert [r["link"] for r in opened["layers"]] == ["conv", None, "pool", None, None]
    words = " ".join(opened["explain"])
    assert "235" in words and "(1, 1, 8, 8)" in words and "buffers" in words
    assert open_file(client, onnx_model())["id"] == opened["id"]  # the file's content address


def test_every_layer_of_a_run_equals_onnxruntime_and_the_probabilities_are_the_softmax(client):
    data = onnx_model()
    model = open_file(client, data)["id"]
    body = post(client, "/api/model/run", model=model, source="image", image="scene")
    x = sample_image("scene", SIDE, "gray")[None]
    np.testing.assert_allclose(body["input"], x[0], **F32)
    ref = reference(data, x)
    layers = {layer["name"]: layer for layer in body["layers"]}
    for name, value in (("conv", "c"), ("relu", "r"), ("pool", "p")):
        assert layers[name]["kind"] == "maps" and layers[name]["channels"] == 4
        np.testing.assert_allclose(layers[name]["maps"], ref[value][0], **F32, err_msg=name)
    np.testing.assert_allclose(layers["flatten"]["vector"], ref["f"][0], **F32)
    logits = ref["logits"][0].astype(np.float64)
    np.testing.assert_allclose(layers["fc"]["vector"], logits, **F32)
    probs = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    classes = body["classes"]
    np.testing.assert_allclose(classes["probs"], probs, **F32)
    assert classes["labels"] == ["0", "1", "2"] and classes["predicted"] == int(probs.argmax())
    assert "softmax" in classes["how"]


def test_maps_over_the_preview_side_come_as_block_means_and_whole_when_their_layer_is_asked_for(client):
    data = onnx_model(side=64)
    model = open_file(client, data)["id"]
    ref = reference(data, sample_image("scene", 64, "gray")[None])
    layers = {x["name"]: x for x in post(client, "/api/model/run", model=model, source="image")["layers"]}
    means = ref["c"][0].astype(np.float64).reshape(4, 32, 2, 32, 2).mean(axis=(2, 4))
    assert layers["conv"]["preview"] == 2 and layers["pool"]["preview"] == 1  # pool: 32x32 already
    np.testing.assert_allclose(layers["conv"]["maps"], means, **F32)
    whole = post(client, "/api/model/run", model=model, source="image", layer="conv")["layers"][0]
    assert whole["preview"] == 1
    np.testing.assert_allclose(whole["maps"], ref["c"][0], **F32)


def test_the_builtins_open_through_the_same_path_and_the_small_cnn_reads_a_three(client):
    cnn = post(client, "/api/model/builtin/small-cnn")
    assert cnn["total_parameters"] == 80 + 1168 + 4010 and cnn["input"]["shape"] == [1, 28, 28]
    assert post(client, "/api/model/builtin/circle")["input"]["shape"] == [1, 5, 5]
    body = post(client, "/api/model/run", model="builtin:small-cnn", source="sample", digit=3, seed=1)
    np.testing.assert_allclose(body["input"][0], sample_digit(3, 1), **F32)
    assert body["classes"]["predicted"] == 3 and "Softmax" in body["classes"]["how"]
    assert_error(client.post("/api/model/builtin/resnet"), 422, "name")


def test_a_state_dict_with_its_layer_list_opens_and_runs_like_its_onnx_twin(client):
    data = onnx_model()
    w = {t.name: numpy_helper.to_array(t) for t in onnx.load_from_string(data).graph.initializer}
    keys = {"0.weight": "conv.weight", "0.bias": "conv.bias", "4.weight": "fc.weight", "4.bias": "fc.bias"}
    buffer = io.BytesIO()
    np.savez(buffer, **{key: w[name] for key, name in keys.items()})  # torch's Sequential names
    layers = [
        {"kind": "Conv2d", "args": {"out_channels": 4, "kernel_size": 3, "padding": 1}},
        {"kind": "ReLU"},
        {"kind": "MaxPool2d", "args": {"kernel_size": 2}},
        {"kind": "Flatten"},
        {"kind": "Linear", "args": {"out_features": 3}},
    ]
    opened = open_file(client, buffer.getvalue(), "small.npz", layers=json.dumps(layers), input_shape="1,8,8")
    assert opened["kind"] == "state_dict" and opened["total_parameters"] == 235
    run = post(client, "/api/model/run", model=opened["id"], source="image", image="scene")
    twin = post(client, "/api/model/run", model=open_file(client, data)["id"], source="image", image="scene")
    np.testing.assert_allclose(run["classes"]["probs"], twin["classes"]["probs"], **F32)
    missing = client.post(
        "/api/model/open", files={"file": ("small.npz", buffer.getvalue())}, data={"input_shape": "1,8,8"}
    )
    assert_error(missing, 422, "layers")
    wrong = io.BytesIO()
    np.savez(wrong, **{key: w[name] for key, name in keys.items()} | {"4.weight": w["fc.weight"][:, :-1]})
    wrong_shaped = client.post(
        "/api/model/open",
        files={"file": ("small.npz", wrong.getvalue())},
        data={"layers": json.dumps(layers), "input_shape": "1,8,8"},
    )
    assert wrong_shaped.status_code == 422 and "4.weight" in wrong_shaped.json()["message"]
    assert "(3, 64)" in wrong_shaped.json()["message"]  # the shape the layer list implies


# ---- links -------------------------------------------------------------------------------------


def test_a_conv_layers_link_opens_its_real_weights_on_its_real_input_on_the_conv_page(client):
    data = onnx_model()
    model = open_file(client, data)["id"]
    link = post(
        client, "/api/model/link", model=model, source="image", image="scene", layer="conv", channel=2
    )
    assert [entry["page"] for entry in link["links"]] == ["conv"] and link["notes"] == []
    q = query(link["links"][0]["href"])
    weight = numpy_helper.to_array(onnx.load_from_string(data).graph.initializer[0])
    assert np.array_equal(np.array(json.loads(q["w"]), dtype=np.float32), weight)  # the file's, exactly
    assert q["f"] == "2" and q["relu"] == "1" and q["pad"] == "1,1" and q["stride"] == "1,1"
    conv = {
        "image": q["image"],
        "size": int(q["size"]),
        "weight": json.loads(q["w"]),
        "bias": [float(v) for v in q["b"].split(",")],
        "padding": [1, 1],
        "relu": True,
    }
    maps = live_maps(client.post("/api/conv/live", json=conv))  # (2, 4, 8, 8): the conv and its ReLU
    ref = reference(data, sample_image("scene", SIDE, "gray")[None])
    np.testing.assert_allclose(maps[0], ref["c"][0], **F32)
    np.testing.assert_allclose(maps[1], ref["r"][0], **F32)


def test_a_pooling_layers_link_pools_the_layers_real_input_on_the_pooling_page(client):
    data = onnx_model()
    model = open_file(client, data)["id"]
    link = post(
        client, "/api/model/link", model=model, source="image", image="scene", layer="pool", channel=1
    )
    q = query(link["links"][0]["href"])
    assert link["links"][0]["page"] == "pool" and q["kind"] == "max" and q["source"] == "image"
    body = {k: json.loads(q[k]) for k in ("kernel_size", "stride", "padding", "dilation")}
    pooled = post(
        client, "/api/pool/trace", source="image", image=q["image"], size=int(q["size"]), kind="max", **body
    )
    ref = reference(data, sample_image("scene", SIDE, "gray")[None])
    np.testing.assert_allclose(pooled["output"], ref["p"][0, 1], **F32)


def test_a_conv_over_the_pages_limits_links_what_fits_and_says_so(client):
    model = open_file(client, onnx_model(c_in=4, filters=16, side=6, seed=1))["id"]
    link = post(client, "/api/model/link", model=model, layer="conv", channel=11)
    q = query(link["links"][0]["href"])
    assert np.array(json.loads(q["w"])).shape == (1, 3, 3, 3) and q["f"] == "0" and q["color"] == "rgb"
    notes = " ".join(link["notes"])
    assert "first 3" in notes and "filter 11" in notes and "16 filters" in notes


def test_a_norm_layers_link_opens_the_norm_page_on_the_same_kind_and_eps(client):
    model = onnx.load_from_string(onnx_model())
    bn = helper.make_node("BatchNormalization", ["c", "s", "b", "m", "v"], ["n"], name="bn", epsilon=1e-3)
    model.graph.node.insert(1, bn)
    model.graph.node[2].input[0] = "n"
    for name, value in (("s", 1.5), ("b", 0.1), ("m", 0.2), ("v", 2.0)):
        model.graph.initializer.append(numpy_helper.from_array(np.full(4, value, np.float32), name))
    opened = open_file(client, model.SerializeToString())
    assert opened["layers"][1]["op"] == "BatchNormalization" and opened["layers"][1]["parameters"] == 8
    link = post(client, "/api/model/link", model=opened["id"], layer="bn", channel=0)
    q = query(link["links"][0]["href"])
    assert link["links"][0]["page"] == "norm" and q == {"kind": "batch", "eps": "0.001"}
    assert "running mean" in link["notes"][0]
    assert client.get(link["links"][0]["href"]).status_code == 200


# ---- refusals ----------------------------------------------------------------------------------


def test_bad_models_get_a_4xx_naming_the_field(client):
    bad = onnx.load_from_string(onnx_model())
    bad.graph.node[1].op_type = "Selu"
    bad.graph.node[1].name = "odd_activation"
    r = client.post("/api/model/open", files={"file": ("bad.onnx", bad.SerializeToString())})
    assert r.status_code == 422 and "odd_activation" in r.json()["message"] and "Selu" in r.json()["message"]
    pickled = client.post("/api/model/open", files={"file": ("m.pt", pickle.dumps({"w": [1.0]}))})
    assert_error(pickled, 422, "file", "torch.onnx.export")
    truncated = client.post("/api/model/open", files={"file": ("t.onnx", onnx_model()[:200])})
    assert truncated.status_code == 422
    for shape in ("null", "1,8,x", "0,8,8"):
        refused = client.post(
            "/api/model/open", files={"file": ("a.npz", b"PK")}, data={"input_shape": shape}
        )
        assert_error(refused, 422, "input_shape")
    form = {"layers": "[]", "input_shape": "1,8"}
    assert_error(
        client.post("/api/model/open", files={"file": ("a.npz", b"PK")}, data=form), 422, "input_shape"
    )
    gone = client.post("/api/model/run", json={"model": "model:0123456789abcdef"})
    assert_error(gone, 404, "model")
    assert gone.json()["detail"][0]["type"] == "unknown_model"
    model = open_file(client, onnx_model())["id"]
    assert_error(client.post("/api/model/link", json={"model": model, "layer": "relu"}), 422, "layer")
    assert_error(
        client.post("/api/model/link", json={"model": model, "layer": "conv", "channel": 4}),
        422,
        "channel",
        "3",
    )


def test_a_file_over_max_model_bytes_is_413_and_models_past_max_models_kept_are_dropped():
    with TestClient(create_app(Settings(max_model_bytes=2000, max_models_kept=2))) as small:
        assert_error(
            small.post("/api/model/open", files={"file": ("big.onnx", b"\0" * 2001)}), 413, "file", "2,000"
        )
        first = open_file(small, onnx_model(seed=1))["id"]
        open_file(small, onnx_model(seed=2))
        open_file(small, onnx_model(seed=3))
        r = small.post("/api/model/run", json={"model": first})
        assert r.status_code == 404 and r.json()["detail"][0]["type"] == "unknown_model"
        assert open_file(small, onnx_model(seed=1))["id"] == first  # the page sends the file again: same id
        assert small.post("/api/model/run", json={"model": first}).status_code == 200


def test_the_page_lists_the_builtins_and_the_nav_links_it(client):
    html = client.get("/model").text
    assert 'data-builtin="small-cnn"' in html and 'data-builtin="circle"' in html
    assert '<a href="/model">Your model</a>' in client.get("/network").text


@pytest.mark.parametrize("size", [9 * 2**20])
def test_real_server_takes_a_model_file_over_the_image_upload_limit(http, size):
    """The model route's body limit is max_model_bytes, not max_upload_bytes (8 MiB): a 9 MiB file is
    read and refused for what it is, not for its size."""
    r = http.post("/api/model/open", files={"file": ("junk.onnx", b"\1" * size)}, timeout=60)
    assert_error(r, 422, "file")
    assert http.post("/api/model/open", files={"file": ("small.onnx", onnx_model())}).status_code == 200
