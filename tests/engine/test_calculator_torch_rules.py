"""engine.calculator agrees with torch (and engine.conv / engine.pool) on the four rules it once missed."""

from __future__ import annotations

import numpy as np
import pytest

from layerlab.engine.calculator import Layer, StackError, analyse
from layerlab.engine.conv import conv2d
from layerlab.engine.errors import ArgumentError
from layerlab.engine.pool import max_pool2d


def conv1d(padding: int, mode: str) -> Layer:
    return Layer("Conv1d", {"out_channels": 1, "kernel_size": 1, "padding": padding, "padding_mode": mode})


def test_reflect_padding_as_large_as_the_input_is_rejected_as_torch_does():
    with pytest.raises(StackError, match=r"layer 0 \(Conv1d\): reflect padding 1 must be smaller"):
        analyse((1, 1), [conv1d(1, "reflect")])
    assert analyse((1, 2), [conv1d(1, "reflect")]).output_shape == (1, 4)  # pad 1 < size 2
    with pytest.raises(ArgumentError, match="reflect padding 1 must be smaller"):  # the engine's own rule
        conv2d(np.zeros((1, 1, 1)), np.ones((1, 1, 1, 1)), padding=1, padding_mode="reflect")


def test_circular_padding_beyond_the_input_is_rejected_and_up_to_it_accepted():
    with pytest.raises(StackError, match=r"layer 0 \(Conv1d\): circular padding 3 must not exceed"):
        analyse((1, 2), [conv1d(3, "circular")])
    assert analyse((1, 2), [conv1d(2, "circular")]).output_shape == (1, 6)
    layer = Layer("Conv2d", {"out_channels": 1, "kernel_size": 3, "padding": 3, "padding_mode": "circular"})
    with pytest.raises(StackError, match="circular padding 3 must not exceed the input size"):
        analyse((1, 2, 5), [layer])


def test_maxpool_padding_is_limited_by_half_the_undilated_kernel():
    layer = Layer("MaxPool2d", {"kernel_size": 3, "stride": 1, "padding": 2, "dilation": 2})
    with pytest.raises(StackError, match="pad should be at most half of kernel size") as caught:
        analyse((1, 4, 5), [layer])
    assert caught.value.index == 0
    with pytest.raises(ArgumentError, match="pad should be at most half"):  # max_pool2d says the same
        max_pool2d(np.zeros((1, 4, 5)), 3, 1, 2, 2)
    ok = Layer("MaxPool2d", {"kernel_size": 3, "stride": 1, "padding": 1, "dilation": 2})
    assert analyse((1, 4, 5), [ok]).output_shape == (1, 2, 3)


def test_ceil_mode_keeps_a_window_that_starts_inside_the_input_though_it_runs_past_it():
    layer = Layer("MaxPool2d", {"kernel_size": 2, "stride": 2, "ceil_mode": True})
    assert analyse((1, 1, 2), [layer]).output_shape == (1, 1, 1)
    assert max_pool2d(np.ones((1, 1, 2)), 2, 2, ceil_mode=True).output.shape == (1, 1, 1)
    floor = Layer("MaxPool2d", {"kernel_size": 2, "stride": 2})
    with pytest.raises(StackError, match="larger than the padded input 1x2"):
        analyse((1, 1, 2), [floor])
