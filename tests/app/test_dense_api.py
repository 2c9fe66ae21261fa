"""POST /api/dense/{plane,point,linear,parameters,init} and the /dense page: the engine's numbers,
seed 001's counts, and every refusal naming its field and limit."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from layerlab.app.config import settings as S
from layerlab.app.pages.dense.schemas import TRIANGLE, UNION
from layerlab.engine.init_demo import init_demo
from layerlab.engine.linear import linear
from layerlab.engine.mlp import mlp_plane
from tests.app.helpers import assert_error

PAGE_DATA = re.compile(r'<script id="page-data" type="application/json">(.*?)</script>', re.S)


def arrays(layers):
    weights = [np.array(layer["weight"], dtype=float) for layer in layers]
    return weights, [np.array(layer["bias"], dtype=float) for layer in layers]


def post_raw(client, url: str, text: str):
    """A body json.dumps would refuse to write (NaN), sent as it is."""
    return client.post(url, content=text, headers={"content-type": "application/json"})


# ---- the page ------------------------------------------------------------------------------------


def test_page_hands_over_presets_defaults_and_formulas(client):
    r = client.get("/dense")
    assert r.status_code == 200
    data = json.loads(PAGE_DATA.search(r.text).group(1))
    assert [p["id"] for p in data["presets"]] == ["triangle", "union", "soft", "single"]
    assert data["defaults"]["layers"] == TRIANGLE
    assert {p["id"]: p["sizes"] for p in data["count_presets"]} == {
        "3-4-2": [3, 4, 2],
        "3-4-4-1": [3, 4, 4, 1],
    }
    assert data["limits"]["max_dense_neurons"] == S.max_dense_neurons
    assert r.text.count("<math") >= 8


def test_presets_are_requests_the_plane_accepts(client):
    data = json.loads(PAGE_DATA.search(client.get("/dense").text).group(1))
    for preset in data["presets"]:
        r = client.post("/api/dense/plane", json={**preset["state"], "resolution": 11})
        assert r.status_code == 200, (preset["id"], r.text[:300])


# ---- the plane and the point ---------------------------------------------------------------------


def test_plane_is_the_engines(client):
    body = client.post("/api/dense/plane", json={"layers": UNION, "extent": 2.5, "resolution": 21}).json()
    weights, biases = arrays(UNION)
    t = mlp_plane(weights, biases, ["step"] * 3, 2.5, 21)
    assert body["sizes"] == [2, 7, 2, 1]
    np.testing.assert_allclose(body["axis"], t.stages["axis"], rtol=1e-6)
    for i, layer in enumerate(body["layers"], start=1):
        np.testing.assert_allclose(layer["pre"], t.stages[f"pre{i}"], rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(layer["post"], t.stages[f"post{i}"])
        assert layer["activation"] == "step" and "<math" in layer["formula"]
    np.testing.assert_array_equal(body["region"], t.stages["region"])
    np.testing.assert_allclose(body["lines"], t.stages["lines"], rtol=1e-6, atol=1e-6)


def test_plane_sends_a_line_that_misses_as_null(client):
    layers = [{"weight": [[1, 0], [0, 1]], "bias": [9, 0], "activation": "sign"}]  # x1 = -9: off the plane
    body = client.post("/api/dense/plane", json={"layers": layers, "resolution": 5}).json()
    assert body["lines"][0] == [[None, None], [None, None]]
    assert body["lines"][1] == [[-3, 0], [3, 0]]


def test_point_steps_through_the_second_layers_sums(client):
    body = client.post("/api/dense/point", json={"layers": TRIANGLE, "point": [0.5, 0.5], "layer": 1}).json()
    assert body["input"] == [1, 1, 1]  # the point is inside all three half-planes
    assert body["steps"]["products"] == [[1, 1, 1]] and body["steps"]["sum"] == [3]
    assert body["output"] == [0.5] and body["activated"] == [1]
    first = client.post("/api/dense/point", json={"layers": TRIANGLE, "point": [0.5, 0.5]}).json()
    t = linear(np.array([0.5, 0.5]), *(arrays(TRIANGLE)[k][0] for k in (0, 1)))
    np.testing.assert_allclose(first["output"], t.output)
    np.testing.assert_allclose(first["steps"]["products"], t.steps["products"])
    assert first["path"][0]["post"] == body["input"]


def test_real_server_draws_the_triangle(http):
    body = http.post("/api/dense/plane", json={"resolution": 3}).json()
    assert body["region"] == [[[0, 0, 0], [0, 1, 0], [0, 0, 0]]]  # only the origin is inside


# ---- F.linear ------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(3,), (4, 3), (2, 2, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_is_the_engines(client, shape, bias):
    rng = np.random.default_rng(len(shape))
    x, w, b = rng.normal(size=shape), rng.normal(size=(2, 3)), rng.normal(size=2)
    fields = {"input": x.tolist(), "weight": w.tolist(), "bias": b.tolist() if bias else None}
    body = client.post("/api/dense/linear", json=fields).json()
    t = linear(x, w, b if bias else None)
    np.testing.assert_allclose(body["output"], t.output, rtol=1e-6, atol=1e-6)
    assert body["num_steps"] == t.num_steps and body["steps"]["index"] == t.steps["index"].tolist()
    assert body["torch"].startswith("F.linear(x, weight, bias)" if bias else "F.linear(x, weight)")


def test_real_server_linear(http):
    body = http.post(
        "/api/dense/linear", json={"input": [1, 2, 3], "weight": [[1, 1, 1]], "bias": [1]}
    ).json()
    assert body["output"] == [7]


# ---- the parameter count -------------------------------------------------------------------------


@pytest.mark.parametrize(("sizes", "total", "numbers"), [
    ([3, 4, 2], 26, "3·4+4)+(4·2+2)=16+10=26"),
    ([3, 4, 4, 1], 41, "3·4+4)+(4·4+4)+(4·1+1)=16+20+5=41"),
])  # fmt: skip
def test_seed_001_counts_with_the_numbers_plugged_in(client, sizes, total, numbers):
    body = client.post("/api/dense/parameters", json={"sizes": sizes}).json()
    assert body["total"] == total
    written = re.sub(r"<[^>]+>", "", body["formula"]).replace("&#x000B7;", "·").replace("&#x0002B;", "+")
    written = written.replace("&#x0003D;", "=").replace("&#x00028;", "(").replace("&#x00029;", ")")
    assert written.endswith(numbers)
    assert body["torch"][0] == "nn.Linear(3, 4)"


def test_large_counts_stay_exact(http):
    body = http.post("/api/dense/parameters", json={"sizes": [S.max_count_size] * 3}).json()
    n = S.max_count_size
    assert body["total"] == 2 * (n * n + n) and body["weights"] == [n * n, n * n]  # past 2**31


# ---- the initialization demo ---------------------------------------------------------------------


def test_init_is_the_engines_and_constant_neurons_coincide(client):
    fields = {"kind": "circle", "hidden": 3, "epochs": 40, "lr": 1.0, "constant": 0.2, "seed": 4}
    body = client.post("/api/dense/init", json=fields).json()
    t = init_demo(**fields, points=80, activation="tanh")
    np.testing.assert_allclose(body["steps"]["random_loss"], t.steps["random_loss"], rtol=1e-6)
    hidden = np.array(body["steps"]["constant_hidden"])
    assert hidden.shape == (41, 3, 3)
    np.testing.assert_array_equal(hidden, np.broadcast_to(hidden[:, :1], hidden.shape))
    assert body["summary"]["constant"]["spread"] == 0 and body["summary"]["random"]["spread"] > 0
    assert len(body["stages"]["points"]) == 80


# ---- refusals ------------------------------------------------------------------------------------


def test_mismatched_weight_shapes_are_refused(client):
    wrong = [TRIANGLE[0], {"weight": [[1, 1]], "bias": [0], "activation": "step"}]
    assert_error(client.post("/api/dense/plane", json={"layers": wrong}), 422, "layers", "in_features")
    ragged = [{"weight": [[1, 1], [1]], "bias": [0, 0]}]
    assert_error(client.post("/api/dense/plane", json={"layers": ragged}), 422, "layers")
    bias = [{"weight": [[1, 1]], "bias": [0, 1]}]
    assert_error(
        client.post("/api/dense/plane", json={"layers": bias}), 422, "layers", "one entry per neuron"
    )
    r = client.post("/api/dense/linear", json={"input": [1, 2], "weight": [[1, 2, 3]]})
    assert_error(r, 422, "weight", "in_features")
    r = client.post("/api/dense/linear", json={"input": [1, 2], "weight": [[1, 2]], "bias": [1, 2]})
    assert_error(r, 422, "bias", "out_features")


def test_too_many_layers_and_neurons_are_refused_naming_the_limit(client):
    layer = {"weight": [[1, 0]], "bias": [0]}
    deep = [layer] + [{"weight": [[1]], "bias": [0]}] * S.max_dense_layers
    assert_error(
        client.post("/api/dense/plane", json={"layers": deep}), 422, "layers", str(S.max_dense_layers)
    )
    wide = [{"weight": [[1, 0]] * (S.max_dense_neurons + 1), "bias": [0] * (S.max_dense_neurons + 1)}]
    assert_error(
        client.post("/api/dense/plane", json={"layers": wide}), 422, "layers", str(S.max_dense_neurons)
    )
    big = {"sizes": [3] * (S.max_count_layers + 1)}
    assert_error(client.post("/api/dense/parameters", json=big), 422, "sizes", str(S.max_count_layers))
    huge = {"sizes": [3, S.max_count_size + 1]}
    assert_error(client.post("/api/dense/parameters", json=huge), 422, "sizes", f"{S.max_count_size}")
    init = {"hidden": S.max_init_hidden + 1}
    assert_error(client.post("/api/dense/init", json=init), 422, "hidden", str(S.max_init_hidden))
    epochs = {"epochs": S.max_init_epochs + 1}
    assert_error(client.post("/api/dense/init", json=epochs), 422, "epochs", str(S.max_init_epochs))
    rows = {"input": [[1.0]] * (S.max_linear_rows + 1), "weight": [[1.0]]}
    assert_error(client.post("/api/dense/linear", json=rows), 422, "input", str(S.max_linear_rows))
    deep_input = {"input": [[[[[1.0]]]]], "weight": [[1.0]]}
    assert_error(client.post("/api/dense/linear", json=deep_input), 422, "input", str(S.max_linear_dims))
    r = client.post("/api/dense/plane", json={"resolution": S.max_plane_resolution + 1})
    assert_error(r, 422, "resolution", str(S.max_plane_resolution))
    far = {"layers": [{"weight": [[S.max_dense_weight * 2, 0]], "bias": [0]}]}
    assert_error(client.post("/api/dense/plane", json=far), 422, "layers", f"{S.max_dense_weight:g}")
    r = client.post("/api/dense/point", json={"layer": 2})  # the default network has two layers
    assert_error(r, 422, "layer", "number of layers (2)")


def test_nan_and_infinity_are_refused(client):
    nan_weight = '{"layers": [{"weight": [[NaN, 1]], "bias": [0]}]}'
    assert_error(post_raw(client, "/api/dense/plane", nan_weight), 422, "layers")
    assert_error(post_raw(client, "/api/dense/linear", '{"input": [1, NaN, 2]}'), 422, "input", "finite")
    assert_error(post_raw(client, "/api/dense/linear", '{"input": [1, Infinity, 2]}'), 422, "input", "finite")
    assert_error(post_raw(client, "/api/dense/init", '{"lr": NaN}'), 422, "lr")
    assert_error(post_raw(client, "/api/dense/point", '{"point": [NaN, 0]}'), 422, "point")


def test_zero_size_layers_and_inputs_are_refused(client):
    empty = [{"weight": [], "bias": []}]
    assert_error(client.post("/api/dense/plane", json={"layers": empty}), 422, "layers", "at least 1")
    assert_error(client.post("/api/dense/plane", json={"layers": []}), 422, "layers", "at least 1")
    assert_error(client.post("/api/dense/parameters", json={"sizes": [3, 0, 2]}), 422, "sizes", "1")
    r = client.post("/api/dense/linear", json={"input": [[], []], "weight": [[1.0]]})
    assert_error(r, 422, "input", "at least one entry")
    assert_error(client.post("/api/dense/linear", json={"input": [1], "weight": [[]]}), 422, "weight")
    assert_error(client.post("/api/dense/init", json={"hidden": 0}), 422, "hidden", "1")


def test_real_server_refuses_bad_shapes_with_4xx(http):
    r = http.post("/api/dense/plane", json={"layers": [{"weight": [[1, 2, 3]], "bias": [0]}]})
    assert_error(r, 422, "layers", "the plane has 2 coordinates")
    r = http.post("/api/dense/linear", json={"input": "abc", "weight": [[1]]})
    assert_error(r, 422, "input", "list of numbers")
