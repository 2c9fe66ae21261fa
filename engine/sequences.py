"""The recurrent page's generated inputs: a sine to follow and a step to remember."""

from __future__ import annotations

import numpy as np

from layerlab.engine.errors import ArgumentError

SOURCES = ("sine", "step")


def signal(source: str, length: int, period: float = 8.0) -> np.ndarray:
    """(T,) sin(2πt / period) for "sine"; for "step" 0 before t = T // 2 and 1 from there."""
    if source not in SOURCES:
        raise ArgumentError("source", f"must be one of {', '.join(SOURCES)}, got {source!r}")
    t = np.arange(length)
    if source == "sine":
        return np.sin(2 * np.pi * t / period)
    return (t >= length // 2).astype(float)
