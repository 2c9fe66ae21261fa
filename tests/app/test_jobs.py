"""Heavy requests run as bounded jobs: past the bounds a 503 with Retry-After, and cheap requests are
answered while the jobs compute; large bodies are compressed off the event loop."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator

import pytest
from fastapi import FastAPI, Response
from fastapi.testclient import TestClient

from layerlab.app import compress
from layerlab.app.config import settings
from layerlab.app.jobs import heavy
from layerlab.app.main import create_app
from layerlab.app.serialize import NumpyJSONResponse


def holding_app(**limits: float) -> tuple[FastAPI, threading.Event, threading.Event]:
    """An app with these job limits and a test-only heavy route that holds its slot until `release` is
    set (`started` is set once it computes)."""
    app = create_app(dataclasses.replace(settings, **limits))
    started, release = threading.Event(), threading.Event()

    @app.post("/test-only/hold")
    @heavy
    def hold() -> NumpyJSONResponse:
        started.set()
        release.wait(10)
        return NumpyJSONResponse({"held": threading.current_thread() is not threading.main_thread()})

    return app, started, release


@pytest.fixture
def blocked() -> Iterator[tuple[TestClient, threading.Event, threading.Event]]:
    """One job slot and no queue."""
    app, started, release = holding_app(max_jobs=1, max_jobs_waiting=0)
    with TestClient(app) as client:
        yield client, started, release
    release.set()


def test_a_full_job_limiter_answers_503_with_retry_after_naming_the_server(blocked):
    client, started, release = blocked
    first: list = []
    holder = threading.Thread(target=lambda: first.append(client.post("/test-only/hold")))
    holder.start()
    assert started.wait(10)
    r = client.post("/test-only/hold")
    assert r.status_code == 503
    assert int(r.headers["retry-after"]) >= 1
    assert r.json()["message"].startswith("server: busy")
    assert r.json()["detail"][0]["loc"] == ["server"]
    assert "nosniff" in r.headers["x-content-type-options"]
    # a real heavy endpoint is refused the same way while the slot is taken
    assert client.post("/api/norm/apply", json={}).status_code == 503
    release.set()
    holder.join(10)
    assert first[0].status_code == 200 and first[0].json() == {"held": True}
    assert client.post("/api/norm/apply", json={}).status_code == 200  # the slot came back


def test_cheap_requests_are_answered_while_heavy_jobs_run(blocked):
    client, started, release = blocked
    holder = threading.Thread(target=lambda: client.post("/test-only/hold"))
    holder.start()
    assert started.wait(10)
    assert client.get("/api/kernels").status_code == 200  # the job's thread does not hold the event loop
    assert client.get("/conv").status_code == 200
    assert client.post("/api/dense/point", json={}).status_code == 200  # light POSTs are not jobs
    assert not release.is_set()
    release.set()
    holder.join(10)


def test_a_waiting_job_gets_a_503_after_the_wait_bound():
    app, started, release = holding_app(max_jobs=1, max_jobs_waiting=1, max_job_wait=0.2)
    with TestClient(app) as client:
        holder = threading.Thread(target=lambda: client.post("/test-only/hold"))
        holder.start()
        assert started.wait(10)
        r = client.post("/test-only/hold")  # queued, then refused once the wait bound passes
        release.set()
        holder.join(10)
    assert r.status_code == 503
    assert "0.2 s" in r.json()["message"]


def test_large_bodies_are_gzipped_off_the_event_loop_and_small_ones_on_it(monkeypatch):
    app = create_app()
    loop_thread: list[threading.Thread] = []
    compressed_in: dict[int, threading.Thread] = {}
    compressobj = compress.zlib.compressobj

    class Recording:
        def __init__(self, *args: object) -> None:
            self.inner = compressobj(*args)

        def compress(self, data: bytes) -> bytes:
            compressed_in[len(data)] = threading.current_thread()
            return self.inner.compress(data)

        def flush(self, mode: int) -> bytes:
            return self.inner.flush(mode)

    monkeypatch.setattr(compress.zlib, "compressobj", Recording)

    @app.get("/test-only/text/{size}")
    async def text(size: int) -> Response:
        loop_thread.append(threading.current_thread())
        return Response(b"layerlab " * (size // 9), media_type="text/plain")

    small, large = 4 * 1024, 4 * settings.compress_inline_bytes
    with TestClient(app) as client:
        for size in (small, large):
            r = client.get(f"/test-only/text/{size}", headers={"accept-encoding": "gzip"})
            assert r.headers["content-encoding"] == "gzip" and len(r.content) == size // 9 * 9
    assert compressed_in[small // 9 * 9] is loop_thread[0]
    assert compressed_in[large // 9 * 9] is not loop_thread[0]
