"""A chunk of steps is bounded by the numbers it carries (`trace_chunk_values`) as well as by its steps
(`trace_chunk_steps`): a wide kernel's chunk has fewer steps, a small one's keeps them all."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from layerlab.app.config import Settings, settings
from layerlab.app.main import create_app
from layerlab.engine.conv import conv2d
from layerlab.engine.linear import linear
from layerlab.engine.trace import chunk_length
from tests.app.helpers import assert_error

TIGHT = Settings(trace_chunk_values=1000)


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app()) as c:
        yield c


def _conv(side: int, color: str = "gray", size: int = 64, **more) -> dict:
    rng = np.random.default_rng(side)
    channels = 3 if color == "rgb" else 1
    weight = rng.standard_normal((1, channels, side, side)).round(2).tolist()
    return {"image": "scene", "size": size, "color": color, "weight": weight, "padding": side // 2, **more}


def _numbers(steps: dict) -> int:
    return sum(np.asarray(column).size for column in steps.values())


def test_chunk_length_bounds_steps_and_numbers_and_keeps_at_least_one_step():
    rng = np.random.default_rng(0)
    small = conv2d(rng.random((1, 1, 8, 8)), rng.random((1, 1, 3, 3)))
    assert small.values_per_step == 33  # index 4, origin 2, rows 3, cols 3, window 9, products 9, 3 sums
    assert chunk_length(small, 1024, 10_000) == 10_000 // 33
    assert chunk_length(small, 16, 10_000) == 16
    assert chunk_length(small, 1024, 5) == 1
    wide = linear(rng.random((2, 512)), rng.random((4, 512)))  # 1,543 numbers a step
    limit = settings.trace_chunk_values
    assert chunk_length(wide, 1024, limit) == limit // 1543 < 1024


def test_a_wide_conv_chunk_stays_within_its_numbers_and_pages_through_every_step(client):
    req = _conv(7, "rgb")
    first = client.post("/api/conv/trace", json=req).json()
    length, total = first["chunk_steps"], first["num_steps"]
    per_step = 4 + 2 + 7 + 7 + 2 * 3 * 7 * 7 + 3  # index, origin, rows, cols, window, products, 3 sums
    assert length == settings.trace_chunk_values // per_step < settings.trace_chunk_steps
    assert len(first["steps"]["result"]) == length
    assert _numbers(first["steps"]) <= settings.trace_chunk_values
    last = (total - 1) // length
    tail = client.post("/api/conv/trace", json={**req, "chunk": last, "stages": False}).json()
    assert (tail["step_offset"], len(tail["steps"]["result"])) == (last * length, total - last * length)
    by_step = client.post("/api/conv/trace", json={**req, "step": length + 3, "stages": False}).json()
    assert (by_step["chunk"], by_step["step_offset"], by_step["chunk_steps"]) == (1, length, length)
    assert_error(
        client.post("/api/conv/trace", json={**req, "chunk": last + 1}), 422, "chunk", f"{length} per chunk"
    )


@pytest.mark.parametrize("color", ["gray", "rgb"])
def test_a_3x3_conv_keeps_its_chunk_of_trace_chunk_steps(client, color):
    body = client.post("/api/conv/trace", json=_conv(3, color)).json()
    assert body["chunk_steps"] == len(body["steps"]["result"]) == settings.trace_chunk_steps


def test_the_app_in_effect_sets_the_bound_for_conv_and_pool_chunks():
    with TestClient(create_app(TIGHT)) as tight:
        conv = tight.post("/api/conv/trace", json=_conv(3)).json()
        assert conv["chunk_steps"] == 1000 // 33
        bins = {"kind": "adaptive_avg", "output_size": 2, "source": "image", "size": 64}
        pool = tight.post("/api/pool/trace", json=bins).json()
        assert pool["chunk_steps"] == 1  # one 32x32 bin carries over 2,000 numbers (its cells and mask)
        assert len(pool["steps"]["result"]) == 1
