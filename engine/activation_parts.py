"""What the activations page reads off a trace: where the gradient vanishes, and when a unit died."""

from __future__ import annotations

import numpy as np


def saturated(grad: np.ndarray, threshold: float) -> np.ndarray:
    """bool, same shape as grad: True where |f'(x)| < threshold (too little gradient flows back)."""
    return np.abs(grad) < threshold


def first_step(flags: np.ndarray) -> np.ndarray:
    """(U,) the first step s with flags[s, u] True, or -1 for a unit never flagged; flags (S, U) bool."""
    return np.where(flags.any(axis=0), flags.argmax(axis=0), -1)


def gradient_flow(grad: np.ndarray, threshold: float) -> dict[str, float]:
    """The share of positions where too little gradient flows back: "saturated_fraction" (|f'| below
    threshold) and "zero_fraction" (f' exactly 0, a dead ReLU's region); 0 for an empty grad."""
    grad = np.asarray(grad)
    if grad.size == 0:
        return {"saturated_fraction": 0.0, "zero_fraction": 0.0}
    return {
        "saturated_fraction": float(saturated(grad, threshold).mean()),
        "zero_fraction": float((grad == 0).mean()),
    }


def tempered(z: np.ndarray, temperature: float) -> np.ndarray:
    """z / T, the logits softmax reads at temperature T (T > 0: below 1 sharpens, above 1 flattens)."""
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    return np.asarray(z, dtype=np.float64) / temperature
