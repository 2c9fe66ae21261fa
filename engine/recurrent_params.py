"""Parameters of the recurrent layers, named and shaped like torch's state_dict, with torch's init.

torch.nn.RNN / LSTM / GRU hold, per layer k and direction, weight_ih_l{k} (G·H, I_k), weight_hh_l{k}
(G·H, H), bias_ih_l{k} and bias_hh_l{k} (G·H,), the reverse direction's with the suffix "_reverse";
G is 1, 4 (i, f, g, o) or 3 (r, z, n). Every one starts as U(−1/√H, 1/√H). Seed 003 for the layers.
"""

from __future__ import annotations

import math

import numpy as np

KINDS = {"rnn": 1, "lstm": 4, "gru": 3}  # gate blocks per kind


def param_names(layer: int, direction: int) -> tuple[str, str, str, str]:
    """The state_dict names of one layer and direction: (weight_ih, weight_hh, bias_ih, bias_hh)."""
    suffix = f"_l{layer}" + ("_reverse" if direction else "")
    return tuple(f"{name}{suffix}" for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))


def init_params(
    kind: str,
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    bias: bool = True,
    bidirectional: bool = False,
    *,
    seed: int = 0,
    scale: float = 1.0,
    forget_bias: float | None = None,
) -> dict[str, np.ndarray]:
    """Seeded random weights with torch's default init, U(−1/√H, 1/√H), times `scale`.

    Parameters
    ----------
    kind : "rnn", "lstm" or "gru"
    scale : multiplies every weight and bias; small values make the vanishing gradient visible
    forget_bias : LSTM only: set the forget gate's total bias to this (b_ih block f = forget_bias,
        b_hh block f = 0), the usual trick to keep the cell state's memory open (needs bias=True)

    Returns
    -------
    dict in torch's state_dict order: weight_ih_l{k} (G·H, I_k), weight_hh_l{k} (G·H, H), bias_ih_l{k}
    and bias_hh_l{k} (G·H,), then the same with the suffix "_reverse" when bidirectional; I_0 =
    input_size and I_k = num_directions·H after.
    """
    gates = _gate_count(kind)
    _check_sizes(input_size, hidden_size, num_layers)
    if not math.isfinite(scale):
        raise ValueError(f"scale must be finite, got {scale}")
    if forget_bias is not None and (kind != "lstm" or not bias or not math.isfinite(forget_bias)):
        raise ValueError(f"forget_bias needs kind='lstm', bias=True and a finite value, got {forget_bias}")
    rng = np.random.default_rng(seed)
    bound = scale / math.sqrt(hidden_size)
    directions = 2 if bidirectional else 1
    params = {}
    for layer in range(num_layers):
        layer_input = input_size if layer == 0 else directions * hidden_size
        for direction in range(directions):
            names = param_names(layer, direction)
            shapes = [(gates * hidden_size, layer_input), (gates * hidden_size, hidden_size)]
            shapes += [(gates * hidden_size,)] * (2 if bias else 0)
            for name, shape in zip(names, shapes, strict=False):
                params[name] = rng.uniform(-bound, bound, shape)
            if forget_bias is not None:
                forget = slice(hidden_size, 2 * hidden_size)
                params[names[2]][forget], params[names[3]][forget] = forget_bias, 0.0
    return params


def cell_params(
    params: dict[str, np.ndarray], layer: int = 0, reverse: bool = False
) -> dict[str, np.ndarray]:
    """One layer and direction of a state_dict as the keyword arguments of `rnn_cell` and friends."""
    names = param_names(layer, int(reverse))
    missing = [name for name in names[:2] if name not in params]
    if missing:
        raise ValueError(f"params has no {missing[0]}")
    keys = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    return {key: params[name] for key, name in zip(keys, names, strict=True) if name in params}


def _gate_count(kind: str) -> int:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {sorted(KINDS)}, got {kind!r}")
    return KINDS[kind]


def _check_sizes(input_size: int, hidden_size: int, num_layers: int) -> None:
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
