"""engine.activation_parts against plain loops."""

from __future__ import annotations

import numpy as np
import pytest

from layerlab.engine.activation_parts import first_step, gradient_flow, saturated, tempered


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


def test_gradient_flow_counts_the_saturated_and_the_zero_positions_as_a_loop_does():
    grad = np.array([[0.0, 0.05, -0.2], [1.0, 0.0, -0.01]])
    flow = gradient_flow(grad, 0.1)
    loop_saturated = sum(abs(g) < 0.1 for g in grad.ravel()) / grad.size
    loop_zero = sum(g == 0 for g in grad.ravel()) / grad.size
    assert (
        flow
        == {"saturated_fraction": loop_saturated, "zero_fraction": loop_zero}
        == {
            "saturated_fraction": 4 / 6,
            "zero_fraction": 2 / 6,
        }
    )
    assert gradient_flow(np.zeros(0), 0.1) == {"saturated_fraction": 0.0, "zero_fraction": 0.0}


def test_tempered_divides_the_logits_by_a_positive_temperature():
    np.testing.assert_array_equal(tempered([2.0, -1.0], 0.5), [4.0, -2.0])
    with pytest.raises(ValueError, match="positive"):
        tempered([1.0], 0.0)
