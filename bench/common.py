"""Shared by every benchmark: timing, summaries, targets and tables."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Timing:
    median_ms: float  # the figure we compare: robust to the odd slow run
    p95_ms: float  # the slow tail, for things a person waits on
    n: int  # timed repeats (warmup excluded)


def summarize(samples_ms: list[float]) -> Timing:
    """Median and 95th percentile (linear interpolation) of samples in milliseconds."""
    a = np.asarray(samples_ms, dtype=np.float64)
    return Timing(float(np.median(a)), float(np.percentile(a, 95)), len(a))


def measure(fn: Callable[[], object], repeats: int, warmup: int = 3) -> Timing:
    """Call fn `warmup` times untimed, then `repeats` times, each timed with perf_counter."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e3)
    return summarize(samples)


@dataclass(frozen=True)
class Target:
    name: str
    value: float
    limit: float  # met when value <= limit
    unit: str  # "x", "ms" or "KB"

    @property
    def met(self) -> bool:
        return self.value <= self.limit

    def describe(self) -> str:
        mark = "met    " if self.met else "NOT met"
        limit = f"{self.limit:g}x" if self.unit == "x" else f"{self.limit:g} {self.unit}"
        return f"{mark}  {self.name}: {fmt(self.value, self.unit)} (target <= {limit})"


@dataclass
class Section:
    """One benchmark's result: a table to print, targets to check, and data for latest.json."""

    title: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def render(self) -> str:
        widths = [max(len(str(c)) for c in col) for col in zip(self.headers, *self.rows, strict=True)]

        def line(cells: list[str]) -> str:
            return "  ".join(str(c).rjust(w) for c, w in zip(cells, widths, strict=True))

        out = [self.title, line(self.headers), line(["-" * w for w in widths])]
        out += [line(r) for r in self.rows]
        out += [f"  {n}" for n in self.notes]
        return "\n".join(out)


def fmt(value: float, unit: str) -> str:
    """A figure with its unit, to a sensible number of digits."""
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "KB":
        return f"{value:.1f} KB"
    if unit == "MB":
        return f"{value:.0f} MB"
    return f"{value:.3f} ms" if value < 1 else f"{value:.2f} ms" if value < 100 else f"{value:.0f} ms"


def ms(value: float) -> str:
    return fmt(value, "ms").removesuffix(" ms")


def ratio(value: float) -> str:
    return fmt(value, "x")
