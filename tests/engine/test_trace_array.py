"""A Trace behaves as its output: array protocol, arithmetic, ufuncs, and composition of operations."""

from __future__ import annotations

import numpy as np
import pytest

from layerlab.engine.activations import relu
from layerlab.engine.conv import conv2d
from layerlab.engine.pool import max_pool2d
from layerlab.engine.trace import Trace


@pytest.fixture
def trace() -> Trace:
    rng = np.random.default_rng(0)
    return conv2d(rng.standard_normal((1, 2, 6, 5)), rng.standard_normal((3, 2, 3, 3)), padding=1)


def test_array_protocol_reads_the_output(trace: Trace) -> None:
    out = trace.output
    assert np.asarray(trace).shape == out.shape
    assert np.asarray(trace) is out  # no copy unless asked
    assert (trace.shape, trace.dtype, trace.ndim, trace.size, len(trace)) == (
        out.shape,
        out.dtype,
        out.ndim,
        out.size,
        len(out),
    )
    np.testing.assert_array_equal(trace[0, 1], out[0, 1])
    np.testing.assert_array_equal(trace[..., 1:3], out[..., 1:3])
    as32 = np.asarray(trace, dtype=np.float32)
    assert as32.dtype == np.float32 and as32.shape == out.shape
    copied = np.array(trace, copy=True)
    assert copied is not out and np.array_equal(copied, out)
    with pytest.raises(ValueError):
        np.asarray(trace, dtype=np.float32, copy=False)
    assert [row.shape for row in trace] == [row.shape for row in out]


def test_arithmetic_comparisons_and_ufuncs_return_plain_arrays(trace: Trace) -> None:
    out = trace.output
    for result, expected in (
        (trace + 1, out + 1),
        (2 * trace, 2 * out),
        (trace - trace, out - out),
        (out * trace, out * out),
        (-trace, -out),
        (abs(trace), np.abs(out)),
        (trace**2, out**2),
        (trace > 0, out > 0),
        (trace == out, out == out),
        (np.exp(trace), np.exp(out)),
        (np.maximum(trace, 0), np.maximum(out, 0)),
        (np.add.reduce(trace, axis=1), np.add.reduce(out, axis=1)),
        (np.concatenate([trace, trace]), np.concatenate([out, out])),
    ):
        assert type(result) is np.ndarray
        np.testing.assert_array_equal(result, expected)
    assert np.sum(trace) == pytest.approx(out.sum())
    assert isinstance(trace, Trace) and trace.op == "conv2d"  # the trace itself is untouched


def test_operations_compose_max_pool_of_relu_of_conv() -> None:
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((1, 2, 8, 8)), rng.standard_normal((3, 2, 3, 3))
    got = max_pool2d(relu(conv2d(x, w)), 2)
    # plain loops: valid cross-correlation, then max(0, .), then 2x2 max with stride 2
    conv = np.zeros((1, 3, 6, 6))
    for o in range(3):
        for i in range(6):
            for j in range(6):
                conv[0, o, i, j] = sum(
                    x[0, c, i + u, j + v] * w[o, c, u, v]
                    for c in range(2)
                    for u in range(3)
                    for v in range(3)
                )
    expected = np.zeros((1, 3, 3, 3))
    for o in range(3):
        for i in range(3):
            for j in range(3):
                expected[0, o, i, j] = max(
                    max(conv[0, o, 2 * i + a, 2 * j + b], 0.0) for a in (0, 1) for b in (0, 1)
                )
    assert got.op == "max_pool2d" and got.shape == (1, 3, 3, 3)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_repr_is_one_short_line_and_dicts_still_work(trace: Trace) -> None:
    text = repr(trace)
    assert "\n" not in text and len(text) < 300
    assert text == "Trace(conv2d, output float64 (1, 3, 6, 5), 90 steps on demand, stages: padded, weight)"
    assert trace.lazy  # repr builds nothing
    data = trace.to_dict()
    assert data["num_steps"] == 90 and len(data["steps"]["result"]) == 90
    assert "90 steps recorded" in repr(trace)
    picked = trace.select_steps(slice(4, 9))
    assert picked.num_steps == 5
    np.testing.assert_array_equal(picked.steps["index"], trace.steps["index"][4:9])


def test_select_steps_of_a_lazy_trace_builds_only_those(trace: Trace) -> None:
    eager = conv2d(np.asarray(trace.stages["padded"]), trace.stages["weight"], record_steps=True)
    chunk = trace.select_steps(slice(10, 20, 3))
    np.testing.assert_array_equal(chunk.steps["result"], eager.steps["result"][10:20:3])
    picked = trace.select_steps(np.array([7, 2, 30]))
    np.testing.assert_array_equal(picked.steps["window"], eager.steps["window"][[7, 2, 30]])
    assert trace.lazy
