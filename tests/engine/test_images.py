"""Built-in samples (shapes, ranges, the seeds' exact numbers) and upload decoding, bombs included."""

from __future__ import annotations

import io
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from layerlab.engine.images import SAMPLES, ImageError, decode_image, sample_image, to_color

SEED_000_CIRCLE = [
    [0, 1, 1, 1, 0],
    [1, 0, 0, 0, 1],
    [1, 0, 0, 0, 1],
    [1, 0, 0, 0, 1],
    [0, 1, 1, 1, 0],
]
SEED_002_SIGNAL = [0, 0, 1, 2, 4, 4, 4, 3, 1, 0]
PICTURES = [name for name in SAMPLES if not name.startswith("seed002_")]
LIMITS = {"max_side": 256, "max_pixels": 1_000_000}


def _encode(img: Image.Image, fmt: str, **options) -> bytes:
    """The bytes Pillow writes for img in the given format."""
    buffer = io.BytesIO()
    img.save(buffer, fmt, **options)
    return buffer.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    """One PNG chunk: length, type, body, CRC of type and body."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height 8-bit grey pixels but holds only one row of data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    one_row = zlib.compress(b"\x00" * (width + 1))
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", one_row) + _chunk(b"IEND", b"")


def _ramp_rgb(height: int, width: int) -> np.ndarray:
    """(H, W, 3) uint8 smooth colour ramps, friendly to JPEG."""
    rows, cols = np.mgrid[0:height, 0:width]
    red, green = cols * 255 // max(1, width - 1), rows * 255 // max(1, height - 1)
    return np.stack([red, green, np.full_like(rows, 128)], axis=-1).astype(np.uint8)


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


@pytest.mark.parametrize("color", ["gray", "rgb"])
def test_decode_png_round_trips_exactly(color):
    pixels = _ramp_rgb(20, 30)
    data = _encode(Image.fromarray(pixels), "PNG")
    decoded = decode_image(data, **LIMITS, color=color)
    rgb = pixels.transpose(2, 0, 1) / 255
    if color == "rgb":
        np.testing.assert_array_equal(decoded, rgb)
    else:  # Pillow rounds luma to 8 bits
        np.testing.assert_allclose(decoded, to_color(rgb, "gray"), atol=1 / 255)


def test_decode_jpeg_round_trips_closely():
    pixels = _ramp_rgb(40, 40)
    decoded = decode_image(_encode(Image.fromarray(pixels), "JPEG", quality=95), **LIMITS, color="rgb")
    assert decoded.shape == (3, 40, 40)
    np.testing.assert_allclose(decoded, pixels.transpose(2, 0, 1) / 255, atol=0.05)


def test_decode_composites_transparency_on_white():
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    rgba[0, 0] = [255, 0, 0, 255]  # opaque red
    rgba[0, 1] = [0, 0, 255, 0]  # fully transparent
    rgba[1, 0] = [0, 0, 0, 128]  # half-transparent black
    decoded = decode_image(_encode(Image.fromarray(rgba, "RGBA"), "PNG"), **LIMITS, color="rgb")
    np.testing.assert_allclose(decoded[:, 0, 0], [1, 0, 0])
    np.testing.assert_allclose(decoded[:, 0, 1], [1, 1, 1])
    np.testing.assert_allclose(decoded[:, 1, 0], [127 / 255] * 3, atol=1 / 255)


def test_decode_scales_16_bit_gray_instead_of_clipping():
    deep = Image.fromarray(np.array([[0, 30000, 65535]], dtype=np.uint16))
    decoded = decode_image(_encode(deep, "PNG"), **LIMITS)
    np.testing.assert_allclose(decoded, [[[0, 30000 / 65535, 1]]], atol=1 / 255)


def test_decode_downscales_to_max_side_keeping_aspect_and_never_upscales():
    wide = _encode(Image.fromarray(_ramp_rgb(100, 200)), "PNG")
    assert decode_image(wide, max_side=50, max_pixels=10**6, color="rgb").shape == (3, 25, 50)
    assert decode_image(wide, max_side=1000, max_pixels=10**6).shape == (1, 100, 200)


def test_decode_applies_exif_orientation():
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    data = _encode(Image.fromarray(_ramp_rgb(20, 40)), "JPEG", exif=exif)  # 40 wide, 20 tall as stored
    assert decode_image(data, **LIMITS).shape == (1, 40, 20)


def test_decode_rejects_bytes_that_are_not_an_image():
    with pytest.raises(ImageError, match="not a PNG or JPEG"):
        decode_image(b"hello, this is text", **LIMITS)
    with pytest.raises(ImageError, match="not a PNG or JPEG"):
        decode_image(b"", **LIMITS)


def test_decode_rejects_gif_naming_the_accepted_formats():
    gif = _encode(Image.fromarray(_ramp_rgb(8, 8)).convert("P"), "GIF")
    with pytest.raises(ImageError) as info:
        decode_image(gif, **LIMITS)
    assert "PNG" in str(info.value) and "JPEG" in str(info.value)


@pytest.mark.parametrize("side", [5000, 20000])  # under and over Pillow's own bomb threshold
def test_decode_refuses_a_decompression_bomb_from_its_header_alone(side):
    bomb = _png_declaring(side, side)
    assert len(bomb) < 100_000
    start = time.perf_counter()
    # The file holds one row only, so decoding would fail as "damaged": this message proves it never started.
    with pytest.raises(ImageError, match="1,000,000 pixels"):
        decode_image(bomb, **LIMITS)
    assert time.perf_counter() - start < 0.5


def test_decode_rejects_a_truncated_png():
    data = _encode(Image.fromarray(_ramp_rgb(64, 64)), "PNG")
    with pytest.raises(ImageError, match="damaged or incomplete"):
        decode_image(data[: len(data) // 2], **LIMITS)


def test_decode_rejects_bad_limits_and_colour():
    data = _encode(Image.fromarray(_ramp_rgb(4, 4)), "PNG")
    with pytest.raises(ValueError, match="positive"):
        decode_image(data, max_side=0, max_pixels=100)
    with pytest.raises(ValueError, match="color"):
        decode_image(data, **LIMITS, color="hsv")
