"""Small measures the pages print beside a trace: how far two arrays are apart, and where an
array is largest in magnitude."""

from __future__ import annotations

import numpy as np


def max_abs_difference(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| over every element (a and b broadcast: b = a[:, :1] compares each row with its first)."""
    difference = np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))
    return float(difference.max()) if difference.size else 0.0


def strongest(values: np.ndarray) -> tuple[int, ...]:
    """The index of the element largest in magnitude (the first such in C order)."""
    values = np.asarray(values)
    return tuple(int(i) for i in np.unravel_index(np.abs(values).argmax(), values.shape))
