"""Tiled and flattened convolutions and the residual block against loops and plain conv2d."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from layerlab.engine.conv import conv2d
from layerlab.engine.variants import flattened_conv2d, residual_block, tiled_conv2d
from tests.engine.reference import conv2d_loop, tiled_conv2d_loop

TILED_COMBINATIONS = [
    pytest.param(seed, *combo, id=f"tile{combo[0]}-stride{combo[1]}-pad{combo[2]}-bias{combo[3]}")
    for seed, combo in enumerate(
        itertools.product([(1, 1), (2, 2), (2, 3), (3, 1)], [1, 2, (2, 1)], [0, 1, (1, 2)], [False, True])
    )
]


@pytest.mark.parametrize("seed, tile, stride, padding, with_bias", TILED_COMBINATIONS)
def test_tiled_conv2d_matches_loop_reference(seed, tile, stride, padding, with_bias):
    rng = np.random.default_rng(seed)
    c_in, c_out = int(rng.integers(1, 3)), int(rng.integers(1, 3))
    kernel = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    x = rng.standard_normal((2, c_in, 5 + int(rng.integers(0, 3)), 6 + int(rng.integers(0, 3))))
    w = rng.standard_normal((*tile, c_out, c_in, *kernel))
    b = rng.standard_normal(c_out) if with_bias else None
    trace = tiled_conv2d(x, w, b, tile, stride, padding)
    expected = tiled_conv2d_loop(x, w, b, stride, padding)
    assert trace.output.shape == expected.shape
    np.testing.assert_allclose(trace.output, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1), ((1, 2), "valid"), (1, "same")])
def test_tiled_conv2d_with_tile_1x1_equals_conv2d(stride, padding):
    rng = np.random.default_rng(83)
    x, w, b = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(4)
    trace = tiled_conv2d(x, w[None, None], b, (1, 1), stride, padding)
    np.testing.assert_allclose(trace.output, conv2d(x, w, b, stride, padding).output, rtol=1e-12, atol=1e-12)
    assert trace.params["parameters"] == 4 * 3 * 3 * 2 + 4


def test_tiled_conv2d_with_the_same_kernel_at_every_tile_position_equals_conv2d():
    rng = np.random.default_rng(89)
    x, w = rng.standard_normal((1, 2, 8, 9)), rng.standard_normal((3, 2, 3, 3))
    tiled = tiled_conv2d(x, np.broadcast_to(w, (2, 3, *w.shape)), tile=(2, 3), padding=1)
    np.testing.assert_allclose(tiled.output, conv2d(x, w, padding=1).output, rtol=1e-12, atol=1e-12)


def test_tiled_conv2d_records_which_weight_each_output_uses_and_counts_parameters():
    rng = np.random.default_rng(97)
    x, w = rng.standard_normal((2, 6, 7)), rng.standard_normal((2, 3, 4, 2, 3, 2))
    trace = tiled_conv2d(x, w, tile=(2, 3), padding=(1, 0))  # unbatched input
    assert trace.output.shape == (4, 6, 6)
    index = trace.stages["tile_index"]
    assert index.shape == (6, 6, 2)
    assert tuple(index[3, 4]) == (1, 1) and tuple(index[4, 5]) == (0, 2) and tuple(index[5, 0]) == (1, 0)
    assert trace.params["parameters"] == 2 * 3 * 4 * 2 * 3 * 2
    # changing one tile position's kernel changes exactly the outputs that index names
    changed = w.copy()
    changed[1, 2] += 1.0
    moved = np.abs(tiled_conv2d(x, changed, tile=(2, 3), padding=(1, 0)).output - trace.output).max(axis=0)
    np.testing.assert_array_equal(moved > 1e-9, (index[..., 0] == 1) & (index[..., 1] == 2))


def test_tiled_conv2d_with_a_tile_larger_than_the_output_unties_every_weight():
    rng = np.random.default_rng(101)
    x, w = rng.standard_normal((1, 1, 4, 4)), rng.standard_normal((5, 5, 1, 1, 2, 2))
    trace = tiled_conv2d(x, w, tile=5)
    np.testing.assert_allclose(trace.output, tiled_conv2d_loop(x, w), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"tile": (3, 2)}, id="tile-not-matching-weight"),
        pytest.param({"tile": 0, "weight": np.ones((0, 0, 2, 2, 3, 3))}, id="tile-0"),
        pytest.param({"weight": np.ones((2, 2, 2, 3, 3, 3))}, id="wrong-input-channels"),
        pytest.param({"weight": np.ones((2, 2, 3, 3))}, id="weight-with-4-dims"),
        pytest.param({"bias": np.ones(3)}, id="bias-wrong-length"),
        pytest.param({"stride": 0}, id="stride-0"),
        pytest.param({"padding": "same", "stride": 2}, id="same-with-stride-2"),
        pytest.param({"weight": np.ones((2, 2, 2, 2, 7, 3))}, id="kernel-taller-than-input"),
        pytest.param({"input": np.ones((5, 5))}, id="input-with-2-dims"),
    ],
)
def test_tiled_conv2d_rejects_invalid_arguments_with_value_error(change):
    call = {
        "input": np.ones((1, 2, 5, 5)),
        "weight": np.ones((2, 2, 2, 2, 3, 3)),
        "bias": np.ones(2),
    } | change
    with pytest.raises(ValueError):
        tiled_conv2d(**call)


def _rank1_kernel(channel: np.ndarray, vertical: np.ndarray, horizontal: np.ndarray) -> np.ndarray:
    """w[o, c, u, v] = channel[o, c] * vertical[o, u] * horizontal[o, v], by loops."""
    c_out, c_in = channel.shape
    kh, kw = vertical.shape[1], horizontal.shape[1]
    w = np.zeros((c_out, c_in, kh, kw))
    for o, c, u, v in itertools.product(range(c_out), range(c_in), range(kh), range(kw)):
        w[o, c, u, v] = channel[o, c] * vertical[o, u] * horizontal[o, v]
    return w


@pytest.mark.parametrize("padding", [0, 1, (2, 1), "same", "valid"])
@pytest.mark.parametrize("kernel", [(3, 3), (2, 4), (1, 5)])
@pytest.mark.parametrize("with_bias", [False, True])
def test_flattened_conv2d_equals_conv2d_with_the_rank_1_kernel(padding, kernel, with_bias):
    rng = np.random.default_rng(103 + kernel[1])
    x = rng.standard_normal((2, 3, 6, 7))
    channel, vertical, horizontal = (rng.standard_normal((4, size)) for size in (3, *kernel))
    b = rng.standard_normal(4) if with_bias else None
    trace = flattened_conv2d(x, channel, vertical, horizontal, b, padding)
    w = _rank1_kernel(channel, vertical, horizontal)
    np.testing.assert_allclose(trace.output, conv2d(x, w, b, padding=padding).output, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(trace.output, conv2d_loop(x, w, b, padding=padding), rtol=1e-12, atol=1e-12)


def test_flattened_conv2d_stages_apply_one_1d_filter_each():
    rng = np.random.default_rng(107)
    x = rng.standard_normal((3, 5, 6))  # unbatched
    channel, vertical, horizontal = (
        rng.standard_normal((2, 3)),
        rng.standard_normal((2, 3)),
        rng.standard_normal((2, 2)),
    )
    trace = flattened_conv2d(x, channel, vertical, horizontal, padding=1)
    after_channel = np.zeros((2, 5, 6))
    for o, c in itertools.product(range(2), range(3)):
        after_channel[o] += channel[o, c] * x[c]
    np.testing.assert_allclose(trace.stages["after_channel"], after_channel, rtol=1e-12, atol=1e-12)
    padded = np.pad(after_channel, ((0, 0), (1, 1), (1, 1)))
    np.testing.assert_array_equal(trace.stages["padded"], padded)
    after_vertical = np.zeros((2, 5, 8))
    for o, y, u in itertools.product(range(2), range(5), range(3)):
        after_vertical[o, y] += vertical[o, u] * padded[o, y + u]
    np.testing.assert_allclose(trace.stages["after_vertical"], after_vertical, rtol=1e-12, atol=1e-12)
    out = np.zeros((2, 5, 7))
    for o, col, v in itertools.product(range(2), range(7), range(2)):
        out[o, :, col] += horizontal[o, v] * after_vertical[o, :, col + v]
    np.testing.assert_allclose(trace.output, out, rtol=1e-12, atol=1e-12)


def test_flattened_conv2d_counts_operations_per_feature_map_as_seed_003():
    rng = np.random.default_rng(109)
    x = rng.standard_normal((1, 3, 28, 28))
    trace = flattened_conv2d(x, np.ones((2, 3)), np.ones((2, 3)), np.ones((2, 3)), padding=1)
    assert trace.output.shape == (1, 2, 28, 28)
    assert trace.params["operations"] == {"full": 28 * 28 * (3 * 3 * 3), "flattened": 28 * 28 * (3 + 3 + 3)}
    wide = flattened_conv2d(x[..., :10], np.ones((1, 3)), np.ones((1, 5)), np.ones((1, 2)))  # 24x9 output
    assert wide.params["operations"] == {"full": 24 * 9 * (3 * 5 * 2), "flattened": 24 * 9 * (3 + 5 + 2)}


@pytest.mark.parametrize(
    "shapes",
    [((2, 3), (3, 3), (2, 3)), ((2, 3), (2, 3), (2,)), ((2, 4), (2, 3), (2, 3)), ((2, 3), (2, 9), (2, 3))],
    ids=["different-output-counts", "horizontal-1-d", "wrong-input-channels", "kernel-taller-than-input"],
)
def test_flattened_conv2d_rejects_mismatched_weights(shapes):
    with pytest.raises(ValueError):
        flattened_conv2d(np.ones((1, 3, 5, 5)), *(np.ones(shape) for shape in shapes))


def _residual_case(seed: int, kernel: tuple[int, int], c_mid: int = 3):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 4, 6, 5))
    w1, b1 = rng.standard_normal((c_mid, 4, *kernel)), rng.standard_normal(c_mid)
    w2, b2 = rng.standard_normal((4, c_mid, *kernel)), rng.standard_normal(4)
    return x, w1, b1, w2, b2


@pytest.mark.parametrize("kernel", [(3, 3), (1, 1), (5, 3)])
def test_residual_block_equals_conv_relu_conv_plus_identity_relu(kernel):
    x, w1, b1, w2, b2 = _residual_case(113 + kernel[0], kernel)
    trace = residual_block(x, w1, b1, w2, b2)
    pads = (kernel[0] // 2, kernel[1] // 2)
    assert trace.params["pads"][0] == (pads[0], pads[0], pads[1], pads[1])
    by_hand = conv2d(np.maximum(conv2d(x, w1, b1, padding=pads).output, 0), w2, b2, padding=pads).output
    np.testing.assert_allclose(trace.output, np.maximum(by_hand + x, 0), rtol=1e-12, atol=1e-12)
    conv1 = conv2d_loop(x, w1, b1, padding=pads)
    conv2 = conv2d_loop(np.maximum(conv1, 0), w2, b2, padding=pads)
    np.testing.assert_allclose(trace.stages["conv1"], conv1, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(trace.stages["relu1"], np.maximum(conv1, 0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(trace.stages["conv2"], conv2, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(trace.stages["identity"], x)
    np.testing.assert_allclose(trace.stages["sum"], conv2 + x, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(trace.output, np.maximum(conv2 + x, 0), rtol=1e-12, atol=1e-12)


def test_residual_block_with_zero_weights_passes_the_input_through_the_identity_path():
    x, w1, b1, w2, b2 = _residual_case(127, (3, 3))
    trace = residual_block(x[0], w1, None, np.zeros_like(w2), None)  # unbatched, no biases
    np.testing.assert_array_equal(trace.output, np.maximum(x[0], 0))


@pytest.mark.parametrize("stride", [2, (1, 2)])
def test_residual_block_rejects_strides_other_than_1(stride):
    x, w1, b1, w2, b2 = _residual_case(131, (3, 3))
    with pytest.raises(ValueError, match="stride 1"):
        residual_block(x, w1, b1, w2, b2, stride=stride)


def test_residual_block_rejects_a_channel_change_naming_the_shapes():
    x, w1, b1, _, _ = _residual_case(137, (3, 3))
    w2 = np.ones((5, 3, 3, 3))
    with pytest.raises(ValueError, match=r"\(5, 3, 3, 3\)"):
        residual_block(x, w1, b1, w2, np.ones(5))
    with pytest.raises(ValueError, match=r"\(2, 4, 6, 5\)"):
        residual_block(x, np.ones((3, 2, 3, 3)), b1, np.ones((4, 3, 3, 3)), None)
