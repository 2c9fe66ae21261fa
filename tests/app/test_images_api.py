"""GET/POST /api/images and GET /api/kernels: listings, uploads used by conv, and refused files."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from layerlab.app.config import settings
from layerlab.app.main import create_app
from layerlab.engine.images import LUMA, SAMPLES
from tests.app.helpers import assert_error, encode, halves, live_maps, png_declaring

UPLOAD_ID = re.compile(r"^upload:[0-9a-f]{16}$")
RED, BLUE = np.array([1.0, 0, 0]), np.array([0, 0, 1.0])
PICK_RGB = [[[[1]], [[0]], [[0]]], [[[0]], [[0]], [[1]]]]  # two 1x1 filters: the red and the blue plane


def upload(client, data: bytes, name: str, content_type: str):
    return client.post("/api/images", files={"file": (name, data, content_type)})


def test_listing_names_every_sample_the_sizes_and_limits(client):
    body = client.get("/api/images").json()
    assert [s["name"] for s in body["samples"]] == list(SAMPLES)
    assert all(s["description"] for s in body["samples"])
    assert body["sizes"] == list(settings.image_sizes)
    assert body["max_side"] == settings.max_image_side == 256
    assert body["max_upload_bytes"] == settings.max_upload_bytes


def test_kernels_list_the_presets_with_exact_weights(client):
    kernels = {k["name"]: k for k in client.get("/api/kernels").json()}
    assert kernels["sobel_x"]["weights"] == [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
    assert kernels["sobel_y"]["weights"] == [[-1, -2, -1], [0, 0, 0], [1, 2, 1]]
    assert kernels["prewitt_x"]["weights"] == [[-1, 0, 1]] * 3
    assert kernels["derivative"]["weights"] == [[-1, 1]]
    assert kernels["gaussian_blur"]["weights"] == [[0.0625, 0.125, 0.0625], [0.125, 0.25, 0.125]] + [
        [0.0625, 0.125, 0.0625]
    ]
    assert {"identity", "sharpen", "edge"} <= kernels.keys()
    assert all(k["label"] and k["description"] and k["source"] for k in kernels.values())


@pytest.mark.parametrize(
    ("fmt", "mime", "width", "height", "stored"),
    [
        ("PNG", "image/png", 600, 300, (128, 256)),
        ("JPEG", "image/jpeg", 100, 400, (256, 64)),
        ("PNG", "image/png", 40, 20, (20, 40)),  # small pictures are kept at their size
    ],
)
def test_upload_is_accepted_and_fitted_to_256_keeping_aspect(client, fmt, mime, width, height, stored):
    data = encode(halves(width, height), fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    r = upload(client, data, "pic." + fmt.lower(), mime)
    assert r.status_code == 201, r.text
    body = r.json()
    assert UPLOAD_ID.match(body["id"])
    assert (body["height"], body["width"]) == stored
    assert body["name"] == "pic." + fmt.lower()


def test_uploaded_png_is_usable_as_rgb_and_gray_conv_input_fitted_to_size(client):
    image_id = upload(client, encode(halves(600, 300), "PNG"), "wide.png", "image/png").json()["id"]
    req = {"image": image_id, "size": 64, "color": "rgb", "weight": PICK_RGB}
    maps = live_maps(client.post("/api/conv/live", json=req))
    assert maps.shape == (1, 2, 32, 64)  # 600x300 fitted into 64: 64 wide, 32 high
    red, blue = maps[0]
    np.testing.assert_allclose(red[:, :30], 1, atol=1e-3)
    np.testing.assert_allclose(red[:, 34:], 0, atol=1e-3)
    np.testing.assert_allclose(blue[:, :30], 0, atol=1e-3)
    np.testing.assert_allclose(blue[:, 34:], 1, atol=1e-3)
    gray = live_maps(client.post("/api/conv/live", json={"image": image_id, "size": 16, "weight": [[[[1]]]]}))
    assert gray.shape == (1, 1, 8, 16)
    np.testing.assert_allclose(gray[0, 0, :, :7], LUMA @ RED, atol=1e-3)
    np.testing.assert_allclose(gray[0, 0, :, 9:], LUMA @ BLUE, atol=1e-3)


def test_uploaded_jpeg_is_usable_as_conv_input_fitted_to_size(client):
    data = encode(halves(100, 400), "JPEG", quality=95)
    image_id = upload(client, data, "tall.jpg", "image/jpeg").json()["id"]
    req = {"image": image_id, "size": 32, "color": "rgb", "weight": PICK_RGB}
    maps = live_maps(client.post("/api/conv/live", json=req))
    assert maps.shape == (1, 2, 32, 8)
    np.testing.assert_allclose(maps[0, 0, :, :3], 1, atol=0.05)  # JPEG is lossy
    np.testing.assert_allclose(maps[0, 1, :, 5:], 1, atol=0.05)
    trace = client.post("/api/conv/trace", json={**req, "filter": 1}).json()
    assert np.shape(trace["stages"]["input"]) == (3, 32, 8)
    np.testing.assert_allclose(trace["output"], maps[0, 1], atol=1e-6)


def test_upload_is_not_shared_between_servers(client):
    """Uploads live in one app's memory: another app answers 404 naming the field."""
    image_id = upload(client, encode(halves(8, 8), "PNG"), "a.png", "image/png").json()["id"]
    assert client.post("/api/conv/live", json={"image": image_id, "weight": [[[[1]]]]}).status_code == 200
    with TestClient(create_app()) as other:
        r = other.post("/api/conv/live", json={"image": image_id, "weight": [[[[1]]]]})
    assert_error(r, 404, "image", "upload the image again")


@pytest.mark.parametrize(
    ("data", "name", "content_type"),
    [
        (b"these bytes are plain text, not a picture", "notes.txt", "text/plain"),
        (b"plain text sent as a png", "fake.png", "image/png"),
        (b"", "empty.png", "image/png"),
        (encode(Image.new("RGB", (8, 8), (1, 2, 3)), "GIF"), "anim.gif", "image/gif"),
        (encode(Image.new("RGB", (8, 8), (1, 2, 3)), "BMP"), "pic.bmp", "image/bmp"),
    ],
    ids=["text", "text_as_png", "empty", "gif", "bmp"],
)
def test_upload_of_a_non_png_non_jpeg_is_refused_with_415(client, data, name, content_type):
    r = upload(client, data, name, content_type)
    assert_error(r, 415, "file", "PNG")


def test_upload_of_a_decompression_bomb_is_refused_quickly(client):
    bomb = png_declaring(20000, 20000)
    assert len(bomb) < 200
    start = time.perf_counter()
    r = upload(client, bomb, "bomb.png", "image/png")
    assert time.perf_counter() - start < 1
    assert_error(r, 415, "file", "pixels")


def test_upload_over_max_upload_bytes_is_refused_with_413(client):
    data = b"\x89PNG" + b"\0" * (settings.max_upload_bytes + 1 - 4)
    assert len(data) == settings.max_upload_bytes + 1
    r = upload(client, data, "huge.png", "image/png")
    assert_error(r, 413, "file", f"{settings.max_upload_bytes // 2**20} MiB")


def test_upload_without_the_file_field_names_it(client):
    r = client.post("/api/images", files={"picture": ("a.png", encode(halves(8, 8), "PNG"), "image/png")})
    assert_error(r, 422, "file")


# ---- over the wire -------------------------------------------------------------------------------


def test_real_server_accepts_an_upload_and_convolves_it(http):
    r = http.post("/api/images", files={"file": ("wide.png", encode(halves(600, 300), "PNG"), "image/png")})
    assert r.status_code == 201
    assert (r.json()["height"], r.json()["width"]) == (128, 256)
    req = {"image": r.json()["id"], "size": 256, "color": "rgb", "weight": PICK_RGB}
    maps = live_maps(http.post("/api/conv/live", json=req))
    assert maps.shape == (1, 2, 128, 256)
    np.testing.assert_allclose(maps[0, 0, :, :120], 1, atol=1e-3)


def test_real_server_refuses_a_bomb_and_an_oversized_upload(http):
    bomb = png_declaring(20000, 20000)
    assert_error(http.post("/api/images", files={"file": ("b.png", bomb, "image/png")}), 415, "file")
    data = b"\0" * (settings.max_upload_bytes + 1)
    assert_error(http.post("/api/images", files={"file": ("big.png", data, "image/png")}), 413, "file")


def test_real_server_refuses_a_chunked_upload_over_the_body_limit_with_413(http):
    def body():
        yield b'--b0und\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
        yield b"Content-Type: image/png\r\n\r\n"
        for _ in range(settings.max_upload_bytes // 2**20 + 2):
            yield b"\0" * 2**20
        yield b"\r\n--b0und--\r\n"

    multipart = {"content-type": "multipart/form-data; boundary=b0und"}
    r = http.post("/api/images", content=body(), headers=multipart)
    assert r.request.headers.get("transfer-encoding") == "chunked"
    assert r.status_code == 413, r.text
    assert r.json()["message"].split(": ")[0] in ("body", "file")
