"""Normalization layers against plain-loop references, their shared trace, closed-form properties, errors."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from layerlab.engine.norm import (
    batch_norm,
    batch_norm_stream,
    group_norm,
    instance_norm,
    layer_norm,
    rms_norm,
)
from layerlab.engine.norm_weights import local_response_norm, weight_norm, weight_standardization
from tests.engine.norm_reference import (
    batch_norm_loop,
    bn_key,
    gn_key,
    group_norm_loop,
    in_key,
    instance_norm_loop,
    layer_norm_loop,
    ln_key,
    local_response_norm_loop,
    moments,
    rms_norm_loop,
    weight_norm_loop,
    weight_standardization_loop,
)

TOL = {"rtol": 1e-10, "atol": 1e-12}
LAYOUTS = ["2d", "3d", "4d"]  # (N, C), (N, C, L), (N, C, H, W)


def _activations(
    rng: np.random.Generator, layout: str, channels: int | None = None, batch: int | None = None
):
    """Random (N, C, *) activations with per-channel offsets and scales, so channel statistics differ."""
    n = batch or int(rng.integers(2, 5))
    c = channels or int(rng.integers(1, 5))
    spatial = {
        "2d": (),
        "3d": (int(rng.integers(2, 6)),),
        "4d": (int(rng.integers(1, 4)), int(rng.integers(2, 5))),
    }
    shape = (n, c, *spatial[layout])
    per_channel = (1, c) + (1,) * (len(shape) - 2)
    offsets = rng.uniform(-3, 3, size=c).reshape(per_channel)
    scales = rng.uniform(0.2, 3, size=c).reshape(per_channel)
    return rng.standard_normal(shape) * scales + offsets


def _maybe(rng: np.random.Generator, present: bool, shape, low=-2.0, high=2.0):
    return rng.uniform(low, high, size=shape) if present else None


BN_CASES = [
    pytest.param(
        seed, *case, id=f"{case[0]}-training{case[1]}-affine{case[2]}-momentum{case[3]}-eps{case[4]}"
    )
    for seed, case in enumerate(
        itertools.product(LAYOUTS, [True, False], [False, True], [0.1, 0.6], [1e-5, 0.3])
    )
]


@pytest.mark.parametrize("seed, layout, training, affine, momentum, eps", BN_CASES)
def test_batch_norm_matches_loop_reference(seed, layout, training, affine, momentum, eps):
    rng = np.random.default_rng(seed)
    for _ in range(2):
        x = _activations(rng, layout)
        c = x.shape[1]
        rm, rv = rng.uniform(-1, 1, c), rng.uniform(0.1, 3, c)
        w, b = _maybe(rng, affine, c), _maybe(rng, affine, c)
        trace = batch_norm(x, rm, rv, w, b, training=training, momentum=momentum, eps=eps)
        expected, new_rm, new_rv = batch_norm_loop(x, rm, rv, w, b, training, momentum, eps)
        np.testing.assert_allclose(trace.output, expected, **TOL)
        if training:
            np.testing.assert_allclose(trace.stages["running_mean"], new_rm, **TOL)
            np.testing.assert_allclose(trace.stages["running_var"], new_rv, **TOL)
        else:
            assert "running_mean" not in trace.stages and "running_var" not in trace.stages
        assert trace.params["statistics"] == ("batch" if training else "running")


@pytest.mark.parametrize("given", ["none", "mean-only", "var-only"])
def test_batch_norm_training_updates_only_the_running_statistics_given(given):
    rng = np.random.default_rng(3)
    x = _activations(rng, "4d", channels=3)
    rm = rng.uniform(-1, 1, 3) if given == "mean-only" else None
    rv = rng.uniform(0.1, 2, 3) if given == "var-only" else None
    trace = batch_norm(x, rm, rv, training=True, momentum=0.25)
    expected, new_rm, new_rv = batch_norm_loop(x, rm, rv, None, None, True, 0.25, 1e-5)
    np.testing.assert_allclose(trace.output, expected, **TOL)
    assert ("running_mean" in trace.stages) == (rm is not None)
    assert ("running_var" in trace.stages) == (rv is not None)
    if rm is not None:
        np.testing.assert_allclose(trace.stages["running_mean"], new_rm, **TOL)
    if rv is not None:
        np.testing.assert_allclose(trace.stages["running_var"], new_rv, **TOL)


def test_batch_norm_leaves_the_given_running_statistics_unchanged():
    rng = np.random.default_rng(4)
    x = _activations(rng, "4d", channels=2)
    rm, rv = np.array([0.5, -0.5]), np.array([2.0, 0.5])
    batch_norm(x, rm, rv, training=True)
    np.testing.assert_array_equal(rm, [0.5, -0.5])
    np.testing.assert_array_equal(rv, [2.0, 0.5])


IN_CASES = [
    pytest.param(seed, *case, id=f"{case[0]}-input_stats{case[1]}-affine{case[2]}-running{case[3]}")
    for seed, case in enumerate(itertools.product(["3d", "4d"], [True, False], [False, True], [False, True]))
    if case[1] or case[3]  # evaluation mode needs running statistics
]


@pytest.mark.parametrize("seed, layout, use_input_stats, affine, with_running", IN_CASES)
def test_instance_norm_matches_loop_reference(seed, layout, use_input_stats, affine, with_running):
    rng = np.random.default_rng(100 + seed)
    for momentum, eps in [(0.1, 1e-5), (0.7, 0.2)]:
        x = _activations(rng, layout)
        c = x.shape[1]
        rm, rv = _maybe(rng, with_running, c), _maybe(rng, with_running, c, 0.1, 3)
        w, b = _maybe(rng, affine, c), _maybe(rng, affine, c)
        trace = instance_norm(x, rm, rv, w, b, use_input_stats, momentum, eps)
        expected, new_rm, new_rv = instance_norm_loop(x, rm, rv, w, b, use_input_stats, momentum, eps)
        np.testing.assert_allclose(trace.output, expected, **TOL)
        if use_input_stats and with_running:
            np.testing.assert_allclose(trace.stages["running_mean"], new_rm, **TOL)
            np.testing.assert_allclose(trace.stages["running_var"], new_rv, **TOL)
        else:
            assert "running_mean" not in trace.stages


GN_CASES = [
    pytest.param(seed, *case, id=f"{case[0]}-groups{case[1]}-affine{case[2]}")
    for seed, case in enumerate(itertools.product(LAYOUTS, ["1", "2", "C"], [False, True]))
]


@pytest.mark.parametrize("seed, layout, groups, affine", GN_CASES)
def test_group_norm_matches_loop_reference(seed, layout, groups, affine):
    rng = np.random.default_rng(200 + seed)
    for eps in (1e-5, 0.5):
        channels = 2 * int(rng.integers(1, 4)) if groups == "2" else int(rng.integers(1, 5))
        x = _activations(rng, layout, channels=channels)
        num_groups = {"1": 1, "2": 2, "C": channels}[groups]
        w, b = _maybe(rng, affine, channels), _maybe(rng, affine, channels)
        trace = group_norm(x, num_groups, w, b, eps)
        np.testing.assert_allclose(trace.output, group_norm_loop(x, num_groups, w, b, eps), **TOL)
        assert trace.num_steps == x.shape[0] * num_groups


LN_CASES = [
    pytest.param(seed, *case, id=f"input{case[0]}d-normalized{case[1]}d-weight{case[2]}-bias{case[3]}")
    for seed, case in enumerate(itertools.product([2, 3, 4], [1, 2, 3], [False, True], [False, True]))
    if case[1] <= case[0]
]


@pytest.mark.parametrize("seed, ndim, normalized_ndim, with_weight, with_bias", LN_CASES)
def test_layer_norm_matches_loop_reference(seed, ndim, normalized_ndim, with_weight, with_bias):
    rng = np.random.default_rng(300 + seed)
    for eps in (1e-5, 0.1):
        x = rng.standard_normal(tuple(int(s) for s in rng.integers(1, 5, size=ndim))) * 2 + 1
        shape = x.shape[ndim - normalized_ndim :]
        w, b = _maybe(rng, with_weight, shape), _maybe(rng, with_bias, shape)
        expected = layer_norm_loop(x, normalized_ndim, w, b, eps)
        for normalized_shape in (shape, list(shape)) if normalized_ndim > 1 else (shape, shape[0]):
            trace = layer_norm(x, normalized_shape, w, b, eps)
            np.testing.assert_allclose(trace.output, expected, **TOL)
            assert trace.params["normalized_shape"] == shape
            assert trace.params["affine_axes"] == tuple(range(ndim - normalized_ndim, ndim))


@pytest.mark.parametrize("seed, ndim, normalized_ndim, with_weight, with_bias", LN_CASES[::2])
def test_rms_norm_matches_loop_reference(seed, ndim, normalized_ndim, with_weight, with_bias):
    rng = np.random.default_rng(400 + seed)
    for eps in (None, 1e-6, 0.3):
        x = rng.standard_normal(tuple(int(s) for s in rng.integers(1, 5, size=ndim))) + 0.5
        shape = x.shape[ndim - normalized_ndim :]
        w = _maybe(rng, with_weight, shape)
        trace = rms_norm(x, shape, w, eps)
        resolved = np.finfo(np.float64).eps if eps is None else eps
        np.testing.assert_allclose(trace.output, rms_norm_loop(x, normalized_ndim, w, resolved), **TOL)
        assert trace.params["eps"] == resolved
        np.testing.assert_array_equal(trace.steps["mean"], 0.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_rms_norm_default_eps_is_the_machine_epsilon_of_the_input_dtype(dtype):
    x = np.arange(1, 7, dtype=dtype).reshape(2, 3)
    assert rms_norm(x, 3).params["eps"] == float(np.finfo(dtype).eps)


LRN_CASES = [
    pytest.param(seed, *case, id=f"{case[0]}d-size{case[1]}-params{case[2]}")
    for seed, case in enumerate(
        itertools.product([3, 4, 5], [1, 2, 3, 4, 7], [(1e-4, 0.75, 1.0), (0.5, 0.5, 2.0), (2.0, 1.3, 0.5)])
    )
]


@pytest.mark.parametrize("seed, ndim, size, alpha_beta_k", LRN_CASES)
def test_local_response_norm_matches_loop_reference(seed, ndim, size, alpha_beta_k):
    rng = np.random.default_rng(500 + seed)
    alpha, beta, k = alpha_beta_k
    x = rng.standard_normal((2, int(rng.integers(1, 6)), *rng.integers(1, 4, size=ndim - 2))) * 2
    trace = local_response_norm(x, size, alpha, beta, k)
    np.testing.assert_allclose(trace.output, local_response_norm_loop(x, size, alpha, beta, k), **TOL)
    np.testing.assert_allclose(trace.output * trace.stages["denominator"], x, **TOL)


def test_local_response_norm_steps_give_each_channels_window_clipped_to_the_input():
    trace = local_response_norm(np.ones((1, 6, 2, 2)), size=4)
    # size 4 reaches 2 channels back and 1 forward
    np.testing.assert_array_equal(trace.steps["channel"], np.arange(6))
    np.testing.assert_array_equal(trace.steps["first"], [0, 0, 0, 1, 2, 3])
    np.testing.assert_array_equal(trace.steps["last"], [1, 2, 3, 4, 5, 5])
    np.testing.assert_array_equal(trace.steps["count"], [2, 3, 4, 4, 4, 3])
    # all-ones input: the square sum counts the real channels in the window
    np.testing.assert_array_equal(trace.stages["square_sum"][0, :, 0, 0], trace.steps["count"])


WN_CASES = [
    pytest.param((4, 3, 3, 2), 0, "flat", id="conv-dim0-g-flat"),
    pytest.param((4, 3, 3, 2), 0, "keepdim", id="conv-dim0-g-torch-shape"),
    pytest.param((4, 3, 3, 2), 1, "keepdim", id="conv-dim1"),
    pytest.param((4, 3, 3, 2), 3, "flat", id="conv-dim3"),
    pytest.param((4, 3, 3, 2), -2, "flat", id="conv-dim-minus-2"),
    pytest.param((4, 3, 3, 2), None, "scalar", id="conv-whole-tensor"),
    pytest.param((4, 3, 3, 2), -1, "scalar", id="conv-dim-minus-1-is-whole-tensor-as-torch"),
    pytest.param((5, 7), 0, "flat", id="linear-dim0"),
    pytest.param((5, 7), 1, "keepdim", id="linear-dim1"),
    pytest.param((5, 7), None, "keepdim", id="linear-whole-tensor-g-all-ones-shape"),
    pytest.param((6,), 0, "flat", id="vector-dim0"),
]


@pytest.mark.parametrize("shape, dim, g_form", WN_CASES)
def test_weight_norm_matches_loop_reference(shape, dim, g_form):
    rng = np.random.default_rng(600)
    v = rng.standard_normal(shape)
    whole = dim is None or dim == -1
    axis = None if whole else dim % len(shape)
    slices = 1 if whole else shape[axis]
    g = rng.uniform(-2, 2, slices)
    torch_shape = tuple(1 if whole or a != axis else slices for a in range(len(shape)))
    g_arg = {"flat": g, "keepdim": g.reshape(torch_shape), "scalar": float(g[0])}[g_form]
    trace = weight_norm(v, g_arg, dim)
    np.testing.assert_allclose(trace.output, weight_norm_loop(v, g, axis), **TOL)
    assert trace.stages["norm"].shape == torch_shape
    assert trace.stages["g"].shape == torch_shape
    assert trace.num_steps == slices


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_keeps_the_direction_of_v_and_sets_each_slice_norm_to_g(dim):
    rng = np.random.default_rng(601)
    v = rng.standard_normal((4, 3, 2, 2)) * 5
    slices = 1 if dim is None else v.shape[dim]
    g = rng.uniform(-3, 3, slices)
    w = weight_norm(v, g, dim).output
    for i in range(slices):
        vi = v if dim is None else np.take(v, i, axis=dim)
        wi = w if dim is None else np.take(w, i, axis=dim)
        assert math.isclose(np.linalg.norm(wi), abs(g[i]), rel_tol=1e-12)
        # the same direction (opposite for a negative g): w_i / g_i is v_i's unit vector
        np.testing.assert_allclose(wi / g[i], vi / np.linalg.norm(vi), **TOL)


def test_weight_norm_trace_records_norms_gains_and_the_unit_direction():
    rng = np.random.default_rng(602)
    v, g = rng.standard_normal((3, 2, 2, 2)), np.array([2.0, -0.5, 1.5])
    trace = weight_norm(v, g)
    expected_norms = [np.linalg.norm(v[i]) for i in range(3)]
    np.testing.assert_allclose(trace.steps["norm"], expected_norms, **TOL)
    np.testing.assert_array_equal(trace.steps["g"], g)
    np.testing.assert_array_equal(trace.steps["w_norm"], np.abs(g))
    np.testing.assert_allclose(np.linalg.norm(trace.stages["direction"].reshape(3, -1), axis=1), 1.0, **TOL)
    np.testing.assert_allclose(trace.output, trace.stages["g"] * trace.stages["direction"], **TOL)
    assert trace.params["norm_axes"] == (1, 2, 3)


@pytest.mark.parametrize(
    "shape", [(4, 3, 3, 3), (5, 1, 2, 2), (6, 8)], ids=["conv", "conv-1-input", "linear"]
)
@pytest.mark.parametrize("eps", [1e-5, 0.1])
def test_weight_standardization_matches_loop_reference(shape, eps):
    rng = np.random.default_rng(700)
    w = rng.standard_normal(shape) * 0.3 + rng.uniform(-1, 1, (shape[0],) + (1,) * (len(shape) - 1))
    trace = weight_standardization(w, eps)
    np.testing.assert_allclose(trace.output, weight_standardization_loop(w, eps), **TOL)
    assert trace.num_steps == shape[0]
    np.testing.assert_array_equal(trace.stages["group_of"], np.indices(shape)[0])


def test_weight_standardization_gives_each_output_channel_zero_mean_and_unit_std():
    rng = np.random.default_rng(701)
    w = rng.standard_normal((8, 4, 3, 3)) * rng.uniform(0.01, 5, (8, 1, 1, 1)) + rng.uniform(
        -3, 3, (8, 1, 1, 1)
    )
    out = weight_standardization(w, eps=1e-12).output.reshape(8, -1)
    np.testing.assert_allclose(out.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=1), 1.0, rtol=1e-9)


# The normalizations that compute statistics: each with its loop grouping key.
def _stat_cases(rng: np.random.Generator):
    x4 = _activations(rng, "4d", channels=4, batch=3)
    x3 = _activations(rng, "3d", channels=6, batch=2)
    return [
        ("batch_norm-4d", batch_norm(x4, None, None, training=True), x4, bn_key),
        ("batch_norm-2d", batch_norm(x4[:, :, 0, 0], None, None, training=True), x4[:, :, 0, 0], bn_key),
        ("instance_norm", instance_norm(x4), x4, in_key),
        ("group_norm-2", group_norm(x3, 2), x3, gn_key(6, 2)),
        ("group_norm-3", group_norm(x4, 2), x4, gn_key(4, 2)),
        ("layer_norm-chw", layer_norm(x4, x4.shape[1:]), x4, ln_key(4, 3)),
        ("layer_norm-w", layer_norm(x4, x4.shape[-1]), x4, ln_key(4, 1)),
        ("weight_standardization", weight_standardization(x4), x4, lambda idx: idx[0]),
    ]


STAT_CASE_IDS = [case[0] for case in _stat_cases(np.random.default_rng(0))]


@pytest.mark.parametrize("which", range(len(STAT_CASE_IDS)), ids=STAT_CASE_IDS)
def test_group_of_marks_exactly_the_elements_that_share_statistics_and_steps_hold_them(which):
    _, trace, x, key = _stat_cases(np.random.default_rng(800))[which]
    group_of = trace.stages["group_of"]
    assert group_of.shape == x.shape
    stats = moments(x, key)
    assert trace.num_steps == len(stats)
    np.testing.assert_array_equal(trace.steps["group"], np.arange(len(stats)))
    for idx in np.ndindex(x.shape):
        mean, var, _, count = stats[key(idx)]
        s = group_of[idx]
        assert math.isclose(trace.steps["mean"][s], mean, rel_tol=1e-10, abs_tol=1e-12)
        assert math.isclose(trace.steps["var"][s], var, rel_tol=1e-10, abs_tol=1e-12)
        assert trace.steps["count"][s] == count
    # two elements share an id exactly when they share a key
    keys = {}
    for idx in np.ndindex(x.shape):
        assert keys.setdefault(key(idx), group_of[idx]) == group_of[idx]
    assert len(set(keys.values())) == len(keys)


@pytest.mark.parametrize("which", range(len(STAT_CASE_IDS)), ids=STAT_CASE_IDS)
def test_normalized_stage_has_mean_zero_and_biased_variance_var_over_var_plus_eps_per_group(which):
    _, trace, _, _ = _stat_cases(np.random.default_rng(801))[which]
    normalized, group_of, var = trace.stages["normalized"], trace.stages["group_of"], trace.steps["var"]
    eps = trace.params["eps"]
    for s in range(trace.num_steps):
        members = normalized[group_of == s]
        assert abs(members.mean()) < 1e-12
        # exactly 1 when eps = 0; eps shrinks it to var / (var + eps)
        assert math.isclose(members.var(), var[s] / (var[s] + eps), rel_tol=1e-10)


@pytest.mark.parametrize("which", range(len(STAT_CASE_IDS)), ids=STAT_CASE_IDS)
def test_trace_steps_reproduce_normalized_stage_and_inv_std(which):
    _, trace, x, _ = _stat_cases(np.random.default_rng(802))[which]
    g, steps = trace.stages["group_of"], trace.steps
    np.testing.assert_allclose(steps["inv_std"], 1 / np.sqrt(steps["var"] + steps["eps"]), **TOL)
    np.testing.assert_array_equal(steps["eps"], trace.params["eps"])
    assert steps["count"].sum() == x.size
    np.testing.assert_allclose(
        trace.stages["normalized"], (x - steps["mean"][g]) * steps["inv_std"][g], **TOL
    )


def test_affine_step_scales_and_shifts_the_normalized_stage_per_channel_or_per_element():
    rng = np.random.default_rng(803)
    x = _activations(rng, "4d", channels=3, batch=2)
    gamma, beta = rng.uniform(0.5, 2, 3), rng.uniform(-1, 1, 3)
    for trace in (batch_norm(x, None, None, gamma, beta, training=True), group_norm(x, 3, gamma, beta)):
        expected = trace.stages["normalized"] * gamma[:, None, None] + beta[:, None, None]
        np.testing.assert_allclose(trace.output, expected, **TOL)
        assert trace.params["affine_axes"] == (1,)
    gamma_ln, beta_ln = rng.uniform(0.5, 2, x.shape[2:]), rng.uniform(-1, 1, x.shape[2:])
    trace = layer_norm(x, x.shape[2:], gamma_ln, beta_ln)
    np.testing.assert_allclose(trace.output, trace.stages["normalized"] * gamma_ln + beta_ln, **TOL)


def test_batch_norm_training_steps_hold_the_unbiased_variance_torch_uses_for_running_var():
    rng = np.random.default_rng(804)
    x = _activations(rng, "4d", channels=3)
    trace = batch_norm(x, None, None, training=True)
    m = x.size // 3
    np.testing.assert_allclose(trace.steps["unbiased_var"], trace.steps["var"] * m / (m - 1), **TOL)
    np.testing.assert_allclose(
        trace.steps["unbiased_var"], x.transpose(1, 0, 2, 3).reshape(3, -1).var(axis=1, ddof=1)
    )


def test_batch_norm_eval_steps_hold_the_running_statistics():
    rng = np.random.default_rng(805)
    x = _activations(rng, "3d", channels=3)
    rm, rv = np.array([0.5, -1.0, 2.0]), np.array([1.5, 0.25, 4.0])
    trace = batch_norm(x, rm, rv, training=False)
    np.testing.assert_array_equal(trace.steps["mean"], rm)
    np.testing.assert_array_equal(trace.steps["var"], rv)
    np.testing.assert_allclose(trace.output, (x - rm[:, None]) / np.sqrt(rv[:, None] + 1e-5), **TOL)


@pytest.mark.parametrize("momentum", [0.1, 0.5, 1.0, 0.0])
def test_running_statistics_after_k_batches_follow_the_momentum_formula(momentum):
    rng = np.random.default_rng(900)
    batches = [_activations(rng, "4d", channels=3, batch=int(rng.integers(2, 6))) for _ in range(5)]
    rm0, rv0 = rng.uniform(-1, 1, 3), rng.uniform(0.5, 2, 3)
    trace = batch_norm_stream(batches, rm0, rv0, momentum=momentum)
    for k in range(1, len(batches) + 1):
        # closed form: (1-m)^k * initial + sum_j m (1-m)^(k-1-j) * statistic of batch j
        means = [b.transpose(1, 0, 2, 3).reshape(3, -1).mean(axis=1) for b in batches[:k]]
        variances = [b.transpose(1, 0, 2, 3).reshape(3, -1).var(axis=1, ddof=1) for b in batches[:k]]
        decay = [momentum * (1 - momentum) ** (k - 1 - j) for j in range(k)]
        rm = (1 - momentum) ** k * rm0 + sum(d * m for d, m in zip(decay, means, strict=True))
        rv = (1 - momentum) ** k * rv0 + sum(d * v for d, v in zip(decay, variances, strict=True))
        np.testing.assert_allclose(trace.steps["running_mean"][k - 1], rm, **TOL)
        np.testing.assert_allclose(trace.steps["running_var"][k - 1], rv, **TOL)
    np.testing.assert_array_equal(trace.output, [trace.stages["running_mean"], trace.stages["running_var"]])


def test_batch_norm_stream_equals_chained_batch_norm_calls_and_starts_like_a_fresh_layer():
    rng = np.random.default_rng(901)
    batches = [
        _activations(rng, layout, channels=2, batch=n) for layout, n in [("4d", 2), ("2d", 64), ("3d", 3)]
    ]
    trace = batch_norm_stream(batches, momentum=0.3, eps=1e-3)
    rm, rv = np.zeros(2), np.ones(2)
    np.testing.assert_array_equal(trace.stages["initial_running_mean"], rm)
    np.testing.assert_array_equal(trace.stages["initial_running_var"], rv)
    for k, batch in enumerate(batches):
        step = batch_norm(batch, rm, rv, training=True, momentum=0.3, eps=1e-3)
        rm, rv = step.stages["running_mean"], step.stages["running_var"]
        for name in ("mean", "var", "unbiased_var", "inv_std"):
            np.testing.assert_array_equal(trace.steps[name][k], step.steps[name])
        np.testing.assert_array_equal(trace.steps["running_mean"][k], rm)
        np.testing.assert_array_equal(trace.steps["running_var"][k], rv)
    np.testing.assert_array_equal(trace.steps["batch_size"], [2, 64, 3])
    np.testing.assert_array_equal(trace.steps["count"], [b.size // 2 for b in batches])
    assert trace.num_steps == 3


def test_running_statistics_converge_to_the_population_over_many_batches():
    rng = np.random.default_rng(902)
    mean, std = np.array([3.0, -1.0]), np.array([2.0, 0.5])
    batches = [
        rng.standard_normal((32, 2, 4, 4)) * std[:, None, None] + mean[:, None, None] for _ in range(80)
    ]
    trace = batch_norm_stream(batches, momentum=0.1)
    np.testing.assert_allclose(trace.stages["running_mean"], mean, atol=0.1)
    np.testing.assert_allclose(trace.stages["running_var"], std**2, rtol=0.1)


@pytest.mark.parametrize("layout", ["3d", "4d"])
@pytest.mark.parametrize("affine", [False, True])
def test_group_norm_with_one_group_per_channel_equals_instance_norm(layout, affine):
    rng = np.random.default_rng(1000)
    x = _activations(rng, layout, channels=4)
    w, b = _maybe(rng, affine, 4), _maybe(rng, affine, 4)
    np.testing.assert_allclose(
        group_norm(x, 4, w, b).output, instance_norm(x, weight=w, bias=b).output, **TOL
    )


@pytest.mark.parametrize("layout", LAYOUTS)
def test_group_norm_with_one_group_equals_layer_norm_over_channels_and_positions(layout):
    rng = np.random.default_rng(1001)
    x = _activations(rng, layout, channels=3)
    np.testing.assert_allclose(group_norm(x, 1).output, layer_norm(x, x.shape[1:]).output, **TOL)


def _sample_zero_after_changing_sample_one(op) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1100)
    x = _activations(rng, "4d", channels=3, batch=4)
    changed = x.copy()
    changed[1] = rng.standard_normal(x.shape[1:]) * 5 + 4
    return op(x).output[0], op(changed).output[0]


def test_batch_norm_training_makes_one_samples_output_depend_on_the_other_samples():
    before, after = _sample_zero_after_changing_sample_one(lambda x: batch_norm(x, None, None, training=True))
    assert np.abs(before - after).max() > 0.1


@pytest.mark.parametrize(
    "op",
    [
        pytest.param(lambda x: layer_norm(x, x.shape[1:]), id="layer_norm"),
        pytest.param(lambda x: layer_norm(x, x.shape[-1]), id="layer_norm-last-dim"),
        pytest.param(lambda x: instance_norm(x), id="instance_norm"),
        pytest.param(lambda x: group_norm(x, 3), id="group_norm"),
        pytest.param(lambda x: rms_norm(x, x.shape[1:]), id="rms_norm"),
        pytest.param(lambda x: batch_norm(x, np.zeros(3), np.ones(3)), id="batch_norm-eval"),
    ],
)
def test_per_sample_normalizations_leave_one_samples_output_unchanged_by_the_others(op):
    before, after = _sample_zero_after_changing_sample_one(op)
    np.testing.assert_array_equal(before, after)


def test_seed_003_batch_normalizing_transform_on_a_worked_example():
    # Algorithm 1 with m = 4 values of one unit: mean 2.5, variance (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25
    x = np.array([1.0, 2.0, 3.0, 4.0]).reshape(4, 1)
    trace = batch_norm(x, None, None, weight=np.array([2.0]), bias=np.array([0.5]), training=True, eps=1e-5)
    assert trace.steps["mean"][0] == 2.5
    assert trace.steps["var"][0] == 1.25
    x_hat = (np.array([1.0, 2.0, 3.0, 4.0]) - 2.5) / math.sqrt(1.25 + 1e-5)
    np.testing.assert_allclose(trace.stages["normalized"][:, 0], x_hat, **TOL)
    np.testing.assert_allclose(trace.output[:, 0], 2.0 * x_hat + 0.5, **TOL)


def test_seed_003_small_batch_of_two_normalizes_every_value_to_about_plus_or_minus_one():
    # a batch of 2 carries almost no information: whatever the two values, they become -1 and +1
    rng = np.random.default_rng(1200)
    x = rng.standard_normal((2, 5)) * rng.uniform(0.5, 10, 5) + rng.uniform(-5, 5, 5)
    out = batch_norm(x, None, None, training=True, eps=1e-12).output
    np.testing.assert_allclose(np.abs(out), 1.0, rtol=1e-9)
    np.testing.assert_allclose(out[0], -out[1], **TOL)


def _x():
    return np.random.default_rng(1300).standard_normal((2, 4, 3, 3))


ERROR_CASES = [
    pytest.param(lambda: group_norm(_x(), 3), id="group_norm-groups-not-dividing-channels"),
    pytest.param(lambda: group_norm(_x(), 0), id="group_norm-zero-groups"),
    pytest.param(lambda: group_norm(_x(), 2.0), id="group_norm-float-groups"),
    pytest.param(
        lambda: group_norm(_x(), 2, weight=np.ones(2)), id="group_norm-weight-per-group-not-channel"
    ),
    pytest.param(lambda: group_norm(np.ones((1, 4)), 4), id="group_norm-single-value-as-torch"),
    pytest.param(lambda: group_norm(np.ones(4), 1), id="group_norm-1d-input"),
    pytest.param(lambda: layer_norm(_x(), (3, 4)), id="layer_norm-shape-not-trailing"),
    pytest.param(lambda: layer_norm(_x(), 4), id="layer_norm-int-not-last-dim"),
    pytest.param(lambda: layer_norm(_x(), ()), id="layer_norm-empty-shape"),
    pytest.param(lambda: layer_norm(_x(), (1, 2, 4, 3, 3)), id="layer_norm-shape-longer-than-input"),
    pytest.param(lambda: layer_norm(_x(), (3, 3), weight=np.ones(3)), id="layer_norm-weight-shape"),
    pytest.param(lambda: layer_norm(_x(), (3, 3), bias=np.ones((3, 3, 1))), id="layer_norm-bias-shape"),
    pytest.param(lambda: layer_norm(_x(), 3, eps=0.0), id="layer_norm-zero-eps"),
    pytest.param(lambda: rms_norm(_x(), (4, 4)), id="rms_norm-shape-mismatch"),
    pytest.param(lambda: rms_norm(_x(), 3, eps=-1e-6), id="rms_norm-negative-eps"),
    pytest.param(lambda: rms_norm(_x(), 3, weight=np.ones(4)), id="rms_norm-weight-shape"),
    pytest.param(lambda: batch_norm(_x(), np.zeros(4), np.ones(4), eps=0), id="batch_norm-zero-eps"),
    pytest.param(
        lambda: batch_norm(_x(), np.zeros(4), np.ones(4), eps=float("nan")), id="batch_norm-nan-eps"
    ),
    pytest.param(lambda: batch_norm(_x(), None, None), id="batch_norm-eval-without-running-stats"),
    pytest.param(lambda: batch_norm(_x(), np.zeros(4), None), id="batch_norm-eval-without-running-var"),
    pytest.param(lambda: batch_norm(_x(), np.zeros(3), np.ones(4)), id="batch_norm-running-mean-shape"),
    pytest.param(lambda: batch_norm(_x(), np.zeros(4), np.ones((4, 1))), id="batch_norm-running-var-shape"),
    pytest.param(lambda: batch_norm(_x(), np.zeros(4), -np.ones(4)), id="batch_norm-negative-running-var"),
    pytest.param(
        lambda: batch_norm(_x(), None, np.ones(5), training=True), id="batch_norm-training-var-shape"
    ),
    pytest.param(
        lambda: batch_norm(_x(), None, None, np.ones(3), training=True), id="batch_norm-weight-shape"
    ),
    pytest.param(
        lambda: batch_norm(_x(), None, None, None, np.ones(5), training=True), id="batch_norm-bias-shape"
    ),
    pytest.param(
        lambda: batch_norm(_x(), None, None, training=True, momentum=1.5), id="batch_norm-momentum-1.5"
    ),
    pytest.param(
        lambda: batch_norm(_x(), None, None, training=True, momentum=-0.1), id="batch_norm-momentum-neg"
    ),
    pytest.param(
        lambda: batch_norm(np.ones((1, 3)), None, None, training=True), id="batch_norm-one-value-per-channel"
    ),
    pytest.param(
        lambda: batch_norm(_x(), None, None, training=True, momentum=None), id="batch_norm-momentum-none"
    ),
    pytest.param(lambda: layer_norm(_x(), 3, eps=None), id="layer_norm-eps-none"),
    pytest.param(lambda: batch_norm(np.ones(3), np.zeros(3), np.ones(3)), id="batch_norm-1d-input"),
    pytest.param(lambda: batch_norm(np.ones((0, 3)), np.zeros(3), np.ones(3)), id="batch_norm-empty-input"),
    pytest.param(lambda: batch_norm_stream([]), id="batch_norm_stream-no-batches"),
    pytest.param(
        lambda: batch_norm_stream([_x(), np.ones((2, 3, 3, 3))]), id="batch_norm_stream-channel-change"
    ),
    pytest.param(
        lambda: batch_norm_stream([_x()], running_mean=np.zeros(2)), id="batch_norm_stream-running-shape"
    ),
    pytest.param(lambda: batch_norm_stream([_x()], eps=0), id="batch_norm_stream-zero-eps"),
    pytest.param(
        lambda: instance_norm(_x(), use_input_stats=False), id="instance_norm-eval-without-running-stats"
    ),
    pytest.param(lambda: instance_norm(np.ones((2, 3, 1, 1))), id="instance_norm-single-spatial-element"),
    pytest.param(lambda: instance_norm(np.ones((2, 3))), id="instance_norm-no-spatial-dims"),
    pytest.param(lambda: instance_norm(_x(), np.zeros(3), np.ones(4)), id="instance_norm-running-mean-shape"),
    pytest.param(lambda: instance_norm(_x(), weight=np.ones((4, 1))), id="instance_norm-weight-shape"),
    pytest.param(lambda: instance_norm(_x(), eps=-1.0), id="instance_norm-negative-eps"),
    pytest.param(lambda: local_response_norm(np.ones((2, 4)), 2), id="lrn-2d-input"),
    pytest.param(lambda: local_response_norm(_x(), 0), id="lrn-size-0"),
    pytest.param(lambda: local_response_norm(_x(), 2.5), id="lrn-float-size"),
    pytest.param(lambda: local_response_norm(np.zeros((1, 2, 2)), 2, k=0.0), id="lrn-zero-denominator"),
    pytest.param(lambda: weight_norm(_x(), np.ones(3)), id="weight_norm-g-wrong-length"),
    pytest.param(lambda: weight_norm(_x(), np.ones((2, 1, 1))), id="weight_norm-g-wrong-shape"),
    pytest.param(lambda: weight_norm(_x(), np.ones(2), dim=4), id="weight_norm-dim-out-of-range"),
    pytest.param(lambda: weight_norm(_x(), np.ones(3), dim=-5), id="weight_norm-negative-dim-out-of-range"),
    pytest.param(lambda: weight_norm(_x(), np.ones(2), dim=None), id="weight_norm-whole-tensor-two-gains"),
    pytest.param(lambda: weight_norm(np.zeros((2, 3)), np.ones(2)), id="weight_norm-zero-slice"),
    pytest.param(lambda: weight_norm(np.float64(1.0), 1.0), id="weight_norm-scalar-v"),
    pytest.param(lambda: weight_standardization(np.ones(4)), id="weight_standardization-1d"),
    pytest.param(lambda: weight_standardization(_x(), eps=0), id="weight_standardization-zero-eps"),
]


@pytest.mark.parametrize("call", ERROR_CASES)
def test_invalid_arguments_raise_value_error(call):
    with pytest.raises(ValueError):
        call()


def test_error_messages_name_the_problem():
    with pytest.raises(ValueError, match="must be a positive int that divides the 4 channels"):
        group_norm(_x(), 3)
    with pytest.raises(ValueError, match="trailing dims"):
        layer_norm(_x(), (3, 4))
    with pytest.raises(ValueError, match="eps must be a positive number"):
        batch_norm(_x(), None, None, training=True, eps=0)
    with pytest.raises(ValueError, match=r"running_mean must have shape \(4,\)"):
        batch_norm(_x(), np.zeros(3), np.ones(4))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        batch_norm(np.ones((1, 3)), None, None, training=True)


def test_batch_norm_accepts_one_sample_with_several_positions_in_training():
    # torch only rejects a single value per channel; one image of several pixels is fine
    x = np.random.default_rng(1400).standard_normal((1, 2, 2, 3))
    expected, _, _ = batch_norm_loop(x, None, None, None, None, True, 0.1, 1e-5)
    np.testing.assert_allclose(batch_norm(x, None, None, training=True).output, expected, **TOL)
