"""POST /api/conv/trace and /api/conv/live: seed numbers, step records, chunks, and every refusal."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from layerlab.app.config import settings
from layerlab.engine.conv import conv2d
from layerlab.engine.images import sample_image
from tests.app.helpers import (
    DERIVATIVE,
    DERIVATIVE_OUTPUT,
    PREWITT,
    PREWITT_OUTPUT,
    STEP_FIELDS,
    assert_error,
    header_floats,
    live_maps,
    padded_json,
)

CHUNK = settings.trace_chunk_steps
SOBEL_X = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
BOX = [[1 / 9] * 3] * 3
SEEDS = [(PREWITT, PREWITT_OUTPUT), (DERIVATIVE, DERIVATIVE_OUTPUT)]
SEED_IDS = ["prewitt", "derivative"]


def reference(req: dict) -> np.ndarray:
    """The engine's conv2d on the same sample image: (F, OH, OW)."""
    x = sample_image(req["image"], req.get("size", 32), req.get("color", "gray"))
    return conv2d(
        x,
        np.array(req["weight"], dtype=np.float64),
        None if req.get("bias") is None else np.array(req["bias"], dtype=np.float64),
        stride=req.get("stride", 1),
        padding=req.get("padding", 0),
        dilation=req.get("dilation", 1),
        padding_mode=req.get("padding_mode", "zeros"),
        record_steps=False,
    ).output


# ---- seed 002, in process and over the wire ------------------------------------------------------


@pytest.mark.parametrize(("req", "expected"), SEEDS, ids=SEED_IDS)
def test_live_gives_seed_002_outputs(client, req, expected):
    r = client.post("/api/conv/live", json=req)
    maps = live_maps(r)
    assert r.headers["x-shape"] == f"1,1,{len(expected)},{len(expected[0])}"
    np.testing.assert_array_equal(maps[0, 0], expected)
    assert header_floats(r, "x-min").tolist() == [np.min(expected)]
    assert header_floats(r, "x-max").tolist() == [np.max(expected)]


@pytest.mark.parametrize(("req", "expected"), SEEDS, ids=SEED_IDS)
def test_trace_gives_seed_002_outputs_and_one_step_per_cell(client, req, expected):
    body = client.post("/api/conv/trace", json=req).json()
    assert body["output"] == expected
    assert body["num_steps"] == np.size(expected)
    assert body["steps"]["result"] == np.ravel(expected).tolist()
    assert body["activation"] is None


@pytest.mark.parametrize(("req", "expected"), SEEDS, ids=SEED_IDS)
def test_real_server_gives_seed_002_outputs(http, req, expected):
    r = http.post("/api/conv/live", json={**req, "relu": True})
    maps = live_maps(r)
    np.testing.assert_array_equal(maps[0, 0], expected)
    np.testing.assert_array_equal(maps[1, 0], np.maximum(expected, 0))
    trace = http.post("/api/conv/trace", json=req)
    assert trace.status_code == 200
    assert trace.json()["output"] == expected


# ---- live: the maps, their ReLU and their ranges -------------------------------------------------

LIVE_CASES = {
    "rgb_two_filters_reflect": {
        "image": "scene",
        "size": 32,
        "color": "rgb",
        "weight": [[SOBEL_X, BOX, SOBEL_X], [BOX, SOBEL_X, [[0, 0, 0], [0, 1, 0], [0, 0, -1]]]],
        "bias": [0.25, -0.5],
        "padding": 1,
        "padding_mode": "reflect",
        "relu": True,
    },
    "strided_dilated_uneven": {
        "image": "digit",
        "size": 28,
        "weight": [[[[1, -2], [3, 0.5], [-1, 1]]]],
        "stride": [2, 3],
        "dilation": [2, 1],
        "padding": [1, 2],
        "padding_mode": "circular",
    },
    "valid_replicate_gradient": {
        "image": "gradient",
        "size": 16,
        "color": "rgb",
        "weight": [[[[1]], [[-1]], [[0.5]]]] * 3,
        "padding": "valid",
        "padding_mode": "replicate",
    },
}


@pytest.mark.parametrize("req", LIVE_CASES.values(), ids=LIVE_CASES.keys())
def test_live_maps_match_engine_with_relu_layer_and_ranges(client, req):
    r = client.post("/api/conv/live", json=req)
    maps = live_maps(r)
    expected = reference(req)  # (F, OH, OW)
    layers = [expected, np.maximum(expected, 0)] if req.get("relu") else [expected]
    assert maps.shape == (len(layers), *expected.shape)
    np.testing.assert_allclose(maps, np.stack(layers), rtol=1e-5, atol=1e-5)
    lo = np.stack(layers).min(axis=(2, 3)).ravel()
    hi = np.stack(layers).max(axis=(2, 3)).ravel()
    np.testing.assert_allclose(header_floats(r, "x-min"), lo, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(header_floats(r, "x-max"), hi, rtol=1e-5, atol=1e-6)


def test_live_answers_the_largest_request_quickly(client):
    req = {
        "image": "scene",
        "size": settings.max_image_side,
        "color": "rgb",
        "weight": [[[[0.02] * 7] * 7] * 3] * settings.max_filters,
        "relu": True,
    }
    start = time.perf_counter()
    r = client.post("/api/conv/live", json=req)
    assert time.perf_counter() - start < 3
    assert r.headers["x-shape"] == f"2,{settings.max_filters},250,250"


def test_live_maps_are_not_gzipped_but_traces_are(http):
    req = {"image": "scene", "size": 64, "weight": [[SOBEL_X]]}  # 16 KB of floats, well over gzip's minimum
    live = http.post("/api/conv/live", json=req, headers={"accept-encoding": "gzip"})
    assert live.status_code == 200 and len(live.content) == 62 * 62 * 4
    assert "content-encoding" not in live.headers
    trace = http.post("/api/conv/trace", json=req, headers={"accept-encoding": "gzip"})
    assert trace.headers["content-encoding"] == "gzip"


# ---- trace: steps, stages, chunks ----------------------------------------------------------------


def test_trace_steps_agree_with_padded_input_weight_and_output(client):
    req = {
        "image": "digit",
        "size": 16,
        "weight": [[[[1, -2, 0.5], [0, 3, -1]]]],
        "bias": [0.5],
        "stride": [2, 1],
        "dilation": [1, 2],
        "padding": [1, 2],
    }
    body = client.post("/api/conv/trace", json=req).json()
    output = np.array(body["output"])
    np.testing.assert_allclose(output, reference(req)[0], rtol=1e-5, atol=1e-5)
    steps = {k: np.array(v) for k, v in body["steps"].items()}
    assert set(steps) == set(STEP_FIELDS)
    n = output.size
    assert body["num_steps"] == n and all(len(v) == n for v in steps.values())
    padded = np.array(body["stages"]["padded"])  # (1, H + 2, W + 4)
    x = sample_image("digit", 16)
    np.testing.assert_allclose(padded, np.pad(x, ((0, 0), (1, 1), (2, 2))), atol=1e-6)
    np.testing.assert_allclose(body["stages"]["input"], x, atol=1e-6)
    weight = np.array(body["stages"]["weight"])
    np.testing.assert_array_equal(weight, req["weight"][0])
    rows, cols = np.divmod(np.arange(n), output.shape[1])  # row-major order
    np.testing.assert_array_equal(steps["index"], np.stack([0 * rows, 0 * rows, rows, cols], axis=1))
    np.testing.assert_array_equal(steps["origin"], np.stack([2 * rows, cols], axis=1))
    np.testing.assert_array_equal(steps["rows"], 2 * rows[:, None] + np.arange(2))
    np.testing.assert_array_equal(steps["cols"], cols[:, None] + 2 * np.arange(3))
    # the windows themselves stay off the wire: each is the padded stage at the step's rows and columns
    windows = np.stack([padded[:, steps["rows"][s]][:, :, steps["cols"][s]] for s in range(n)])
    np.testing.assert_allclose(steps["products"], windows * weight, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(steps["sum"], steps["products"].sum(axis=(1, 2, 3)), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(steps["bias"], 0.5)
    np.testing.assert_allclose(steps["result"], steps["sum"] + 0.5, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(steps["result"], output.ravel(), rtol=1e-5, atol=1e-5)


def test_trace_filter_index_picks_that_output_channel_and_its_bias(client):
    req = {
        "image": "scene",
        "size": 16,
        "weight": [[SOBEL_X], [BOX], [np.transpose(SOBEL_X).tolist()]],
        "bias": [1.0, 2.0, -3.0],
        "padding": 1,
    }
    expected = reference(req)
    for f in range(3):
        body = client.post("/api/conv/trace", json={**req, "filter": f}).json()
        assert body["filter"] == f
        np.testing.assert_allclose(body["output"], expected[f], rtol=1e-5, atol=1e-5)
        assert set(body["steps"]["bias"]) == {req["bias"][f]}
        np.testing.assert_allclose(body["stages"]["weight"], [req["weight"][f][0]], rtol=1e-7)


def test_trace_on_rgb_holds_one_kernel_per_channel(client):
    req = {"image": "scene", "size": 8, "color": "rgb", "weight": [[SOBEL_X, BOX, [[1, 0, 0]] * 3]]}
    body = client.post("/api/conv/trace", json=req).json()
    np.testing.assert_allclose(body["output"], reference(req)[0], rtol=1e-5, atol=1e-5)
    assert np.shape(body["stages"]["input"]) == (3, 8, 8)
    assert np.shape(body["steps"]["products"]) == (36, 3, 3, 3)
    assert np.shape(body["stages"]["weight"]) == (3, 3, 3)


def test_trace_relu_adds_the_activation_map(client):
    body = client.post("/api/conv/trace", json={**PREWITT, "relu": True}).json()
    assert body["output"] == PREWITT_OUTPUT
    assert body["activation"] == np.maximum(PREWITT_OUTPUT, 0).tolist()


def test_trace_formulas_are_mathml_with_this_requests_sizes(client):
    body = client.post("/api/conv/trace", json=DERIVATIVE).json()
    assert body["params"]["output_size"] == [1, 11]
    height, width = body["formulas"]["height"], body["formulas"]["width"]
    assert height.startswith("<math") and width.startswith("<math")
    assert width.endswith("<mn>11</mn></mrow></math>")
    assert height.endswith("<mn>1</mn></mrow></math>")


def test_trace_stages_false_leaves_them_out(client):
    with_stages = client.post("/api/conv/trace", json=PREWITT).json()
    without = client.post("/api/conv/trace", json={**PREWITT, "stages": False}).json()
    assert set(with_stages["stages"]) == {"input", "padded", "weight"}
    assert "stages" not in without
    assert without["output"] == with_stages["output"]


def test_trace_of_a_map_of_chunk_size_is_exactly_one_chunk(client):
    side = int(CHUNK**0.5)
    assert side * side == CHUNK, "the chunk size is a square: this test needs a map of exactly one chunk"
    req = {"image": "scene", "size": side, "weight": [[SOBEL_X]], "padding": "same"}
    body = client.post("/api/conv/trace", json=req).json()
    assert body["num_steps"] == side * side == CHUNK
    assert (body["chunk"], body["chunk_steps"], body["step_offset"]) == (0, CHUNK, 0)
    assert len(body["steps"]["result"]) == CHUNK
    assert_error(client.post("/api/conv/trace", json={**req, "chunk": 1}), 422, "chunk", str(CHUNK))


LAST = 128 * 128 // CHUNK - 1  # the last chunk of a 128x128 map
CHUNKED = {"image": "scene", "size": 128, "weight": [[SOBEL_X]], "padding": "same", "stages": False}


def test_trace_chunk_1_of_a_128x128_map_holds_the_second_chunk_of_steps(client):
    body = client.post("/api/conv/trace", json={**CHUNKED, "chunk": 1}).json()
    assert body["num_steps"] == 128 * 128
    assert (body["chunk"], body["step_offset"]) == (1, CHUNK)
    index = np.array(body["steps"]["index"])
    flat = np.arange(CHUNK, 2 * CHUNK)
    np.testing.assert_array_equal(index[:, 2], flat // 128)
    np.testing.assert_array_equal(index[:, 3], flat % 128)
    output = np.array(body["output"])
    assert output.shape == (128, 128)
    np.testing.assert_allclose(body["steps"]["result"], output.ravel()[flat], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(output, reference(CHUNKED)[0], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("step", "chunk"),
    [(0, 0), (CHUNK - 1, 0), (CHUNK, 1), (9000, 9000 // CHUNK), (128 * 128 - 1, LAST), (10**9, LAST)],
)
def test_trace_step_picks_the_chunk_holding_it_clamped_to_the_last(client, step, chunk):
    req = {**CHUNKED, "weight": [[[[1]]]], "padding": 0, "step": step}  # 1x1: small chunks, same count
    body = client.post("/api/conv/trace", json=req).json()
    assert (body["chunk"], body["step_offset"]) == (chunk, chunk * CHUNK)
    assert body["steps"]["index"][0][2:] == list(divmod(chunk * CHUNK, 128))


# ---- refusals ------------------------------------------------------------------------------------

OK = {"image": "scene", "size": 8, "weight": [[SOBEL_X]]}
MAX_SIDE = str(settings.max_kernel_side)

# (request changes, status, field blamed, the limit the message must name)
BAD = {
    "kernel_over_padded_input": ({"size": 4, "weight": [[[[1] * 5] * 5]]}, 422, "weight", "4"),
    "kernel_over_seed_signal_height": ({"image": "seed002_signal"}, 422, "weight", None),
    "dilated_kernel_over_input": ({"dilation": 4}, 422, "weight", "dilation 4"),
    "stride_0": ({"stride": 0}, 422, "stride", "1"),
    "stride_9": ({"stride": 9}, 422, "stride", str(settings.max_stride)),
    "stride_pair_9": ({"stride": [1, 9]}, 422, "stride", str(settings.max_stride)),
    "stride_fraction": ({"stride": 1.5}, 422, "stride", None),
    "dilation_0": ({"dilation": 0}, 422, "dilation", "1"),
    "padding_negative": ({"padding": -1}, 422, "padding", "0"),
    "padding_pair_negative": ({"padding": [0, -2]}, 422, "padding", "0"),
    "padding_17": ({"padding": 17}, 422, "padding", str(settings.max_padding)),
    "padding_word": ({"padding": "full"}, 422, "padding", None),
    "same_with_stride_2": ({"padding": "same", "stride": 2}, 422, "padding", "stride"),
    "reflect_pad_equal_to_input": ({"padding": 8, "padding_mode": "reflect"}, 422, "padding", "8"),
    "circular_pad_over_input": ({"padding": 9, "padding_mode": "circular"}, 422, "padding", "8"),
    "padding_mode_unknown": ({"padding_mode": "mirror"}, 422, "padding_mode", "reflect"),
    "nine_filters": ({"weight": [[[[1]]]] * 9}, 422, "weight", str(settings.max_filters)),
    "kernel_side_8": ({"size": 16, "weight": [[[[1] * 8] * 8]]}, 422, "weight", MAX_SIDE),
    "kernel_8_wide": ({"size": 16, "weight": [[[[1] * 8]]]}, 422, "weight", MAX_SIDE),
    "no_filters": ({"weight": []}, 422, "weight", None),
    "empty_kernel_row": ({"weight": [[[[]]]]}, 422, "weight", None),
    "weight_too_shallow": ({"weight": [[[1, 2]]]}, 422, "weight", None),
    "weight_1e300": ({"weight": [[[[1e300]]]]}, 422, "weight", "1000000"),
    "bias_1e300": ({"weight": [[[[1]]]], "bias": [-1e300]}, 422, "bias", "1000000"),
    "weight_text": ({"weight": [[[["one"]]]]}, 422, "weight", None),
    "rgb_with_one_kernel": ({"color": "rgb"}, 422, "weight", "3"),
    "gray_with_three_kernels": ({"weight": [[SOBEL_X] * 3]}, 422, "weight", "1"),
    "ragged_kernel_rows": ({"weight": [[[[1, 2], [3]]]]}, 422, "weight", None),
    "kernels_of_two_shapes": ({"weight": [[SOBEL_X], [[[1, 2]]]]}, 422, "weight", None),
    "bias_too_long": ({"bias": [0, 1]}, 422, "bias", "1"),
    "bias_empty": ({"bias": []}, 422, "bias", "1"),
    "unknown_image": ({"image": "moon"}, 422, "image", "scene"),
    "malformed_image": ({"image": "../etc/passwd"}, 422, "image", None),
    "image_name_too_long": ({"image": "a" * 65}, 422, "image", "64"),
    "unknown_upload": ({"image": "upload:0123456789abcdef"}, 404, "image", None),
    "size_1000": ({"size": 1000}, 422, "size", str(settings.max_image_side)),
    "size_3": ({"size": 3}, 422, "size", "4"),
    "color_unknown": ({"color": "hsv"}, 422, "color", "rgb"),
    "unknown_field": ({"kernel": [[1]]}, 422, "kernel", None),
}


@pytest.mark.parametrize("path", ["/api/conv/live", "/api/conv/trace"])
@pytest.mark.parametrize(("change", "status", "field", "limit"), BAD.values(), ids=BAD.keys())
def test_bad_request_is_refused_naming_field_and_limit(client, path, change, status, field, limit):
    assert_error(client.post(path, json={**OK, **change}), status, field, limit)


BAD_TRACE = {
    "filter_equal_to_count": ({"filter": 1}, "filter", "1"),
    "filter_of_three": ({"weight": [[SOBEL_X]] * 3, "filter": 5}, "filter", "3"),
    "filter_negative": ({"filter": -1}, "filter", "0"),
    "chunk_past_end": ({"chunk": 1}, "chunk", "36 steps"),
    "chunk_far_past_end": ({"chunk": 10**12}, "chunk", "36 steps"),
    "chunk_negative": ({"chunk": -1}, "chunk", "0"),
    "step_negative": ({"step": -1}, "step", "0"),
    "stages_text": ({"stages": "some"}, "stages", None),
}


@pytest.mark.parametrize(("change", "field", "limit"), BAD_TRACE.values(), ids=BAD_TRACE.keys())
def test_bad_trace_request_is_refused_naming_field_and_limit(client, change, field, limit):
    assert_error(client.post("/api/conv/trace", json={**OK, **change}), 422, field, limit)


BAD_JSON_TEXT = {
    "nan_weight": '{"image": "scene", "size": 8, "weight": [[[[NaN]]]]}',
    "infinite_weight": '{"image": "scene", "size": 8, "weight": [[[[Infinity]]]]}',
    "minus_infinite_bias": '{"image": "scene", "size": 8, "weight": [[[[1]]]], "bias": [-Infinity]}',
    "weight_overflowing_float": '{"image": "scene", "size": 8, "weight": [[[[1e999]]]]}',
}


@pytest.mark.parametrize("path", ["/api/conv/live", "/api/conv/trace"])
@pytest.mark.parametrize("text", BAD_JSON_TEXT.values(), ids=BAD_JSON_TEXT.keys())
def test_non_finite_numbers_are_refused(client, path, text):
    field = "bias" if "bias" in text else "weight"
    r = client.post(path, content=text, headers={"content-type": "application/json"})
    assert_error(r, 422, field, "finite")


@pytest.mark.parametrize("path", ["/api/conv/live", "/api/conv/trace"])
@pytest.mark.parametrize("text", ['{"image": "scene", "weight": ', "{'image': 'scene'}", "weight=1"])
def test_malformed_json_is_refused_as_a_body_error(client, path, text):
    r = client.post(path, content=text, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["message"].split(": ")[0] in ("body", "request")
    assert "JSON" in r.json()["message"]


@pytest.mark.parametrize("path", ["/api/conv/live", "/api/conv/trace"])
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_json_sent_as_another_content_type_is_refused_with_415(client, path, content_type):
    r = client.post(path, content=json.dumps(OK), headers={"content-type": content_type})
    assert r.status_code == 415, r.text
    assert "application/json" in r.json()["message"]


def test_oversized_json_with_content_length_is_refused_at_once(client):
    body = b" " * (4 * 1024 * 1024) + json.dumps(OK).encode()
    start = time.perf_counter()
    r = client.post("/api/conv/live", content=body, headers={"content-type": "application/json"})
    assert time.perf_counter() - start < 1
    assert_error(r, 413, "body", f"{settings.max_json_bytes:,}")


def test_oversized_json_without_content_length_is_refused_with_413(client):
    body = padded_json(2 * settings.max_json_bytes)
    r = client.post("/api/conv/trace", content=body, headers={"content-type": "application/json"})
    assert "content-length" not in r.request.headers
    assert_error(r, 413, "body", f"{settings.max_json_bytes:,}")


@pytest.mark.parametrize(("method", "path"), [("GET", "/api/conv/live"), ("POST", "/api/conv/nothing")])
def test_wrong_method_or_path_keeps_the_error_shape(client, method, path):
    r = client.request(method, path, json=OK)
    assert r.status_code in (404, 405)
    assert "message" in r.json()


# ---- refusals over the wire ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "status", "field", "limit"),
    [
        (json.dumps({**OK, "stride": 9}), 422, "stride", "8"),
        ('{"image": "scene", "size": 8, "weight": [[[[NaN]]]]}', 422, "weight", "finite"),
        (json.dumps({**OK, "image": "upload:ffffffffffffffff"}), 404, "image", None),
        (json.dumps({**OK, "weight": [[[[1] * 8] * 8]]}), 422, "weight", "7"),
        (json.dumps({**OK, "padding": "same", "stride": 2}), 422, "padding", "stride"),
    ],
    ids=["stride_9", "nan", "unknown_upload", "kernel_side_8", "same_strided"],
)
def test_real_server_refuses_bad_requests(http, content, status, field, limit):
    r = http.post("/api/conv/live", content=content, headers={"content-type": "application/json"})
    assert_error(r, status, field, limit)


def test_real_server_refuses_malformed_json_as_a_body_error(http):
    r = http.post("/api/conv/trace", content="{bad", headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["message"].split(": ")[0] in ("body", "request")


def test_real_server_refuses_oversized_json_with_content_length_at_once(http):
    body = b" " * (4 * 1024 * 1024) + json.dumps(OK).encode()
    start = time.perf_counter()
    r = http.post("/api/conv/live", content=body, headers={"content-type": "application/json"})
    assert time.perf_counter() - start < 2
    assert_error(r, 413, "body", f"{settings.max_json_bytes:,}")


def test_real_server_refuses_oversized_chunked_json_with_413(http):
    start = time.perf_counter()
    r = http.post(
        "/api/conv/live", content=padded_json(4 * 1024 * 1024), headers={"content-type": "application/json"}
    )
    assert time.perf_counter() - start < 2
    assert r.request.headers.get("transfer-encoding") == "chunked"
    assert_error(r, 413, "body", f"{settings.max_json_bytes:,}")


@pytest.mark.parametrize(
    ("changes", "line"),
    [
        ({}, "nn.Conv2d(1, 1, kernel_size=3, padding='same', bias=False)"),
        (
            {
                "color": "rgb",
                "weight": [[[[1, 2]]] * 3] * 4,
                "bias": [0] * 4,
                "stride": [2, 1],
                "padding": [1, 0],
                "dilation": 2,
                "padding_mode": "reflect",
            },
            "nn.Conv2d(3, 4, kernel_size=(1, 2), stride=(2, 1), padding=(1, 0), dilation=2, "
            "padding_mode='reflect')",
        ),
    ],
)
def test_trace_gives_the_equivalent_pytorch_line(client, changes, line):
    req = {"image": "seed002_matrix", "weight": [[SOBEL_X]], "padding": "same", **changes}
    assert client.post("/api/conv/trace", json=req).json()["torch"] == line
