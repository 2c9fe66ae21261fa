"""Engine geometry errors are ArgumentErrors naming the torch argument at fault (and still ValueErrors)."""

from __future__ import annotations

import numpy as np
import pytest

from layerlab.engine.conv import conv2d
from layerlab.engine.errors import ArgumentError
from layerlab.engine.grouped import conv1d
from layerlab.engine.pool import avg_pool2d, max_pool2d
from layerlab.engine.transposed import conv_transpose2d
from layerlab.engine.variants import flattened_conv2d, tiled_conv2d

X = np.ones((2, 4, 4))
W = np.ones((2, 2, 3, 3))

CASES = {
    "kernel_over_padded_input": (lambda: conv2d(X, np.ones((1, 2, 5, 5))), "weight", "covers 5"),
    "dilated_kernel": (lambda: conv2d(X, W, dilation=2), "weight", "dilation 2 covers 5"),
    "stride_0": (lambda: conv2d(X, W, stride=0), "stride", "positive"),
    "dilation_0": (lambda: conv2d(X, W, dilation=0), "dilation", "positive"),
    "negative_padding": (lambda: conv2d(X, W, padding=-1), "padding", "non-negative"),
    "same_with_stride": (lambda: conv2d(X, W, stride=2, padding="same"), "padding", "strided"),
    "reflect_too_wide": (
        lambda: conv2d(X, W, padding=4, padding_mode="reflect"),
        "padding",
        "reflect padding 4",
    ),
    "groups_not_dividing": (lambda: conv2d(X, np.ones((3, 1, 3, 3)), groups=2), "groups", "divide"),
    "weight_channels": (lambda: conv2d(X, np.ones((2, 3, 3, 3))), "weight", "input channels"),
    "bias_shape": (lambda: conv2d(X, W, np.ones(3)), "bias", "(2,)"),
    "conv1d_kernel": (lambda: conv1d(np.ones((1, 3)), np.ones((1, 1, 4))), "weight", "covers 4"),
    "transposed_output_padding": (
        lambda: conv_transpose2d(X, W, stride=1, output_padding=1),
        "output_padding",
        "smaller",
    ),
    "pool_window": (lambda: max_pool2d(X, 3, dilation=2), "kernel_size", "larger than the padded input"),
    "pool_padding": (lambda: max_pool2d(X, 2, padding=2), "padding", "at most half"),
    "pool_divisor": (lambda: avg_pool2d(X, 2, divisor_override=0), "divisor_override", "non-zero"),
    "tiled_kernel": (lambda: tiled_conv2d(X, np.ones((1, 1, 1, 2, 5, 5)), tile=1), "weight", "larger"),
    # (1 - 1) * 1 + 3 - 1 + 1 = 3 rows before cropping: padding 2 leaves none, at most 1 leaves one
    "transposed_crops_all": (lambda: conv_transpose2d(X[:, :1, :1], W, padding=2), "padding", "at most 1"),
    "flattened_vertical": (
        lambda: flattened_conv2d(X, np.ones((1, 2)), np.ones((1, 5)), np.ones((1, 3))),
        "vertical_weight",
        "covers 5",
    ),
    "flattened_horizontal": (
        lambda: flattened_conv2d(X, np.ones((1, 2)), np.ones((1, 3)), np.ones((1, 7)), padding=1),
        "horizontal_weight",
        "width 6",
    ),
}


@pytest.mark.parametrize(("call", "argument", "words"), CASES.values(), ids=CASES.keys())
def test_geometry_error_names_the_torch_argument(call, argument, words):
    with pytest.raises(ArgumentError) as caught:
        call()
    assert caught.value.argument == argument
    assert words in str(caught.value)
    assert isinstance(caught.value, ValueError)
