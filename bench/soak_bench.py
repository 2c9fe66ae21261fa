"""Soak: mixed endpoints at 1,000 requests/s for minutes against the production command; zero errors,
and the workers' resident memory (VmRSS, every 10 s) may grow less than 10% from the first minute to the end.

`python -m bench --only soak` runs 10 minutes (the figure to quote); `--minutes N` changes it.
"""

from __future__ import annotations

import itertools
import json
import os

import numpy as np

from bench.api_bench import conv_body
from bench.common import Section, Target, ms
from bench.load_bench import INTERVAL_S, Req, drive, production_server

RATE = 1000  # requests/s: 200 students x one request / 200 ms
GROWTH_TARGET = 10.0  # percent
SAMPLE_S = 10


def mixed_requests():
    """Round-robin over what the pages send: live conv (twice as often: it is the live path), a pooling
    trace, normalization, attention, kernel presets and the image listing; fresh values where there are
    values, so nothing repeats exactly."""
    for i in itertools.count():
        x = i * 1e-4
        yield Req("conv live", "POST", "/api/conv/live", json.dumps(conv_body(64, 8 + x)).encode())
        yield Req(
            "pool trace", "POST", "/api/pool/trace", json.dumps({"image": "scene", "size": 16}).encode()
        )
        yield Req("conv live", "POST", "/api/conv/live", json.dumps(conv_body(64, 8 - x)).encode())
        body = {"kind": ("batch", "layer", "instance", "group")[i % 4], "num_groups": 2}
        yield Req("norm apply", "POST", "/api/norm/apply", json.dumps(body).encode())
        body = {"sentence": "the bank by the river", "temperature": 1 + (i % 50) / 100}
        yield Req("attention", "POST", "/api/attention", json.dumps(body).encode())
        yield Req("kernels", "GET", "/api/kernels")
        yield Req("images", "GET", "/api/images")


def vm_rss_kb(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def run(quick: bool, minutes: float | None = None) -> Section:
    minutes = minutes if minutes is not None else (1.0 if quick else 10.0)
    seconds = minutes * 60
    students = round(RATE * INTERVAL_S)
    samples: list[dict] = []
    with production_server() as (port, pids):
        workers = pids[1:]
        mixed = mixed_requests()

        def sample(elapsed: float) -> None:
            if not samples or elapsed - samples[-1]["t"] >= SAMPLE_S:
                samples.append({"t": round(elapsed), "rss_kb": [vm_rss_kb(p) for p in workers]})

        sample(0.0)
        result = drive("soak", port, pids, lambda: next(mixed), students, seconds, on_tick=sample)
        samples.append({"t": round(seconds), "rss_kb": [vm_rss_kb(p) for p in workers]})

    # the first minute's level (the last sample inside it; the whole run if it is shorter)
    first = [s for s in samples if s["t"] <= 60][-1]
    last = samples[-1]
    growth = [100 * (b - a) / a for a, b in zip(first["rss_kb"], last["rss_kb"], strict=True)]
    worst = max(growth)
    section = Section(
        title=f"Soak: mixed endpoints, {RATE}/s for {minutes:g} min, uvicorn --workers {len(workers)}",
        headers=["endpoint", "requests", "p50", "p95", "p99"],
        data={
            "minutes": minutes,
            "offered_rps": RATE,
            **result.summary(),
            "rss_samples": samples,
            "rss_growth_percent": growth,
        },
    )
    for name, values in sorted(result.by_name.items()):
        section.rows.append(
            [name, str(len(values)), *(ms(float(np.percentile(values, q))) for q in (50, 95, 99))]
        )
    section.rows.append(["all", str(len(result.latencies_ms)), *(ms(result.pct(q)) for q in (50, 95, 99))])
    mb = [[round(v / 1024, 1) for v in s["rss_kb"]] for s in (samples[0], first, last)]
    section.notes += [
        f"achieved {result.achieved_rps:.0f} requests/s, {len(result.errors)} errors, "
        f"{result.unsent} still due "
        "and never sent (the server behind the offered rate)"
        + (f" (first: {result.errors[0]})" if result.errors else ""),
        f"worker VmRSS in MB at start {mb[0]}, after the first minute (t={first['t']} s) {mb[1]}, "
        f"at the end {mb[2]}: growth {', '.join(f'{g:+.1f}%' for g in growth)}",
        f"CPU: server {result.server_cpu:.2f} cores, generator {result.generator_cpu:.2f} cores "
        f"of {os.cpu_count()}",
    ]
    if minutes < 10:
        section.notes.append("a short run: `python -m bench --only soak` (10 minutes) is the figure to quote")
    # errors fail the target whatever the memory did
    growth_ratio = 1 + worst / 100 if not (result.errors or result.unsent) else float("inf")
    name = f"soak worker VmRSS, end over first minute ({len(result.errors)} errors, {result.unsent} unsent)"
    section.targets.append(Target(name, growth_ratio, 1 + GROWTH_TARGET / 100, "x"))
    return section
