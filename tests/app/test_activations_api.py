"""POST /api/activations/{curve,point,map,softmax,dead-relu} and the /activations page: the engine's
numbers, the formulas with numbers, and every refusal naming its field and limit."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

from layerlab.app.config import settings
from layerlab.engine.activation_demos import dead_relu_training
from layerlab.engine.activations import elu, gelu, leaky_relu, maxout, prelu, relu, sigmoid, softmax, tanh
from layerlab.engine.conv import conv2d
from layerlab.engine.images import sample_image
from layerlab.engine.kernels import PRESETS
from tests.app.helpers import assert_error

PAGE_DATA = re.compile(r'<script id="page-data" type="application/json">(.*?)</script>', re.S)
ENGINE = {  # request fields -> the engine call on an array
    "sigmoid": ({}, sigmoid),
    "tanh": ({}, tanh),
    "relu": ({}, relu),
    "leaky_relu": ({"negative_slope": 0.2}, lambda x: leaky_relu(x, 0.2)),
    "prelu": ({"weight": -0.5}, lambda x: prelu(x, np.array([-0.5]))),
    "elu": ({"alpha": 2.0}, lambda x: elu(x, 2.0)),
    "gelu": ({"approximate": "tanh"}, lambda x: gelu(x, "tanh")),
    "maxout": (
        {"pieces": [[1, 0], [-2, 1], [0.5, 0.5]]},
        lambda x: maxout(x[:, None], np.array([[1.0], [-2.0], [0.5]]), np.array([0.0, 1.0, 0.5])),
    ),
}


def same32(sent, engine) -> None:
    """What the server sent equals the engine's array in float32 (the wire format)."""
    np.testing.assert_array_equal(np.asarray(sent, dtype=np.float32), np.asarray(engine, dtype=np.float32))


@pytest.mark.parametrize("kind", list(ENGINE))
def test_curve_is_the_engines_f_and_derivative(client, kind):
    fields, engine = ENGINE[kind]
    body = client.post(
        "/api/activations/curve", json={"kind": kind, "x_min": -4, "x_max": 3, "points": 71, **fields}
    )
    assert body.status_code == 200, body.text[:300]
    res = body.json()
    x = np.linspace(-4, 3, 71)
    t = engine(x)
    same32(res["x"], x)
    same32(res["f"], t.output)
    same32(res["grad"], t.stages["grad"].reshape(-1))
    assert res["saturated"] == (np.abs(t.stages["grad"].reshape(-1)) < 0.05).astype(int).tolist()
    assert res["formulas"]["f"].startswith("<math") and res["torch"]


def test_sigmoid_curve_shades_both_tails(client):
    res = client.post("/api/activations/curve", json={"x_min": -6, "x_max": 6, "points": 1201}).json()
    assert [[round(a, 2), round(b, 2)] for a, b in res["intervals"]] == [[-6, -2.89], [2.89, 6]]
    assert res["torch"] == "F.sigmoid(x)"


def test_point_plugs_the_engines_numbers_into_the_formula(client):
    res = client.post("/api/activations/point", json={"kind": "sigmoid", "x": 1}).json()
    assert res["f"] == pytest.approx(1 / (1 + math.exp(-1)), rel=1e-15)
    assert res["grad"] == pytest.approx(res["f"] * (1 - res["f"]), rel=1e-15)
    assert "<mn>0.7311</mn>" in res["formulas"]["f"] and "<mn>0.1966</mn>" in res["formulas"]["grad"]
    far = client.post("/api/activations/point", json={"kind": "tanh", "x": -4}).json()
    assert "saturated" in far["formulas"]["verdict"]
    for kind, (fields, engine) in ENGINE.items():
        res = client.post("/api/activations/point", json={"kind": kind, "x": -0.75, **fields}).json()
        t = engine(np.array([-0.75]))
        assert res["f"] == float(t.output[0]) and res["grad"] == float(t.stages["grad"].reshape(-1)[0]), kind


def test_map_is_conv_then_activation(client):
    req = {"kind": "elu", "alpha": 0.5, "image": "digit", "size": 16, "kernel": "sobel_x", "gain": 2}
    res = client.post("/api/activations/map", json=req).json()
    w = 2 * PRESETS["sobel_x"].weights[None, None]
    conv = conv2d(sample_image("digit", 16, "gray"), w, padding="same", record_steps=False).output[0]
    t = elu(conv, 0.5)
    same32(res["conv"], conv)
    same32(res["output"], t.output)
    same32(res["grad"], t.stages["grad"])
    assert res["conv_state"]["weight"] == w.tolist() and res["conv_state"]["padding"] == "same"
    relu_map = client.post("/api/activations/map", json={**req, "kind": "relu"}).json()
    assert relu_map["zero_fraction"] == pytest.approx(float((conv <= 0).mean()))


def test_softmax_writes_out_the_normalization(client):
    res = client.post("/api/activations/softmax", json={"z": [2, 1, 0.1], "temperature": 0.5}).json()
    t = softmax(np.array([4.0, 2.0, 0.2]), 0)
    same32(res["output"], t.output)
    same32(res["jacobian"], t.stages["jacobian"])
    assert res["sum"] == pytest.approx(float(t.stages["sum"][0]), rel=1e-15)
    assert len(res["text"]["entries"]) == 3 and "<mn>1</mn>" in res["text"]["check"]
    assert res["text"]["torch"] == "F.softmax(torch.tensor([2.0, 1.0, 0.1]) / 0.5, dim=0)"


def test_dead_relu_run_is_the_engines(client):
    res = client.post("/api/activations/dead-relu", json={"lr": 0.3, "steps": 20}).json()
    t = dead_relu_training(lr=0.3, steps=20)
    assert res["num_steps"] == 21
    assert res["steps"]["dead"] == t.steps["dead"].astype(int).tolist()
    same32(res["steps"]["loss"], t.steps["loss"])
    first = res["first_dead"]
    assert all(
        f == -1 or (res["steps"]["dead"][f][j] and not any(r[j] for r in res["steps"]["dead"][:f]))
        for j, f in enumerate(first)
    )


def test_real_server_answers_the_curve_and_the_dead_run(http):
    res = http.post(
        "/api/activations/curve", json={"kind": "relu", "x_min": -1, "x_max": 1, "points": 3}
    ).json()
    assert res["f"] == [0, 0, 1] and res["grad"] == [0, 0, 1]
    assert http.post("/api/activations/dead-relu", json={"steps": 5}).status_code == 200
    assert_error(http.post("/api/activations/softmax", json={"z": [1, "nan"]}), 422, "z[1]")


REFUSALS = [
    ("curve", {"kind": "swish"}, "kind", None),
    ("curve", {"kind": "softmax"}, "kind", None),
    ("curve", {"points": settings.max_curve_points + 1}, "points", str(settings.max_curve_points)),
    ("curve", {"x_min": 2, "x_max": 1}, "x_max", "x_min"),
    ("curve", {"x_max": settings.max_curve_x * 2}, "x_max", str(int(settings.max_curve_x))),
    ("curve", {"threshold": 0}, "threshold", "0"),
    ("curve", {"alpha": float("inf")}, "alpha", None),
    (
        "curve",
        {"pieces": [[1, 0]] * (settings.max_maxout_pieces + 1)},
        "pieces",
        str(settings.max_maxout_pieces),
    ),
    ("curve", {"negative_slope": 11}, "negative_slope", "10"),
    ("point", {"x": -1e9}, "x", str(int(settings.max_curve_x))),
    (
        "map",
        {"size": settings.max_activation_image_side + 1},
        "size",
        str(settings.max_activation_image_side),
    ),
    ("map", {"kernel": "nope"}, "kernel", "sobel_x"),
    ("map", {"image": "../etc"}, "image", "scene"),
    ("softmax", {"z": [1.0] * (settings.max_softmax_length + 1)}, "z", str(settings.max_softmax_length)),
    ("softmax", {"z": []}, "z", "1"),
    ("softmax", {"temperature": 0}, "temperature", str(settings.min_softmax_temperature)),
    ("softmax", {"z": [settings.max_softmax_abs * 2]}, "z[0]", str(int(settings.max_softmax_abs))),
    ("dead-relu", {"neurons": settings.max_dead_neurons + 1}, "neurons", str(settings.max_dead_neurons)),
    ("dead-relu", {"steps": settings.max_dead_steps + 1}, "steps", str(settings.max_dead_steps)),
    ("dead-relu", {"lr": 2.0}, "lr", "diverged"),
    ("dead-relu", {"lr": 0}, "lr", "0"),
    ("dead-relu", {"extra": 1}, "extra", None),
]


@pytest.mark.parametrize(("endpoint", "body", "field", "limit"), REFUSALS)
def test_bad_requests_are_refused_naming_field_and_limit(client, endpoint, body, field, limit):
    content = json.dumps(body).replace("Infinity", "1e999")
    response = client.post(
        f"/api/activations/{endpoint}", content=content, headers={"content-type": "application/json"}
    )
    assert_error(response, 422, field, limit)


def test_page_hands_over_kinds_defaults_and_limits(client):
    r = client.get("/activations")
    assert r.status_code == 200
    data = json.loads(PAGE_DATA.search(r.text).group(1))
    assert [k["id"] for k in data["kinds"]][:3] == ["sigmoid", "tanh", "relu"] and len(data["kinds"]) == 9
    assert data["defaults"]["dead"]["lr"] == 0.3 and data["limits"]["max_dead_lr"] == settings.max_dead_lr
    assert max(data["sizes"]) <= settings.max_activation_image_side
    assert "<math" in r.text  # the formulas are typeset on the server
