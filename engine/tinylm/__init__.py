"""A tiny decoder-only transformer trained by Layerlab in NumPy on sentences it generates.

`load()` gives the shipped weights (`python -m layerlab.engine.tinylm.train` writes them) and their
Config; `HEADS` names the (layer, head) that does each job the lessons point at.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path

import numpy as np

from layerlab.engine.tinylm.corpus import VOCAB
from layerlab.engine.tinylm.model import Config

WEIGHTS = Path(__file__).with_name("weights.npz")
CONFIG_FIELDS = tuple(f.name for f in dataclasses.fields(Config))  # ints saved beside the weights

# (layer, head), measured by train.measure_heads on 600 held-out sequences (seed 7) of the shipped
# weights; mean attention weight per head as [[layer 0 head 0, head 1], [layer 1 head 0, head 1]]:
#   sense (from "bank" to its sense word)          [[0.894, 0.430], [0.220, 0.274]], the largest in 100%
#   induction (to the word after the first copy)   [[0.218, 0.197], [0.050, 0.052]]
#   previous token (from p to p - 1)               [[0.205, 0.281], [0.178, 0.285]]
# The copying (59% of the repeated half predicted) is not a clean two-layer induction circuit: layer 1
# never attends to the word after the first copy, and the strongest head for it is layer 0's head 0,
# which is also the sense head.
HEADS: dict[str, tuple[int, int]] = {
    "induction": (0, 0),
    "previous_token": (1, 1),
    "sense": (0, 0),
}


@cache
def load(path: Path = WEIGHTS) -> tuple[dict[str, np.ndarray], Config]:
    """The shipped (params, Config): float64 arrays, read-only (copy one before editing it).

    Raises ValueError if the weights were trained on another vocabulary than corpus.VOCAB.
    """
    with np.load(path) as data:
        if tuple(data["vocab"].tolist()) != VOCAB:
            raise ValueError(f"{path.name} was trained on another vocabulary than corpus.VOCAB; retrain it")
        config = Config(**{f: int(data[f"config.{f}"]) for f in CONFIG_FIELDS})
        names = [k for k in data.files if k != "vocab" and not k.startswith("config.")]
        params = {name: data[name].astype(np.float64) for name in names}
    for p in params.values():
        p.flags.writeable = False
    return params, config
