"""engine.sequences against closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest

from layerlab.engine.errors import ArgumentError
from layerlab.engine.sequences import signal


def test_sine_is_the_closed_form_at_each_step():
    x = signal("sine", 12, period=6.0)
    np.testing.assert_allclose(x, [math.sin(2 * math.pi * t / 6.0) for t in range(12)], atol=1e-15)


def test_step_switches_on_at_half_the_length():
    assert signal("step", 5).tolist() == [0.0, 0.0, 1.0, 1.0, 1.0]


def test_unknown_source_names_the_argument():
    with pytest.raises(ArgumentError) as caught:
        signal("noise", 4)
    assert caught.value.argument == "source"
