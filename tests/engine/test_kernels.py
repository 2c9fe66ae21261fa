"""Kernel presets: exact weights (seeds 002 and 004), sums, read-only arrays, lookup errors."""

from __future__ import annotations

import re

import numpy as np
import pytest

from layerlab.engine.kernels import PRESETS, KernelPreset, preset

# Written out by hand from the seeds and the brief, not derived from the module.
EXPECTED = {
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "box_blur": [[1 / 9] * 3] * 3,
    "gaussian_blur": [[1 / 16, 2 / 16, 1 / 16], [2 / 16, 4 / 16, 2 / 16], [1 / 16, 2 / 16, 1 / 16]],
    "gaussian_5x5": [
        [1 / 256, 4 / 256, 6 / 256, 4 / 256, 1 / 256],
        [4 / 256, 16 / 256, 24 / 256, 16 / 256, 4 / 256],
        [6 / 256, 24 / 256, 36 / 256, 24 / 256, 6 / 256],
        [4 / 256, 16 / 256, 24 / 256, 16 / 256, 4 / 256],
        [1 / 256, 4 / 256, 6 / 256, 4 / 256, 1 / 256],
    ],
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "edge": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
    "prewitt_x": [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]],
    "prewitt_y": [[-1, -1, -1], [0, 0, 0], [1, 1, 1]],
    "sobel_x": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "sobel_y": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    "emboss": [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
    "derivative": [[-1, 1]],
}
SUM_ONE = ["identity", "box_blur", "gaussian_blur", "gaussian_5x5", "sharpen", "emboss"]
SUM_ZERO = ["edge", "prewitt_x", "prewitt_y", "sobel_x", "sobel_y", "derivative"]


def _correlate_same(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Deep-learning convolution (no flip) of a 2-D image with zero padding, odd square kernel, by loops."""
    half = kernel.shape[0] // 2
    padded = np.pad(image, half)
    out = np.zeros_like(image, dtype=np.float64)
    for row in range(image.shape[0]):
        for col in range(image.shape[1]):
            out[row, col] = np.sum(padded[row : row + kernel.shape[0], col : col + kernel.shape[1]] * kernel)
    return out


def test_presets_are_listed_in_the_documented_order():
    assert list(PRESETS) == list(EXPECTED)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_preset_weights_match_the_seeds_exactly(name):
    weights = preset(name).weights
    assert weights.dtype == np.float64
    assert weights.shape == np.shape(EXPECTED[name])
    np.testing.assert_allclose(weights, EXPECTED[name], rtol=0, atol=1e-15)


@pytest.mark.parametrize("name", SUM_ONE)
def test_brightness_keeping_presets_sum_to_one(name):
    assert preset(name).weights.sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("name", SUM_ZERO)
def test_edge_presets_sum_to_zero_so_flat_areas_give_zero(name):
    assert preset(name).weights.sum() == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_preset_weights_are_read_only(name):
    weights = preset(name).weights
    assert not weights.flags.writeable
    with pytest.raises(ValueError):
        weights[0, 0] = 42.0


@pytest.mark.parametrize("name", list(EXPECTED))
def test_preset_fields_are_filled_and_name_is_url_safe(name):
    item = PRESETS[name]
    assert isinstance(item, KernelPreset)
    assert item.name == name
    assert re.fullmatch(r"[a-z0-9_]+", item.name)
    assert item.label and item.description and item.source


def test_presets_from_seed_004_and_seed_002_cite_them():
    for name in ["identity", "gaussian_blur", "sharpen", "edge"]:
        assert "seed 004" in PRESETS[name].source
    for name in ["prewitt_x", "prewitt_y", "derivative"]:
        assert "seed 002" in PRESETS[name].source


def test_unknown_preset_error_lists_every_valid_name():
    with pytest.raises(KeyError) as info:
        preset("laplace")
    message = str(info.value)
    assert "laplace" in message
    for name in EXPECTED:
        assert name in message


def test_derivative_kernel_on_seed_002_signal_gives_the_changes():
    # Seed 002: pad one zero on the left, kernel [-1, 1] centred on its right element.
    signal = np.array([0, 0, 1, 2, 4, 4, 4, 3, 1, 0], dtype=np.float64)
    padded = np.concatenate([[0.0], signal])
    kernel = preset("derivative").weights[0]
    result = [padded[i : i + 2] @ kernel for i in range(len(signal))]
    assert result == [0, 0, 1, 1, 2, 0, 0, -1, -2, -1]


def test_x_kernels_respond_positively_to_a_dark_to_bright_vertical_edge():
    image = np.tile([0.0, 0.0, 1.0, 1.0, 1.0], (5, 1))  # seed 002's edge in spirit
    for name in ["prewitt_x", "sobel_x"]:
        response = _correlate_same(image, preset(name).weights)
        assert response[2, 1] > 0 and response[2, 2] > 0  # the columns either side of the edge
        assert response[2, 3] == 0  # inside the bright area there is no change
        y_name = name.replace("_x", "_y")
        np.testing.assert_array_equal(_correlate_same(image, preset(y_name).weights)[1:-1], 0)


def test_edge_kernel_gives_zero_on_flat_areas_and_blur_keeps_them():
    flat = np.full((6, 6), 0.5)
    interior = (slice(1, -1), slice(1, -1))  # away from the zero padding
    np.testing.assert_allclose(_correlate_same(flat, preset("edge").weights)[interior], 0, atol=1e-12)
    np.testing.assert_allclose(_correlate_same(flat, preset("gaussian_blur").weights)[interior], 0.5)
    np.testing.assert_allclose(_correlate_same(flat, preset("sharpen").weights)[interior], 0.5)
