"""The live WebSocket /api/conv/live/ws: the maps POST /api/conv/live gives, refusals naming the field."""

from __future__ import annotations

import json

import numpy as np
import pytest
from starlette.websockets import WebSocketDisconnect

from layerlab.app.config import settings
from layerlab.app.pages.conv.request import LIVE_HEADER
from tests.app.helpers import PREWITT, assert_error, error_field, header_floats, live_maps

SOBEL_X = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
# a small request (computed on the event loop) and a large one (computed as a job in a worker thread)
SMALL = {"image": "scene", "size": 64, "weight": [[SOBEL_X]], "padding": 1, "relu": True}
LARGE = {
    "image": "scene",
    "size": 256,
    "color": "rgb",
    "weight": [[SOBEL_X] * 3, [[[0, 1, 0], [1, -4, 1], [0, 1, 0]]] * 3],
    "bias": [0.5, -1],
    "padding": 2,
    "dilation": 2,
}


def read_frame(frame: bytes) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """(seq, each map's minimum, maximum, maps (layers, F, OH, OW)) of one binary answer."""
    seq, *shape = LIVE_HEADER.unpack_from(frame)
    n = shape[0] * shape[1]
    floats = np.frombuffer(frame, dtype="<f4", offset=LIVE_HEADER.size)
    return seq, floats[:n], floats[n : 2 * n], floats[2 * n :].reshape(shape)


@pytest.mark.parametrize("req", [SMALL, LARGE, PREWITT], ids=["small", "large", "prewitt"])
def test_socket_answers_the_same_maps_and_ranges_as_post(client, req):
    post = client.post("/api/conv/live", json=req)
    with client.websocket_connect("/api/conv/live/ws") as ws:
        ws.send_text(json.dumps({**req, "seq": 41}))
        seq, lo, hi, maps = read_frame(ws.receive_bytes())
    assert seq == 41
    np.testing.assert_array_equal(maps, live_maps(post))  # both float32 of the same computation
    np.testing.assert_allclose(lo, header_floats(post, "x-min"), rtol=1e-5)
    np.testing.assert_allclose(hi, header_floats(post, "x-max"), rtol=1e-5)
    np.testing.assert_array_equal(lo, maps.min(axis=(2, 3)).ravel())
    np.testing.assert_array_equal(hi, maps.max(axis=(2, 3)).ravel())


def test_refused_edits_name_the_field_and_the_socket_stays_open(client):
    cases = [
        ({**SMALL, "stride": 99}, "stride", "stride"),
        ({**SMALL, "weight": [[[[1, 2], [3]]]]}, "weight", None),
        ({**SMALL, "padding": [4, 4], "padding_mode": "reflect", "size": 4}, "padding", None),
        ({**SMALL, "kernel": 1}, "kernel", None),
    ]
    with client.websocket_connect("/api/conv/live/ws") as ws:
        for seq, (req, field, word) in enumerate(cases):
            ws.send_text(json.dumps({**req, "seq": seq}))
            answer = json.loads(ws.receive_text())
            post = client.post("/api/conv/live", json=req)
            assert_error(post, answer["status"], field)
            assert answer["seq"] == seq
            assert error_field(answer) == error_field(post.json()), (answer, post.json())
            assert answer["message"] == post.json()["message"]
            if word:
                assert word in answer["message"]
        ws.send_text(json.dumps({**SMALL, "seq": "one"}))
        answer = json.loads(ws.receive_text())
        assert (answer["status"], error_field(answer), answer["seq"]) == (422, "seq", None)
        ws.send_text("{not json")
        assert error_field(json.loads(ws.receive_text())) == "body"
        ws.send_text(json.dumps({**SMALL, "seq": 7}))  # still answering after every refusal
        assert read_frame(ws.receive_bytes())[0] == 7


def test_oversize_message_is_refused_and_the_socket_closed(client):
    limit = settings.max_socket_message_bytes
    with client.websocket_connect("/api/conv/live/ws") as ws:
        ws.send_text(json.dumps({**SMALL, "seq": 1, "pad": " " * limit}))
        answer = json.loads(ws.receive_text())
        assert (answer["status"], error_field(answer)) == (413, "body")
        assert f"{limit:,} byte limit" in answer["message"]
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert closed.value.code == 1009
