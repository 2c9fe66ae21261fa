"""API: round trips to the real server over one keep-alive connection, against GET /api/kernels."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator

import httpx

from bench.common import Section, Timing, measure, ms, ratio, summarize
from bench.engine_bench import EDGE

LIVE_SIZES = (64, 256)
TRACE_SIZE = 64  # 64x64 = 4096 steps: chunk 0 is the whole trace


def conv_body(size: int, centre: float) -> dict:
    """What the page posts for image "scene", gray, one 3x3 kernel, padding 1."""
    kernel = [row[:] for row in EDGE]
    kernel[1][1] = centre
    return {
        "image": "scene",
        "size": size,
        "color": "gray",
        "weight": [[kernel]],
        "bias": [0],
        "padding": [1, 1],
    }


def trace_body(size: int, centre: float) -> dict:
    """The page's first trace request: chunk 0 of filter 0, with the stages."""
    return {**conv_body(size, centre), "filter": 0, "chunk": 0, "stages": True}


def live_beside_trace(server: str, size: int, repeats: int, centres: Iterator[float]) -> Timing:
    """Live round trip while the same edit's trace request runs too, as the page sends both at once.

    Only the live request is timed; the first pair is a warmup.
    """
    samples, errors = [], []

    def fetch_trace(client: httpx.Client, body: dict) -> None:
        try:
            client.post("/api/conv/trace", json=body).raise_for_status()
        except httpx.HTTPError as exc:
            errors.append(exc)

    with (
        httpx.Client(base_url=server, timeout=30) as live,
        httpx.Client(base_url=server, timeout=30) as other,
    ):
        for i in range(repeats + 1):
            centre = next(centres)
            thread = threading.Thread(target=fetch_trace, args=(other, trace_body(size, centre)))
            thread.start()
            start = time.perf_counter()
            live.post("/api/conv/live", json=conv_body(size, centre)).raise_for_status()
            elapsed = (time.perf_counter() - start) * 1e3
            thread.join()
            if i:
                samples.append(elapsed)
    if errors:
        raise errors[0]
    return summarize(samples)


def run(quick: bool, server: str) -> Section:
    repeats, trace_repeats = (10, 3) if quick else (100, 15)
    # a fresh kernel value on every request, so no layer anywhere can answer from a cache
    centres = (8 + i * 1e-3 for i in itertools.count())
    timings: dict[str, Timing] = {}
    received: dict[str, int] = {}
    with httpx.Client(base_url=server, timeout=30) as client:

        def timed(name: str, n: int, method: str, url: str, body: Callable[[], dict] | None = None) -> None:
            def call() -> None:
                r = client.request(method, url, json=body() if body else None)
                r.raise_for_status()
                received[name] = r.num_bytes_downloaded

            timings[name] = measure(call, n, warmup=3 if n > 5 else 1)

        baseline = "GET /api/kernels"
        timed(baseline, repeats, "GET", "/api/kernels")
        for s in LIVE_SIZES:
            body = lambda s=s: conv_body(s, next(centres))  # noqa: E731
            timed(f"POST /api/conv/live {s}x{s}", repeats, "POST", "/api/conv/live", body)
        body = lambda: trace_body(TRACE_SIZE, next(centres))  # noqa: E731
        timed(
            f"POST /api/conv/trace {TRACE_SIZE}x{TRACE_SIZE} chunk 0",
            trace_repeats,
            "POST",
            "/api/conv/trace",
            body,
        )
    for s in LIVE_SIZES:
        name = f"POST /api/conv/live {s}x{s} beside its trace"
        timings[name] = live_beside_trace(server, s, trace_repeats, centres)
        received[name] = received[f"POST /api/conv/live {s}x{s}"]
    section = Section(
        title=f"API: round trips on keep-alive connections ({repeats} requests, trace {trace_repeats})",
        headers=["request", "median ms", "p95 ms", "median/baseline", "bytes received"],
        data={"repeats": repeats, "trace_repeats": trace_repeats, "baseline": baseline},
    )
    for name, t in timings.items():
        over = t.median_ms / timings[baseline].median_ms
        section.rows.append([name, ms(t.median_ms), ms(t.p95_ms), ratio(over), f"{received[name]:,}"])
        section.data[name] = {**t.__dict__, "over_baseline": over, "bytes": received[name]}
    section.notes.append(
        "baseline: GET /api/kernels in the same run; bytes as received (gzip where the app sends it)"
    )
    section.notes.append(
        "beside its trace: the live request timed while the trace request for the same edit "
        "(chunk 0 with stages) runs on the server: the worst case, since the page asks for the trace only "
        "once edits pause for 120 ms"
    )
    return section
