"""Built-in samples: shapes, ranges, the seeds' exact numbers, and the colour conversion."""

from __future__ import annotations

import numpy as np
import pytest

from layerlab.engine.images import SAMPLES, sample_image, to_color

SEED_000_CIRCLE = [
    [0, 1, 1, 1, 0],
    [1, 0, 0, 0, 1],
    [1, 0, 0, 0, 1],
    [1, 0, 0, 0, 1],
    [0, 1, 1, 1, 0],
]
SEED_002_SIGNAL = [0, 0, 1, 2, 4, 4, 4, 3, 1, 0]
PICTURES = [name for name in SAMPLES if not name.startswith("seed002_")]


@pytest.mark.parametrize("size", [5, 32, 256])
@pytest.mark.parametrize("color", ["gray", "rgb"])
@pytest.mark.parametrize("name", PICTURES)
def test_picture_samples_have_documented_shape_dtype_and_range(name, color, size):
    image = sample_image(name, size, color)
    assert image.shape == ({"gray": 1, "rgb": 3}[color], size, size)
    assert image.dtype == np.float64
    assert image.min() >= 0.0 and image.max() <= 1.0
    assert image.max() > image.min()  # a picture, not a blank


@pytest.mark.parametrize("name", list(SAMPLES))
@pytest.mark.parametrize("color", ["gray", "rgb"])
def test_samples_are_deterministic(name, color):
    np.testing.assert_array_equal(sample_image(name, 48, color), sample_image(name, 48, color))


def test_circle_at_size_5_is_seed_000_circle_exactly():
    np.testing.assert_array_equal(sample_image("circle", 5), np.array([SEED_000_CIRCLE], dtype=np.float64))
    np.testing.assert_array_equal(sample_image("circle", 5, "rgb"), np.repeat([SEED_000_CIRCLE], 3, axis=0))


def test_circle_at_larger_sizes_is_a_symmetric_ring_with_a_dark_centre():
    ring = sample_image("circle", 64)[0]
    np.testing.assert_allclose(ring, ring.T)
    np.testing.assert_allclose(ring, ring[::-1])
    assert ring[32, 32] == 0 and ring.max() == 1.0
    assert 0 < ring[(ring > 0) & (ring < 1)].size  # anti-aliased, not binary


def test_seed_002_signal_and_matrix_are_exact_and_ignore_size():
    np.testing.assert_array_equal(sample_image("seed002_signal", 100), [[SEED_002_SIGNAL]])
    np.testing.assert_array_equal(sample_image("seed002_signal", 7, "rgb"), [[SEED_002_SIGNAL]] * 3)
    matrix = [[0, 0, 1, 1, 1]] * 5
    np.testing.assert_array_equal(sample_image("seed002_matrix", 300), [matrix])
    assert sample_image("seed002_matrix", color="rgb").shape == (3, 5, 5)
    assert "picture" in SAMPLES["seed002_matrix"]


def test_checkerboard_squares_have_side_size_over_8():
    board = sample_image("checkerboard", 32)[0]
    np.testing.assert_array_equal(board[:4, :4], 0)
    np.testing.assert_array_equal(board[:4, 4:8], 1)
    np.testing.assert_array_equal(board[4:8, :4], 1)
    np.testing.assert_array_equal(sample_image("checkerboard", 5)[0, 0, :3], [0, 1, 0])


def test_gradient_runs_diagonally_from_0_to_1_and_rgb_channels_differ():
    ramp = sample_image("gradient", 16)[0]
    assert ramp[0, 0] == 0 and ramp[-1, -1] == 1
    assert np.all(np.diff(ramp, axis=0) > 0) and np.all(np.diff(ramp, axis=1) > 0)
    red, green, blue = sample_image("gradient", 16, "rgb")
    assert not np.allclose(red, green) and not np.allclose(green, blue) and not np.allclose(red, blue)


def test_digit_is_bright_ink_centred_on_black():
    digit = sample_image("digit", 28)[0]
    assert digit[[0, 0, -1, -1], [0, -1, 0, -1]].max() < 0.05
    assert digit.max() > 0.9
    rows, cols = np.nonzero(digit > 0.5)
    assert abs(rows.mean() - 13.5) < 3 and abs(cols.mean() - 13.5) < 3


def test_scene_is_colourful_with_edges_across_and_down_and_smooth_sky():
    scene = sample_image("scene", 128, "rgb")
    assert np.abs(scene[0] - scene[2]).mean() > 0.1  # red and blue differ: real colours
    gray = to_color(scene, "gray")[0]
    assert np.abs(np.diff(gray, axis=0)).max() > 0.2 and np.abs(np.diff(gray, axis=1)).max() > 0.2
    assert np.abs(np.diff(gray[:10, :60], axis=1)).mean() < 0.05  # the sky is smooth, apart from the grain


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": "moon"}, "circle"),
        ({"name": "circle", "size": 3}, "between 4 and 512"),
        ({"name": "circle", "size": 513}, "between 4 and 512"),
        ({"name": "circle", "color": "cmyk"}, "gray"),
    ],
)
def test_sample_image_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sample_image(**kwargs)


def test_to_color_uses_bt601_luma_and_repeats_gray():
    rgb = np.array([[[1.0, 0.0, 0.0, 0.2]], [[0.0, 1.0, 0.0, 0.4]], [[0.0, 0.0, 1.0, 0.6]]])  # (3, 1, 4)
    expected = [0.299, 0.587, 0.114, 0.299 * 0.2 + 0.587 * 0.4 + 0.114 * 0.6]
    np.testing.assert_allclose(to_color(rgb, "gray"), [[expected]])
    gray = np.array([[[0.1, 0.9]]])
    np.testing.assert_array_equal(to_color(gray, "rgb"), np.repeat(gray, 3, axis=0))
    np.testing.assert_array_equal(to_color(rgb, "rgb"), rgb)
    with pytest.raises(ValueError, match="shape"):
        to_color(np.zeros((2, 3, 3)), "gray")
