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
# weights (d_model 48, 3 heads of 16 dimensions per layer); mean attention weight per head, as
# [[layer 0 heads 0, 1, 2], [layer 1 heads 0, 1, 2]]:
#   induction (to the word after the first copy)  [[0.013, 0.029, 0.072], [0.968, 0.949, 0.946]]
#   previous token (from p to p - 1)              [[0.888, 0.684, 0.151], [0.274, 0.317, 0.260]]
#   sense (from "bank" to its sense word)         [[0.485, 0.832, 0.128], [0.001, 0.000, 0.545]],
#     the largest weight from "bank" in 92% of held-out sentences for layer 0's head 1
# Layer 0's head 0 looks one word back; layer 1's heads find the word after the current word's earlier
# occurrence through it (a two-layer induction circuit, Olsson et al. 2022), and copy it: 99.8% of a
# repeated run's words are predicted.
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
