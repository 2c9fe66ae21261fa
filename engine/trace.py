"""The trace: an operation's output plus the record of how it was computed.

Every engine operation returns a `Trace`. Per-step data is columnar: `steps`
maps a field name to one array whose first axis is the step number, so a
trace of 50 000 windows is a handful of arrays, not 50 000 small dicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Trace:
    op: str  # the torch.nn.functional name, e.g. "conv2d"
    params: dict[str, Any]  # the call's arguments, normalised (tuples, resolved padding) plus derived sizes
    output: np.ndarray  # exactly what the torch function returns
    stages: dict[str, np.ndarray] = field(default_factory=dict)  # named intermediates, e.g. "padded"
    steps: dict[str, np.ndarray] = field(default_factory=dict)  # field -> array of shape (S, ...)

    @property
    def num_steps(self) -> int:
        """Number of recorded steps (0 when the trace holds no step record)."""
        return len(next(iter(self.steps.values()))) if self.steps else 0

    def step(self, i: int) -> dict[str, np.ndarray]:
        """One step's fields, for tests and debugging."""
        return {name: column[i] for name, column in self.steps.items()}

    def select_steps(self, index: slice | np.ndarray) -> Trace:
        """A copy of this trace keeping only the steps picked by `index`."""
        steps = {name: column[index] for name, column in self.steps.items()}
        return Trace(self.op, self.params, self.output, self.stages, steps)

    def to_dict(self) -> dict[str, Any]:
        """Plain containers (NumPy arrays left as arrays: orjson writes them natively)."""
        return {
            "op": self.op,
            "params": self.params,
            "output": self.output,
            "stages": self.stages,
            "steps": self.steps,
            "num_steps": self.num_steps,
        }
