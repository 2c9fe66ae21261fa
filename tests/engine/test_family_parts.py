"""engine.family_parts against plain loops and closed forms."""

from __future__ import annotations

import math

import numpy as np

from layerlab.engine.family_parts import (
    channel_groups,
    fit_kernel,
    joint_schedule,
    rank_one_kernel,
    scatter_partials,
)
from layerlab.engine.transposed import conv_transpose2d


def test_scatter_partials_end_at_the_output_and_add_one_stamp_each():
    rng = np.random.default_rng(16)
    x, w = rng.normal(size=(1, 3, 2)), rng.normal(size=(1, 1, 3, 3))
    t = conv_transpose2d(x, w, stride=2, padding=1)
    partial = scatter_partials(t.steps, t.params["output_size"])
    np.testing.assert_allclose(partial[-1], t.output[0], atol=1e-12)
    oh, ow = t.params["output_size"]
    before = np.zeros((oh, ow))
    for s in range(t.num_steps):  # step s adds x[i, j] * w at its origin, where it lands inside the output
        i, j = t.steps["index"][s, 2:]
        stamp = np.zeros((oh, ow))
        for u in range(3):
            for v in range(3):
                r, c = 2 * i - 1 + u, 2 * j - 1 + v
                if 0 <= r < oh and 0 <= c < ow:
                    stamp[r, c] = x[0, i, j] * w[0, 0, u, v]
        np.testing.assert_allclose(partial[s] - before, stamp, atol=1e-12)
        before = partial[s]


def test_joint_schedule_advances_evenly_and_ends_together():
    first, second = joint_schedule(3, 7)
    assert second.tolist() == list(range(7))
    assert first.tolist() == [math.ceil((t + 1) * 3 / 7) - 1 for t in range(7)]
    assert first[-1] == 2 and np.all(np.diff(first) >= 0)


def test_rank_one_kernel_is_the_outer_product():
    ch, vert, hor = np.array([1.0, -2]), np.array([1.0, 2, 3]), np.array([0.5, -1])
    k = rank_one_kernel(ch, vert, hor)
    for c, u, v in np.ndindex(k.shape):
        assert k[c, u, v] == ch[c] * vert[u] * hor[v]


def test_fit_kernel_crops_and_pads_about_the_centre():
    kernel = np.arange(9.0).reshape(3, 3)
    assert fit_kernel(kernel, 1).tolist() == [[4.0]]
    padded = fit_kernel(kernel, 5)
    assert padded[1:4, 1:4].tolist() == kernel.tolist() and padded.sum() == kernel.sum()


def test_channel_groups_are_contiguous():
    assert channel_groups(6, 3).tolist() == [0, 0, 1, 1, 2, 2]


def test_seeded_weight_draws_each_kernel_from_its_output_and_global_input_channel():
    from layerlab.engine.family_parts import seeded_bias, seeded_kernel, seeded_weight

    w = seeded_weight(3, "conv", 4, 6, 2, 3, 0.5)  # 2 groups: outputs 0-1 read inputs 0-2, 2-3 read 3-5
    assert w.shape == (4, 3, 3, 3)
    for o in range(4):
        for j in range(3):
            np.testing.assert_array_equal(w[o, j], seeded_kernel(3, "conv", o, (o // 2) * 3 + j, 3, 3, 0.5))
    # adding a channel leaves the others' kernels as they were; values are rounded to 2 decimals
    np.testing.assert_array_equal(
        seeded_weight(3, "conv", 5, 6, 1, 3, 0.5)[:4, :6], seeded_weight(3, "conv", 4, 6, 1, 3, 0.5)
    )
    assert np.array_equal(np.round(w, 2), w)
    bias = seeded_bias(3, "conv", 4, 0.5)
    assert [bias[o] for o in range(4)] == [
        seeded_kernel(3, "conv-bias", o, 0, 1, 1, 0.5)[0, 0] for o in range(4)
    ]
