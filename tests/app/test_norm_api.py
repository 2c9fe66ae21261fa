"""POST /api/norm/*: every normalization of the generated tensor against the plain-loop references,
the closed forms (zero mean and unit variance per group, the momentum formula, weight norm's lengths),
the batch-dependence demo, the stream and the small-batch comparison, and every refusal."""

from __future__ import annotations

import numpy as np
import pytest

from layerlab.app.config import settings
from layerlab.app.pages.norm.text import num
from tests.app.helpers import assert_error
from tests.engine.norm_reference import (
    batch_norm_loop,
    gn_key,
    group_norm_loop,
    instance_norm_loop,
    layer_norm_loop,
    local_response_norm_loop,
    moments,
    rms_norm_loop,
    weight_norm_loop,
    weight_standardization_loop,
)

TRAILING = {"chw": 3, "hw": 2, "w": 1}


def post(client, endpoint: str, body: dict) -> dict:
    r = client.post(f"/api/norm/{endpoint}", json=body)
    assert r.status_code == 200, r.text[:400]
    return r.json()


def tensor(body: dict, key: str = "input") -> np.ndarray:
    """A tensor of the answer as float64; the generated input is exact at its 2 decimals."""
    a = np.array(body["tensors"][key], dtype=np.float64)
    return np.round(a, 2) if key == "input" else a


def close(got, expected, tol: float = 2e-5) -> None:
    """float32 on the wire: equal to a few units in the last place."""
    np.testing.assert_allclose(np.array(got, dtype=float), expected, rtol=tol, atol=tol)


# ---- the generated input ---------------------------------------------------------------------


def test_input_is_seeded_and_has_the_per_channel_offsets_and_scales(client):
    body = {"batch": 8, "channels": 3, "size": 8, "offsets": [5, -3, 0], "scales": [0.5, 2, 1], "seed": 7}
    answer = post(client, "apply", body)
    x, sent = tensor(answer), np.array(answer["tensors"]["input"], dtype=float)
    assert x.shape == (8, 3, 8, 8)
    np.testing.assert_array_equal(x, tensor(post(client, "apply", body)))  # the same seed, the same numbers
    assert not np.array_equal(x, tensor(post(client, "apply", {**body, "seed": 8})))
    np.testing.assert_allclose(x.mean(axis=(0, 2, 3)), [5, -3, 0], atol=1.0)  # 8 plane draws: loose
    close(sent, x, tol=1e-6)  # two decimals: what is printed is what is computed
    six = post(client, "apply", {"channels": 6})  # without offsets and scales: the first 6 defaults
    spelled = {"channels": 6, "offsets": [3, -2, 0.5, 6, -4, 1.5], "scales": [1, 0.5, 2, 3, 0.8, 1.5]}
    assert six["shape"] == [4, 6, 4, 4] and six["tensors"] == post(client, "apply", spelled)["tensors"]


# ---- each kind against its loop reference --------------------------------------------------------


def test_batch_norm_training_matches_the_loop_reference_and_updates_running_stats(client):
    body = post(client, "apply", {"gamma": 1.5, "beta": -0.5, "momentum": 0.2, "eps": 1e-3})
    x = tensor(body)
    c = x.shape[1]
    y, mean, var = batch_norm_loop(x, np.zeros(c), np.ones(c), [1.5] * c, [-0.5] * c, True, 0.2, 1e-3)
    close(body["tensors"]["output"], y)
    close(body["running"]["mean"], mean)
    close(body["running"]["var"], var)
    stats = moments(x, lambda idx: idx[1])
    close(body["steps"]["mean"], [stats[k][0] for k in range(c)])
    close(body["steps"]["var"], [stats[k][1] for k in range(c)])
    assert body["steps"]["count"] == [x.size // c] * c
    assert body["group_of"] == np.broadcast_to(np.arange(c)[:, None, None], x.shape).tolist()
    assert body["labels"][1] == "channel 1, all 4 samples"
    assert body["torch"].startswith("bn = nn.BatchNorm2d(4, eps=0.001, momentum=0.2)\n")
    assert "nn.init.constant_(bn.weight, 1.5)" in body["torch"] and "bn.train()" in body["torch"]


@pytest.mark.parametrize("shape", ["chw", "hw", "w"])
def test_layer_and_rms_norm_match_the_loop_references_over_each_normalized_shape(client, shape):
    request = {"kind": "layer", "normalized_shape": shape, "gamma": 2.0, "beta": 1.0, "size": 3}
    body = post(client, "apply", request)
    x, k = tensor(body), TRAILING[shape]
    trailing = x.shape[4 - k :]
    expected = layer_norm_loop(x, k, np.full(trailing, 2.0), np.full(trailing, 1.0), 1e-5)
    close(body["tensors"]["output"], expected)
    lead = x.shape[: 4 - k]
    ids = np.broadcast_to(np.arange(np.prod(lead)).reshape(lead + (1,) * k), x.shape)
    assert body["group_of"] == ids.tolist()
    assert body["num_steps"] == np.prod(lead)
    rms = post(client, "apply", {**request, "kind": "rms"})
    close(rms["tensors"]["output"], rms_norm_loop(x, k, np.full(trailing, 2.0), 1e-5))
    assert rms["steps"]["mean"] == [0] * rms["num_steps"]  # not centred
    if shape == "chw":
        assert body["torch"] == "ln = nn.LayerNorm([4, 3, 3])\nnn.init.constant_(ln.weight, 2.0)\n" \
            "nn.init.constant_(ln.bias, 1.0)\ny = ln(x)  # x: (4, 4, 3, 3)"  # fmt: skip
        assert rms["torch"].startswith("rms = nn.RMSNorm([4, 3, 3], eps=1e-05)")


def test_instance_and_group_norm_match_the_loop_references(client):
    request = {"batch": 3, "channels": 6, "offsets": [1, 2, 3, -1, -2, 4], "scales": [1, 2, 1, 0.5, 3, 1]}
    inst = post(client, "apply", {**request, "kind": "instance", "beta": 0.25})
    x = tensor(inst)
    y, _, _ = instance_norm_loop(x, None, None, None, [0.25] * 6, True, 0.1, 1e-5)
    close(inst["tensors"]["output"], y)
    assert inst["num_steps"] == 18 and inst["labels"][7] == "sample 1, channel 1"
    for groups in (1, 2, 3, 6):
        gn = post(client, "apply", {**request, "kind": "group", "num_groups": groups})
        close(gn["tensors"]["output"], group_norm_loop(x, groups, None, None, 1e-5))
        key = gn_key(6, groups)
        assert gn["group_of"] == [[[[key((n, ch, 0, 0))[0] * groups + key((n, ch, 0, 0))[1]] * 4] * 4
                                   for ch in range(6)] for n in range(3)]  # fmt: skip
        assert gn["torch"].startswith(f"gn = nn.GroupNorm({groups}, 6)\n")
    assert gn["labels"][:2] == ["sample 0, channels 0–0", "sample 0, channels 1–1"]


@pytest.mark.parametrize("kind", ["batch", "layer", "instance", "group"])
def test_every_group_has_mean_zero_and_unit_variance_before_the_affine_step(client, kind):
    body = post(client, "apply", {"kind": kind, "gamma": 3.0, "beta": 2.0, "batch": 5, "size": 5})
    normalized = np.array(body["tensors"]["normalized"], dtype=float)
    ids = np.array(body["group_of"])
    var = np.array(body["steps"]["var"])
    for g in range(body["num_steps"]):
        values = normalized[ids == g]
        assert abs(values.mean()) < 1e-5
        assert values.var() == pytest.approx(var[g] / (var[g] + 1e-5), abs=1e-5)
    close(body["tensors"]["output"], 3.0 * normalized + 2.0)


def test_local_response_norm_and_the_weight_normalizations_match_the_loop_references(client):
    lrn_args = {"lrn_size": 3, "lrn_alpha": 0.5, "lrn_beta": 0.75, "lrn_k": 2}
    lrn = post(client, "apply", {"kind": "lrn", **lrn_args})
    x = tensor(lrn)
    close(lrn["tensors"]["output"], local_response_norm_loop(x, 3, 0.5, 0.75, 2.0))
    assert lrn["window"][0] == [True, True, False, False]
    assert lrn["labels"][3] == "channel 3, window channels 2–3"
    assert lrn["torch"].startswith("lrn = nn.LocalResponseNorm(3, alpha=0.5, beta=0.75, k=2.0)")

    wn = post(client, "apply", {"kind": "weight_norm", "g": -2.5})
    v = tensor(wn)
    w = np.array(wn["tensors"]["output"], dtype=float)
    close(w, weight_norm_loop(v, [-2.5] * 4, 0))
    close(np.sqrt((w**2).sum(axis=(1, 2, 3))), [2.5] * 4)  # the length is |g| ...
    unit = v / np.sqrt((v**2).sum(axis=(1, 2, 3), keepdims=True))
    close(w / -2.5, unit)  # ... and the direction is v's
    close(wn["steps"]["norm"], np.sqrt((v**2).sum(axis=(1, 2, 3))), tol=1e-4)

    ws = post(client, "apply", {"kind": "weight_std", "eps": 1e-4})
    close(ws["tensors"]["output"], weight_standardization_loop(tensor(ws), 1e-4))
    assert ws["labels"][2] == "output channel 2" and "torch.sqrt(var + 0.0001)" in ws["torch"]


# ---- training and evaluation ---------------------------------------------------------------------


def test_running_statistics_follow_the_momentum_formula_and_feed_evaluation(client):
    stream = post(client, "stream", {"batches": 12, "momentum": 0.3, "trials": 10})
    mean, var = np.array(stream["running_mean"]), np.array(stream["running_var"])
    assert mean.shape == (13, 4) and stream["params"]["num_batches"] == 12
    close(mean[0], [0] * 4)
    close(var[0], [1] * 4)
    batch_mean, batch_var = np.array(stream["batch_mean"]), np.array(stream["batch_var"])
    k = np.arange(1, 13)[:, None]  # after k batches: 0.7^k * start + sum_j 0.3 * 0.7^(k - j) * batch_j
    weights = np.array([[0.3 * 0.7 ** (i - j) if j <= i else 0 for j in range(1, 13)] for i in range(1, 13)])
    close(mean[1:], weights @ batch_mean, tol=1e-4)
    close(var[1:], 0.7**k * 1 + weights @ batch_var, tol=1e-4)
    assert "<mn>0.3</mn>" in stream["formula"]
    assert stream["torch"].startswith("bn = nn.BatchNorm2d(4, eps=1e-05, momentum=0.3)")

    body = post(client, "apply", {"training": False, "batches": 12, "momentum": 0.3, "gamma": 2.0})
    close(body["running"]["mean"], mean[-1])
    close(body["running"]["var"], var[-1])
    x = tensor(body)
    y, _, _ = batch_norm_loop(x, mean[-1], var[-1], [2.0] * 4, None, False, 0.3, 1e-5)
    close(body["tensors"]["output"], y, tol=1e-4)
    close(body["steps"]["mean"], mean[-1])
    assert "bn.eval()" in body["torch"] and "after 12 training batches" in body["torch"]


def test_running_statistics_converge_to_the_generators_population(client):
    request = {"batches": 200, "batch": 8, "offsets": [3, -2, 0.5, 6], "scales": [1, 0.5, 2, 3], "trials": 10}
    stream = post(client, "stream", request)
    close(stream["population"]["mean"], [3, -2, 0.5, 6])
    close(stream["population"]["var"], [1, 0.25, 4, 9])
    final_mean, final_var = np.array(stream["running_mean"][-1]), np.array(stream["running_var"][-1])
    assert np.all(np.abs(final_mean - [3, -2, 0.5, 6]) < 0.5 * np.array([1, 0.5, 2, 3]))
    assert np.all(np.abs(final_var / [1, 0.25, 4, 9] - 1) < 0.5)


def test_small_batches_estimate_the_statistics_worse_than_large_ones(client):
    small = post(client, "stream", {"small_batch": 2, "large_batch": 64, "trials": 40})["small_batch"]
    two, sixty_four = small["sizes"]
    assert (two["size"], sixty_four["size"]) == (2, 64) and small["trials"] == 40
    assert two["spread"] > 3 * sixty_four["spread"]
    assert two["mean_error"] > 3 * sixty_four["mean_error"]
    assert two["var_error"] > sixty_four["var_error"]
    counts = np.array(small["histogram"]["counts"])
    assert counts.shape == (2, settings.norm_histogram_bins)
    assert counts.sum(axis=1).tolist() == [40 * 4 * 4 * 4] * 2  # every element of the probe, every trial


# ---- the page's other numbers --------------------------------------------------------------------


def test_histograms_are_numpys_over_shared_edges_per_channel_and_per_group(client):
    body = post(client, "apply", {"kind": "group", "histogram": "channel"})
    x, y = tensor(body), np.array(body["tensors"]["output"], dtype=float)
    before = body["histograms"]["before"]
    edges = np.histogram_bin_edges(x, bins=settings.norm_histogram_bins)
    close(before["edges"], edges)
    for c in range(4):
        assert before["counts"][c] == np.histogram(x[:, c], bins=edges)[0].tolist()
    assert before["total"] == np.histogram(x, bins=edges)[0].tolist()
    close(before["centers"], (edges[:-1] + edges[1:]) / 2)
    assert np.array(body["histograms"]["after"]["counts"]).sum() == y.size
    grouped = post(client, "apply", {"kind": "group", "histogram": "group"})["histograms"]
    assert len(grouped["before"]["counts"]) == 8 and grouped["labels"][3] == "sample 1, channels 2–3"
    assert np.array(grouped["before"]["counts"]).sum(axis=1).tolist() == [2 * 16] * 8


def test_changing_one_sample_moves_another_only_under_batch_norm_in_training(client):
    request = {"perturb": True, "watch": 0, "change": 2, "change_by": 5.0}
    body = post(client, "apply", request)
    dep = body["dependence"]
    moved = {row["label"]: row["max_change"] for row in dep["by_kind"]}
    assert moved.pop("batch norm, training") > 0.1
    assert moved and all(change < 1e-5 for change in moved.values())  # eval, LN, IN, GN, RMS, LRN
    x = tensor(body)
    base = x.copy()
    base[2] -= 5.0
    y_base, _, _ = batch_norm_loop(base, None, None, None, None, True, 0.1, 1e-5)
    y_changed, _, _ = batch_norm_loop(x, None, None, None, None, True, 0.1, 1e-5)
    close(dep["before"], y_base[0])
    close(dep["after"], y_changed[0])
    assert dep["max_change"] == pytest.approx(np.abs(y_changed[0] - y_base[0]).max(), abs=1e-5)
    layer = post(client, "apply", {**request, "kind": "layer"})["dependence"]
    assert layer["max_change"] < 1e-5
    assert post(client, "apply", {"kind": "layer"})["dependence"] is None  # off unless asked


def test_the_equation_writes_out_the_groups_own_numbers(client):
    body = post(client, "apply", {"kind": "instance", "group": 5, "gamma": 2.0, "beta": 0.5})
    eq = body["equation"]
    assert eq["group"] == 5 and len(eq["lines"]) == 4
    x = tensor(body)
    mean, var, _, m = moments(x, lambda idx: idx[:2])[(1, 1)]
    text = "".join(eq["lines"])
    for value in (x[1, 1].sum(), mean, var):
        assert f"<mn>{num(abs(value))}</mn>" in text  # a minus sign is its own <mo>
    assert f"<mn>{m}</mn>" in text and all(line.startswith("<math") for line in eq["lines"])
    again = post(client, "equation", {"kind": "instance", "group": 5, "gamma": 2.0, "beta": 0.5})
    assert again == eq
    last = post(client, "equation", {"kind": "instance", "group": 999})
    assert last["group"] == 15  # past the end: the last group
    evaluation = "".join(post(client, "equation", {"training": False, "batches": 7})["lines"])
    assert "<mtext>running</mtext>" in evaluation and "after&#x000A0;7&#x000A0;batches" in evaluation


# ---- refusals ------------------------------------------------------------------------------------

LIMIT, LARGE = settings.max_norm_batch, settings.max_norm_large_batch
BAD = [
    ({"kind": "group", "num_groups": 3}, "num_groups", "must divide the number of channels (4)"),
    ({"eps": 0}, "eps", "greater than 0"),
    ({"eps": -1e-5}, "eps", "greater than 0"),
    ({"eps": 100}, "eps", f"{settings.max_norm_eps:g}"),
    ({"batch": LIMIT + 1}, "batch", str(LIMIT)),
    ({"channels": 9, "offsets": [0] * 9, "scales": [1] * 9}, "channels", str(settings.max_norm_channels)),
    ({"size": 1}, "size", "2"),
    ({"size": settings.max_norm_side + 1}, "size", str(settings.max_norm_side)),
    ({"offsets": [1, 2, 3]}, "offsets", "one per channel (4)"),
    ({"scales": [1, 0, 1, 1]}, "scales", "greater than 0"),
    ({"momentum": 1.5}, "momentum", "1"),
    ({"gamma": 1e9}, "gamma", str(int(settings.max_norm_abs))),
    ({"kind": "softmax"}, "kind", "batch"),
    ({"normalized_shape": "nchw"}, "normalized_shape", "chw"),
    ({"batch": 1, "perturb": True}, "perturb", "at least 2"),
    ({"perturb": True, "watch": 4}, "watch", "below the batch size (4)"),
    ({"perturb": True, "watch": 1, "change": 1}, "change", "another sample"),
    ({"lrn_size": 0}, "lrn_size", "1"),
    ({"lrn_beta": 5}, "lrn_beta", f"{settings.max_lrn_beta:g}"),
    ({"batches": settings.max_norm_batches + 1}, "batches", str(settings.max_norm_batches)),
    ({"seed": -1}, "seed", "0"),
    ({"sample_share": 1}, "sample_share", "0.95"),
    ({"colour": "red"}, "colour", "Extra inputs"),
]


@pytest.mark.parametrize(("body", "field", "limit"), BAD, ids=[b[1] + str(i) for i, b in enumerate(BAD)])
def test_bad_input_is_a_4xx_naming_the_field_and_the_limit(client, body, field, limit):
    assert_error(client.post("/api/norm/apply", json=body), 422, field, limit)


@pytest.mark.parametrize(
    ("body", "field", "limit"),
    [
        ({"large_batch": 2, "small_batch": 2}, "large_batch", "larger than small_batch (2)"),
        ({"large_batch": LARGE + 1}, "large_batch", str(LARGE)),
        ({"trials": settings.max_norm_trials + 1}, "trials", str(settings.max_norm_trials)),
        ({"small_batch": 1}, "small_batch", "2"),
    ],
)
def test_bad_stream_input_is_a_4xx(client, body, field, limit):
    assert_error(client.post("/api/norm/stream", json=body), 422, field, limit)


def test_the_largest_inputs_of_every_kind_answer_and_never_500(client):
    big = {"batch": LIMIT, "channels": 8, "size": 8, "offsets": [-1000, 1000] * 4, "scales": [1000, 1e-3] * 4,
           "gamma": -1000, "beta": 1000, "eps": 10, "perturb": True, "watch": 7, "change": 0}  # fmt: skip
    for kind in ("batch", "layer", "instance", "group", "rms", "lrn", "weight_std", "weight_norm"):
        for extra in ({}, {"training": False, "batches": 3}, {"histogram": "group", "normalized_shape": "w"}):
            r = client.post("/api/norm/apply", json={**big, **extra, "kind": kind, "num_groups": 8})
            assert r.status_code == 200, (kind, extra, r.text[:300])
    flat = {"offsets": [0] * 4, "scales": [1e-6] * 4, "kind": "weight_norm"}  # every weight rounds to 0
    assert_error(client.post("/api/norm/apply", json=flat), 422, "request", "no direction")


# ---- over the wire -------------------------------------------------------------------------------


def test_the_real_server_serves_the_page_and_the_api(http):
    page = http.get("/norm")
    assert page.status_code == 200
    assert 'href="/norm">Normalization</a>' in page.text and "<math" in page.text
    assert 'id="norm-grid"' in page.text and "js/norm/page.js" in page.text
    body = http.post("/api/norm/apply", json={"kind": "group", "num_groups": 4}).json()
    assert body["num_steps"] == 16 and body["torch"].startswith("gn = nn.GroupNorm(4, 4)")
    assert http.post("/api/norm/stream", json={"trials": 10}).json()["params"]["num_batches"] == 40
    refused = http.post("/api/norm/apply", json={"kind": "group", "num_groups": 3})
    assert_error(refused, 422, "num_groups", "(4)")
    index = http.get("/").text
    assert 'href="/norm"' in index


def test_tiny_scales_give_finite_small_batch_errors_not_nan(client):
    # found by the API fuzz: scales**2 underflowed to 0 and the relative variance error was 0/0
    body = client.post("/api/norm/stream", json={"scales": [1e-300] * 4}).json()
    errors = [s[k] for s in body["small_batch"]["sizes"] for k in ("mean_error", "var_error")]
    assert all(isinstance(e, float) and np.isfinite(e) for e in errors)
