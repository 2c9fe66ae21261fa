"""The measures pages print beside a trace, checked against plain loops."""

from __future__ import annotations

import numpy as np

from layerlab.engine.measures import max_abs_difference, strongest


def test_max_abs_difference_is_the_loop_maximum_and_broadcasts_against_a_first_column():
    rng = np.random.default_rng(8)
    a, b = rng.normal(size=(3, 4, 2)), rng.normal(size=(3, 4, 2))
    loop = max(abs(a[i, j, k] - b[i, j, k]) for i in range(3) for j in range(4) for k in range(2))
    assert max_abs_difference(a, b) == loop
    first = max(abs(a[i, j, k] - a[i, 0, k]) for i in range(3) for j in range(4) for k in range(2))
    assert max_abs_difference(a, a[:, :1]) == first
    assert max_abs_difference(np.zeros(0), np.zeros(0)) == 0.0


def test_strongest_is_the_first_index_largest_in_magnitude():
    rng = np.random.default_rng(9)
    g = rng.normal(size=(2, 3, 4))
    g[1, 2, 0] = -10.0
    assert strongest(g) == (1, 2, 0)
    ties = np.array([[1.0, -3.0], [3.0, 0.0]])
    best = max((abs(v), -i) for i, v in enumerate(ties.ravel()))
    assert strongest(ties) == np.unravel_index(-best[1], ties.shape) == (0, 1)
