"""conv2d against the plain-loop reference, its trace, its errors and the seeds' examples."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from layerlab.engine.conv import conv2d, filter_inputs, output_size
from layerlab.engine.trace import Trace
from tests.engine.reference import conv2d_loop, pad_loop, torch_pads

STRIDES = [1, 2, (2, 1)]
PADDINGS = [0, 1, (2, 1), "same", "valid"]
DILATIONS = [1, 2, (1, 2)]
GROUPS = [1, 2, "depthwise"]
PADDING_MODES = ["zeros", "reflect", "replicate", "circular"]


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else value


def _random_case(
    rng: np.random.Generator,
    stride: int | tuple[int, int],
    padding: int | tuple[int, int] | str,
    dilation: int | tuple[int, int],
    groups: int | str,
    padding_mode: str,
    with_bias: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, int]:
    """A small random (input, weight, bias, groups) that torch accepts for these settings.

    The input is as small as the padding mode and the kernel footprint allow, so
    windows often reach into the padding on both sides.
    """
    batch = int(rng.integers(1, 4))
    if groups == "depthwise":
        c_in = int(rng.integers(1, 4))
        n_groups, c_out = c_in, c_in * int(rng.integers(1, 3))
    elif groups == 1:
        n_groups, c_in, c_out = 1, int(rng.integers(1, 4)), int(rng.integers(1, 4))
    else:
        n_groups = groups
        c_in, c_out = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
    kernel = (int(rng.integers(1, 6)), int(rng.integers(1, 6)))
    dil = _pair(dilation)
    # torch_pads only resolves "same" for stride 1; the padding is the same for any stride otherwise
    top, bottom, left, right = torch_pads(padding, kernel, (1, 1), dil)
    sizes = []
    for axis, (before, after) in enumerate(((top, bottom), (left, right))):
        span = dil[axis] * (kernel[axis] - 1) + 1
        smallest = max(1, span - before - after)
        if padding_mode == "reflect":
            smallest = max(smallest, max(before, after) + 1)
        elif padding_mode == "circular":
            smallest = max(smallest, max(before, after))
        sizes.append(smallest + int(rng.integers(0, 3)))
    x = rng.standard_normal((batch, c_in, *sizes))
    w = rng.standard_normal((c_out, c_in // n_groups, *kernel))
    b = rng.standard_normal(c_out) if with_bias else None
    return x, w, b, n_groups


COMBINATIONS = [
    pytest.param(
        seed,
        *combo,
        id=f"stride{combo[0]}-pad{combo[1]}-dil{combo[2]}-groups{combo[3]}-{combo[4]}-bias{combo[5]}",
    )
    for seed, combo in enumerate(
        itertools.product(STRIDES, PADDINGS, DILATIONS, GROUPS, PADDING_MODES, [False, True])
    )
]


@pytest.mark.parametrize("seed, stride, padding, dilation, groups, padding_mode, with_bias", COMBINATIONS)
def test_conv2d_matches_loop_reference_for_every_option_combination(
    seed, stride, padding, dilation, groups, padding_mode, with_bias
):
    rng = np.random.default_rng(seed)
    for _ in range(2):
        x, w, b, n_groups = _random_case(rng, stride, padding, dilation, groups, padding_mode, with_bias)
        args = (x, w, b, stride, padding, dilation, n_groups, padding_mode)
        if padding == "same" and _pair(stride) != (1, 1):
            for record_steps in (True, False):
                with pytest.raises(ValueError):
                    conv2d(*args, record_steps=record_steps)
            return
        expected = conv2d_loop(*args)
        for record_steps in (True, False):
            trace = conv2d(*args, record_steps=record_steps)
            assert trace.output.shape == expected.shape
            np.testing.assert_allclose(trace.output, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("padding_mode", PADDING_MODES)
@pytest.mark.parametrize("padding", [1, (2, 1), "same"])
def test_conv2d_padded_stage_matches_loop_padding(padding, padding_mode):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 3, 4, 5))
    w = rng.standard_normal((2, 3, 4, 3))
    trace = conv2d(x, w, padding=padding, padding_mode=padding_mode)
    pads = torch_pads(padding, (4, 3), (1, 1), (1, 1))
    assert trace.params["pads"] == pads
    np.testing.assert_array_equal(trace.stages["padded"], pad_loop(x, pads, padding_mode))


@pytest.mark.parametrize("record_steps", [True, False])
def test_conv2d_unbatched_input_returns_unbatched_output(record_steps):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((3, 6, 5))
    w = rng.standard_normal((4, 3, 3, 2))
    b = rng.standard_normal(4)
    trace = conv2d(x, w, b, stride=(2, 1), padding=1, record_steps=record_steps)
    expected = conv2d_loop(x[None], w, b, stride=(2, 1), padding=1)[0]
    assert trace.output.shape == (4, 3, 6)
    np.testing.assert_allclose(trace.output, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", range(40))
def test_conv2d_output_size_follows_torch_formula(seed):
    rng = np.random.default_rng(100 + seed)
    kernel = rng.integers(1, 6, size=2)
    stride = rng.integers(1, 4, size=2)
    dilation = rng.integers(1, 3, size=2)
    padding = rng.integers(0, 3, size=2)
    span = dilation * (kernel - 1) + 1
    size = np.maximum(span - 2 * padding, 1) + rng.integers(0, 6, size=2)
    x = rng.standard_normal((1, 1, *size))
    w = rng.standard_normal((1, 1, *kernel))
    trace = conv2d(
        x, w, stride=tuple(stride), padding=tuple(padding), dilation=tuple(dilation), record_steps=False
    )
    expected = tuple(
        math.floor((size[a] + 2 * padding[a] - dilation[a] * (kernel[a] - 1) - 1) / stride[a]) + 1
        for a in range(2)
    )
    assert trace.output.shape[2:] == expected
    assert trace.params["output_size"] == expected
    for a in range(2):
        assert (
            output_size(int(size[a]), int(2 * padding[a]), int(kernel[a]), int(stride[a]), int(dilation[a]))
            == expected[a]
        )


def _assert_trace_consistent(
    trace: Trace,
    weight: np.ndarray,
    bias: np.ndarray,
    stride: tuple[int, int],
    dilation: tuple[int, int],
    groups: int,
) -> None:
    """Every step's fields agree with each other, with the padded stage and with the output."""
    out, steps, padded = trace.output, trace.steps, trace.stages["padded"]
    index = steps["index"]
    assert trace.num_steps == out.size
    # C order of the output: (n, c_out, row, col)
    np.testing.assert_array_equal(index, np.indices(out.shape).reshape(4, -1).T)
    channel = index[:, 1]
    np.testing.assert_array_equal(steps["products"], steps["window"] * weight[channel])
    np.testing.assert_allclose(steps["sum"], steps["products"].sum(axis=(1, 2, 3)), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(steps["bias"], bias[channel])
    np.testing.assert_allclose(steps["result"], steps["sum"] + bias[channel], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(steps["result"], out[tuple(index.T)])
    np.testing.assert_array_equal(steps["origin"], index[:, 2:] * np.array(stride))
    np.testing.assert_array_equal(steps["rows"][:, 0], steps["origin"][:, 0])
    np.testing.assert_array_equal(steps["cols"][:, 0], steps["origin"][:, 1])
    np.testing.assert_array_equal(np.diff(steps["rows"], axis=1), dilation[0])
    np.testing.assert_array_equal(np.diff(steps["cols"], axis=1), dilation[1])
    c_group = weight.shape[1]
    out_per_group = weight.shape[0] // groups
    for s in range(trace.num_steps):
        n, o = index[s, :2]
        group = o // out_per_group
        channels = np.arange(group * c_group, (group + 1) * c_group)
        expected = padded[n][np.ix_(channels, steps["rows"][s], steps["cols"][s])]
        np.testing.assert_array_equal(steps["window"][s], expected)


TRACE_COMBINATIONS = [
    pytest.param(seed, *combo, id=f"stride{combo[0]}-dil{combo[1]}-groups{combo[2]}-{combo[3]}")
    for seed, combo in enumerate(itertools.product(STRIDES, DILATIONS, GROUPS, PADDING_MODES))
]


@pytest.mark.parametrize("seed, stride, dilation, groups, padding_mode", TRACE_COMBINATIONS)
def test_conv2d_trace_steps_are_consistent_with_output_and_padded_stage(
    seed, stride, dilation, groups, padding_mode
):
    rng = np.random.default_rng(1000 + seed)
    x, w, b, n_groups = _random_case(rng, stride, (2, 1), dilation, groups, padding_mode, with_bias=True)
    trace = conv2d(x, w, b, stride, (2, 1), dilation, n_groups, padding_mode)
    _assert_trace_consistent(trace, w, b, _pair(stride), _pair(dilation), n_groups)


def test_conv2d_trace_without_bias_records_zero_bias():
    rng = np.random.default_rng(13)
    x = rng.standard_normal((2, 2, 5, 4))
    w = rng.standard_normal((3, 2, 2, 3))
    trace = conv2d(x, w, padding="same", padding_mode="reflect")
    _assert_trace_consistent(trace, w, np.zeros(3), (1, 1), (1, 1), 1)
    assert trace.params["has_bias"] is False


@pytest.mark.parametrize("seed", range(6))
def test_conv2d_records_a_chunk_of_steps_equal_to_that_slice_of_the_full_record(seed):
    rng = np.random.default_rng(2000 + seed)
    x, w, b, groups = _random_case(rng, (2, 1), 1, (1, 2), 2, "replicate", with_bias=True)
    full = conv2d(x, w, b, (2, 1), 1, (1, 2), groups, "replicate")
    total = full.num_steps
    # chunks that start and stop inside (n, c_out) planes and cross several of them
    for start, stop in [(0, 1), (1, total // 3), (total // 4, total - 1), (total - 2, total + 10)]:
        chunk = conv2d(x, w, b, (2, 1), 1, (1, 2), groups, "replicate", record_steps=slice(start, stop))
        np.testing.assert_array_equal(chunk.output, full.output)
        assert chunk.num_steps == max(0, min(stop, total) - start)
        for name, column in full.steps.items():
            np.testing.assert_array_equal(chunk.steps[name], column[start:stop], err_msg=name)


def test_conv2d_rejects_a_strided_step_slice():
    x, w = np.ones((1, 1, 4, 4)), np.ones((1, 1, 2, 2))
    with pytest.raises(ValueError, match="step 1"):
        conv2d(x, w, record_steps=slice(0, None, 2))


def test_conv2d_without_record_steps_keeps_no_steps():
    rng = np.random.default_rng(17)
    trace = conv2d(rng.standard_normal((1, 1, 4, 4)), rng.standard_normal((1, 1, 2, 2)), record_steps=False)
    assert trace.num_steps == 0
    assert trace.steps == {}


def _valid_call() -> dict:
    rng = np.random.default_rng(19)
    return {
        "input": rng.standard_normal((2, 4, 5, 5)),
        "weight": rng.standard_normal((6, 2, 3, 3)),
        "bias": rng.standard_normal(6),
        "groups": 2,
    }


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"padding": "same", "stride": 2}, id="same-with-stride-2"),
        pytest.param({"padding": "same", "stride": (1, 2)}, id="same-with-stride-1-2"),
        pytest.param({"padding": "full"}, id="unknown-padding-string"),
        pytest.param({"padding": -1}, id="negative-padding"),
        pytest.param({"stride": 0}, id="stride-0"),
        pytest.param({"stride": -1}, id="stride-negative"),
        pytest.param({"stride": (1, 0)}, id="stride-pair-with-0"),
        pytest.param({"stride": (1, 2, 3)}, id="stride-of-three"),
        pytest.param({"dilation": 0}, id="dilation-0"),
        pytest.param({"dilation": (1, -1)}, id="dilation-negative"),
        pytest.param({"groups": 3}, id="groups-not-dividing-in-channels"),
        pytest.param({"groups": 0}, id="groups-0"),
        pytest.param({"weight": np.ones((5, 2, 3, 3))}, id="groups-not-dividing-out-channels"),
        pytest.param({"weight": np.ones((6, 3, 3, 3))}, id="wrong-weight-channel-count"),
        pytest.param({"weight": np.ones((6, 2, 3))}, id="weight-with-3-dims"),
        pytest.param({"weight": np.ones((6, 2, 6, 3))}, id="kernel-taller-than-input"),
        pytest.param({"dilation": (1, 3)}, id="dilated-kernel-wider-than-input"),
        pytest.param({"padding": 5, "padding_mode": "reflect"}, id="reflect-padding-equal-to-input-size"),
        pytest.param({"padding": (1, 6), "padding_mode": "reflect"}, id="reflect-padding-larger-than-input"),
        pytest.param({"padding": 6, "padding_mode": "circular"}, id="circular-padding-larger-than-input"),
        pytest.param({"padding_mode": "mirror"}, id="unknown-padding-mode"),
        pytest.param({"bias": np.ones(5)}, id="bias-too-short"),
        pytest.param({"bias": np.ones(7)}, id="bias-too-long"),
        pytest.param({"bias": np.ones((6, 1))}, id="bias-with-2-dims"),
        pytest.param({"input": np.ones((5, 5))}, id="input-with-2-dims"),
        pytest.param({"input": np.ones((1, 2, 4, 5, 5))}, id="input-with-5-dims"),
    ],
)
@pytest.mark.parametrize("record_steps", [True, False])
def test_conv2d_rejects_invalid_arguments_with_value_error(change, record_steps):
    call = _valid_call() | change
    with pytest.raises(ValueError):
        conv2d(**call, record_steps=record_steps)


def test_conv2d_accepts_circular_padding_equal_to_input_size():
    rng = np.random.default_rng(23)
    x = rng.standard_normal((1, 1, 3, 3))
    w = rng.standard_normal((1, 1, 3, 3))
    trace = conv2d(x, w, padding=3, padding_mode="circular")
    np.testing.assert_allclose(
        trace.output, conv2d_loop(x, w, None, 1, 3, 1, 1, "circular"), rtol=1e-12, atol=1e-12
    )


@pytest.mark.parametrize(
    "c_in, c_out, groups",
    [(3, 4, 1), (4, 6, 2), (3, 6, 3)],
    ids=["groups-1", "groups-2", "depthwise"],
)
@pytest.mark.parametrize("batched", [True, False])
def test_filter_inputs_reproduce_one_output_channel(c_in, c_out, groups, batched):
    rng = np.random.default_rng(29)
    x = rng.standard_normal((2, c_in, 6, 5) if batched else (c_in, 6, 5))
    w = rng.standard_normal((c_out, c_in // groups, 3, 2))
    b = rng.standard_normal(c_out)
    full = conv2d(x, w, b, stride=(2, 1), padding=1, groups=groups, padding_mode="replicate").output
    for f in range(c_out):
        for bias in (b, None):
            one = conv2d(
                *filter_inputs(x, w, bias, groups, f), stride=(2, 1), padding=1, padding_mode="replicate"
            )
            expected = full[..., f : f + 1, :, :] - (0 if bias is not None else b[f])
            np.testing.assert_allclose(one.output, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("index", [-1, 4])
def test_filter_inputs_rejects_out_of_range_filter(index):
    with pytest.raises(ValueError):
        filter_inputs(np.ones((1, 2, 3, 3)), np.ones((4, 2, 1, 1)), None, 1, index)


SEED_002_SIGNAL = np.array([0, 0, 1, 2, 4, 4, 4, 3, 1, 0], dtype=float)


def test_seed_002_derivative_kernel_gives_backward_difference():
    x = SEED_002_SIGNAL.reshape(1, 1, 1, 10)
    w = np.array([-1.0, 1.0]).reshape(1, 1, 1, 2)
    out = conv2d(x, w, padding=(0, 1)).output
    assert out.shape == (1, 1, 1, 11)
    np.testing.assert_array_equal(out[0, 0, 0], [0, 0, 1, 1, 2, 0, 0, -1, -2, -1, 0])
    # the seed pads on the left only: x[i] - x[i-1] with a zero before x[0]
    backward = SEED_002_SIGNAL - np.concatenate([[0.0], SEED_002_SIGNAL[:-1]])
    np.testing.assert_array_equal(out[0, 0, 0, :10], backward)
    # torch also pads on the right, which adds one value: -x[-1]
    assert out[0, 0, 0, 10] == -SEED_002_SIGNAL[-1]


def test_seed_002_derivative_kernel_with_same_padding_gives_forward_difference():
    x = SEED_002_SIGNAL.reshape(1, 1, 1, 10)
    w = np.array([-1.0, 1.0]).reshape(1, 1, 1, 2)
    trace = conv2d(x, w, padding="same")
    # an even kernel gets its single pad column on the right
    assert trace.params["pads"] == (0, 0, 0, 1)
    np.testing.assert_array_equal(trace.output[0, 0, 0], [0, 1, 1, 2, 0, 0, -1, -2, -1, 0])
    forward = np.concatenate([SEED_002_SIGNAL[1:], [0.0]]) - SEED_002_SIGNAL
    np.testing.assert_array_equal(trace.output[0, 0, 0], forward)


def test_seed_002_prewitt_kernel_finds_vertical_edge():
    m = np.tile([0.0, 0.0, 1.0, 1.0, 1.0], (5, 1)).reshape(1, 1, 5, 5)
    prewitt_x = np.array([[-1.0, 0.0, 1.0]] * 3).reshape(1, 1, 3, 3)
    out = conv2d(m, prewitt_x, padding=1).output
    expected = np.array(
        [
            [0, 2, 2, 0, -2],
            [0, 3, 3, 0, -3],
            [0, 3, 3, 0, -3],
            [0, 3, 3, 0, -3],
            [0, 2, 2, 0, -2],
        ],
        dtype=float,
    )
    np.testing.assert_array_equal(out[0, 0], expected)


@pytest.mark.parametrize("padding_mode", PADDING_MODES)
def test_seed_004_identity_kernel_returns_input_unchanged(padding_mode):
    rng = np.random.default_rng(31)
    image = rng.standard_normal((2, 1, 6, 7))
    identity = np.zeros((1, 1, 3, 3))
    identity[0, 0, 1, 1] = 1.0
    for record_steps in (True, False):
        out = conv2d(image, identity, padding=1, padding_mode=padding_mode, record_steps=record_steps).output
        np.testing.assert_array_equal(out, image)
