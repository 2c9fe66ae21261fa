"""conv_transpose2d/1d against plain-loop references, both of their readings, and seed 003's example."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from layerlab.engine.conv import conv2d
from layerlab.engine.transposed import conv_transpose1d, conv_transpose2d, conv_transpose2d_as_conv
from tests.engine.reference import conv_transpose1d_loop, conv_transpose2d_loop

STRIDES = [1, 2, (2, 1)]
PADDINGS = [0, 1, (1, 2)]
OUTPUT_PADDINGS = [0, 1]
DILATIONS = [1, 2]
GROUPS = [1, 2]


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else value


def _output_padding_allowed(output_padding, stride, dilation) -> bool:
    """torch's rule: output_padding below stride or below dilation, on each axis."""
    return all(
        o < s or o < d for o, s, d in zip(_pair(output_padding), _pair(stride), _pair(dilation), strict=True)
    )


def _random_case(rng, stride, padding, output_padding, dilation, groups, with_bias):
    """A small random (input, weight, bias) whose output is at least 1x1, often only just."""
    batch = int(rng.integers(1, 3))
    c_in, c_og = groups * int(rng.integers(1, 3)), int(rng.integers(1, 3))
    kernel = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    sizes = []
    for s, p, o, d, k in zip(
        _pair(stride), _pair(padding), _pair(output_padding), _pair(dilation), kernel, strict=True
    ):
        # the smallest H with (H-1)*s - 2p + d*(k-1) + o + 1 >= 1
        smallest = max(1, -(-(2 * p - d * (k - 1) - o) // s) + 1)
        sizes.append(smallest + int(rng.integers(0, 3)))
    x = rng.standard_normal((batch, c_in, *sizes))
    w = rng.standard_normal((c_in, c_og, *kernel))
    b = rng.standard_normal(c_og * groups) if with_bias else None
    return x, w, b


COMBINATIONS = [
    pytest.param(seed, *combo, id="stride{}-pad{}-outpad{}-dil{}-groups{}-bias{}".format(*combo))
    for seed, combo in enumerate(
        itertools.product(STRIDES, PADDINGS, OUTPUT_PADDINGS, DILATIONS, GROUPS, [False, True])
    )
]


@pytest.mark.parametrize("seed, stride, padding, output_padding, dilation, groups, with_bias", COMBINATIONS)
def test_conv_transpose2d_matches_loop_reference_for_every_option_combination(
    seed, stride, padding, output_padding, dilation, groups, with_bias
):
    rng = np.random.default_rng(seed)
    allowed = _output_padding_allowed(output_padding, stride, dilation)
    for _ in range(2):
        x, w, b = _random_case(
            rng, stride, padding, output_padding if allowed else 0, dilation, groups, with_bias
        )
        args = (x, w, b, stride, padding, output_padding, groups, dilation)
        if not allowed:
            with pytest.raises(ValueError, match="output_padding"):
                conv_transpose2d(*args)
            with pytest.raises(ValueError, match="output_padding"):
                conv_transpose2d_as_conv(*args)
            return
        expected = conv_transpose2d_loop(*args)
        trace = conv_transpose2d(*args)
        assert trace.output.shape == expected.shape
        np.testing.assert_allclose(trace.output, expected, rtol=1e-12, atol=1e-12)


VALID_COMBINATIONS = [
    case for case in COMBINATIONS if _output_padding_allowed(case.values[3], case.values[1], case.values[4])
]


@pytest.mark.parametrize(
    "seed, stride, padding, output_padding, dilation, groups, with_bias", VALID_COMBINATIONS
)
def test_conv_transpose2d_gather_reading_reproduces_the_output(
    seed, stride, padding, output_padding, dilation, groups, with_bias
):
    rng = np.random.default_rng(500 + seed)
    x, w, b = _random_case(rng, stride, padding, output_padding, dilation, groups, with_bias)
    args = (x, w, b, stride, padding, output_padding, groups, dilation)
    trace = conv_transpose2d(*args)
    stages = trace.stages
    (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
    kh, kw = w.shape[2:]
    # zero_inserted: the input values s apart, zeros in between
    zero_inserted = stages["zero_inserted"]
    assert zero_inserted.shape == (*x.shape[:2], (x.shape[2] - 1) * sh + 1, (x.shape[3] - 1) * sw + 1)
    np.testing.assert_array_equal(zero_inserted[..., ::sh, ::sw], x)
    assert np.count_nonzero(zero_inserted) == np.count_nonzero(x)
    # padded: d*(k-1) - p before, that plus output_padding after (negative amounts crop)
    top, bottom, left, right = trace.params["gather_pads"]
    (ph, pw), (oph, opw) = _pair(padding), _pair(output_padding)
    assert (top, bottom, left, right) == (
        dh * (kh - 1) - ph,
        dh * (kh - 1) - ph + oph,
        dw * (kw - 1) - pw,
        dw * (kw - 1) - pw + opw,
    )
    big = np.zeros((*x.shape[:2], zero_inserted.shape[2] + 20, zero_inserted.shape[3] + 20))
    big[..., 10 : 10 + zero_inserted.shape[2], 10 : 10 + zero_inserted.shape[3]] = zero_inserted
    expected_padded = big[..., 10 - top : big.shape[2] - 10 + bottom, 10 - left : big.shape[3] - 10 + right]
    np.testing.assert_array_equal(stages["padded"], expected_padded)
    # flipped_weight: transposed within each group, flipped in both spatial axes
    flipped = stages["flipped_weight"]
    c_in, c_og = w.shape[:2]
    c_ig = c_in // groups
    assert flipped.shape == (c_og * groups, c_ig, kh, kw)
    for g, o, c, u, v in itertools.product(range(groups), range(c_og), range(c_ig), range(kh), range(kw)):
        assert flipped[g * c_og + o, c, u, v] == w[g * c_ig + c, o, kh - 1 - u, kw - 1 - v]
    np.testing.assert_array_equal(stages["weight"], w)
    gathered = conv2d(stages["padded"], flipped, b, stride=1, padding=0, dilation=dilation, groups=groups)
    np.testing.assert_allclose(gathered.output, trace.output, rtol=1e-12, atol=1e-12)
    as_conv = conv_transpose2d_as_conv(*args)
    np.testing.assert_allclose(as_conv.output, trace.output, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(as_conv.stages["padded"], stages["padded"])


@pytest.mark.parametrize(
    "seed, stride, padding, output_padding, dilation, groups, with_bias", VALID_COMBINATIONS
)
def test_conv_transpose2d_scatter_steps_rebuild_the_output(
    seed, stride, padding, output_padding, dilation, groups, with_bias
):
    rng = np.random.default_rng(1000 + seed)
    x, w, b = _random_case(rng, stride, padding, output_padding, dilation, groups, with_bias=True)
    trace = conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation)
    steps, out = trace.steps, trace.output
    c_in, c_og, kh, kw = w.shape
    oh, ow = out.shape[2:]
    assert trace.num_steps == x.size
    index = steps["index"]
    np.testing.assert_array_equal(index, np.indices(x.shape).reshape(4, -1).T)
    np.testing.assert_array_equal(steps["value"], x[tuple(index.T)])
    np.testing.assert_array_equal(steps["stamp"], steps["value"][:, None, None, None] * w[index[:, 1]])
    np.testing.assert_array_equal(steps["origin"], index[:, 2:] * _pair(stride) - np.array(_pair(padding)))
    (dh, dw) = _pair(dilation)
    np.testing.assert_array_equal(steps["rows"], steps["origin"][:, :1] + dh * np.arange(kh))
    np.testing.assert_array_equal(steps["cols"], steps["origin"][:, 1:] + dw * np.arange(kw))
    row_in = (steps["rows"] >= 0) & (steps["rows"] < oh)
    col_in = (steps["cols"] >= 0) & (steps["cols"] < ow)
    np.testing.assert_array_equal(steps["inside"], row_in[:, :, None] & col_in[:, None, :])
    # scatter every in-bounds tap of every stamp onto its group's output channels
    shape = (trace.num_steps, c_og, kh, kw)
    n_at = np.broadcast_to(index[:, 0, None, None, None], shape)
    channel = index[:, 1] // (c_in // groups) * c_og
    o_at = np.broadcast_to(channel[:, None, None, None] + np.arange(c_og)[None, :, None, None], shape)
    rows_at = np.broadcast_to(steps["rows"][:, None, :, None], shape)
    cols_at = np.broadcast_to(steps["cols"][:, None, None, :], shape)
    keep = np.broadcast_to(steps["inside"][:, None], shape)
    rebuilt = np.zeros_like(out)
    np.add.at(rebuilt, (n_at[keep], o_at[keep], rows_at[keep], cols_at[keep]), steps["stamp"][keep])
    np.testing.assert_allclose(rebuilt, out - b[None, :, None, None], rtol=1e-12, atol=1e-12)


ADJOINT_CASES = list(itertools.product([1, 2, (2, 3)], [0, 1, (2, 1)], [1, 2, (1, 2)], [1, 2]))


@pytest.mark.parametrize(
    "seed, stride, padding, dilation, groups",
    [
        pytest.param(seed, *case, id="stride{}-pad{}-dil{}-groups{}".format(*case))
        for seed, case in enumerate(ADJOINT_CASES)
    ],
)
def test_conv_transpose2d_is_the_adjoint_of_conv2d(seed, stride, padding, dilation, groups):
    rng = np.random.default_rng(2000 + seed)
    c_in, c_out = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
    kernel = rng.integers(1, 4, size=2)
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    span = np.array([dh, dw]) * (kernel - 1) + 1
    size = np.maximum(span - 2 * np.array([ph, pw]), 1) + rng.integers(0, 5, size=2)
    x = rng.standard_normal((2, c_in, *size))
    w = rng.standard_normal((c_out, c_in // groups, *kernel))
    forward = conv2d(
        x, w, stride=stride, padding=padding, dilation=dilation, groups=groups, record_steps=False
    )
    y = rng.standard_normal(forward.output.shape)
    output_padding = tuple(
        int((size[a] + 2 * p - d * (kernel[a] - 1) - 1) % s)
        for a, (s, p, d) in enumerate([(sh, ph, dh), (sw, pw, dw)])
    )
    back = conv_transpose2d(y, w, None, stride, padding, output_padding, groups, dilation)
    assert back.output.shape == x.shape
    np.testing.assert_allclose(np.vdot(forward.output, y), np.vdot(x, back.output), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", range(30))
def test_conv_transpose2d_output_size_follows_torch_formula(seed):
    rng = np.random.default_rng(3000 + seed)
    kernel, stride, dilation = (
        rng.integers(1, 5, size=2),
        rng.integers(1, 4, size=2),
        rng.integers(1, 3, size=2),
    )
    padding = rng.integers(0, 3, size=2)
    output_padding = rng.integers(0, np.maximum(stride, dilation))
    size = rng.integers(1, 6, size=2)
    expected = tuple(
        int(v) for v in (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1
    )
    x, w = rng.standard_normal((1, 1, *size)), rng.standard_normal((1, 3, *kernel))
    args = (x, w, None, tuple(stride), tuple(padding), tuple(output_padding), 1, tuple(dilation))
    if min(expected) < 1:
        with pytest.raises(ValueError, match="too small"):
            conv_transpose2d(*args)
        return
    trace = conv_transpose2d(*args)
    assert trace.output.shape == (1, 3, *expected)
    assert trace.params["output_size"] == expected
    assert trace.params["input_size"] == tuple(int(v) for v in size)
    assert trace.params["kernel_size"] == tuple(int(v) for v in kernel)


def test_conv_transpose2d_unbatched_input_returns_unbatched_output_and_stages():
    rng = np.random.default_rng(41)
    x = rng.standard_normal((4, 3, 2))
    w = rng.standard_normal((4, 3, 2, 3))
    b = rng.standard_normal(6)
    args = (b, (2, 1), 1, (1, 0), 2, (1, 2))
    trace = conv_transpose2d(x, w, *args)
    batched = conv_transpose2d(x[None], w, *args)
    np.testing.assert_array_equal(trace.output, batched.output[0])
    for name in ("zero_inserted", "padded"):
        np.testing.assert_array_equal(trace.stages[name], batched.stages[name][0])
    for name, column in batched.steps.items():
        np.testing.assert_array_equal(trace.steps[name], column, err_msg=name)
    gathered = conv2d(trace.stages["padded"], trace.stages["flipped_weight"], b, dilation=(1, 2), groups=2)
    np.testing.assert_allclose(gathered.output, trace.output, rtol=1e-12, atol=1e-12)
    as_conv = conv_transpose2d_as_conv(x, w, *args)
    np.testing.assert_allclose(as_conv.output, trace.output, rtol=1e-12, atol=1e-12)
    assert as_conv.stages["zero_inserted"].shape == trace.stages["zero_inserted"].shape


def test_conv_transpose2d_as_conv_is_a_stride_1_conv2d_trace_of_the_transposed_call():
    rng = np.random.default_rng(43)
    x = rng.standard_normal((2, 2, 3, 3))
    w = rng.standard_normal((2, 3, 3, 2))
    b = rng.standard_normal(3)
    transposed = conv_transpose2d(x, w, b, stride=2, padding=(1, 0), output_padding=1)
    trace = conv_transpose2d_as_conv(x, w, b, stride=2, padding=(1, 0), output_padding=1)
    assert trace.op == "conv2d"
    assert trace.params["stride"] == (1, 1)
    assert trace.params["pads"] == (0, 0, 0, 0)
    assert trace.params["transposed_from"] == transposed.params
    assert trace.num_steps == trace.output.size
    np.testing.assert_array_equal(trace.steps["result"], trace.output.reshape(-1))
    np.testing.assert_array_equal(trace.stages["weight"], transposed.stages["flipped_weight"])
    np.testing.assert_array_equal(trace.stages["zero_inserted"], transposed.stages["zero_inserted"])
    chunk = conv_transpose2d_as_conv(
        x, w, b, stride=2, padding=(1, 0), output_padding=1, record_steps=slice(3, 9)
    )
    np.testing.assert_array_equal(chunk.steps["result"], trace.steps["result"][3:9])
    quiet = conv_transpose2d_as_conv(x, w, b, stride=2, padding=(1, 0), output_padding=1, record_steps=False)
    assert quiet.steps == {}
    np.testing.assert_allclose(quiet.output, transposed.output, rtol=1e-12, atol=1e-12)


def _valid_call() -> dict:
    rng = np.random.default_rng(47)
    return {
        "input": rng.standard_normal((2, 4, 3, 3)),
        "weight": rng.standard_normal((4, 3, 3, 3)),
        "bias": rng.standard_normal(6),
        "stride": 2,
        "groups": 2,
    }


@pytest.mark.parametrize(
    "change, message",
    [
        pytest.param({"output_padding": 2}, "output_padding", id="output-padding-equal-to-stride"),
        pytest.param(
            {"output_padding": (0, 1), "stride": (2, 1)}, "output_padding", id="output-padding-width"
        ),
        pytest.param({"output_padding": 1, "stride": 1}, "output_padding", id="output-padding-stride-1"),
        pytest.param({"output_padding": 2, "dilation": 2}, "output_padding", id="output-padding-both-limits"),
        pytest.param({"output_padding": -1}, "output_padding", id="output-padding-negative"),
        pytest.param({"stride": 0}, "stride", id="stride-0"),
        pytest.param({"stride": (1, 2, 3)}, "stride", id="stride-of-three"),
        pytest.param({"dilation": (1, 0)}, "dilation", id="dilation-0"),
        pytest.param({"padding": -1}, "padding", id="negative-padding"),
        pytest.param({"padding": 4, "stride": 1}, "too small", id="output-size-0"),
        pytest.param({"groups": 3}, "groups", id="groups-not-dividing-in-channels"),
        pytest.param({"groups": 0}, "groups", id="groups-0"),
        pytest.param({"weight": np.ones((3, 3, 3, 3))}, "input channels", id="weight-channels-mismatch"),
        pytest.param({"weight": np.ones((4, 3, 3))}, "weight", id="weight-with-3-dims"),
        pytest.param({"bias": np.ones(3)}, "bias", id="bias-too-short"),
        pytest.param({"input": np.ones((4, 3))}, "input", id="input-with-2-dims"),
    ],
)
def test_conv_transpose2d_rejects_invalid_arguments_with_value_error(change, message):
    call = _valid_call() | change
    for function in (conv_transpose2d, conv_transpose2d_as_conv):
        with pytest.raises(ValueError, match=message):
            function(**call)


def test_conv_transpose2d_output_padding_error_names_the_limit():
    with pytest.raises(ValueError, match=r"output_padding \(2, 2\).*stride \(2, 2\).*dilation \(1, 1\)"):
        conv_transpose2d(np.ones((1, 1, 2, 2)), np.ones((1, 1, 3, 3)), stride=2, output_padding=2)


def test_conv_transpose2d_accepts_output_padding_below_dilation_with_stride_1():
    x, w = np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2))
    trace = conv_transpose2d(x, w, stride=1, dilation=2, output_padding=1)
    np.testing.assert_array_equal(trace.output, conv_transpose2d_loop(x, w, None, 1, 0, 1, 1, 2))
    assert trace.output.shape == (1, 1, 5, 5)


CASES_1D = list(itertools.product([1, 2, 3], [0, 1], [0, 1], [1, 2], [1, 2]))


@pytest.mark.parametrize(
    "seed, stride, padding, output_padding, dilation, groups",
    [
        pytest.param(seed, *case, id="stride{}-pad{}-outpad{}-dil{}-groups{}".format(*case))
        for seed, case in enumerate(CASES_1D)
        if case[2] < max(case[0], case[3])
    ],
)
def test_conv_transpose1d_matches_loop_reference_and_height_1_conv_transpose2d(
    seed, stride, padding, output_padding, dilation, groups
):
    rng = np.random.default_rng(4000 + seed)
    x, w, b = _random_case(rng, (1, stride), (0, padding), (0, output_padding), (1, dilation), groups, True)
    x, w = x[:, :, 0], w[:, :, 0]  # (N, C_in, L), (C_in, C_out/groups, k)
    args = (b, stride, padding, output_padding, groups, dilation)
    trace = conv_transpose1d(x, w, *args)
    assert trace.op == "conv_transpose1d"
    np.testing.assert_allclose(trace.output, conv_transpose1d_loop(x, w, *args), rtol=1e-12, atol=1e-12)
    flat = conv_transpose2d(
        x[:, :, None], w[:, :, None], b, (1, stride), (0, padding), (0, output_padding), groups, (1, dilation)
    )
    np.testing.assert_array_equal(trace.output, flat.output[:, :, 0])
    for name, stage in flat.stages.items():
        np.testing.assert_array_equal(trace.stages[name], stage[..., 0, :], err_msg=name)
    steps = trace.steps
    assert set(steps) == {"index", "value", "origin", "cols", "stamp", "inside"}
    np.testing.assert_array_equal(steps["index"], np.indices(x.shape).reshape(3, -1).T)
    np.testing.assert_array_equal(steps["origin"], steps["index"][:, 2] * stride - padding)
    np.testing.assert_array_equal(steps["cols"], flat.steps["cols"])
    np.testing.assert_array_equal(steps["stamp"], steps["value"][:, None, None] * w[steps["index"][:, 1]])
    np.testing.assert_array_equal(steps["inside"], flat.steps["inside"][:, 0])
    assert trace.params["stride"] == (stride,)
    assert trace.params["output_size"] == trace.output.shape[2:]
    assert trace.params["gather_pads"] == flat.params["gather_pads"][2:]


def test_conv_transpose1d_unbatched_input_and_errors():
    rng = np.random.default_rng(53)
    x, w = rng.standard_normal((2, 5)), rng.standard_normal((2, 3, 3))
    trace = conv_transpose1d(x, w, stride=2, padding=1, output_padding=1)
    np.testing.assert_allclose(trace.output, conv_transpose1d_loop(x[None], w, None, 2, 1, 1)[0], rtol=1e-12)
    assert trace.output.shape == (3, 10)
    for bad in [{"stride": (1, 2)}, {"output_padding": 2, "stride": 2}, {"weight": np.ones((2, 3, 1, 3))}]:
        with pytest.raises(ValueError):
            conv_transpose1d(**({"input": x, "weight": w} | bad))
    with pytest.raises(ValueError):
        conv_transpose1d(np.ones(5), w)


def test_worked_example_stride_2_stamps_scaled_kernels_that_overlap_and_add():
    x = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 1, 2, 2)
    w = np.ones((1, 1, 3, 3))
    trace = conv_transpose2d(x, w, stride=2)
    # (2-1)*2 + 3 = 5; each value stamps a 3x3 block of itself at (2i, 2j); overlaps add up
    expected = np.array(
        [
            [1, 1, 3, 2, 2],
            [1, 1, 3, 2, 2],
            [4, 4, 10, 6, 6],
            [3, 3, 7, 4, 4],
            [3, 3, 7, 4, 4],
        ],
        dtype=float,
    )
    np.testing.assert_array_equal(trace.output[0, 0], expected)
    np.testing.assert_array_equal(trace.steps["origin"], [[0, 0], [0, 2], [2, 0], [2, 2]])
    np.testing.assert_array_equal(trace.steps["stamp"][3, 0], np.full((3, 3), 4.0))
    zero_inserted = np.array([[1, 0, 2], [0, 0, 0], [3, 0, 4]], dtype=float)
    np.testing.assert_array_equal(trace.stages["zero_inserted"][0, 0], zero_inserted)
    np.testing.assert_array_equal(trace.stages["padded"][0, 0], np.pad(zero_inserted, 2))
    # padding 1 crops one row/column from every side instead of padding the input
    cropped = conv_transpose2d(x, w, stride=2, padding=1)
    np.testing.assert_array_equal(cropped.output[0, 0], [[1, 3, 2], [4, 10, 6], [3, 7, 4]])
    np.testing.assert_array_equal(cropped.steps["origin"], [[-1, -1], [-1, 1], [1, -1], [1, 1]])
    np.testing.assert_array_equal(cropped.steps["inside"][0], [[0, 0, 0], [0, 1, 1], [0, 1, 1]])
    np.testing.assert_array_equal(cropped.stages["padded"][0, 0], np.pad(zero_inserted, 1))


def test_worked_example_1d_gather_reading_uses_the_flipped_kernel():
    x = np.array([1.0, 2.0]).reshape(1, 1, 2)
    w = np.array([1.0, 2.0, 3.0]).reshape(1, 1, 3)
    trace = conv_transpose1d(x, w, stride=2)
    # scatter: [1, 2, 3] at 0 plus [2, 4, 6] at 2
    np.testing.assert_array_equal(trace.output[0, 0], [1, 2, 5, 4, 6])
    # gather: [3, 2, 1] slid over 0 0 | 1 0 2 | 0 0
    np.testing.assert_array_equal(trace.stages["padded"][0, 0], [0, 0, 1, 0, 2, 0, 0])
    np.testing.assert_array_equal(trace.stages["flipped_weight"][0, 0], [3, 2, 1])
