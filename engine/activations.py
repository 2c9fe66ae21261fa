"""Activation functions, as in torch.nn.functional (seed 001 describes them)."""

from __future__ import annotations

import numpy as np

from engine.trace import Trace


def relu(input: np.ndarray, inplace: bool = False) -> Trace:
    """max(0, x) element-wise; input : ndarray of any shape. `inplace` is accepted for torch parity."""
    x = np.asarray(input, dtype=np.float64)
    return Trace("relu", {"inplace": inplace}, np.maximum(x, 0.0), {"input": x})
