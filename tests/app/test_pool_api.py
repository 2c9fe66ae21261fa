"""POST /api/pool/{trace,compare,shift} and the /pool page: seed 004, the engine's numbers, closed forms,
the conv-page source, chunks, and every refusal naming its field and limit."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from layerlab.app.config import settings
from layerlab.app.examples import CONV_EXAMPLES
from layerlab.app.pages.pool.kinds import KINDS
from layerlab.engine.activations import relu
from layerlab.engine.conv import conv2d
from layerlab.engine.images import sample_image
from layerlab.engine.pool import avg_pool2d, max_pool2d, min_pool2d
from layerlab.engine.pool_fractional import fractional_max_pool2d
from layerlab.engine.pool_regions import (
    adaptive_avg_pool2d,
    adaptive_edges,
    roi_pool2d,
    spatial_pyramid_pool2d,
)
from layerlab.engine.pool_variants import lp_pool2d, mixed_pool2d, stochastic_pool2d
from tests.app.helpers import assert_error

SEED004 = [[1, 0, 2], [3, 1, 2], [1, 2, 3]]
SEED004_OUTPUT = [[3, 2], [3, 3]]
CHUNK = settings.trace_chunk_steps
PRESETS_STATE = re.compile(r'<script id="page-data" type="application/json">(.*?)</script>', re.S)
EDGE = [[[[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]], [[[0, 0, 0], [0, 1, 0], [0, 0, 0]]]]
CONV = {"image": "scene", "size": 16, "weight": EDGE, "bias": [0.5, 0], "padding": [1, 1], "relu": True}


def matrix(seed: int, rows: int = 6, cols: int = 7) -> list[list[float]]:
    """A small random matrix with negatives and ties (values to one decimal)."""
    return np.round(np.random.default_rng(seed).normal(size=(rows, cols)), 1).tolist()


def output(client, **fields) -> np.ndarray:
    r = client.post("/api/pool/trace", json=fields)
    assert r.status_code == 200, r.text[:300]
    return np.array(r.json()["output"], dtype=np.float64)


# ---- seed 004 and the engine's numbers ---------------------------------------------------------


def test_default_request_is_seed_004s_max_pool(client):
    body = client.post("/api/pool/trace", json={}).json()
    assert body["output"] == SEED004_OUTPUT and body["input"] == SEED004
    assert body["num_steps"] == 4 and body["torch"] == "nn.MaxPool2d(kernel_size=2, stride=1)"
    steps = body["steps"]
    assert steps["index"] == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert steps["window"][1] == [[0, 2], [1, 2]]
    assert steps["winner"] == [[1, 0], [0, 2], [1, 0], [2, 2]]  # the 3 at (1, 0) wins both left windows
    assert steps["result"] == [3, 2, 3, 3]
    assert body["formulas"]["height"].endswith("<mo>&#x0003D;</mo><mn>2</mn></mrow></math>")


def test_real_server_gives_seed_004s_max_pool(http):
    body = http.post("/api/pool/trace", json={"matrix": SEED004, "kernel_size": 2, "stride": 1}).json()
    assert body["output"] == SEED004_OUTPUT


CASES = [  # (request fields, the engine call on x of shape (1, H, W))
    ({"kind": "max", "padding": 1, "dilation": 2, "kernel_size": 3, "stride": 2},
     lambda x: max_pool2d(x, 3, 2, 1, 2)),
    ({"kind": "max", "kernel_size": [3, 2], "stride": [2, 1], "ceil_mode": True},
     lambda x: max_pool2d(x, (3, 2), (2, 1), ceil_mode=True)),
    ({"kind": "min", "kernel_size": 2, "stride": 2, "padding": 1}, lambda x: min_pool2d(x, 2, 2, 1)),
    ({"kind": "avg", "kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True,
      "count_include_pad": False}, lambda x: avg_pool2d(x, 3, 2, 1, True, False)),
    ({"kind": "avg", "kernel_size": 2, "stride": 1, "divisor_override": 3},
     lambda x: avg_pool2d(x, 2, 1, divisor_override=3)),
    ({"kind": "lp", "norm_type": 3, "kernel_size": 2, "stride": 2, "ceil_mode": True},
     lambda x: lp_pool2d(np.abs(x), 3, 2, 2, True)),
    ({"kind": "mixed", "mix": 0.25, "kernel_size": 2, "stride": 1, "padding": 1},
     lambda x: mixed_pool2d(x, 2, 1, 1, 0.25)),
    ({"kind": "stochastic", "seed": 7, "kernel_size": 2, "stride": 1},
     lambda x: stochastic_pool2d(x, 2, 1, True, 7)),
    ({"kind": "stochastic", "training": False, "kernel_size": 3, "stride": 2},
     lambda x: stochastic_pool2d(x, 3, 2, False)),
    ({"kind": "adaptive_avg", "output_size": [4, 3]}, lambda x: adaptive_avg_pool2d(x, (4, 3))),
    ({"kind": "spp", "levels": [1, 3], "pyramid_mode": "avg"},
     lambda x: spatial_pyramid_pool2d(x, (1, 3), "avg")),
    ({"kind": "fractional_max", "kernel_size": [2, 3], "output_size": [4, 3], "seed": 5},
     lambda x: fractional_max_pool2d(x, (2, 3), (4, 3), seed=5)),
]  # fmt: skip


@pytest.mark.parametrize(("fields", "engine"), CASES, ids=[str(i) for i in range(len(CASES))])
def test_trace_output_is_the_engines(client, fields, engine):
    x = np.array(matrix(len(fields)), dtype=np.float64)
    if fields["kind"] == "lp":
        x = np.abs(x)  # a fractional power of a negative sum is NaN, as in torch
    got = output(client, matrix=x.tolist(), **fields)
    expected = engine(x[None]).output
    np.testing.assert_allclose(got, expected.reshape(got.shape), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
def test_every_kind_of_the_registry_answers_with_its_torch_line_and_formula(client, kind):
    body = client.post("/api/pool/trace", json={"kind": kind.name, "matrix": matrix(1)}).json()
    assert body["kind"] == kind.name and body["num_steps"] == len(body["steps"]["result"]) > 0
    assert "{" not in body["torch"] and body["formulas"]["statistic"].startswith("<math")


def test_closed_forms_on_seed_004(client):
    x = np.array(SEED004, dtype=np.float64)
    windows = [x[:2, :2], x[:2, 1:], x[1:, :2], x[1:, 1:]]
    sums = np.array([w.sum() for w in windows]).reshape(2, 2)
    np.testing.assert_allclose(output(client, kind="avg"), sums / 4)
    np.testing.assert_allclose(output(client, kind="min"), [[0, 0], [1, 1]])
    np.testing.assert_allclose(output(client, kind="lp", norm_type=1), sums, rtol=1e-6)  # p = 1: the sum
    np.testing.assert_allclose(output(client, kind="lp", norm_type=16), SEED004_OUTPUT, rtol=0.1)
    np.testing.assert_allclose(output(client, kind="mixed", mix=1), SEED004_OUTPUT)
    np.testing.assert_allclose(output(client, kind="global_avg"), [[x.mean()]], rtol=1e-6)
    np.testing.assert_allclose(output(client, kind="global_max"), [[3]])


def test_stochastic_steps_carry_probabilities_and_a_draw_inside_the_window(client):
    body = client.post("/api/pool/trace", json={"kind": "stochastic", "seed": 3}).json()
    s = body["steps"]
    for j in range(4):
        window, p = np.array(s["window"][j]), np.array(s["probabilities"][j])
        np.testing.assert_allclose(p.sum(), 1, rtol=1e-6)
        np.testing.assert_allclose(p, window / window.sum(), rtol=1e-6)
        row, col = s["draw"][j]
        assert row in s["rows"][j] and col in s["cols"][j]
        assert s["result"][j] == SEED004[row][col]
    again = client.post("/api/pool/trace", json={"kind": "stochastic", "seed": 3}).json()
    assert again["steps"]["draw"] == s["draw"]  # a shared link draws the same cells


def test_bins_are_the_engines_and_drawn_boxes(client):
    x = np.array(matrix(1, 7, 5))
    body = client.post(
        "/api/pool/trace", json={"matrix": x.tolist(), "kind": "adaptive_max", "output_size": 3}
    ).json()
    rows, cols = adaptive_edges(7, 3), adaptive_edges(5, 3)
    expected = [[r0, r1, c0, c1] for r0, r1 in rows.tolist() for c0, c1 in cols.tolist()]
    assert body["bins"]["boxes"] == expected and body["padded"] is None
    assert body["torch"] == "nn.AdaptiveMaxPool2d(3)"
    spp = client.post("/api/pool/trace", json={"matrix": x.tolist(), "kind": "spp"}).json()
    assert len(spp["output"]) == 1 + 4 + 16 and spp["bins"]["level"] == [1] + [2] * 4 + [4] * 16
    assert spp["steps"]["feature"] == list(range(21))


def test_roi_pools_the_box_into_a_fixed_grid(client):
    x = np.array(matrix(2, 8, 9))
    fields = {"matrix": x.tolist(), "kind": "roi", "box": [1, 2, 6, 7], "output_size": [2, 3]}
    body = client.post("/api/pool/trace", json=fields).json()
    expected = roi_pool2d(x[None, None], np.array([[0, 1, 2, 6, 7]]), (2, 3)).output[0, 0]
    np.testing.assert_allclose(body["output"], expected, rtol=1e-6)
    assert body["bins"]["box"] == [2, 8, 1, 7]  # rows 2..7 and columns 1..6 as half-open edges
    assert body["torch"].startswith("torchvision.ops.roi_pool(x, [torch.tensor([[1., 2., 6., 7.]])]")


# ---- inputs: images, uploads and the conv page's feature map ----------------------------------------


def test_image_source_is_the_grey_sample(client):
    x = sample_image("digit", 16, "gray")
    got = output(client, source="image", image="digit", size=16, kernel_size=2, stride=2)
    np.testing.assert_allclose(got, max_pool2d(x, 2, 2).output[0], rtol=1e-6)


def test_conv_source_pools_the_relu_of_the_selected_filter(client):
    body = client.post("/api/pool/trace", json={"source": "conv", "conv": CONV, "stride": 2}).json()
    x = sample_image("scene", 16, "gray")
    conv = conv2d(
        x, np.array(EDGE, dtype=np.float64), np.array([0.5, 0]), padding=1, record_steps=False
    ).output
    np.testing.assert_allclose(body["source"]["conv_output"], conv[0], rtol=1e-5, atol=1e-6)
    fmap = relu(conv[0]).output
    np.testing.assert_allclose(body["input"], fmap, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(body["output"], max_pool2d(fmap[None], 2, 2).output[0], rtol=1e-5, atol=1e-6)
    assert body["source"]["relu"] and body["source"]["torch"].startswith("nn.Conv2d(1, 2, kernel_size=3")
    second = client.post("/api/pool/trace", json={"source": "conv", "conv": CONV, "conv_filter": 1}).json()
    np.testing.assert_allclose(second["input"], x[0], rtol=1e-6)  # the identity kernel, ReLU of [0, 1]


def test_conv_page_examples_are_accepted_as_sources(http):
    for example in CONV_EXAMPLES:
        r = http.post("/api/pool/trace", json={"source": "conv", "conv": example["state"], "kernel_size": 1})
        assert r.status_code == 200, (example["id"], r.text[:200])


def test_missing_upload_is_a_404_naming_the_image(client):
    r = client.post("/api/pool/trace", json={"source": "image", "image": "upload:0123456789abcdef"})
    assert_error(r, 404, "image", "upload the image again")


# ---- chunks --------------------------------------------------------------------------------------


def test_steps_come_in_chunks_and_step_picks_its_chunk(client):
    base = {"source": "image", "image": "scene", "size": 64, "kernel_size": 1, "stride": 1}
    later = client.post("/api/pool/trace", json={**base, "chunk": 2, "stages": False}).json()
    assert later["num_steps"] == 64 * 64 and later["step_offset"] == 2 * CHUNK
    assert later["steps"]["index"][0] == [2 * CHUNK // 64, 0] and "input" not in later
    clamped = client.post("/api/pool/trace", json={**base, "step": 10**6}).json()
    assert clamped["chunk"] == (64 * 64 - 1) // CHUNK and len(clamped["output"]) == 64
    assert_error(
        client.post("/api/pool/trace", json={**base, "chunk": 4}), 422, "chunk", "past the last step"
    )


# ---- side by side and the shift demo ------------------------------------------------------------------


def test_compare_gives_four_poolings_with_shared_windows(client):
    x = np.abs(np.array(matrix(4, 5, 6)))
    fields = {"matrix": x.tolist(), "kernel_size": [2, 3], "stride": 1, "ceil_mode": True, "norm_type": 3}
    body = client.post("/api/pool/compare", json=fields).json()
    c = x[None]
    expected = {
        "max": max_pool2d(c, (2, 3), 1, ceil_mode=True),
        "avg": avg_pool2d(c, (2, 3), 1, ceil_mode=True),
        "min": min_pool2d(c, (2, 3), 1, ceil_mode=True),
        "lp": lp_pool2d(c, 3, (2, 3), 1, True),
    }
    for kind, t in expected.items():
        np.testing.assert_allclose(body["outputs"][kind], t.output[0], rtol=1e-6, err_msg=kind)
        np.testing.assert_allclose(body["steps"]["results"][kind], t.steps["result"], rtol=1e-6, err_msg=kind)
    assert body["steps"]["rows"] == expected["max"].steps["rows"].tolist()
    assert body["torch"]["lp"] == "nn.LPPool2d(3, kernel_size=(2, 3), stride=1, ceil_mode=True)"


def test_shift_counts_what_changes_before_and_after_pooling(client):
    body = client.post("/api/pool/shift", json={"shift": [0, 1]}).json()
    assert body["shifted"] == [[0, 1, 0], [0, 3, 1], [0, 1, 2]]
    assert body["pooled"] == SEED004_OUTPUT and body["pooled_shifted"] == [[3, 3], [3, 3]]
    assert body["changed_pooled"] == [[0, 1], [0, 0]]
    assert body["fraction"] == {"input": 1.0, "pooled": 0.25}
    assert body["count"] == {"input": [9, 9], "pooled": [1, 4]}


def test_max_pooling_changes_less_than_the_map_under_a_shift(http):
    fields = {"source": "image", "image": "scene", "size": 64, "kernel_size": 2, "stride": 2, "shift": [1, 0]}
    body = http.post("/api/pool/shift", json=fields).json()
    x = sample_image("scene", 64, "gray")[0]
    moved = np.zeros_like(x)
    moved[1:] = x[:-1]
    pooled = max_pool2d(x[None], 2, 2).output[0]
    pooled_moved = max_pool2d(moved[None], 2, 2).output[0]
    assert body["fraction"]["input"] == pytest.approx(np.mean(~np.isclose(x, moved, rtol=1e-9, atol=1e-12)))
    assert body["fraction"]["pooled"] == pytest.approx(
        np.mean(~np.isclose(pooled, pooled_moved, rtol=1e-9, atol=1e-12))
    )
    assert body["fraction"]["pooled"] < body["fraction"]["input"]


# ---- refusals ------------------------------------------------------------------------------------------

BAD = [
    ("/api/pool/trace", {"kernel_size": 4}, "kernel_size", "more than the padded input 3x3"),
    ("/api/pool/trace", {"kernel_size": 3, "dilation": 2}, "kernel_size", "5x5"),
    ("/api/pool/trace", {"kernel_size": 2, "padding": 2}, "padding", "at most half the kernel size"),
    ("/api/pool/trace", {"stride": 0}, "stride", "greater than or equal to 1"),
    ("/api/pool/trace", {"stride": [1, 0]}, "stride", "greater than or equal to 1"),
    ("/api/pool/trace", {"kernel_size": 9}, "kernel_size", str(settings.max_pool_kernel)),
    ("/api/pool/trace", {"matrix": [[1] * 13]}, "matrix", str(settings.max_pool_matrix_side)),
    ("/api/pool/trace", {"matrix": [[1]] * 13}, "matrix", str(settings.max_pool_matrix_side)),
    ("/api/pool/trace", {"matrix": [[1, 2], [3]]}, "matrix", "every row must have 2 entries"),
    ("/api/pool/trace", {"matrix": [[1, 2], [3, 1e9]]}, "matrix", "1000000"),
    ("/api/pool/trace", {"kind": "median"}, "kind", "'max'"),
    ("/api/pool/trace", {"divisor_override": 0, "kind": "avg"}, "divisor_override", "greater than or"),
    ("/api/pool/trace", {"norm_type": 0, "kind": "lp"}, "norm_type", "greater than 0"),
    ("/api/pool/trace", {"norm_type": 17, "kind": "lp"}, "norm_type", "16"),
    ("/api/pool/trace", {"mix": 1.5, "kind": "mixed"}, "mix", "less than or equal to 1"),
    ("/api/pool/trace", {"seed": -1, "kind": "stochastic"}, "seed", "greater than or equal to 0"),
    ("/api/pool/trace", {"output_size": 17, "kind": "adaptive_avg"}, "output_size", "16"),
    ("/api/pool/trace", {"levels": [1, 2, 2], "kind": "spp"}, "levels", "distinct"),
    ("/api/pool/trace", {"levels": [0], "kind": "spp"}, "levels", "greater than or equal to 1"),
    ("/api/pool/trace", {"levels": [1, 2, 3, 4, 5], "kind": "spp"}, "levels", "at most 4"),
    ("/api/pool/trace", {"levels": [9], "kind": "spp"}, "levels", "8"),
    ("/api/pool/trace", {"box": [0, 0, 3, 1], "kind": "roi"}, "box", "x2 < 3"),
    ("/api/pool/trace", {"box": [2, 0, 1, 1], "kind": "roi"}, "box", "x1 <= x2"),
    ("/api/pool/trace", {"box": [0, -1, 1, 1], "kind": "roi"}, "box", "0 <= y1"),
    ("/api/pool/trace", {"source": "image", "size": 300}, "size", "256"),
    ("/api/pool/trace", {"source": "image", "image": "nope"}, "image", "unknown sample"),
    ("/api/pool/trace", {"source": "conv"}, "conv", "needs the conv page's settings"),
    ("/api/pool/trace", {"source": "conv", "conv": CONV, "conv_filter": 2}, "conv_filter", "filters (2)"),
    ("/api/pool/trace", {"source": "conv", "conv": {**CONV, "padding": 16, "padding_mode": "reflect"}},
     "conv.padding", "smaller than the input size (16x16)"),
    ("/api/pool/trace", {"source": "conv", "conv": {**CONV, "weight": [[[[1], [3, 4]]]]}}, "conv", None),
    ("/api/pool/trace", {"pool": 2}, "pool", "Extra inputs are not permitted"),
    ("/api/pool/trace", {"source": "image", "size": 256, "kernel_size": 8, "stride": 1}, "kernel_size",
     f"{settings.max_pool_cells:,}"),
    ("/api/pool/compare", {"kernel_size": 4}, "kernel_size", "more than the padded input 3x3"),
    ("/api/pool/compare", {"kind": "max"}, "kind", "Extra inputs"),
    ("/api/pool/shift", {"shift": [0, 0]}, "shift", "at least one pixel"),
    ("/api/pool/shift", {"shift": [0, 4]}, "shift", str(settings.max_shift)),
    ("/api/pool/shift", {"kernel_size": 4}, "kernel_size", "padded input"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "fields", "field", "limit"), BAD, ids=[f"{f}-{i}" for i, (_, _, f, _) in enumerate(BAD)]
)
def test_bad_request_is_a_4xx_naming_field_and_limit(client, path, fields, field, limit):
    assert_error(client.post(path, json=fields), 422, field, limit)


def test_real_server_refuses_a_window_larger_than_the_input(http):
    assert_error(http.post("/api/pool/trace", json={"kernel_size": 5}), 422, "kernel_size", "padded input")


# ---- the page ----------------------------------------------------------------------------------------------


def test_pool_page_hands_over_kinds_limits_and_presets_the_api_accepts(client):
    html = client.get("/pool").text
    data = json.loads(PRESETS_STATE.search(html).group(1))
    assert [k["id"] for k in data["kinds"]][:4] == ["max", "avg", "min", "lp"]
    assert data["limits"]["max_pool_matrix_side"] == settings.max_pool_matrix_side
    assert data["defaults"]["matrix"] == SEED004 and html.count("<math") >= 4
    outputs = {p["id"]: output(client, **p["state"]) for p in data["presets"]}
    np.testing.assert_array_equal(outputs["seed004"], SEED004_OUTPUT)
    np.testing.assert_array_equal(outputs["seed002"], [[3, 3], [3, 3]])  # each 3 of the edge, once


def test_index_and_menu_link_the_pool_page(http):
    index = http.get("/").text
    assert re.search(r'<article class="card live">\s*<h2><a href="/pool">Pooling</a>', index)
    assert '<a href="/pool">Pooling</a>' in http.get("/conv").text
    assert 'id="pool-link"' in http.get("/conv").text
