"""engine.norm_steps against plain loops: group ids, per-group sums, lrn windows and histograms."""

from __future__ import annotations

import numpy as np

from layerlab.engine.norm import batch_norm
from layerlab.engine.norm_steps import (
    axis_ids,
    channel_window,
    group_sums,
    histogram_edges,
    probe_errors,
    series_histogram,
)


def test_axis_ids_give_each_element_its_channel():
    ids = axis_ids((2, 3, 2, 2), 1)
    for n, c, i, j in np.ndindex(ids.shape):
        assert ids[n, c, i, j] == c


def test_group_sums_match_a_loop_about_the_mean_and_about_zero():
    rng = np.random.default_rng(16)
    x = rng.normal(size=(2, 3, 4))
    ids = rng.integers(0, 3, size=x.shape)
    mean = np.array([0.5, -1.0, 2.0])
    got, about_zero = group_sums(x, ids, 3, mean), group_sums(x, ids, 3, None)
    for g in range(3):
        members = [x[idx] for idx in np.ndindex(x.shape) if ids[idx] == g]
        assert np.isclose(got["sum"][g], sum(members))
        assert np.isclose(got["square_sum"][g], sum((v - mean[g]) ** 2 for v in members))
        assert np.isclose(about_zero["square_sum"][g], sum(v * v for v in members))


def test_channel_window_marks_first_to_last_inclusive():
    window = channel_window(np.array([0, 1]), np.array([1, 3]), 4)
    assert window.tolist() == [[True, True, False, False], [False, True, True, True]]


def test_histogram_edges_widen_a_single_repeated_value():
    edges = histogram_edges(np.full(5, 3.0), 4)
    assert len(edges) == 5 and edges[0] < 3.0 < edges[-1] and np.all(np.diff(edges) > 0)
    np.testing.assert_allclose(histogram_edges(np.array([0.0, 2.0]), 4), [0, 0.5, 1, 1.5, 2])


def test_series_histogram_counts_each_series_and_the_total():
    values = np.array([0.1, 0.9, 0.2, 0.8, 0.55])
    series = np.array([0, 0, 1, 1, 1])
    h = series_histogram(values, series, 2, 2)
    lo, mid = h["edges"][0], h["edges"][1]
    for s in range(2):
        below = sum(1 for v, k in zip(values, series, strict=True) if k == s and lo <= v < mid)
        assert h["counts"][s].tolist() == [below, int((series == s).sum()) - below]
    assert h["total"].tolist() == h["counts"].sum(axis=0).tolist()
    np.testing.assert_allclose(h["centers"], (h["edges"][:-1] + h["edges"][1:]) / 2)


def test_probe_errors_match_batch_norm_and_a_loop_over_the_batch():
    rng = np.random.default_rng(3)
    offsets, scales, eps = np.array([1.0, -2.0]), np.array([0.5, 2.0]), 1e-5
    probe = offsets[None, :, None, None] + scales[None, :, None, None] * rng.normal(size=(1, 2, 2, 2))
    others = [offsets[None, :, None, None] + scales[None, :, None, None] * rng.normal(size=(3, 2, 2, 2))]
    study = probe_errors(probe, others, offsets, scales, eps)
    x = np.concatenate([probe, others[0]])
    t = batch_norm(x, None, None, training=True, eps=eps)
    ideal = (probe[0] - offsets[:, None, None]) / np.sqrt(scales[:, None, None] ** 2 + eps)
    np.testing.assert_allclose(study["error"][0], t.stages["normalized"][0] - ideal, atol=1e-12)
    for c in range(2):  # the batch mean and (biased) variance, summed by hand
        values = [x[n, c, i, j] for n in range(4) for i in range(2) for j in range(2)]
        mean = sum(values) / len(values)
        var = sum((v - mean) ** 2 for v in values) / len(values)
        assert np.isclose(t.steps["mean"][c], mean) and np.isclose(t.steps["var"][c], var)
    mean_error = np.mean([abs(t.steps["mean"][c] - offsets[c]) / scales[c] for c in range(2)])
    assert np.isclose(study["mean_error"], mean_error)
    assert np.isclose(study["worst"], np.abs(study["error"]).max())


def test_seeded_input_has_the_channels_population_mean_and_variance_whatever_the_share():
    from layerlab.engine.norm_steps import seeded_input

    offsets, scales = np.array([1.0, -2.0]), np.array([0.5, 3.0])
    for share in (0.0, 0.6):
        x = seeded_input(7, (1,), (400, 2, 6, 6), offsets, scales, share, decimals=6)
        # the channel mean's standard error: the plane draw is one per sample, the pixel draw one per element
        error = scales * np.sqrt(share / 400 + (1 - share) / (400 * 36))
        np.testing.assert_allclose(x.mean(axis=(0, 2, 3)), offsets, atol=5 * error.max())
        np.testing.assert_allclose(x.var(axis=(0, 2, 3)), scales**2, rtol=0.15)
    a, b = (seeded_input(7, (0,), (2, 2, 3, 3), offsets, scales, 0.3) for _ in range(2))
    np.testing.assert_array_equal(a, b)
    assert np.array_equal(np.round(a, 2), a)
    assert not np.array_equal(a, seeded_input(7, (1,), (2, 2, 3, 3), offsets, scales, 0.3))
