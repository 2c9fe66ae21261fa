"""Steps on demand: a default call records nothing until its steps are read, and then reads as eager.

For every step-recording family: the lazy steps equal the eager ones, a chunk equals the same rows of
the eager record, `num_steps` is right without building, and a large default call stays small.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

import numpy as np
import pytest

from layerlab.engine.activation_demos import dead_relu_training
from layerlab.engine.attention import additive_attention, multi_head_attention, scaled_dot_product_attention
from layerlab.engine.conv import conv2d
from layerlab.engine.grouped import conv1d
from layerlab.engine.init_demo import init_demo
from layerlab.engine.linear import linear
from layerlab.engine.norm import (
    batch_norm,
    batch_norm_stream,
    group_norm,
    instance_norm,
    layer_norm,
    rms_norm,
)
from layerlab.engine.norm_weights import local_response_norm, weight_norm, weight_standardization
from layerlab.engine.pool import avg_pool2d, max_pool2d, min_pool2d
from layerlab.engine.pool1d import avg_pool1d, lp_pool1d, max_pool1d
from layerlab.engine.pool_fractional import fractional_max_pool2d
from layerlab.engine.pool_regions import (
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    global_avg_pool2d,
    roi_pool2d,
    spatial_pyramid_pool2d,
)
from layerlab.engine.pool_variants import lp_pool2d, mixed_pool2d, stochastic_pool2d
from layerlab.engine.recurrent import gru, init_params, lstm, rnn
from layerlab.engine.trace import Held, Trace, chunk_length, recorded_trace
from layerlab.engine.transposed import conv_transpose1d, conv_transpose2d, conv_transpose2d_as_conv

rng = np.random.default_rng(16)
# one seeded random shape per family, few: (N, C, H, W) with H, W in 5..9
N, C, H, W = 2, 3, int(rng.integers(5, 10)), int(rng.integers(5, 10))
X = rng.standard_normal((N, C, H, W))
X1 = rng.standard_normal((N, C, W + 4))
E = 6
SEQ = rng.standard_normal((2, 5, E))

FAMILIES: dict[str, Callable[..., Trace]] = {
    "conv2d": lambda r: conv2d(X, rng_w((4, C, 3, 2)), rng_w((4,)), 2, 1, record_steps=r),
    "conv2d groups": lambda r: conv2d(X[:, :2], rng_w((4, 1, 3, 3)), None, 1, "same", 1, 2, record_steps=r),
    "conv1d": lambda r: conv1d(X1, rng_w((2, C, 3)), None, 1, 1, 2, record_steps=r),
    "conv_transpose2d": lambda r: conv_transpose2d(X, rng_w((C, 2, 3, 3)), None, 2, 1, 1, record_steps=r),
    "conv_transpose2d_as_conv": lambda r: conv_transpose2d_as_conv(
        X, rng_w((C, 2, 2, 2)), None, 2, record_steps=r
    ),
    "conv_transpose1d": lambda r: conv_transpose1d(X1, rng_w((C, 2, 3)), None, 2, 1, record_steps=r),
    "max_pool2d": lambda r: max_pool2d(X, 3, 2, 1, ceil_mode=True, return_indices=True, record_steps=r),
    "min_pool2d": lambda r: min_pool2d(X[0], 2, 1, dilation=2, record_steps=r),
    "avg_pool2d": lambda r: avg_pool2d(X, 3, 2, 1, count_include_pad=False, record_steps=r),
    "max_pool1d": lambda r: max_pool1d(X1, 3, 2, 1, record_steps=r),
    "avg_pool1d": lambda r: avg_pool1d(X1, 2, record_steps=r),
    "lp_pool1d": lambda r: lp_pool1d(np.abs(X1), 2.0, 3, record_steps=r),
    "lp_pool2d": lambda r: lp_pool2d(np.abs(X), 3.0, 2, ceil_mode=True, record_steps=r),
    "mixed_pool2d": lambda r: mixed_pool2d(X, 2, 1, 1, 0.3, record_steps=r),
    "stochastic_pool2d": lambda r: stochastic_pool2d(X, 2, seed=3, record_steps=r),
    "stochastic_pool2d eval": lambda r: stochastic_pool2d(X, 2, training=False, record_steps=r),
    "scaled_dot_product_attention": lambda r: scaled_dot_product_attention(
        X, X[..., :4, :], X[..., :4, :2], is_causal=False, record_steps=r
    ),
    "multi_head_attention": lambda r: multi_head_attention(
        SEQ, SEQ, SEQ, 2, rng_w((3 * E, E)), None, rng_w((E, E)), None, is_causal=True, record_steps=r
    ),
    "multi_head_attention unbatched": lambda r: multi_head_attention(
        SEQ[0], SEQ[0], SEQ[0], 3, rng_w((3 * E, E)), rng_w((3 * E,)), rng_w((E, E)), None, record_steps=r
    ),
    "additive_attention": lambda r: additive_attention(
        SEQ[0, 0], SEQ[1], rng_w((4, E)), rng_w((4, E)), rng_w((4,)), record_steps=r
    ),
    "linear": lambda r: linear(SEQ, rng_w((3, E)), rng_w((3,)), record_steps=r),
    "adaptive_avg_pool2d": lambda r: adaptive_avg_pool2d(X, (3, 4), record_steps=r),
    "adaptive_max_pool2d indices": lambda r: adaptive_max_pool2d(X[0], (4, None), True, record_steps=r),
    "global_avg_pool2d": lambda r: global_avg_pool2d(X, record_steps=r),
    "spatial_pyramid_pool2d": lambda r: spatial_pyramid_pool2d(X, (1, 2, 3), "avg", record_steps=r),
    "fractional_max_pool2d indices": lambda r: fractional_max_pool2d(
        X, (2, 3), (H - 1, W - 2), return_indices=True, seed=2, record_steps=r
    ),
    "roi_pool2d": lambda r: roi_pool2d(X, np.array([[1, 0, 1, 4, 3], [0, 2, 2, 1, 1]]), 2, record_steps=r),
    # the families whose steps are few and computed with the output (held, sliced when read)
    "batch_norm training": lambda r: batch_norm(X, np.zeros(C), np.ones(C), training=True, record_steps=r),
    "batch_norm eval": lambda r: batch_norm(X, rng_w((C,)), np.ones(C), rng_w((C,)), record_steps=r),
    "instance_norm": lambda r: instance_norm(X, record_steps=r),
    "group_norm": lambda r: group_norm(X, 3, rng_w((C,)), rng_w((C,)), record_steps=r),
    "layer_norm": lambda r: layer_norm(X, (H, W), record_steps=r),
    "rms_norm": lambda r: rms_norm(X, W, record_steps=r),
    "batch_norm_stream": lambda r: batch_norm_stream([X, X[:1] + 1], record_steps=r),
    "weight_norm": lambda r: weight_norm(rng_w((4, C, 3, 3)), rng_w((4,)), record_steps=r),
    "weight_standardization": lambda r: weight_standardization(rng_w((4, C, 3, 3)), record_steps=r),
    "local_response_norm": lambda r: local_response_norm(X, 2, record_steps=r),
    "rnn": lambda r: rnn(SEQ, None, init_params("rnn", E, 3, 2), 2, record_steps=r),
    "lstm bidirectional": lambda r: lstm(
        SEQ[0], None, init_params("lstm", E, 2, bidirectional=True), bidirectional=True, record_steps=r
    ),
    "gru": lambda r: gru(SEQ, None, init_params("gru", E, 2), batch_first=True, record_steps=r),
    "init_demo": lambda r: init_demo(points=12, hidden=2, epochs=4, resolution=5, record_steps=r),
    "dead_relu_training": lambda r: dead_relu_training(neurons=4, steps=4, samples=8, record_steps=r),
}


def rng_w(shape: tuple[int, ...]) -> np.ndarray:
    """Weights seeded by their shape, so the lazy and the eager call of one case see the same ones."""
    return np.random.default_rng(sum(shape) * 7 + len(shape)).standard_normal(shape)


def _same(got: dict[str, np.ndarray], expected: dict[str, np.ndarray]) -> None:
    assert got.keys() == expected.keys()
    for name in expected:
        assert got[name].shape == expected[name].shape, name
        assert got[name].dtype == expected[name].dtype, name
        np.testing.assert_array_equal(got[name], expected[name], err_msg=name)


@pytest.mark.parametrize("family", FAMILIES)
def test_lazy_steps_read_as_the_eager_record(family: str) -> None:
    make = FAMILIES[family]
    eager, lazy = make(True), make("lazy")
    assert lazy.lazy and not eager.lazy
    assert lazy.num_steps == eager.num_steps > 0
    assert lazy.lazy  # counting built nothing
    np.testing.assert_array_equal(lazy.output, eager.output)
    for name, stage in eager.stages.items():
        np.testing.assert_array_equal(lazy.stages[name], stage)
    last = eager.num_steps - 1
    _same(lazy.step(last), eager.step(last))
    _same(lazy.step(1), eager.step(1))
    built = sum(v.size for v in lazy.step(0).values())  # the numbers of a step actually built
    assert lazy.values_per_step == eager.values_per_step == built
    lo, hi = 1, max(2, eager.num_steps // 2)
    expected = {name: column[lo:hi] for name, column in eager.steps.items()}
    _same(lazy.steps_between(lo, hi), expected)
    _same(make(slice(lo, hi)).steps, expected)  # a slice still records that chunk eagerly
    assert lazy.lazy  # a step and a chunk built only themselves
    assert make(False).steps == {} and make(False).num_steps == 0
    _same(lazy.steps, eager.steps)
    assert not lazy.lazy and lazy.steps is lazy.steps  # built once, then kept


def test_default_is_lazy_and_a_bad_record_steps_is_refused() -> None:
    assert conv2d(X, rng_w((2, C, 3, 3))).lazy
    with pytest.raises(ValueError, match="record_steps"):
        conv2d(X, rng_w((2, C, 3, 3)), record_steps=slice(0, 10, 2))
    with pytest.raises(ValueError, match="record_steps"):
        max_pool2d(X, 2, record_steps="all")


def test_resnet_conv1_sized_default_call_allocates_little() -> None:
    """1x3x224x224 with 64x3x7x7, stride 2, padding 3: eager steps would be ~1.8 GB; lazy, the output."""
    x = np.random.default_rng(0).random((1, 3, 224, 224))
    w = np.random.default_rng(1).standard_normal((64, 3, 7, 7))
    tracemalloc.start()
    try:
        trace = conv2d(x, w, stride=2, padding=3)
        chunk = trace.steps_between(0, 1024)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert trace.num_steps == 64 * 112 * 112 and len(chunk["result"]) == 1024
    assert peak < 500 * 2**20
    kept = trace.output.nbytes + sum(stage.nbytes for stage in trace.stages.values())
    assert peak < 3 * kept  # the output, its stages and the working sum: no step record
    np.testing.assert_array_equal(chunk["result"], trace.output.reshape(-1)[:1024])


def test_a_chunk_is_bounded_by_its_steps_and_by_the_numbers_they_carry() -> None:
    trace = FAMILIES["conv2d"]("lazy")  # C x 3 x 2 windows and products, index, origin, rows, cols, 3 sums
    per_step = trace.values_per_step
    assert per_step == 2 * C * 3 * 2 + 4 + 2 + 3 + 2 + 3 and trace.lazy
    assert chunk_length(trace, 1024, 10 * per_step + 1) == 10
    assert chunk_length(trace, 4, 10 * per_step) == 4
    assert chunk_length(trace, 1024, 1) == 1  # one step, however many numbers it carries
    assert chunk_length(FAMILIES["conv2d"](False), 8, 1) == 8  # no record: only the steps bound it


# recorders that declare how many numbers a step carries (values_per_step builds nothing for them)
DECLARING = [
    "max_pool2d",
    "min_pool2d",
    "avg_pool2d",
    "lp_pool2d",
    "mixed_pool2d",
    "stochastic_pool2d",
    "stochastic_pool2d eval",
    "adaptive_avg_pool2d",
    "adaptive_max_pool2d indices",
    "global_avg_pool2d",
    "spatial_pyramid_pool2d",
    "roi_pool2d",
]


@pytest.mark.parametrize("family", DECLARING)
def test_a_declared_step_size_is_that_of_a_built_step(family: str) -> None:
    lazy = FAMILIES[family]("lazy")
    declared = lazy._recorder.values_per_step  # from the shapes the recorder knows
    assert lazy.values_per_step == declared and lazy.lazy
    for i in (0, lazy.num_steps - 1):
        assert declared == sum(v.size for v in lazy.step(i).values()), i


@pytest.mark.parametrize(
    "family",
    [
        "max_pool2d",
        "avg_pool2d",
        "stochastic_pool2d",
        "stochastic_pool2d eval",
        "spatial_pyramid_pool2d",
        "roi_pool2d",
        "adaptive_avg_pool2d",
        "adaptive_max_pool2d indices",
        "fractional_max_pool2d indices",
        "rnn",
    ],
)
def test_an_empty_chunk_has_every_field_with_no_rows(family: str) -> None:
    eager, lazy = FAMILIES[family](True), FAMILIES[family]("lazy")
    empty = lazy.steps_between(2, 2)
    assert empty.keys() == eager.steps.keys()
    for name, column in eager.steps.items():
        assert empty[name].shape == (0, *column.shape[1:]) and empty[name].dtype == column.dtype, name


def test_a_held_record_is_assembled_once_on_first_access() -> None:
    built = []

    def columns() -> dict[str, np.ndarray]:
        built.append(1)
        return {"time": np.arange(5)}

    trace = recorded_trace("demo", {}, np.zeros(1), {}, "lazy", Held(columns), 5)
    assert trace.num_steps == 5 and not built
    np.testing.assert_array_equal(trace.steps_between(1, 3)["time"], [1, 2])
    np.testing.assert_array_equal(trace.step(-1)["time"], 4)
    assert len(built) == 1
