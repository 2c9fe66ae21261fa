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
# weights; the mean attention weight of each head, layer 0 | layer 1:
HEADS: dict[str, tuple[int, int]] = {
    "induction": (1, 0),
    "previous_token": (0, 0),
    "sense": (0, 1),
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
