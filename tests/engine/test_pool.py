"""Pooling against plain-loop references, its traces, its errors and the seeds' examples."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from layerlab.engine.pool import avg_pool2d, max_pool2d, min_pool2d
from layerlab.engine.pool1d import avg_pool1d, lp_pool1d, max_pool1d
from layerlab.engine.pool_regions import (
    adaptive_avg_pool2d,
    adaptive_edges,
    adaptive_max_pool2d,
    global_avg_pool2d,
    global_max_pool2d,
    roi_pool2d,
    spatial_pyramid_pool2d,
)
from layerlab.engine.pool_variants import lp_pool2d, mixed_pool2d, stochastic_pool2d
from layerlab.engine.trace import Trace
from tests.engine.pool_reference import (
    adaptive_bin,
    adaptive_pool2d_loop,
    avg_pool2d_loop,
    lp_pool2d_loop,
    max_pool2d_loop,
    mixed_pool2d_loop,
    pool_output_size,
    roi_pool2d_loop,
    spatial_pyramid_pool2d_loop,
    stochastic_pool2d_loop,
)

STRIDES = [None, 1, 2, (2, 1)]
PADDINGS = [0, 1, (1, 0)]
DILATIONS = [1, 2]
CEIL_MODES = [False, True]


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else value


def _random_case(
    rng: np.random.Generator, padding: int | tuple[int, int] = 0, dilation: int = 1
) -> tuple[np.ndarray, tuple[int, int]]:
    """A small random input and a rectangular kernel (1..3 per axis, at least twice the padding).

    The input is at most three cells larger than the smallest one torch accepts, so windows often
    reach into the padding, and ties are likely (values are rounded to one decimal).
    """
    kernel, size = [], []
    for pad in _pair(padding):
        k = int(rng.integers(max(1, 2 * pad), 4))
        kernel.append(k)
        size.append(max(1, dilation * (k - 1) + 1 - 2 * pad) + int(rng.integers(0, 4)))
    x = np.round(rng.standard_normal((int(rng.integers(1, 3)), int(rng.integers(1, 3)), *size)), 1)
    return x, (kernel[0], kernel[1])


def _combinations(*axes: list) -> list:
    return [
        pytest.param(seed, *combo, id="-".join(map(str, combo)))
        for seed, combo in enumerate(itertools.product(*axes))
    ]


def _assert_window_steps(trace: Trace, x: np.ndarray, fill: float) -> None:
    """The fields every windowed pooling records agree with the input, the padded stage and the output."""
    params, steps = trace.params, trace.steps
    padded, out = trace.stages["padded"], trace.output
    top, bottom, left, right = params["pads"]
    height, width = x.shape[2:]
    np.testing.assert_array_equal(padded[:, :, top : top + height, left : left + width], x)
    border = np.ones(padded.shape[2:], dtype=bool)
    border[top : top + height, left : left + width] = False
    assert (padded[:, :, border] == fill).all()
    index = steps["index"]
    np.testing.assert_array_equal(index, np.indices(out.shape).reshape(4, -1).T)
    np.testing.assert_array_equal(steps["origin"], index[:, 2:] * np.array(params["stride"]))
    np.testing.assert_array_equal(steps["rows"][:, 0], steps["origin"][:, 0])
    np.testing.assert_array_equal(steps["cols"][:, 0], steps["origin"][:, 1])
    np.testing.assert_array_equal(np.diff(steps["rows"], axis=1), params["dilation"][0])
    np.testing.assert_array_equal(np.diff(steps["cols"], axis=1), params["dilation"][1])
    np.testing.assert_array_equal(steps["result"], out[tuple(index.T)])
    rows, cols = steps["rows"][:, :, None], steps["cols"][:, None, :]
    expected = padded[index[:, 0, None, None], index[:, 1, None, None], rows, cols]
    np.testing.assert_array_equal(steps["window"], expected)
    inside = (rows >= top) & (rows < top + height) & (cols >= left) & (cols < left + width)
    np.testing.assert_array_equal(steps["valid"], inside)


def _assert_winners(trace: Trace, sign: float) -> None:
    """winner is a real cell holding the result with no earlier real cell (row-major) holding it too;
    (-1, -1) only for a window of padding alone."""
    steps = trace.steps
    kw = steps["cols"].shape[1]
    alone = ~steps["valid"].any(axis=(1, 2))
    np.testing.assert_array_equal(steps["winner"][alone], -1)
    assert (steps["result"][alone] == -sign * np.inf).all()
    s = np.flatnonzero(~alone)
    row, col = (steps["winner"][s] - steps["origin"][s]).T
    assert (row % trace.params["dilation"][0] == 0).all() and (col % trace.params["dilation"][1] == 0).all()
    tap = row // trace.params["dilation"][0] * kw + col // trace.params["dilation"][1]
    values = steps["window"][s].reshape(len(s), -1 if len(s) else kw * steps["rows"].shape[1])
    valid = steps["valid"][s].reshape(values.shape)
    assert valid[np.arange(len(s)), tap].all()
    np.testing.assert_array_equal(values[np.arange(len(s)), tap], steps["result"][s])
    earlier = np.arange(values.shape[1]) < tap[:, None]
    assert not (earlier & valid & (values == steps["result"][s, None])).any()


# --- max and min pooling -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "seed, stride, padding, dilation, ceil_mode", _combinations(STRIDES, PADDINGS, DILATIONS, CEIL_MODES)
)
def test_max_pool2d_matches_loop_reference_with_indices(seed, stride, padding, dilation, ceil_mode):
    rng = np.random.default_rng(seed)
    for _ in range(3):
        x, kernel = _random_case(rng, padding, dilation)
        trace = max_pool2d(x, kernel, stride, padding, dilation, ceil_mode, return_indices=True)
        values, indices = max_pool2d_loop(x, kernel, stride, padding, dilation, ceil_mode)
        assert trace.output.shape == values.shape
        np.testing.assert_array_equal(trace.output, values)
        np.testing.assert_array_equal(trace.stages["indices"], indices)
        _assert_window_steps(trace, x, -np.inf)
        _assert_winners(trace, 1.0)


@pytest.mark.parametrize(
    "seed, stride, padding, dilation, ceil_mode", _combinations(STRIDES, PADDINGS, DILATIONS, CEIL_MODES)
)
def test_min_pool2d_is_negated_max_of_negated_input(seed, stride, padding, dilation, ceil_mode):
    rng = np.random.default_rng(500 + seed)
    for _ in range(3):
        x, kernel = _random_case(rng, padding, dilation)
        trace = min_pool2d(x, kernel, stride, padding, dilation, ceil_mode, return_indices=True)
        values, indices = max_pool2d_loop(-x, kernel, stride, padding, dilation, ceil_mode)
        np.testing.assert_array_equal(trace.output, -values)
        np.testing.assert_array_equal(trace.stages["indices"], indices)
        _assert_window_steps(trace, x, np.inf)
        _assert_winners(trace, -1.0)


def test_max_pool2d_without_return_indices_keeps_only_the_padded_stage():
    x = np.random.default_rng(3).standard_normal((1, 2, 5, 5))
    trace = max_pool2d(x, 2)
    assert set(trace.stages) == {"padded"}
    assert trace.params["return_indices"] is False
    assert trace.params["stride"] == (2, 2)  # stride defaults to kernel_size


def test_seed_004_max_pool_example_gives_3_2_3_3_and_its_winners():
    x = np.array([[1, 0, 2], [3, 1, 2], [1, 2, 3]], dtype=float).reshape(1, 1, 3, 3)
    trace = max_pool2d(x, kernel_size=2, stride=1, return_indices=True)
    np.testing.assert_array_equal(trace.output[0, 0], [[3, 2], [3, 3]])
    # 2 appears twice in the top-right window: the first in row-major order wins, as in torch
    np.testing.assert_array_equal(trace.steps["winner"], [[1, 0], [0, 2], [1, 0], [2, 2]])
    np.testing.assert_array_equal(trace.stages["indices"][0, 0], [[3, 2], [3, 8]])


def test_max_pool2d_window_of_padding_only_gives_minus_infinity_and_index_minus_one():
    # padding 1 <= kernel 2 // 2, but with dilation 3 the taps (rows -1 and 2) miss the 2x2 input
    trace = max_pool2d(np.ones((1, 1, 2, 2)), 2, stride=1, padding=1, dilation=3, return_indices=True)
    assert trace.output.shape == (1, 1, 1, 1)
    assert trace.output[0, 0, 0, 0] == -np.inf
    assert trace.stages["indices"][0, 0, 0, 0] == -1
    np.testing.assert_array_equal(trace.steps["winner"], [[-1, -1]])


@pytest.mark.parametrize(
    "size, kernel, stride, padding, expected_floor, expected_ceil, overhang",
    [
        (5, 2, 2, 0, 2, 3, 1),  # ceil adds a window starting at row 4, inside the input
        (5, 2, 2, 1, 3, 3, 0),  # ceil's extra window would start in the right padding: dropped
        (6, 3, 2, 1, 3, 4, 1),
        (1, 2, 2, 0, 0, 1, 1),  # floor has no window at all; ceil keeps one starting at 0
    ],
)
def test_ceil_mode_output_size_follows_torch_rule(
    size, kernel, stride, padding, expected_floor, expected_ceil, overhang
):
    assert pool_output_size(size, kernel, stride, padding, 1, False) == expected_floor
    assert pool_output_size(size, kernel, stride, padding, 1, True) == expected_ceil
    x = np.arange(size * size, dtype=float).reshape(1, 1, size, size)
    trace = max_pool2d(x, kernel, stride, padding, ceil_mode=True)
    assert trace.output.shape[2:] == (expected_ceil, expected_ceil)
    assert trace.params["pads"] == (padding, padding + overhang, padding, padding + overhang)
    if expected_floor == 0:
        with pytest.raises(ValueError, match="larger than the padded input"):
            max_pool2d(x, kernel, stride, padding)
    else:
        assert max_pool2d(x, kernel, stride, padding).output.shape[2:] == (expected_floor, expected_floor)


# --- average pooling -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "seed, stride, padding, ceil_mode, count_include_pad, divisor_override",
    _combinations(STRIDES, PADDINGS, CEIL_MODES, [True, False], [None, 3]),
)
def test_avg_pool2d_matches_loop_reference(
    seed, stride, padding, ceil_mode, count_include_pad, divisor_override
):
    rng = np.random.default_rng(1000 + seed)
    for _ in range(3):
        x, kernel = _random_case(rng, padding)
        args = (x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
        trace = avg_pool2d(*args)
        expected = avg_pool2d_loop(*args)
        assert trace.output.shape == expected.shape
        np.testing.assert_allclose(trace.output, expected, rtol=1e-12, atol=1e-12)
        _assert_window_steps(trace, x, 0.0)
        np.testing.assert_allclose(trace.steps["sum"], trace.steps["window"].sum(axis=(1, 2)), atol=1e-12)
        np.testing.assert_allclose(
            trace.steps["result"], trace.steps["sum"] / trace.steps["divisor"], atol=1e-12
        )


def test_avg_pool2d_ceil_mode_divisor_counts_padding_but_not_the_overhang():
    # 4x4 ones, kernel 3, stride 2, padding 1, ceil_mode: the last window covers a real row, a padding
    # row and a row past the padding; count_include_pad counts the first two only
    trace = avg_pool2d(np.ones((1, 1, 4, 4)), 3, 2, 1, ceil_mode=True)
    np.testing.assert_allclose(
        trace.output[0, 0], [[4 / 9, 6 / 9, 2 / 6], [6 / 9, 1, 3 / 6], [2 / 6, 3 / 6, 1 / 4]], rtol=1e-15
    )
    np.testing.assert_array_equal(trace.steps["divisor"].reshape(3, 3), [[9, 9, 6], [9, 9, 6], [6, 6, 4]])
    without = avg_pool2d(np.ones((1, 1, 4, 4)), 3, 2, 1, ceil_mode=True, count_include_pad=False)
    np.testing.assert_array_equal(without.output, np.ones((1, 1, 3, 3)))
    override = avg_pool2d(np.ones((1, 1, 4, 4)), 3, 2, 1, ceil_mode=True, divisor_override=3)
    np.testing.assert_allclose(override.output[0, 0], [[4 / 3, 2, 2 / 3], [2, 3, 1], [2 / 3, 1, 1 / 3]])


# --- Lp pooling ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "seed, norm_type, stride, ceil_mode", _combinations([1, 2, 3, 1.5], STRIDES, CEIL_MODES)
)
def test_lp_pool2d_matches_loop_reference(seed, norm_type, stride, ceil_mode):
    rng = np.random.default_rng(2000 + seed)
    for _ in range(3):
        x, kernel = _random_case(rng)
        if norm_type != int(norm_type):
            x = np.abs(x)  # a fractional power of a negative number is NaN
        trace = lp_pool2d(x, norm_type, kernel, stride, ceil_mode)
        expected = lp_pool2d_loop(x, norm_type, kernel, stride, ceil_mode)
        np.testing.assert_allclose(trace.output, expected, rtol=1e-12, atol=1e-12)
        _assert_window_steps(trace, x, 0.0)
        np.testing.assert_allclose(trace.steps["powered"], trace.steps["window"] ** norm_type, rtol=1e-15)


def test_lp_pool2d_with_p_1_is_the_window_sum_and_otherwise_a_scaled_power_mean():
    rng = np.random.default_rng(29)
    x = rng.random((2, 3, 6, 7))
    total = 6 * avg_pool2d(x, (2, 3)).output  # window size times the average
    np.testing.assert_allclose(lp_pool2d(x, 1, (2, 3)).output, total, rtol=1e-12)
    for p in (2, 3.5):
        power_mean = avg_pool2d(x**p, (2, 3)).output ** (1 / p)
        np.testing.assert_allclose(lp_pool2d(x, p, (2, 3)).output, 6 ** (1 / p) * power_mean, rtol=1e-12)


def test_lp_pool2d_tends_to_max_pool_as_p_grows():
    rng = np.random.default_rng(31)
    x = rng.random((1, 2, 6, 6)) + 0.1
    best = max_pool2d(x, 3).output
    previous = np.full_like(best, np.inf)
    for p in (1, 2, 4, 8, 16, 32, 64, 128):
        lp = lp_pool2d(x, p, 3).output
        assert (lp <= previous + 1e-12).all()  # non-increasing in p
        assert (lp >= best - 1e-12).all() and (lp <= 9 ** (1 / p) * best + 1e-12).all()
        previous = lp
    np.testing.assert_allclose(previous, best, rtol=9 ** (1 / 128) - 1)


def test_lp_pool2d_scales_a_ceil_mode_window_cut_by_the_edge_as_torch():
    # torch: avg_pool2d(x^p) * kH*kW, and the cut window's average divides by its 2 cells, not 4
    trace = lp_pool2d(np.ones((1, 1, 3, 3)), 1, 2, ceil_mode=True)
    np.testing.assert_array_equal(trace.output[0, 0], [[4, 4], [4, 4]])
    np.testing.assert_array_equal(trace.steps["powered_sum"], [4, 2, 2, 1])
    np.testing.assert_array_equal(trace.steps["divisor"], [4, 2, 2, 1])


# --- mixed and stochastic pooling ----------------------------------------------------------------


@pytest.mark.parametrize("seed, stride, padding, mix", _combinations(STRIDES, PADDINGS, [0.0, 0.3, 1.0]))
def test_mixed_pool2d_matches_loop_reference(seed, stride, padding, mix):
    rng = np.random.default_rng(3000 + seed)
    for _ in range(3):
        x, kernel = _random_case(rng, padding)
        trace = mixed_pool2d(x, kernel, stride, padding, mix)
        np.testing.assert_allclose(
            trace.output, mixed_pool2d_loop(x, kernel, stride, padding, mix), rtol=1e-12, atol=1e-12
        )
        _assert_window_steps(trace, x, 0.0)
        np.testing.assert_array_equal(
            trace.steps["max"], max_pool2d(x, kernel, stride, padding).output.ravel()
        )
        np.testing.assert_allclose(trace.steps["avg"], avg_pool2d(x, kernel, stride, padding).output.ravel())


@pytest.mark.parametrize("seed, stride, training", _combinations(STRIDES, [True, False]))
def test_stochastic_pool2d_matches_loop_reference(seed, stride, training):
    rng = np.random.default_rng(4000 + seed)
    for draw_seed in range(3):
        x, kernel = _random_case(rng)
        trace = stochastic_pool2d(x, kernel, stride, training, draw_seed)
        values, draws = stochastic_pool2d_loop(x, kernel, stride, training, draw_seed)
        np.testing.assert_allclose(trace.output, values, rtol=1e-12, atol=1e-12)
        _assert_window_steps(trace, x, 0.0)
        if training:
            np.testing.assert_array_equal(trace.steps["draw"], draws.reshape(-1, 2))
        else:
            assert "draw" not in trace.steps


def test_stochastic_pool2d_draw_frequencies_match_probabilities():
    window = np.array([[-1.0, 1.0], [2.0, 5.0]]).reshape(1, 1, 2, 2)
    expected = np.array([0, 1, 2, 5]) / 8
    copies, seeds = 8, 500  # eight copies of the window side by side, each with its own draw
    counts = np.zeros(4)
    for seed in range(seeds):
        draw = stochastic_pool2d(np.tile(window, copies), 2, seed=seed).steps["draw"]
        np.add.at(counts, 2 * draw[:, 0] + draw[:, 1] % 2, 1)
    draws = copies * seeds
    trace = stochastic_pool2d(window, 2)
    np.testing.assert_allclose(trace.steps["probabilities"].ravel(), expected, rtol=1e-15)
    assert counts[0] == 0  # a negative cell is never drawn
    chi_square = (((counts - draws * expected)[1:]) ** 2 / (draws * expected[1:])).sum()
    assert chi_square < 13.82  # 2 degrees of freedom, significance 0.001


def test_stochastic_pool2d_evaluation_is_probability_weighted_average():
    x = np.array([[1.0, 2.0, 0.5, 0.0], [3.0, -4.0, 0.5, 0.0]]).reshape(1, 1, 2, 4)
    trace = stochastic_pool2d(x, 2, training=False)
    # weights 1, 2, 3, 0 (the -4 is clamped): (1*1 + 2*2 + 3*3) / 6
    np.testing.assert_allclose(trace.output[0, 0, 0], [14 / 6, (0.25 + 0.25) / 1.0], rtol=1e-15)


def test_stochastic_pool2d_same_seed_same_draws_and_other_seeds_differ():
    x = np.random.default_rng(37).random((2, 3, 8, 8))
    first, again = stochastic_pool2d(x, 2, seed=5), stochastic_pool2d(x, 2, seed=5)
    np.testing.assert_array_equal(first.output, again.output)
    np.testing.assert_array_equal(first.steps["draw"], again.steps["draw"])
    assert (stochastic_pool2d(x, 2, seed=6).steps["draw"] != first.steps["draw"]).any()
    drawn = first.steps["window"][
        np.arange(first.num_steps), *(first.steps["draw"] - first.steps["origin"]).T
    ]
    np.testing.assert_array_equal(drawn, first.steps["result"])


def test_stochastic_pool2d_window_without_positive_cell_gives_zero():
    x = np.array([[-1.0, 0.0], [-3.0, 0.0]]).reshape(1, 1, 2, 2)
    for training in (True, False):
        trace = stochastic_pool2d(x, 2, training=training)
        assert trace.output[0, 0, 0, 0] == 0.0
        np.testing.assert_array_equal(trace.steps["probabilities"], np.zeros((1, 2, 2)))
    np.testing.assert_array_equal(stochastic_pool2d(x, 2).steps["draw"], [[-1, -1]])


# --- 1-D and unbatched inputs --------------------------------------------------------------------


@pytest.mark.parametrize(
    "seed, stride, padding, dilation, ceil_mode", _combinations([None, 1, 2], [0, 1], DILATIONS, CEIL_MODES)
)
def test_max_and_avg_pool1d_match_the_one_row_loop_references(seed, stride, padding, dilation, ceil_mode):
    rng = np.random.default_rng(5000 + seed)
    kernel = int(rng.integers(max(1, 2 * padding), 4))
    x = np.round(rng.standard_normal((2, 2, dilation * (kernel - 1) + 1 + int(rng.integers(0, 4)))), 1)
    two_d = None if stride is None else (1, stride)
    row = x[:, :, None, :]
    trace = max_pool1d(x, kernel, stride, padding, dilation, ceil_mode, return_indices=True)
    values, indices = max_pool2d_loop(row, (1, kernel), two_d, (0, padding), (1, dilation), ceil_mode)
    np.testing.assert_array_equal(trace.output, values[:, :, 0])
    np.testing.assert_array_equal(trace.stages["indices"], indices[:, :, 0])
    assert trace.op == "max_pool1d" and trace.params["kernel_size"] == kernel
    assert trace.stages["padded"].shape[:2] == x.shape[:2] and trace.stages["padded"].ndim == 3
    for count_include_pad in (True, False):
        trace = avg_pool1d(x, kernel, stride, padding, ceil_mode, count_include_pad)
        expected = avg_pool2d_loop(row, (1, kernel), two_d, (0, padding), ceil_mode, count_include_pad)
        np.testing.assert_allclose(trace.output, expected[:, :, 0], rtol=1e-12, atol=1e-12)
    magnitude = np.abs(x)
    trace = lp_pool1d(magnitude, 2, kernel, stride, ceil_mode)
    expected = lp_pool2d_loop(magnitude[:, :, None, :], 2, (1, kernel), two_d, ceil_mode)
    np.testing.assert_allclose(trace.output, expected[:, :, 0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "pool",
    [
        lambda x: max_pool2d(x, 2, 1, 1, return_indices=True),
        lambda x: min_pool2d(x, (2, 3), ceil_mode=True, return_indices=True),
        lambda x: avg_pool2d(x, 3, 2, 1, count_include_pad=False),
        lambda x: lp_pool2d(np.abs(x), 2, 2),
        lambda x: mixed_pool2d(x, 2, 1, 1, mix=0.25),
        lambda x: stochastic_pool2d(x, 2, seed=3),
        lambda x: adaptive_max_pool2d(x, (3, 2), return_indices=True),
        lambda x: spatial_pyramid_pool2d(x, (1, 2)),
    ],
    ids=["max", "min", "avg", "lp", "mixed", "stochastic", "adaptive-max", "spp"],
)
def test_unbatched_input_gives_the_batched_result_without_its_batch_axis(pool):
    x = np.random.default_rng(41).standard_normal((3, 5, 6))
    unbatched, batched = pool(x), pool(x[None])
    np.testing.assert_array_equal(unbatched.output, batched.output[0])
    for name, stage in batched.stages.items():
        expected = stage[0] if stage.ndim == unbatched.stages[name].ndim + 1 else stage
        np.testing.assert_array_equal(unbatched.stages[name], expected)


# --- adaptive, global and spatial pyramid pooling ------------------------------------------------


def test_adaptive_bins_follow_torch_floor_ceil_edges():
    for size in range(1, 12):
        for out in range(1, 12):
            expected = [adaptive_bin(i, size, out) for i in range(out)]
            np.testing.assert_array_equal(adaptive_edges(size, out), expected)


@pytest.mark.parametrize("seed", range(12))
def test_adaptive_pooling_matches_loop_reference_and_records_each_bin(seed):
    rng = np.random.default_rng(6000 + seed)
    x = np.round(rng.standard_normal((2, 2, int(rng.integers(1, 7)), int(rng.integers(1, 7)))), 1)
    size = (int(rng.integers(1, 7)), int(rng.integers(1, 7)))  # often larger than the input: bins overlap
    maximum = adaptive_max_pool2d(x, size, return_indices=True)
    values, indices = adaptive_pool2d_loop(x, size, "max")
    np.testing.assert_array_equal(maximum.output, values)
    np.testing.assert_array_equal(maximum.stages["indices"], indices)
    average = adaptive_avg_pool2d(x, size)
    np.testing.assert_allclose(
        average.output, adaptive_pool2d_loop(x, size, "avg")[0], rtol=1e-12, atol=1e-12
    )
    for trace in (maximum, average):
        steps = trace.steps
        for s in range(trace.num_steps):
            n, c, row, col = steps["index"][s]
            box = (*adaptive_bin(row, x.shape[2], size[0]), *adaptive_bin(col, x.shape[3], size[1]))
            np.testing.assert_array_equal(steps["box"][s], box)
            height, width = box[1] - box[0], box[3] - box[2]
            np.testing.assert_array_equal(
                steps["window"][s][:height, :width], x[n, c, box[0] : box[1], box[2] : box[3]]
            )
            assert steps["valid"][s].sum() == height * width
            # the output is reduced from the input, the step from its window: avg within ~1e-16
            np.testing.assert_allclose(
                steps["result"][s], trace.output[n, c, row, col], rtol=1e-12, atol=1e-12
            )
    winners = maximum.steps["winner"]
    np.testing.assert_array_equal(winners[:, 0] * x.shape[3] + winners[:, 1], indices.ravel())


def test_adaptive_output_size_none_keeps_that_input_size():
    x = np.random.default_rng(43).standard_normal((1, 2, 5, 7))
    trace = adaptive_avg_pool2d(x, (None, 3))
    assert trace.output.shape == (1, 2, 5, 3)
    np.testing.assert_allclose(trace.output, adaptive_pool2d_loop(x, (5, 3), "avg")[0], rtol=1e-12)


def test_global_pooling_is_mean_and_max_over_each_channel():
    x = np.random.default_rng(47).standard_normal((2, 3, 4, 5))
    np.testing.assert_allclose(global_avg_pool2d(x).output, x.mean(axis=(2, 3), keepdims=True), rtol=1e-12)
    trace = global_max_pool2d(x, return_indices=True)
    np.testing.assert_array_equal(trace.output, x.max(axis=(2, 3), keepdims=True))
    np.testing.assert_array_equal(trace.stages["indices"][..., 0, 0], x.reshape(2, 3, -1).argmax(axis=2))


@pytest.mark.parametrize("size", [(1, 1), (2, 3), (4, 4), (7, 5), (13, 16)])
@pytest.mark.parametrize("mode", ["max", "avg"])
def test_spatial_pyramid_pool2d_length_is_independent_of_input_size(size, mode):
    x = np.random.default_rng(53).standard_normal((2, 3, *size))
    trace = spatial_pyramid_pool2d(x, (1, 2, 4), mode)
    assert trace.output.shape == (2, 3 * (1 + 4 + 16))
    np.testing.assert_allclose(trace.output, spatial_pyramid_pool2d_loop(x, (1, 2, 4), mode), rtol=1e-12)
    for level in (1, 2, 4):
        assert trace.stages[f"level_{level}"].shape == (2, 3, level, level)
    steps = trace.steps
    features = trace.output[steps["index"][:, 0], steps["feature"]]  # avg: the same sums in another order
    np.testing.assert_allclose(features, steps["result"], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(np.bincount(steps["level"]), [0, 6, 24, 0, 96])


# --- ROI pooling ---------------------------------------------------------------------------------


def test_roi_pool2d_on_a_hand_made_example():
    x = np.arange(36, dtype=float).reshape(1, 1, 6, 6)
    trace = roi_pool2d(x, [[0, 1, 1, 4, 4]], 2)  # corners inclusive: rows and columns 1..4
    np.testing.assert_array_equal(trace.output[0, 0], [[14, 16], [26, 28]])
    np.testing.assert_array_equal(
        trace.steps["box"], [[1, 3, 1, 3], [1, 3, 3, 5], [3, 5, 1, 3], [3, 5, 3, 5]]
    )
    np.testing.assert_array_equal(trace.steps["winner"], [[2, 2], [2, 4], [4, 2], [4, 4]])
    np.testing.assert_array_equal(trace.stages["rois"], [[1, 5, 1, 5]])


def test_roi_pool2d_rounds_half_away_from_zero_and_zeroes_empty_bins():
    x = np.arange(36, dtype=float).reshape(1, 1, 6, 6)
    # 1 * 0.5 and 5 * 0.5 round to 1 and 3 (NumPy's round-half-even would give 0 and 2)
    halves = roi_pool2d(x, [[0, 1, 1, 5, 5]], 1, spatial_scale=0.5)
    np.testing.assert_array_equal(halves.stages["rois"], [[1, 4, 1, 4]])
    assert halves.output[0, 0, 0, 0] == x[0, 0, 3, 3]
    # box 4..9 is six cells, bins of three: the second bin starts at row 7, past the input
    outside = roi_pool2d(x, [[0, 4, 4, 9, 9]], 2)
    np.testing.assert_array_equal(outside.output[0, 0], [[35, 0], [0, 0]])
    np.testing.assert_array_equal(outside.steps["winner"], [[5, 5], [-1, -1], [-1, -1], [-1, -1]])


def test_roi_pool2d_treats_a_reversed_box_as_one_cell_wide():
    x = np.arange(36, dtype=float).reshape(1, 1, 6, 6)
    trace = roi_pool2d(x, [[0, 4, 2, 1, 2]], (1, 1))  # x2 < x1, y2 == y1
    np.testing.assert_array_equal(trace.stages["rois"], [[2, 3, 4, 5]])
    assert trace.output[0, 0, 0, 0] == x[0, 0, 2, 4]


@pytest.mark.parametrize("seed", range(8))
def test_roi_pool2d_matches_loop_reference_on_random_boxes(seed):
    rng = np.random.default_rng(7000 + seed)
    x = np.round(rng.standard_normal((2, 3, 9, 11)), 1)
    scale = [1.0, 0.5, 0.25][seed % 3]
    corners = rng.uniform(-3, 14, size=(5, 2, 2)) / scale
    boxes = np.column_stack([rng.integers(0, 2, 5), corners.min(axis=1), corners.max(axis=1)])
    size = (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
    trace = roi_pool2d(x, boxes, size, scale)
    np.testing.assert_array_equal(trace.output, roi_pool2d_loop(x, boxes, size, scale))
    np.testing.assert_array_equal(trace.steps["batch"], boxes[trace.steps["index"][:, 0], 0])


# --- errors --------------------------------------------------------------------------------------

X = np.zeros((1, 2, 3, 3))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: max_pool2d(X, 4), "larger than the padded input"),
        (lambda: avg_pool2d(X, (1, 4)), "larger than the padded input"),
        (lambda: max_pool2d(X, 2, dilation=3), "larger than the padded input"),
        (lambda: max_pool2d(X, 3, padding=2), "at most half"),
        (lambda: avg_pool2d(X, (2, 3), padding=(1, 2)), "at most half"),
        (lambda: mixed_pool2d(X, 1, padding=1), "at most half"),
        (lambda: max_pool2d(X, 2, stride=0), "stride must be positive"),
        (lambda: avg_pool2d(X, 2, stride=(1, 0)), "stride must be positive"),
        (lambda: stochastic_pool2d(X, 2, stride=0), "stride must be positive"),
        (lambda: max_pool2d(X, 0), "kernel_size must be positive"),
        (lambda: max_pool2d(X, 2, dilation=0), "dilation must be positive"),
        (lambda: avg_pool2d(X, 2, padding=-1), "non-negative"),
        (lambda: max_pool2d(X, (1, 2, 3)), "pair"),
        (lambda: max_pool2d(np.zeros((3, 3)), 2), "input must"),
        (lambda: avg_pool2d(np.zeros((1, 1, 1, 3, 3)), 2), "input must"),
        (lambda: max_pool2d(np.zeros((1, 0, 3, 3)), 2), "input must"),
        (lambda: avg_pool2d(X, 2, divisor_override=0), "divisor_override"),
        (lambda: lp_pool2d(X, 0, 2), "norm_type"),
        (lambda: lp_pool2d(X, np.inf, 2), "norm_type"),
        (lambda: mixed_pool2d(X, 2, mix=1.5), "mix"),
        (lambda: mixed_pool2d(X, 2, mix=-0.1), "mix"),
        (lambda: stochastic_pool2d(X, 2, seed=-1), "seed"),
        (lambda: max_pool1d(np.zeros((1, 2, 3)), (2, 2)), "kernel_size"),
        (lambda: avg_pool1d(np.zeros((1, 1, 2, 3)), 2), "input must"),
        (lambda: lp_pool1d(np.zeros((1, 1, 3)), 2, 4), "larger than the padded input"),
        (lambda: adaptive_avg_pool2d(X, 0), "output_size"),
        (lambda: adaptive_max_pool2d(X, (2, -1)), "output_size"),
        (lambda: adaptive_avg_pool2d(X, (1, 2, 3)), "output_size"),
        (lambda: adaptive_avg_pool2d(X, 1.5), "output_size"),
        (lambda: spatial_pyramid_pool2d(X, ()), "levels"),
        (lambda: spatial_pyramid_pool2d(X, (1, 0)), "levels"),
        (lambda: spatial_pyramid_pool2d(X, (2, 2)), "levels"),
        (lambda: spatial_pyramid_pool2d(X, (1, 2), mode="median"), "mode"),
        (lambda: roi_pool2d(X, [[0, 0, 0, 1]], 2), "boxes must have shape"),
        (lambda: roi_pool2d(X, np.zeros((0, 5)), 2), "boxes must have shape"),
        (lambda: roi_pool2d(X, [[1, 0, 0, 1, 1]], 2), "batch indices"),
        (lambda: roi_pool2d(X, [[0.5, 0, 0, 1, 1]], 2), "batch indices"),
        (lambda: roi_pool2d(X, [[0, 0, np.nan, 1, 1]], 2), "finite"),
        (lambda: roi_pool2d(X, [[0, 0, 0, 1, 1]], 0), "output_size"),
        (lambda: roi_pool2d(X, [[0, 0, 0, 1, 1]], 2, spatial_scale=0), "spatial_scale"),
        (lambda: roi_pool2d(X[0], [[0, 0, 0, 1, 1]], 2), "input must"),
    ],
)
def test_invalid_arguments_raise_value_error_with_clear_message(call, message):
    with pytest.raises(ValueError, match=message):
        call()
