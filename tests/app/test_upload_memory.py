"""Bounded memory for uploads: a decode-memory budget checked from the header, and a cap on decodes."""

from __future__ import annotations

import io
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from PIL import Image

import layerlab.app.uploads as uploads
from layerlab.app.config import settings
from layerlab.app.main import create_app
from layerlab.app.uploads import decode_bytes
from tests.app.helpers import _chunk, assert_error

SOF0, SOF2 = 0xC0, 0xC2  # baseline and progressive frames


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def jpeg_declaring(
    width: int, height: int, frame: int, sampling: tuple[int, ...] = (0x11, 0x11, 0x11)
) -> bytes:
    """A tiny JPEG header (no pixels) declaring a width x height frame with one component per sampling
    byte (0xHV), and a first scan coding every component."""
    components = b"".join(bytes((i + 1, hv, 0)) for i, hv in enumerate(sampling))
    sof = _segment(frame, struct.pack(">BHHB", 8, height, width, len(sampling)) + components)
    scan = (
        bytes((len(sampling),)) + b"".join(bytes((i + 1, 0)) for i in range(len(sampling))) + b"\x00\x3f\x00"
    )
    return b"\xff\xd8" + sof + _segment(0xDA, scan) + b"\xff\xd9"


def png_declaring(width: int, height: int, color_type: int, depth: int = 16) -> bytes:
    """A tiny PNG header declaring width x height pixels of `color_type` (6: RGBA) at `depth` bits."""
    header = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0)
    idat = zlib.compress(b"\0")
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def upload(client: TestClient, data: bytes, name: str = "picture"):
    return client.post("/api/images", files={"file": (name, data, "application/octet-stream")})


def test_progressive_jpeg_estimate_is_its_whole_coefficient_buffer_whatever_the_draft_scale():
    # 7000 x 7000 in 4:4:4: 875 x 875 blocks x 3 components x 64 coefficients x 2 bytes, at any scale
    img = opened(jpeg_declaring(7000, 7000, SOF2))
    size = img.size
    img.draft("RGB", (256, 256))
    assert img.size == (875, 875)  # decoded at 1/8 scale
    buffer = 875 * 875 * 3 * 64 * 2
    assert buffer <= decode_bytes(img, b"", size) - 875 * 875 * 4 < buffer + 4 * 2**20
    # 4:2:0: the two chroma components have a quarter of the blocks (rounded up to whole MCUs)
    img = opened(jpeg_declaring(7000, 7000, SOF2, (0x22, 0x11, 0x11)))
    chroma = 438 * 438
    assert decode_bytes(img, b"", img.size) - 7000 * 7000 * 4 >= (4 * chroma + 2 * chroma) * 128


def test_baseline_jpeg_estimate_is_only_its_scaled_pixels_unless_coded_in_several_scans():
    data = jpeg_declaring(7000, 7000, SOF0)
    img = opened(data)
    size = img.size
    img.draft("RGB", (256, 256))
    assert decode_bytes(img, data, size) < 8 * 2**20
    # the same frame whose first scan codes one component: libjpeg must buffer every coefficient
    one_component_scan = data.replace(
        b"\xff\xda\x00\x0c\x03\x01\x00\x02\x00\x03\x00", b"\xff\xda\x00\x08\x01\x01\x00"
    )
    assert one_component_scan != data
    img = opened(one_component_scan)
    img.draft("RGB", (256, 256))
    assert decode_bytes(img, one_component_scan, size) > 7000 * 7000 * 3 * 2


@pytest.mark.parametrize(
    ("color_type", "depth", "per_pixel"),
    [(2, 16, 4), (6, 16, 8), (0, 16, 2), (0, 8, 1), (3, 8, 9)],
    ids=["rgb16", "rgba16 (premultiplied to shrink)", "gray16", "gray8", "palette (to RGBA, premultiplied)"],
)
def test_png_estimate_counts_the_bytes_every_pixel_takes_while_decoding(color_type, depth, per_pixel):
    data = png_declaring(3000, 2000, color_type, depth)
    if color_type == 3:  # a palette with a transparent entry (a declared palette PNG needs a PLTE chunk)
        img = Image.new("P", (3000, 2000))
        img.info["transparency"] = 0
    else:
        img = opened(data)
    estimate = decode_bytes(img, data, img.size)
    assert 3000 * 2000 * per_pixel <= estimate <= 3000 * 2000 * per_pixel + 4 * 2**20


@pytest.fixture
def small_budget() -> Iterator[TestClient]:
    with TestClient(create_app(replace(settings, max_decode_bytes=32 * 2**20))) as c:
        yield c


def test_upload_over_the_decode_budget_is_refused_from_its_header_naming_file_and_limit(client, small_budget):
    start = time.perf_counter()
    progressive = jpeg_declaring(7000, 7000, SOF2)  # 283 MiB of coefficients, in a file of 40 bytes
    assert len(progressive) < 64
    assert_error(upload(client, progressive), 422, "file", f"{settings.max_decode_bytes // 2**20} MiB")
    rgba16 = png_declaring(2000, 2000, 6)  # 4 MP of 16-bit RGBA: 8 bytes a pixel, 32 MB
    assert_error(upload(small_budget, rgba16), 422, "file", "limit of 32 MiB")
    assert time.perf_counter() - start < 1  # nothing was decoded
    # under the budget the same headers go on to be decoded, and fail for want of pixels
    assert_error(upload(client, jpeg_declaring(7000, 7000, SOF0)), 415, "file", "damaged")
    assert_error(upload(client, rgba16), 415, "file", "damaged")


def test_decodes_past_the_cap_and_its_queue_are_refused_503_with_retry_after(monkeypatch):
    entered, release = threading.Event(), threading.Event()
    real = uploads.decode_image

    def slow_decode(*args, **kwargs):
        entered.set()
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(uploads, "decode_image", slow_decode)
    config = replace(settings, max_decodes=1, max_decodes_waiting=0)
    png = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 200, 30)).save(png, "PNG")
    with TestClient(create_app(config)) as c:
        first: list = []
        worker = threading.Thread(target=lambda: first.append(upload(c, png.getvalue())))
        worker.start()
        assert entered.wait(10)
        refused = upload(c, png.getvalue()[:-1] + b"\x01")  # another file: it would need a decode too
        release.set()
        worker.join(10)
        assert first[0].status_code == 201
        assert_error(refused, 503, "server", "retry in")
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.json()["detail"][0]["type"] == "busy"
        # the slot is free again; and a file this worker already holds is not decoded again
        entered.clear()
        again = upload(c, png.getvalue())
        assert again.status_code == 201 and again.json()["id"] == first[0].json()["id"]
        assert not entered.is_set()
