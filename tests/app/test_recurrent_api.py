"""POST /api/recurrent/{run,compare,gradients}: the engine's numbers for every input source, each step
checked against a plain-loop cell, the PyTorch line, and every refusal naming its field and limit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from layerlab.app.config import settings as S
from layerlab.engine.recurrent import gru, init_params, lstm, rnn
from layerlab.engine.recurrent_grad import vanishing_gradients
from layerlab.engine.vocab import embed, tokenize
from tests.app.helpers import assert_error
from tests.engine.recurrent_reference import cell_loop


def post(client, url: str = "/api/recurrent/run", **body) -> dict:
    r = client.post(url, json=body)
    assert r.status_code == 200, r.text[:400]
    return r.json()


def close(got, expected, tol: float = 1e-5) -> None:
    np.testing.assert_allclose(np.array(got, dtype=float), expected, rtol=tol, atol=tol)


def engine_run(kind, x, hidden=4, layers=1, bidirectional=False, seed=0, scale=1.0, nonlinearity="tanh"):
    params = init_params(kind, x.shape[1], hidden, layers, True, bidirectional, seed=seed, scale=scale)
    if kind == "rnn":
        return rnn(x, None, params, layers, nonlinearity, bidirectional=bidirectional), params
    return {"lstm": lstm, "gru": gru}[kind](x, None, params, layers, bidirectional=bidirectional), params


SINE = np.sin(2 * np.pi * np.arange(12) / 8)[:, None]  # the default input: T = 12, period 8


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_default_sine_run_equals_the_engine_for_every_kind(client, kind):
    body = post(client, kind=kind)
    t, params = engine_run(kind, SINE)
    close(body["input"], SINE)
    close(body["output"], t.output)
    assert set(body["stages"]) == set(t.stages)
    for name, value in t.stages.items():
        close(body["stages"][name], value)
    for name, value in params.items():
        close(body["weights"][name], value)
    assert body["num_steps"] == 12 and body["steps"]["time"] == list(range(12))
    assert body["labels"][:3] == ["0", "0.707", "1"] and body["words"] is False


@pytest.mark.parametrize(
    ("kind", "nonlinearity", "layers"), [("lstm", "tanh", 2), ("gru", "tanh", 1), ("rnn", "relu", 3)]
)
def test_every_step_equals_a_plain_loop_cell_on_its_recorded_inputs(client, kind, nonlinearity, layers):
    body = post(
        client,
        kind=kind,
        nonlinearity=nonlinearity,
        num_layers=layers,
        bidirectional=True,
        hidden_size=3,
        source="numbers",
        numbers=[1, -0.5, 2, 0.25],
        seed=7,
        scale=1.5,
    )
    s, w = body["steps"], body["weights"]
    mode = f"rnn_{nonlinearity}" if kind == "rnn" else kind
    assert len(s["time"]) == body["num_steps"] == layers * 2 * 4
    for i, (layer, d, t) in enumerate(zip(s["layer"], s["direction"], s["time"], strict=True)):
        suffix = f"_l{layer}" + ("_reverse" if d else "")
        names = [f"{n}{suffix}" for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        c_prev = s["c_prev"][i] if kind == "lstm" else None
        ref = cell_loop(mode, s["x"][i], s["h_prev"][i], c_prev, *(w[n] for n in names))
        for name, values in ref.items():
            close(s[name][i], values, 1e-4)
        direction = "reverse" if d else "forward"
        close(s["h"][i], body["stages"][f"l{layer}.{direction}.h"][t])
        # the state a step starts from is h_0 (zeros) or the previous step's in running order
        first = t == (3 if d else 0)
        before = body["stages"][f"l{layer}.{direction}.h"][t + (1 if d else -1)] if not first else [0.0] * 3
        close(s["h_prev"][i], before)
    assert len(s["x"][0]) == 1 and len(s["x"][-1]) == (6 if layers > 1 else 1)  # [forward; reverse] above


def test_the_input_sources(client):
    step = post(client, source="step", length=7)
    close(step["input"], [[0], [0], [0], [1], [1], [1], [1]])
    sine = post(client, source="sine", length=5, period=4)
    close(sine["input"], np.sin(2 * np.pi * np.arange(5) / 4)[:, None])
    typed = post(client, source="numbers", numbers=[3, -1.5])
    close(typed["input"], [[3], [-1.5]])
    assert typed["labels"] == ["3", "-1.5"]
    words = post(client, source="sentence", sentence="The river, the BANK!", kind="gru", seed=3)
    x, _ = embed(tokenize("the river the bank"))
    t, _ = engine_run("gru", x, seed=3)
    close(words["input"], x)
    close(words["output"], t.output)
    assert words["labels"] == ["the", "river", "the", "bank"] and words["words"] is True
    assert words["features"][0] == "finance"


def test_seed_and_scale_change_the_weights_and_the_torch_line_follows_the_settings(client):
    a, b = post(client), post(client, seed=1)
    assert not np.allclose(a["weights"]["weight_hh_l0"], b["weights"]["weight_hh_l0"])
    small = post(client, scale=0.5)
    close(small["weights"]["weight_hh_l0"], np.array(a["weights"]["weight_hh_l0"]) * 0.5)
    assert a["torch"].splitlines()[0] == (
        "lstm = nn.LSTM(input_size=1, hidden_size=4, num_layers=1, bidirectional=False)"
    )
    relu = post(client, kind="rnn", nonlinearity="relu", bidirectional=True, hidden_size=2, source="sentence")
    assert relu["torch"].splitlines()[0] == (
        "rnn = nn.RNN(input_size=8, hidden_size=2, num_layers=1, nonlinearity='relu', bidirectional=True)"
    )
    assert "output, h_n = rnn(x)" in relu["torch"] and "output (6, 4)" in relu["torch"]


def test_compare_runs_the_three_kinds_on_the_same_input(client):
    body = post(client, "/api/recurrent/compare", source="numbers", numbers=[1, 0, -1], hidden_size=2)
    assert body["kinds"] == ["rnn", "lstm", "gru"]
    x = np.array([[1.0], [0.0], [-1.0]])
    for kind in body["kinds"]:
        t, _ = engine_run(kind, x, hidden=2)
        close(body["output"][kind], t.output)
        close(body["h_n"][kind], t.stages["h_n"])
    assert_error(client.post("/api/recurrent/compare", json={"kind": "lstm"}), 422, "kind")


def test_gradients_equal_the_engines_vanishing_gradients_exactly(client):
    body = post(client, "/api/recurrent/gradients", seq_len=40, scale=0.5, forget_bias=1.0, seed=2)
    t = vanishing_gradients(40, 4, 8, 0.5, 1.0, 2)
    for k, kind in enumerate(["rnn", "lstm", "gru"]):
        assert body["norms"][kind] == t.output[k].tolist()  # float64, not rounded to float32
        assert body["step_norm"][kind] == t.stages[f"{kind}.step_norm"].tolist()
    rnn_norms = body["norms"]["rnn"]
    assert rnn_norms[0] < 1e-20 < rnn_norms[-1]  # far below float32's smallest normal number
    assert body["norms"]["lstm"][0] > 1e3 * rnn_norms[0]


NAN = float("nan")


@pytest.mark.parametrize(
    ("body", "field", "limit"),
    [
        ({"hidden_size": 0}, "hidden_size", "1"),
        ({"hidden_size": 9}, "hidden_size", "8"),
        ({"num_layers": 4}, "num_layers", "3"),
        ({"num_layers": 0}, "num_layers", "1"),
        ({"kind": "transformer"}, "kind", "'rnn', 'lstm' or 'gru'"),
        ({"source": "numbers", "numbers": [0.5] * 25}, "numbers", "24"),
        ({"source": "numbers", "numbers": []}, "numbers", "1"),
        ({"source": "numbers", "numbers": [1, 101]}, "numbers", "100"),
        ({"source": "numbers", "numbers": [1, "x"]}, "numbers", None),
        ({"length": 25}, "length", "24"),
        ({"period": 1}, "period", "2"),
        ({"scale": 0}, "scale", "0.05"),
        ({"scale": 6}, "scale", "5"),
        ({"seed": -1}, "seed", "0"),
        ({"nonlinearity": "sigmoid"}, "nonlinearity", "tanh"),
        ({"source": "sentence", "sentence": "a " * 25}, "sentence", "24"),
        ({"source": "sentence", "sentence": " ?! "}, "sentence", "at least one word"),
        ({"sentence": "x" * 201}, "sentence", "200"),
        ({"source": "wav"}, "source", "numbers"),
        ({"weights": {}}, "weights", None),
    ],
)
def test_bad_run_input_is_a_422_naming_the_field_and_the_limit(client, body, field, limit):
    assert_error(client.post("/api/recurrent/run", json=body), 422, field, limit)


def test_nan_and_infinity_are_refused_not_computed(client):
    for raw in ('{"source": "numbers", "numbers": [1, NaN]}', '{"scale": Infinity}'):
        r = client.post("/api/recurrent/run", content=raw, headers={"content-type": "application/json"})
        assert r.status_code == 422, r.text
        assert r.json()["message"].split(":")[0] in ("numbers[1]", "scale")
    assert_error(
        client.post(
            "/api/recurrent/gradients",
            content='{"forget_bias": NaN}',
            headers={"content-type": "application/json"},
        ),
        422,
        "forget_bias",
    )


@pytest.mark.parametrize(
    ("body", "field", "limit"),
    [
        ({"seq_len": S.max_rnn_grad_len + 1}, "seq_len", str(S.max_rnn_grad_len)),
        ({"seq_len": 1}, "seq_len", "2"),
        ({"input_size": 9}, "input_size", "8"),
        ({"hidden_size": 0}, "hidden_size", "1"),
        ({"forget_bias": 11}, "forget_bias", "10"),
        ({"scale": 0.01}, "scale", "0.05"),
    ],
)
def test_bad_gradient_input_is_a_422_naming_the_field_and_the_limit(client, body, field, limit):
    assert_error(client.post("/api/recurrent/gradients", json=body), 422, field, limit)


def test_page_hands_over_defaults_limits_and_typeset_formulas(client):
    r = client.get("/recurrent")
    assert r.status_code == 200
    assert r.text.count("<math") >= 8 and 'id="rnn-cell"' in r.text and 'id="stepper"' in r.text
    assert '"max_rnn_hidden":8' in r.text.replace(" ", "")


def test_over_the_real_server(http):
    r = http.post("/api/recurrent/run", json={"kind": "lstm", "source": "numbers", "numbers": [2.0]})
    assert r.status_code == 200
    t, _ = engine_run("lstm", np.array([[2.0]]))
    body = r.json()
    close(body["steps"]["c"][0], t.stages["l0.forward.c"][0])
    assert math.isclose(body["steps"]["f"][0][1], t.stages["l0.forward.f"][0][1], rel_tol=1e-6)
    assert_error(http.post("/api/recurrent/run", json={"hidden_size": 0}), 422, "hidden_size", "1")
    assert_error(
        http.post("/api/recurrent/run", json={"source": "numbers", "numbers": [0] * 30}), 422, "numbers", "24"
    )
    page = http.get("/recurrent")
    assert page.status_code == 200 and "js/recurrent/page.js" in page.text
