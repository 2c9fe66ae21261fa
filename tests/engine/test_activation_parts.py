"""engine.activation_parts against plain loops."""

from __future__ import annotations

import numpy as np

from layerlab.engine.activation_parts import first_step, saturated


def test_first_step_matches_a_loop_and_gives_minus_one_when_never():
    rng = np.random.default_rng(16)
    flags = rng.random((6, 5)) < 0.2
    flags[:, 0] = False
    expected = [next((s for s in range(6) if flags[s, u]), -1) for u in range(5)]
    assert first_step(flags).tolist() == expected
    assert expected[0] == -1


def test_saturated_is_a_strict_threshold_on_the_gradient_size():
    grad = np.array([-0.5, -0.01, 0.0, 0.01, 0.2])
    assert saturated(grad, 0.01).tolist() == [False, False, True, False, False]
