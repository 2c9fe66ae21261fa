"""Factories for the API tests: seed requests, image files, and readers for the app's responses."""

from __future__ import annotations

import io
import struct
import zlib

import httpx
import numpy as np
from PIL import Image

# Seed 002's worked examples as requests, with the outputs the seed's arithmetic gives.
PREWITT = {"image": "seed002_matrix", "weight": [[[[-1, 0, 1]] * 3]], "padding": "same"}
PREWITT_OUTPUT = [
    [0, 2, 2, 0, -2],
    [0, 3, 3, 0, -3],
    [0, 3, 3, 0, -3],
    [0, 3, 3, 0, -3],
    [0, 2, 2, 0, -2],
]
DERIVATIVE = {"image": "seed002_signal", "weight": [[[[-1, 1]]]], "padding": [0, 1]}
DERIVATIVE_OUTPUT = [[0, 0, 1, 1, 2, 0, 0, -1, -2, -1, 0]]

# a conv trace step on the wire; its window is the padded stage at (rows, cols), so it is not sent
STEP_FIELDS = ("index", "origin", "rows", "cols", "products", "sum", "bias", "result")


def error_field(body: dict) -> str:
    """The field a 4xx body blames: the part of "message" before the first ": "."""
    field, sep, _ = body["message"].partition(": ")
    assert sep, f"message has no '<field>: ' prefix: {body['message']!r}"
    return field


def assert_error(response: httpx.Response, status: int, field: str, limit: str | None = None) -> None:
    """A 4xx in the app's error shape, blaming `field` (or one of its items) and naming `limit`."""
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body.get("detail"), list) and body["detail"], body
    blamed = error_field(body)
    assert blamed == field or blamed.startswith((field + "[", field + ".")), (field, body["message"])
    if limit is not None:
        assert limit in body["message"], (limit, body["message"])


def live_maps(response: httpx.Response) -> np.ndarray:
    """The float32 maps of a /api/conv/live answer, (layers, filters, OH, OW) as X-Shape says."""
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == "application/octet-stream"
    shape = tuple(int(n) for n in response.headers["x-shape"].split(","))
    return np.frombuffer(response.content, dtype="<f4").reshape(shape)


def header_floats(response: httpx.Response, name: str) -> np.ndarray:
    return np.array([float(v) for v in response.headers[name].split(",")])


def encode(img: Image.Image, fmt: str, **options) -> bytes:
    """The bytes Pillow writes for img in the given format."""
    buffer = io.BytesIO()
    img.save(buffer, fmt, **options)
    return buffer.getvalue()


def halves(width: int, height: int) -> Image.Image:
    """An RGB picture, pure red on its left half and pure blue on its right: its orientation shows."""
    pixels = np.zeros((height, width, 3), dtype=np.uint8)
    pixels[:, : width // 2, 0] = 255
    pixels[:, width // 2 :, 2] = 255
    return Image.fromarray(pixels, "RGB")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height 8-bit grey pixels but holds one row of data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    one_row = zlib.compress(b"\x00" * (width + 1))
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", one_row) + _chunk(b"IEND", b"")


def padded_json(total: int, piece: int = 64 * 1024):
    """A syntactically valid conv request of about `total` bytes, yielded in pieces (no Content-Length)."""
    yield b'{"image": "scene", "weight": [[[[1]]]], "image_note": "'
    for _ in range(total // piece):
        yield b"x" * piece
    yield b'"}'
