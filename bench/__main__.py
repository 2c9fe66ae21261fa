"""`python -m bench [--quick] [--only PART] [--minutes N]`: time Layerlab, print tables, save JSON."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime

import numpy as np

from bench import (
    api_bench,
    browser_bench,
    engine_bench,
    families_bench,
    family_bench,
    latency_bench,
    load_bench,
    memory_bench,
    model_bench,
    networks_bench,
    pages_bench,
    soak_bench,
    tinylm_bench,
    trace_bench,
)
from bench.common import ROOT, Section
from layerlab.app.devserver import app_server
from layerlab.app.memory import keep_freed_memory

RESULTS = ROOT / "bench" / "results" / "latest.json"
PARTS = ("engine", "family", "families", "api", "browser", "pages", "networks")  # the default run
# load the machine for minutes and start their own production server: only with --only
HEAVY_PARTS = ("load", "soak", "memory")
ONLY_PARTS = (
    "latency",
    "trace",
    "tinylm",
    "model",
)  # parts of their own, run only when asked: `--only latency`


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="few repeats: a smoke run, not figures to quote")
    parser.add_argument(
        "--only",
        choices=PARTS + HEAVY_PARTS + ONLY_PARTS,
        help="run one part only (load, soak, latency: only so)",
    )
    parser.add_argument("--minutes", type=float, help="soak length (default 10; 1 with --quick)")
    parser.add_argument(
        "--default-malloc",
        action="store_true",
        help="time the engine with glibc's default thresholds, not the server's (app/memory.py)",
    )
    args = parser.parse_args(argv)
    parts = [args.only] if args.only else list(PARTS)
    # the engine parts run in this process: give it the allocator settings the server runs with
    tuned = False if args.default_malloc else keep_freed_memory()

    started, t0 = datetime.now(UTC), time.perf_counter()
    load_before = os.getloadavg()
    cores = os.cpu_count() or 1
    print(f"Layerlab bench ({'quick' if args.quick else 'full'} run: {', '.join(parts)}) on {cores} cores")
    print("  allocator: " + ("the server's thresholds (app/memory.py)" if tuned else "glibc defaults"))
    if load_before[0] > cores / 2:
        print(f"  warning: load average {load_before[0]:.1f} at start: other work is running, expect noise")
    print()

    sections: dict[str, Section] = {}
    with ExitStack() as stack:
        server = (
            stack.enter_context(app_server())
            if {"api", "browser", "pages", "networks", "latency"} & set(parts)
            else None
        )
        for part in parts:
            if part == "engine":
                section = engine_bench.run(args.quick)
            elif part == "family":
                section = family_bench.run(args.quick)
            elif part == "families":
                section = families_bench.run(args.quick)
            elif part == "api":
                section = api_bench.run(args.quick, server)
            elif part == "networks":
                section = networks_bench.run(args.quick, server)
            elif part == "pages":
                section = pages_bench.run(args.quick, server)
            elif part == "load":
                section = load_bench.run(args.quick)
            elif part == "latency":
                section = latency_bench.run(args.quick, server)
            elif part == "memory":
                section = memory_bench.run(args.quick)
            elif part == "soak":
                section = soak_bench.run(args.quick, args.minutes)
            elif part == "trace":
                section = trace_bench.run(args.quick)
            elif part == "tinylm":
                section = tinylm_bench.run(args.quick)
            elif part == "model":
                section = model_bench.run(args.quick)
            else:
                section = browser_bench.run(args.quick, server)
            sections[part] = section
            print(section.render(), end="\n\n", flush=True)

    targets = [t for s in sections.values() for t in s.targets]
    met = sum(t.met for t in targets)
    print(f"Targets: {met} of {len(targets)} met" if targets else "Targets: none in this part")
    for t in targets:
        print("  " + t.describe())

    duration = time.perf_counter() - t0
    result = {
        "meta": {
            "started": started.isoformat(timespec="seconds"),
            "duration_s": round(duration, 1),
            "quick": args.quick,
            "parts": parts,
            "commit": _git_commit(),
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "platform": platform.platform(),
            "cores": cores,
            "server_allocator_settings": tuned,
            "load_average_before": load_before,
            "load_average_after": os.getloadavg(),
        },
        "targets": [{**t.__dict__, "met": t.met} for t in targets],
        **{part: s.data for part, s in sections.items()},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    print(f"\n{duration:.0f} s; results in {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
