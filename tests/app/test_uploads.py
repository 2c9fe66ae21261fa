"""Upload decoding (app/uploads.py): exact round trips, transparency, orientation, and every refusal
(not an image, another format, a decompression bomb, a truncated file) in plain words."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PIL import Image

from layerlab.app.uploads import ImageError, decode_image
from layerlab.engine.images import to_color
from tests.app.helpers import encode, png_declaring

LIMITS = {"max_side": 256, "max_pixels": 1_000_000}


def _ramp_rgb(height: int, width: int) -> np.ndarray:
    """(H, W, 3) uint8 smooth colour ramps, friendly to JPEG."""
    rows, cols = np.mgrid[0:height, 0:width]
    red, green = cols * 255 // max(1, width - 1), rows * 255 // max(1, height - 1)
    return np.stack([red, green, np.full_like(rows, 128)], axis=-1).astype(np.uint8)


@pytest.mark.parametrize("color", ["gray", "rgb"])
def test_decode_png_round_trips_exactly(color):
    pixels = _ramp_rgb(20, 30)
    data = encode(Image.fromarray(pixels), "PNG")
    decoded = decode_image(data, **LIMITS, color=color)
    rgb = pixels.transpose(2, 0, 1) / 255
    if color == "rgb":
        np.testing.assert_array_equal(decoded, rgb)
    else:  # Pillow rounds luma to 8 bits
        np.testing.assert_allclose(decoded, to_color(rgb, "gray"), atol=1 / 255)


def test_decode_jpeg_round_trips_closely():
    pixels = _ramp_rgb(40, 40)
    decoded = decode_image(encode(Image.fromarray(pixels), "JPEG", quality=95), **LIMITS, color="rgb")
    assert decoded.shape == (3, 40, 40)
    np.testing.assert_allclose(decoded, pixels.transpose(2, 0, 1) / 255, atol=0.05)


def test_decode_composites_transparency_on_white():
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    rgba[0, 0] = [255, 0, 0, 255]  # opaque red
    rgba[0, 1] = [0, 0, 255, 0]  # fully transparent
    rgba[1, 0] = [0, 0, 0, 128]  # half-transparent black
    decoded = decode_image(encode(Image.fromarray(rgba, "RGBA"), "PNG"), **LIMITS, color="rgb")
    np.testing.assert_allclose(decoded[:, 0, 0], [1, 0, 0])
    np.testing.assert_allclose(decoded[:, 0, 1], [1, 1, 1])
    np.testing.assert_allclose(decoded[:, 1, 0], [127 / 255] * 3, atol=1 / 255)


def test_decode_scales_16_bit_gray_instead_of_clipping():
    deep = Image.fromarray(np.array([[0, 30000, 65535]], dtype=np.uint16))
    decoded = decode_image(encode(deep, "PNG"), **LIMITS)
    np.testing.assert_allclose(decoded, [[[0, 30000 / 65535, 1]]], atol=1 / 255)


def test_decode_downscales_to_max_side_keeping_aspect_and_never_upscales():
    wide = encode(Image.fromarray(_ramp_rgb(100, 200)), "PNG")
    assert decode_image(wide, max_side=50, max_pixels=10**6, color="rgb").shape == (3, 25, 50)
    assert decode_image(wide, max_side=1000, max_pixels=10**6).shape == (1, 100, 200)


def test_decode_applies_exif_orientation():
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    data = encode(Image.fromarray(_ramp_rgb(20, 40)), "JPEG", exif=exif)  # 40 wide, 20 tall as stored
    assert decode_image(data, **LIMITS).shape == (1, 40, 20)


def test_decode_rejects_bytes_that_are_not_an_image():
    with pytest.raises(ImageError, match="not a PNG or JPEG"):
        decode_image(b"hello, this is text", **LIMITS)
    with pytest.raises(ImageError, match="not a PNG or JPEG"):
        decode_image(b"", **LIMITS)


def test_decode_rejects_gif_naming_the_accepted_formats():
    gif = encode(Image.fromarray(_ramp_rgb(8, 8)).convert("P"), "GIF")
    with pytest.raises(ImageError) as info:
        decode_image(gif, **LIMITS)
    assert "PNG" in str(info.value) and "JPEG" in str(info.value)


@pytest.mark.parametrize("side", [5000, 20000])  # under and over Pillow's own bomb threshold
def test_decode_refuses_a_decompression_bomb_from_its_header_alone(side):
    bomb = png_declaring(side, side)
    assert len(bomb) < 100_000
    start = time.perf_counter()
    # The file holds one row only, so decoding would fail as "damaged": this message proves it never started.
    with pytest.raises(ImageError, match="1,000,000 pixels"):
        decode_image(bomb, **LIMITS)
    assert time.perf_counter() - start < 0.5


def test_decode_rejects_a_truncated_png():
    data = encode(Image.fromarray(_ramp_rgb(64, 64)), "PNG")
    with pytest.raises(ImageError, match="damaged or incomplete"):
        decode_image(data[: len(data) // 2], **LIMITS)


def test_decode_rejects_bad_limits_and_colour():
    data = encode(Image.fromarray(_ramp_rgb(4, 4)), "PNG")
    with pytest.raises(ValueError, match="positive"):
        decode_image(data, max_side=0, max_pixels=100)
    with pytest.raises(ValueError, match="color"):
        decode_image(data, **LIMITS, color="hsv")
