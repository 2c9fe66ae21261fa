"""fractional_max_pool2d against a plain-loop reference written from torch's FractionalMaxPool2d.cpp."""

from __future__ import annotations

import numpy as np
import pytest

from layerlab.engine.errors import ArgumentError
from layerlab.engine.pool_fractional import fractional_max_pool2d


def intervals(sample: float, size: int, out: int, k: int) -> list[int]:
    """torch's generate_intervals, one start at a time."""
    if out == 1:
        return [size - k]
    alpha = (size - k) / (out - 1)
    return [int((i + sample) * alpha) - int(sample * alpha) for i in range(out - 1)] + [size - k]


def reference(x: np.ndarray, k: tuple[int, int], out: tuple[int, int], samples: np.ndarray):
    """Output and flat winner indices of (N, C, H, W) x, the first largest cell winning."""
    n, c, h, w = x.shape
    y, where = np.zeros((n, c, *out)), np.zeros((n, c, *out), dtype=np.int64)
    for b in range(n):
        for ch in range(c):
            rows = intervals(samples[b, ch, 1], h, out[0], k[0])
            cols = intervals(samples[b, ch, 0], w, out[1], k[1])
            for i, r0 in enumerate(rows):
                for j, c0 in enumerate(cols):
                    best, at = -np.inf, -1
                    for r in range(r0, r0 + k[0]):
                        for col in range(c0, c0 + k[1]):
                            if x[b, ch, r, col] > best:
                                best, at = x[b, ch, r, col], r * w + col
                    y[b, ch, i, j], where[b, ch, i, j] = best, at
    return y, where


@pytest.mark.parametrize(
    ("shape", "k", "out"), [((2, 3, 9, 7), (2, 3), (5, 3)), ((1, 2, 6, 6), (3, 3), (1, 4))]
)
def test_fractional_max_pool2d_matches_loop_reference(shape, k, out):
    rng = np.random.default_rng(len(shape) + k[0])
    x = np.round(rng.normal(size=shape), 1)  # ties: the first largest wins
    samples = rng.random((shape[0], shape[1], 2))
    t = fractional_max_pool2d(x, k, output_size=out, return_indices=True, _random_samples=samples)
    y, where = reference(x, k, out, samples)
    np.testing.assert_allclose(t.output, y)
    np.testing.assert_array_equal(t.stages["indices"], where)
    assert t.num_steps == y.size and np.allclose(t.steps["result"], y.reshape(-1))


def test_seed_draws_the_samples_and_output_ratio_sets_the_size():
    x = np.arange(49.0).reshape(1, 7, 7)
    t = fractional_max_pool2d(x, 2, output_ratio=0.6, seed=0)
    np.testing.assert_allclose(t.stages["samples"], np.random.default_rng(0).random((1, 1, 2))[0])
    assert t.output.shape == (1, 4, 4)
    np.testing.assert_allclose(t.output[0, 0], [8, 9, 11, 13])  # u_w = 0.637: windows at columns 0, 1, 3, 5


def test_a_window_too_large_for_the_output_is_refused_naming_kernel_size():
    with pytest.raises(ArgumentError) as err:
        fractional_max_pool2d(np.zeros((1, 5, 5)), 3, output_size=4)
    assert err.value.argument == "kernel_size"
