"""What the activations page reads off a trace: where the gradient vanishes, and when a unit died."""

from __future__ import annotations

import numpy as np


def saturated(grad: np.ndarray, threshold: float) -> np.ndarray:
    """bool, same shape as grad: True where |f'(x)| < threshold (too little gradient flows back)."""
    return np.abs(grad) < threshold


def first_step(flags: np.ndarray) -> np.ndarray:
    """(U,) the first step s with flags[s, u] True, or -1 for a unit never flagged; flags (S, U) bool."""
    return np.where(flags.any(axis=0), flags.argmax(axis=0), -1)
