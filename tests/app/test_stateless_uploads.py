"""An upload made through one worker is used through another: two apps, each with its own upload store,
stand for two workers (or machines) behind a load balancer with nothing sticky."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient

from layerlab.app.main import create_app
from tests.app.helpers import assert_error, encode, halves, live_maps

LIVE = {"size": 16, "color": "rgb", "weight": [[[[1]], [[0]], [[0]]]]}  # the red plane


@pytest.fixture
def workers() -> Iterator[tuple[TestClient, TestClient]]:
    with TestClient(create_app()) as a, TestClient(create_app()) as b:
        yield a, b


def upload(client: TestClient, data: bytes):
    r = client.post("/api/images", files={"file": ("halves.png", data, "image/png")})
    assert r.status_code == 201, r.text
    return r.json()


def test_an_upload_made_through_one_worker_is_used_through_another(workers):
    a, b = workers
    data = encode(halves(40, 20), "PNG")
    image_id = upload(a, data)["id"]
    on_a = live_maps(a.post("/api/conv/live", json={**LIVE, "image": image_id}))
    # B has never seen it: a 404 that says so in a machine-readable way, naming the field
    r = b.post("/api/conv/live", json={**LIVE, "image": image_id})
    assert_error(r, 404, "image", "upload the image again")
    assert r.json()["detail"][0]["type"] == "unknown_upload"
    assert image_id in r.json()["message"]
    # the page sends the same file to B: the same id, and the same maps as A's
    assert upload(b, data)["id"] == image_id
    np.testing.assert_array_equal(live_maps(b.post("/api/conv/live", json={**LIVE, "image": image_id})), on_a)
    assert on_a[0, 0, :, :7].min() == 1 and on_a[0, 0, :, 9:].max() == 0  # red left half, blue right


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/conv/trace", {"weight": [[[[1]]]]}),
        ("/api/pool/trace", {"source": "image"}),
        ("/api/network/forward", {"source": "image"}),
    ],
)
def test_every_request_naming_an_unknown_upload_says_so_the_same_way(client, path, body):
    r = client.post(path, json={**body, "image": "upload:0123456789abcdef"})
    assert_error(r, 404, "image")
    assert r.json()["detail"][0]["type"] == "unknown_upload"


def test_the_same_file_has_the_same_id_everywhere_and_another_file_another(workers):
    a, b = workers
    left, right = encode(halves(40, 20), "PNG"), encode(halves(42, 20), "PNG")
    assert upload(a, left)["id"] == upload(b, left)["id"] != upload(a, right)["id"]
