"""A catalogue of hostile requests: each is refused with its 4xx, a message naming the field and the
limit, within a time bound, and the whole catalogue leaves the process's memory bounded."""

from __future__ import annotations

import http.client
import io
import json
import resource
import struct
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from layerlab.app.config import settings as S
from layerlab.app.main import create_app
from tests.app.helpers import assert_error, encode, padded_json, png_declaring

TIME_BOUND = 2.0  # seconds for any one answer through the test client
PEAK_BOUND = 64 * 2**20  # bytes Python and NumPy may allocate at once while answering one request
RSS_BOUND = 200 * 2**20  # growth of the process's peak resident memory over the whole catalogue
CONV = {"image": "scene", "size": 8, "weight": [[[[1]]]]}
JSON = {"content-type": "application/json"}


@dataclass(frozen=True)
class Hostile:
    method: str
    path: str
    status: int
    field: str  # the field the message blames
    limit: str | None  # a fragment of the message: the limit broken, or what is wrong
    send: dict = field(default_factory=dict)  # json=, content=, files=, headers= of the request


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(side: int = 7000) -> bytes:
    """A real 16-bit RGBA PNG of side x side zero pixels: ~0.8 MB of file, ~400 MB once decoded."""
    row = b"\0" * (1 + side * 8)
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 16, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def upload(data: bytes, name: str = "picture.png", content_type: str = "image/png") -> dict:
    return {"files": {"file": (name, data, content_type)}}


def raw(text: str | bytes) -> dict:
    return {"content": text, "headers": JSON}


def nested(depth: int) -> str:
    return '{"image": "scene", "weight": ' + "[" * depth + "]" * depth + "}"


TRUNCATED_PNG = encode(Image.new("RGB", (64, 64), (200, 10, 10)), "PNG")[:60]
MAX_KERNEL = str(S.max_kernel_side)

CATALOGUE = {
    # oversized tensors and kernels
    "kernel_100x100": Hostile(
        "POST",
        "/api/conv/live",
        422,
        "weight",
        MAX_KERNEL,
        {"json": {**CONV, "weight": [[[[1] * 100] * 100]]}},
    ),
    "nine_filters": Hostile(
        "POST",
        "/api/conv/trace",
        422,
        "weight",
        str(S.max_filters),
        {"json": {**CONV, "weight": [[[[1]]]] * 9}},
    ),
    "image_side_10000": Hostile(
        "POST", "/api/conv/live", 422, "size", "256", {"json": {**CONV, "size": 10_000}}
    ),
    "drawing_113x113": Hostile(
        "POST",
        "/api/network/forward",
        422,
        "matrix",
        str(S.max_network_matrix_side),
        {"json": {"source": "matrix", "matrix": [[0.5] * 113] * 113}},
    ),
    "pool_matrix_13_rows": Hostile(
        "POST", "/api/pool/trace", 422, "matrix", "12", {"json": {"source": "matrix", "matrix": [[1]] * 13}}
    ),
    "softmax_of_17": Hostile("POST", "/api/activations/softmax", 422, "z", "16", {"json": {"z": [1] * 17}}),
    "sentence_of_20000_chars": Hostile(
        "POST", "/api/attention", 422, "sentence", "200", {"json": {"sentence": "a " * 10_000}}
    ),
    "dense_layer_of_1e18": Hostile(
        "POST", "/api/dense/parameters", 422, "sizes[0]", "100000", {"json": {"sizes": [10**18, 2]}}
    ),
    # zero, negative and absurd strides, dilations and paddings
    "stride_0": Hostile("POST", "/api/conv/live", 422, "stride", "1", {"json": {**CONV, "stride": 0}}),
    "stride_negative": Hostile("POST", "/api/pool/trace", 422, "stride", "1", {"json": {"stride": -5}}),
    "stride_1e18": Hostile(
        "POST", "/api/conv/live", 422, "stride", "8", {"json": {**CONV, "stride": 10**18}}
    ),
    "transposed_stride_1e18": Hostile(
        "POST",
        "/api/family/transposed",
        422,
        "stride",
        str(S.max_transposed_stride),
        {"json": {"stride": 10**18}},
    ),
    "dilation_1e18": Hostile(
        "POST", "/api/conv/live", 422, "dilation", "8", {"json": {**CONV, "dilation": 10**18}}
    ),
    "dilation_0": Hostile("POST", "/api/pool/trace", 422, "dilation", "1", {"json": {"dilation": 0}}),
    "padding_1e18": Hostile(
        "POST", "/api/conv/trace", 422, "padding", "16", {"json": {**CONV, "padding": [10**18, 0]}}
    ),
    "padding_negative": Hostile(
        "POST", "/api/conv/live", 422, "padding", "0", {"json": {**CONV, "padding": -1}}
    ),
    "roi_box_2e70": Hostile(
        "POST",
        "/api/pool/trace",
        422,
        "box",
        "0 <= x1 <= x2",
        {"json": {"kind": "roi", "box": [0, 0, 2**70, 1]}},
    ),
    "chunk_2e70": Hostile(
        "POST", "/api/conv/trace", 422, "chunk", "past the last step", {"json": {**CONV, "chunk": 2**70}}
    ),
    "integer_of_5000_digits": Hostile(
        "POST",
        "/api/conv/live",
        422,
        "body",
        "4,300 digits",
        raw('{"image": "scene", "stride": ' + "9" * 5000 + "}"),
    ),
    # NaN and infinities, as JSON tokens and as exponents past float64
    "nan_token_weight": Hostile(
        "POST", "/api/conv/live", 422, "weight", "finite", raw('{"image": "scene", "weight": [[[[NaN]]]]}')
    ),
    "infinity_token_eps": Hostile("POST", "/api/norm/apply", 422, "eps", "finite", raw('{"eps": Infinity}')),
    "minus_infinity_temperature": Hostile(
        "POST", "/api/attention", 422, "temperature", "finite", raw('{"temperature": -Infinity}')
    ),
    "exponent_1e400_weight": Hostile(
        "POST", "/api/conv/trace", 422, "weight", "finite", raw('{"image": "scene", "weight": [[[[1e400]]]]}')
    ),
    "exponent_minus_1e400_matrix": Hostile(
        "POST", "/api/pool/trace", 422, "matrix", "finite", raw('{"matrix": [[-1e400, 0], [0, 0]]}')
    ),
    "weight_1e300": Hostile(
        "POST", "/api/conv/live", 422, "weight", "1000000", {"json": {**CONV, "weight": [[[[1e300]]]]}}
    ),
    # wrong nesting, ragged arrays, deep nesting
    "ragged_matrix": Hostile(
        "POST", "/api/pool/trace", 422, "matrix", "every row must have 2", {"json": {"matrix": [[1, 2], [3]]}}
    ),
    "ragged_kernel": Hostile(
        "POST",
        "/api/conv/live",
        422,
        "weight",
        "rectangular",
        {"json": {**CONV, "weight": [[[[1, 2], [3]]]]}},
    ),
    "weight_too_shallow": Hostile(
        "POST", "/api/conv/live", 422, "weight", None, {"json": {**CONV, "weight": [[1]]}}
    ),
    "weight_an_object": Hostile(
        "POST", "/api/conv/live", 422, "weight", "list", {"json": {**CONV, "weight": {"a": 1}}}
    ),
    "nested_100000_arrays": Hostile(
        "POST", "/api/conv/live", 422, "body", "nested too deeply", raw(nested(100_000))
    ),
    "open_100000_arrays": Hostile(
        "POST", "/api/norm/apply", 422, "body", "nested too deeply", raw("[" * 100_000)
    ),
    "linear_input_900_axes": Hostile(
        "POST",
        "/api/dense/linear",
        422,
        "input",
        "900 axes, over the limit of 4",
        raw('{"input": ' + "[" * 900 + "1" + "]" * 900 + "}"),
    ),
    "body_a_json_array": Hostile("POST", "/api/norm/apply", 422, "request", "dictionary", {"json": [1, 2]}),
    "truncated_json": Hostile(
        "POST", "/api/conv/live", 422, "body", "not valid JSON", raw('{"image": "scene", "we')
    ),
    "not_utf8": Hostile("POST", "/api/dense/point", 422, "body", "not UTF-8", raw(b'{"x": "\xff\xfe"}')),
    # huge bodies
    "json_4mb_with_length": Hostile(
        "POST", "/api/conv/live", 413, "body", f"{S.max_json_bytes:,}", raw(b" " * (4 * 2**20) + b"{}")
    ),
    "json_1mb_chunked": Hostile(
        "POST",
        "/api/conv/trace",
        413,
        "body",
        f"{S.max_json_bytes:,}",
        {"content": padded_json(2 * S.max_json_bytes), "headers": JSON},
    ),
    "upload_over_8_mib": Hostile(
        "POST", "/api/images", 413, "file", "8 MiB", upload(b"\x89PNG" + b"\0" * S.max_upload_bytes)
    ),
    # uploads that are not what they claim
    "text_named_png": Hostile("POST", "/api/images", 415, "file", "PNG or JPEG", upload(b"just some text")),
    "truncated_png": Hostile(
        "POST", "/api/images", 415, "file", "damaged or incomplete", upload(TRUNCATED_PNG)
    ),
    "decompression_bomb_png": Hostile(
        "POST", "/api/images", 415, "file", "8,000,000 pixels", upload(png_bomb())
    ),
    "declared_20000x20000": Hostile(
        "POST", "/api/images", 415, "file", "pixels", upload(png_declaring(20_000, 20_000))
    ),
    "form_without_boundary": Hostile(
        "POST",
        "/api/images",
        400,
        "body",
        "boundary",
        {"content": b"x", "headers": {"content-type": "multipart/form-data"}},
    ),
    # path traversal in static URLs (what the client leaves encoded reaches the app as "..")
    "static_dot_dot_encoded": Hostile(
        "GET", "/static/%2e%2e/app/config.py", 404, "GET /static/../app/config.py", "Not Found"
    ),
    "static_two_levels_encoded": Hostile(
        "GET", "/static/%2e%2e/%2e%2e/etc/passwd", 404, "GET /static/../../etc/passwd", "Not Found"
    ),
    "static_slash_encoded": Hostile(
        "GET", "/static/..%2fpyproject.toml", 404, "GET /static/../pyproject.toml", "Not Found"
    ),
    "vendor_dot_dot_encoded": Hostile(
        "GET", "/vendor/%2e%2e/%2e%2e/app/config.py", 404, "GET /vendor/../../app/config.py", "Not Found"
    ),
    # unknown names
    "unknown_sample": Hostile(
        "POST", "/api/conv/live", 422, "image", "scene", {"json": {**CONV, "image": "moon"}}
    ),
    "sample_path_traversal": Hostile(
        "POST", "/api/conv/live", 422, "image", "pattern", {"json": {**CONV, "image": "../../etc/passwd"}}
    ),
    "unknown_upload": Hostile(
        "POST",
        "/api/conv/live",
        404,
        "image",
        "upload the image again",
        {"json": {**CONV, "image": "upload:" + "0" * 16}},
    ),
    "unknown_kernel_preset": Hostile(
        "POST", "/api/activations/map", 422, "kernel", "kernel presets", {"json": {"kernel": "nope"}}
    ),
    "unknown_shape_preset": Hostile(
        "POST", "/api/network/circle", 422, "shape", "unknown shape", {"json": {"shape": "x"}}
    ),
    "unknown_lesson": Hostile(
        "GET", "/api/lessons/no-such-lesson", 404, "GET /api/lessons/no-such-lesson", "no lesson"
    ),
    "unknown_field": Hostile(
        "POST", "/api/conv/live", 422, "kernel", "Extra inputs", {"json": {**CONV, "kernel": 1}}
    ),
    # wrong content type, wrong method, query far too long
    "json_as_text_plain": Hostile(
        "POST",
        "/api/norm/apply",
        415,
        "body",
        "application/json",
        {"content": "{}", "headers": {"content-type": "text/plain"}},
    ),
    "json_as_xml": Hostile(
        "POST",
        "/api/pool/trace",
        415,
        "body",
        "application/json",
        {"content": "<a/>", "headers": {"content-type": "application/xml"}},
    ),
    "get_on_a_post_route": Hostile("GET", "/api/conv/live", 405, "GET /api/conv/live", "Method Not Allowed"),
    "query_of_40_kb": Hostile("GET", "/api/images?q=" + "x" * 40_000, 414, "query", f"{S.max_query_bytes:,}"),
}


@pytest.fixture(scope="module")
def hostile_client() -> Iterator[TestClient]:
    with TestClient(create_app()) as c:
        yield c


@pytest.fixture(scope="module")
def rss_growth() -> Iterator[list[int]]:
    """Peak resident memory (bytes) before the catalogue; the last test compares it with the peak after."""
    yield [resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024]


def test_the_catalogue_holds_at_least_30_hostile_requests():
    assert len(CATALOGUE) >= 30


@pytest.mark.parametrize("hostile", CATALOGUE.values(), ids=CATALOGUE.keys())
def test_hostile_request_is_refused_in_time_and_memory(hostile_client, rss_growth, hostile):
    tracemalloc.start()
    start = time.perf_counter()
    try:
        r = hostile_client.request(hostile.method, hostile.path, **hostile.send)
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert_error(r, hostile.status, hostile.field, hostile.limit)
    assert elapsed < TIME_BOUND, f"answered in {elapsed:.2f} s"
    assert peak < PEAK_BOUND, f"{peak / 2**20:.0f} MiB allocated at once"


def test_the_catalogue_left_memory_bounded(rss_growth):
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_growth[0]
    assert growth < RSS_BOUND, f"peak RSS grew {growth / 2**20:.0f} MiB over the catalogue"


# ---- over the wire: paths a browser or HTTP client would normalize, sent as they are ------------


@pytest.mark.parametrize(
    "path",
    [
        "/static/../app/config.py",
        "/static/../../etc/passwd",
        "/static/..%2f..%2fapp%2fconfig.py",
        "/static/css/../../../pyproject.toml",
        "/vendor/../../app/config.py",
        "/static//etc/passwd",
    ],
)
def test_real_server_serves_nothing_outside_static(server_url, path):
    url = urlsplit(server_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    try:
        conn.request("GET", path)  # http.client sends the path exactly as given
        r = conn.getresponse()
        body = r.read()
    finally:
        conn.close()
    assert r.status in (400, 404), (r.status, body[:200])
    assert b"max_upload_bytes" not in body and b"root:" not in body and b"[project]" not in body


def test_a_legitimate_large_png_is_still_accepted(hostile_client):
    """The pixel limit for PNGs is not in the way of a real picture: 1,600 x 1,200 of noise (5.5 MiB)."""
    noise = np.random.default_rng(0).integers(0, 256, (1200, 1600, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, "PNG", compress_level=1)
    r = hostile_client.post("/api/images", **upload(buffer.getvalue()))
    assert r.status_code == 201, r.text[:300]
    assert json.loads(r.text)["width"] == S.max_image_side
