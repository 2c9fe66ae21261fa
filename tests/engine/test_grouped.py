"""conv1d, grouped and depthwise separable convolutions, their cost, channel shuffle and connections."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from layerlab.engine.conv import conv2d
from layerlab.engine.grouped import (
    channel_shuffle,
    connections,
    conv1d,
    conv_cost,
    depthwise_separable_conv2d,
)
from tests.engine.reference import channel_shuffle_loop, conv1d_loop, conv2d_loop

PADDING_MODES = ["zeros", "reflect", "replicate", "circular"]


def _conv1d_case(
    rng: np.random.Generator, padding: int | str, dilation: int, groups: int | str, padding_mode: str
) -> tuple[np.ndarray, np.ndarray, int]:
    """A small random (input, weight, groups) whose windows reach into the padding on both sides."""
    if groups == "depthwise":
        c_in = int(rng.integers(1, 4))
        n_groups, c_out = c_in, c_in * int(rng.integers(1, 3))
    else:
        n_groups = groups
        c_in, c_out = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
    k = int(rng.integers(1, 5))
    total = {"valid": 0, "same": dilation * (k - 1)}.get(
        padding, 2 * padding if isinstance(padding, int) else 0
    )
    right = total - total // 2  # the larger side
    smallest = max(1, dilation * (k - 1) + 1 - total)
    if padding_mode == "reflect":
        smallest = max(smallest, right + 1)
    elif padding_mode == "circular":
        smallest = max(smallest, right)
    x = rng.standard_normal((int(rng.integers(1, 3)), c_in, smallest + int(rng.integers(0, 4))))
    w = rng.standard_normal((c_out, c_in // n_groups, k))
    return x, w, n_groups


CONV1D_COMBINATIONS = [
    pytest.param(seed, *combo, id=f"stride{combo[0]}-pad{combo[1]}-dil{combo[2]}-groups{combo[3]}-{combo[4]}")
    for seed, combo in enumerate(
        itertools.product([1, 2, 3], [0, 2, "same", "valid"], [1, 2], [1, 2, "depthwise"], PADDING_MODES)
    )
]


@pytest.mark.parametrize("seed, stride, padding, dilation, groups, padding_mode", CONV1D_COMBINATIONS)
def test_conv1d_matches_loop_reference_for_every_option_combination(
    seed, stride, padding, dilation, groups, padding_mode
):
    rng = np.random.default_rng(seed)
    x, w, n_groups = _conv1d_case(rng, padding, dilation, groups, padding_mode)
    b = rng.standard_normal(w.shape[0]) if seed % 2 else None
    args = (x, w, b, stride, padding, dilation, n_groups, padding_mode)
    if padding == "same" and stride != 1:
        with pytest.raises(ValueError):
            conv1d(*args)
        return
    expected = conv1d_loop(*args)
    for record_steps in (True, False):
        trace = conv1d(*args, record_steps=record_steps)
        assert trace.op == "conv1d"
        assert trace.output.shape == expected.shape
        assert trace.params["output_size"] == (expected.shape[2],)
        np.testing.assert_allclose(trace.output, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("padding_mode", PADDING_MODES)
@pytest.mark.parametrize("stride, dilation, groups", [(1, 1, 1), (2, 2, 2), (3, 1, 4)])
def test_conv1d_steps_are_consistent_with_output_and_padded_stage(stride, dilation, groups, padding_mode):
    rng = np.random.default_rng(41 + stride)
    x = rng.standard_normal((2, 4, 9))
    w = rng.standard_normal((4, 4 // groups, 3))
    b = rng.standard_normal(4)
    trace = conv1d(x, w, b, stride, 2, dilation, groups, padding_mode)
    steps, out, padded = trace.steps, trace.output, trace.stages["padded"]
    assert padded.shape == (2, 4, 13)
    assert trace.params["pads"] == (2, 2)
    assert trace.num_steps == out.size
    np.testing.assert_array_equal(steps["index"], np.indices(out.shape).reshape(3, -1).T)
    np.testing.assert_array_equal(steps["origin"], steps["index"][:, 2] * stride)
    np.testing.assert_array_equal(steps["positions"], steps["origin"][:, None] + dilation * np.arange(3))
    channel = steps["index"][:, 1]
    np.testing.assert_array_equal(steps["products"], steps["window"] * w[channel])
    np.testing.assert_allclose(steps["sum"], steps["products"].sum(axis=(1, 2)), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(steps["result"], steps["sum"] + b[channel])
    np.testing.assert_array_equal(steps["result"], out.reshape(-1))
    c_group = 4 // groups
    for s in range(trace.num_steps):
        n, o = steps["index"][s, :2]
        first = o // (4 // groups) * c_group
        expected = padded[n, first : first + c_group][:, steps["positions"][s]]
        np.testing.assert_array_equal(steps["window"][s], expected)


def test_conv1d_records_a_chunk_of_steps_equal_to_that_slice_of_the_full_record():
    rng = np.random.default_rng(43)
    x, w = rng.standard_normal((2, 2, 7)), rng.standard_normal((3, 2, 2))
    full = conv1d(x, w, padding=1)
    chunk = conv1d(x, w, padding=1, record_steps=slice(5, 30))
    np.testing.assert_array_equal(chunk.output, full.output)
    for name, column in full.steps.items():
        np.testing.assert_array_equal(chunk.steps[name], column[5:30], err_msg=name)


def test_conv1d_unbatched_input_and_one_tuples_give_unbatched_output():
    rng = np.random.default_rng(47)
    x, w, b = rng.standard_normal((3, 8)), rng.standard_normal((2, 3, 3)), rng.standard_normal(2)
    trace = conv1d(x, w, b, stride=(2,), padding=(1,), dilation=(1,))
    assert trace.output.shape == (2, 4)
    assert trace.stages["padded"].shape == (3, 10)
    assert trace.params["stride"] == (2,) and trace.params["padding"] == (1,)
    np.testing.assert_allclose(trace.output, conv1d_loop(x[None], w, b, 2, 1)[0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"input": np.ones((1, 2, 1, 8))}, id="input-with-4-dims"),
        pytest.param({"weight": np.ones((2, 2))}, id="weight-with-2-dims"),
        pytest.param({"weight": np.ones((2, 3, 2))}, id="wrong-weight-channel-count"),
        pytest.param({"stride": (1, 2)}, id="stride-pair"),
        pytest.param({"stride": 0}, id="stride-0"),
        pytest.param({"padding": "same", "stride": 2}, id="same-with-stride-2"),
        pytest.param({"groups": 3}, id="groups-not-dividing"),
        pytest.param({"padding": 8, "padding_mode": "reflect"}, id="reflect-padding-too-large"),
        pytest.param({"weight": np.ones((2, 2, 12))}, id="kernel-longer-than-input"),
    ],
)
def test_conv1d_rejects_invalid_arguments_with_value_error(change):
    call = {"input": np.ones((1, 2, 8)), "weight": np.ones((2, 2, 3))} | change
    with pytest.raises(ValueError):
        conv1d(**call)


def test_seed_002_derivative_kernel_in_conv1d_gives_backward_difference():
    x = np.array([0, 0, 1, 2, 4, 4, 4, 3, 1, 0], dtype=float).reshape(1, 1, 10)
    out = conv1d(x, np.array([-1.0, 1.0]).reshape(1, 1, 2), padding=1).output
    np.testing.assert_array_equal(out[0, 0], [0, 0, 1, 1, 2, 0, 0, -1, -2, -1, 0])


@pytest.mark.parametrize("groups", [1, 2, 4])
def test_grouped_conv2d_equals_separate_convolutions_of_each_channel_group(groups):
    rng = np.random.default_rng(53 + groups)
    x = rng.standard_normal((2, 4, 6, 5))
    w = rng.standard_normal((8, 4 // groups, 3, 2))
    b = rng.standard_normal(8)
    out = conv2d(x, w, b, padding=1, groups=groups, record_steps=False).output
    c_group, o_group = 4 // groups, 8 // groups
    parts = [
        conv2d_loop(
            x[:, g * c_group : (g + 1) * c_group],
            w[g * o_group : (g + 1) * o_group],
            b[g * o_group : (g + 1) * o_group],
            padding=1,
        )
        for g in range(groups)
    ]
    np.testing.assert_allclose(out, np.concatenate(parts, axis=1), rtol=1e-12, atol=1e-12)
    if groups == 1:
        np.testing.assert_allclose(out, conv2d_loop(x, w, b, padding=1), rtol=1e-12, atol=1e-12)


def test_depthwise_conv2d_equals_one_convolution_per_channel():
    rng = np.random.default_rng(59)
    x = rng.standard_normal((2, 3, 5, 6))
    w = rng.standard_normal((6, 1, 3, 3))  # depth multiplier 2: outputs 2c and 2c+1 read channel c
    out = conv2d(x, w, groups=3, padding=1, padding_mode="reflect").output
    for o in range(6):
        single = conv2d_loop(x[:, o // 2 : o // 2 + 1], w[o : o + 1], padding=1, padding_mode="reflect")
        np.testing.assert_allclose(out[:, o : o + 1], single, rtol=1e-12, atol=1e-12)


SEPARABLE_CASES = [
    pytest.param(1, 0, 1, "zeros", True, id="plain"),
    pytest.param(2, 1, 1, "reflect", False, id="stride2-pad1-reflect-no-bias"),
    pytest.param(1, "same", 2, "circular", True, id="same-dilation2-circular"),
    pytest.param((2, 1), (1, 2), 1, "replicate", True, id="stride2x1-pad1x2-replicate"),
]


@pytest.mark.parametrize("multiplier", [1, 2])
@pytest.mark.parametrize("stride, padding, dilation, padding_mode, with_bias", SEPARABLE_CASES)
def test_depthwise_separable_equals_depthwise_then_pointwise(
    stride, padding, dilation, padding_mode, with_bias, multiplier
):
    rng = np.random.default_rng(61 + multiplier)
    x = rng.standard_normal((2, 3, 7, 6))
    dw = rng.standard_normal((3 * multiplier, 1, 3, 2))
    pw = rng.standard_normal((5, 3 * multiplier, 1, 1))
    db = rng.standard_normal(3 * multiplier) if with_bias else None
    pb = rng.standard_normal(5) if with_bias else None
    trace = depthwise_separable_conv2d(x, dw, pw, db, pb, stride, padding, dilation, padding_mode)
    first = conv2d(x, dw, db, stride, padding, dilation, 3, padding_mode)
    second = conv2d(first.output, pw, pb)
    np.testing.assert_array_equal(trace.stages["depthwise"], first.output)
    np.testing.assert_array_equal(trace.stages["padded"], first.stages["padded"])
    np.testing.assert_array_equal(trace.output, second.output)
    loop_depthwise = conv2d_loop(x, dw, db, stride, padding, dilation, 3, padding_mode)
    loop = conv2d_loop(loop_depthwise, pw, pb)
    np.testing.assert_allclose(trace.output, loop, rtol=1e-12, atol=1e-12)
    assert trace.params["depth_multiplier"] == multiplier


def test_depthwise_separable_cost_matches_closed_forms_for_3_to_8_channels_3x3_on_28x28():
    rng = np.random.default_rng(67)
    x = rng.standard_normal((3, 28, 28))
    dw, pw = rng.standard_normal((3, 1, 3, 3)), rng.standard_normal((8, 3, 1, 1))
    for db, pb in [(None, None), (np.ones(3), np.ones(8))]:
        trace = depthwise_separable_conv2d(x, dw, pw, db, pb, padding=1)
        assert trace.output.shape == (8, 28, 28)
        bias = db is not None
        cost = trace.params["cost"]
        assert cost["depthwise"] == {"parameters": 3 * 9 + 3 * bias, "macs": 28 * 28 * 3 * 9}
        assert cost["pointwise"] == {"parameters": 3 * 8 + 8 * bias, "macs": 28 * 28 * 3 * 8}
        assert cost["separable"] == {"parameters": 3 * 9 + 3 * 8 + 11 * bias, "macs": 28 * 28 * 3 * (9 + 8)}
        assert cost["standard"] == {"parameters": 8 * 3 * 9 + 8 * bias, "macs": 28 * 28 * 8 * 3 * 9}


def test_conv_cost_of_seed_003_1x1_example_28x28x192_to_32():
    assert conv_cost(192, 32, 1, 28) == {"parameters": 192 * 32 + 32, "macs": 28 * 28 * 192 * 32}
    assert conv_cost(192, 32, (1, 1), (28, 28), bias=False) == {
        "parameters": 192 * 32,
        "macs": 28 * 28 * 192 * 32,
    }


def test_seed_003_1x1_convolution_maps_28x28x192_to_28x28x32_as_a_per_pixel_matrix_product():
    rng = np.random.default_rng(71)
    x, w = rng.standard_normal((192, 28, 28)), rng.standard_normal((32, 192, 1, 1))
    out = conv2d(x, w, record_steps=False).output
    assert out.shape == (32, 28, 28)
    np.testing.assert_allclose(out, np.einsum("oc,chw->ohw", w[:, :, 0, 0], x), rtol=1e-10, atol=1e-10)


def test_conv_cost_divides_by_groups_and_rejects_groups_that_do_not_divide():
    assert conv_cost(8, 16, (3, 5), (4, 6), groups=4, bias=False) == {
        "parameters": 16 * 2 * 15,
        "macs": 16 * 4 * 6 * 2 * 15,
    }
    for groups in (0, 3):
        with pytest.raises(ValueError):
            conv_cost(8, 16, 3, 4, groups=groups)


@pytest.mark.parametrize(
    "dw_shape, pw_shape",
    [
        ((4, 1, 3, 3), (5, 4, 1, 1)),
        ((3, 2, 3, 3), (5, 3, 1, 1)),
        ((3, 1, 3, 3), (5, 3, 3, 3)),
        ((3, 1, 3, 3), (5, 6, 1, 1)),
    ],
    ids=[
        "depthwise-not-a-multiple-of-channels",
        "depthwise-two-inputs",
        "pointwise-3x3",
        "pointwise-wrong-inputs",
    ],
)
def test_depthwise_separable_rejects_mismatched_weights(dw_shape, pw_shape):
    with pytest.raises(ValueError):
        depthwise_separable_conv2d(np.ones((1, 3, 5, 5)), np.ones(dw_shape), np.ones(pw_shape))


@pytest.mark.parametrize(
    "shape, groups", [((2, 6, 3, 4), 2), ((2, 6, 3, 4), 3), ((1, 12, 5), 4), ((2, 6, 2, 2, 2), 6)]
)
def test_channel_shuffle_is_a_permutation_matching_the_loop_reference(shape, groups):
    x = np.random.default_rng(73).standard_normal(shape)
    trace = channel_shuffle(x, groups)
    permutation = trace.params["permutation"]
    np.testing.assert_array_equal(np.sort(permutation), np.arange(shape[1]))
    np.testing.assert_array_equal(trace.stages["permutation"], permutation)
    np.testing.assert_array_equal(trace.output, x[:, permutation])
    np.testing.assert_array_equal(trace.output, channel_shuffle_loop(x, groups))


@pytest.mark.parametrize("channels, groups", [(6, 2), (6, 3), (12, 4), (5, 1), (5, 5)])
def test_channel_shuffle_with_groups_then_with_channels_per_group_restores_the_order(channels, groups):
    x = np.arange(2 * channels * 3).reshape(2, channels, 3)
    shuffled = channel_shuffle(x, groups).output
    np.testing.assert_array_equal(channel_shuffle(shuffled, channels // groups).output, x)
    assert shuffled.dtype == x.dtype


def test_channel_shuffle_of_two_groups_of_three_interleaves_them():
    x = np.arange(6).reshape(1, 6, 1)
    np.testing.assert_array_equal(channel_shuffle(x, 2).output[0, :, 0], [0, 3, 1, 4, 2, 5])


@pytest.mark.parametrize("groups", [0, -2, 4])
def test_channel_shuffle_rejects_groups_that_do_not_divide_the_channels(groups):
    with pytest.raises(ValueError):
        channel_shuffle(np.ones((1, 6, 2, 2)), groups)


def test_channel_shuffle_rejects_input_without_spatial_axes():
    with pytest.raises(ValueError):
        channel_shuffle(np.ones((2, 6)), 2)


def test_connections_for_groups_1_2_and_depthwise():
    np.testing.assert_array_equal(connections(4, 6, 1), np.ones((6, 4), bool))
    two = connections(4, 6, 2)
    expected = np.zeros((6, 4), bool)
    expected[:3, :2] = expected[3:, 2:] = True
    np.testing.assert_array_equal(two, expected)
    np.testing.assert_array_equal(connections(4, 4, 4), np.eye(4, dtype=bool))
    np.testing.assert_array_equal(connections(3, 6, 3), np.repeat(np.eye(3, dtype=bool), 2, axis=0))


@pytest.mark.parametrize("c_in, c_out, groups", [(4, 6, 1), (4, 6, 2), (3, 6, 3)])
def test_connections_say_which_inputs_change_each_output_of_a_grouped_conv(c_in, c_out, groups):
    rng = np.random.default_rng(79)
    x = rng.standard_normal((1, c_in, 4, 4))
    w = rng.standard_normal((c_out, c_in // groups, 3, 3))
    base = conv2d_loop(x, w, groups=groups)
    reaches = np.zeros((c_out, c_in), bool)
    for c in range(c_in):
        nudged = x.copy()
        nudged[:, c] += 1.0
        reaches[:, c] = np.abs(conv2d_loop(nudged, w, groups=groups) - base).max(axis=(0, 2, 3)) > 1e-9
    np.testing.assert_array_equal(connections(c_in, c_out, groups), reaches)


def test_seed_003_channel_shuffle_lets_stacked_group_convs_see_every_input_group():
    first, second = connections(6, 6, 2).astype(int), connections(6, 6, 2).astype(int)
    without = second @ first > 0
    np.testing.assert_array_equal(without, connections(6, 6, 2))  # no cross talk between groups
    shuffle = np.eye(6, dtype=int)[channel_shuffle(np.arange(6).reshape(1, 6, 1), 2).params["permutation"]]
    np.testing.assert_array_equal(second @ shuffle @ first > 0, np.ones((6, 6), bool))


@pytest.mark.parametrize("c_in, c_out, groups", [(4, 6, 3), (6, 4, 3), (4, 4, 0)])
def test_connections_rejects_groups_that_do_not_divide_both_channel_counts(c_in, c_out, groups):
    with pytest.raises(ValueError):
        connections(c_in, c_out, groups)
