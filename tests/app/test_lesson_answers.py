"""Every number a lesson's predict-then-reveal answer states is the engine's, at that step's settings.

The answers are written by hand in app/lessons/*.json; these tests recompute each claim from the step's
own page URL (or the page's defaults, through the API the page calls), so a change to the engine, the
vocabulary or a page default cannot leave a lesson saying something the page no longer shows.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

from layerlab.app.lessons import lessons
from layerlab.app.pages.norm.schemas import NormParams
from layerlab.engine.calculator import Layer, analyse
from layerlab.engine.conv import conv2d
from layerlab.engine.images import sample_image


def predict_steps(lesson_id: str) -> list[tuple[dict[str, str], str, str]]:
    """(query of the step's page, its path, its answer) for each predict step of a lesson, in order."""
    found = []
    for step in lessons()[lesson_id].steps:
        if step.predict:
            parts = urlsplit(step.page)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            found.append((query, parts.path, step.predict.answer))
    return found


def numbers(text: str) -> list[float]:
    """The numbers in an answer, minus signs (− or -) included."""
    return [float(m.replace("−", "-")) for m in re.findall(r"[−-]?\d+(?:\.\d+)?", text)]


def conv_output(query: dict[str, str]) -> np.ndarray:
    """The conv page's first feature map for its URL state (static/js/urlstate.js's fields)."""
    pair = lambda s: tuple(int(v) for v in s.split(","))  # noqa: E731
    x = sample_image(query["image"], int(query["size"]), query["color"])
    padding = query["pad"] if query["pad"] in ("same", "valid") else pair(query["pad"])
    w = np.array(json.loads(query["w"]), dtype=np.float64)
    t = conv2d(x, w, padding=padding, stride=pair(query["stride"]), dilation=pair(query["dil"]))
    return t.output[0]


def test_convolution_arithmetic_answers_give_the_engines_map_sizes():
    steps = predict_steps("convolution-arithmetic")
    assert len(steps) == 3
    for query, path, answer in steps:
        assert path == "/conv"
        size = re.match(r"(\d+)×(\d+)", answer)
        assert size, answer
        assert conv_output(query).shape == (int(size[1]), int(size[2])), (query, answer)


def test_prewitt_answer_names_the_columns_the_engine_fills_with_3_and_minus_3():
    ((query, _, answer),) = [
        s for s in predict_steps("kernel-pattern-detector") if "seed002" in s[0]["image"]
    ]
    out = conv_output(query)  # seed 002's 5x5 edge matrix, Prewitt x, same padding
    assert out.shape == (5, 5)
    assert out.max() == 3 and set(np.argwhere(out == 3)[:, 1]) == {1, 2}  # "the 2nd and 3rd columns"
    assert out.min() == -3 and set(np.argwhere(out == -3)[:, 1]) == {4}  # "the right column is −3"
    assert {3, -3} <= set(numbers(answer))


def test_pooling_answers_are_the_engines_window_results(client):
    (max_query, _, max_answer), (avg_query, _, avg_answer) = predict_steps("pooling")
    body = client.post("/api/pool/trace", json={}).json()  # the page's default: seed 004's matrix
    step = int(max_query["step"])
    window = np.array(body["steps"]["window"][step]).ravel()
    assert sorted(window) == sorted(numbers(max_answer)[1:5])  # "the largest of 0, 2, 1 and 2"
    assert body["steps"]["result"][step] == numbers(max_answer)[0] == window.max()
    avg = client.post("/api/pool/trace", json={"kind": avg_query["kind"]}).json()
    assert avg["steps"]["result"][int(avg_query["step"])] == numbers(avg_answer)[0] == 1.25


@pytest.mark.parametrize(("index", "groups", "size"), [(0, 4, 64), (1, 16, 16)])
def test_normalization_answers_count_the_engines_groups(client, index, groups, size):
    query, _, answer = predict_steps("normalization")[index]
    body = client.post("/api/norm/apply", json={"kind": query["kind"]}).json()
    group_of = np.array(body["group_of"])
    assert len(np.unique(group_of)) == groups and set(np.bincount(group_of.ravel())) == {size}
    assert numbers(answer)[0] == groups and numbers(answer)[-1] == size


def attention_row(client, query: dict[str, str], row: int) -> tuple[list[str], np.ndarray]:
    body = {"causal": query.get("causal") == "1", "scaled": query.get("scaled", "1") != "0"}
    res = client.post("/api/attention", json=body).json()
    return res["tokens"], np.array(res["steps"]["weights"][row])


def test_attention_answers_are_the_engines_weights(client):
    (bank_query, _, bank_answer), (causal_query, _, causal_answer) = predict_steps("attention-step-by-step")
    tokens, weights = attention_row(client, bank_query, int(bank_query["step"]))
    assert tokens[int(bank_query["step"])] == "bank"
    assert f"'{tokens[weights.argmax()]}'" in bank_answer  # the word it names
    top, lo, hi = numbers(bank_answer)
    assert round(weights.max(), 2) == top == hi and round(weights.min(), 2) == lo
    _, first = attention_row(client, causal_query, int(causal_query["step"]))
    assert first[0] == 1 == numbers(causal_answer)[0]


def test_unscaled_attention_answer_is_the_engines_spread_and_sqrt_dk(client):
    ((query, _, answer),) = predict_steps("why-scale-sqrt-dk")
    _, weights = attention_row(client, query, int(query["step"]))
    factor, lo, hi = numbers(answer)
    assert (round(weights.min(), 2), round(weights.max(), 2)) == (lo, hi)
    res = client.post("/api/attention", json={}).json()
    assert round(1 / res["params"]["scale"], 1) == factor  # scores grow by √d_k without the scaling


def test_circle_answer_is_the_engines_receptive_field():
    query, _, answer = predict_steps("why-deeper")[1]
    layers = [Layer(kind, args) for kind, args in json.loads(query["layers"])]
    report = analyse([int(v) for v in query["in"].split(",")], layers)
    h, w = report.layers[-1].receptive_field
    assert h * w == numbers(answer)[0] == 25 and report.layers[-1].output_shape[1:] == (1, 1)


def test_normalization_names_samples_as_the_page_counts_them_from_0():
    (step,) = [s for s in lessons()["normalization"].steps if "perturb=1" in s.page]
    defaults = NormParams()  # the page's change/watch when the URL names neither
    changed, watched = (int(n) for n in re.findall(r"sample (\d+)", step.narration))
    assert (changed, watched) == (defaults.change, defaults.watch) == (1, 0)
    for other in lessons()["normalization"].steps:  # no "sample 4" in a batch of samples 0 to 3
        assert all(int(n) < defaults.batch for n in re.findall(r"sample (\d+)", other.narration)), other.title
