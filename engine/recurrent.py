"""Recurrent layers over a whole sequence, traced per layer, direction and time step.

`rnn`, `lstm` and `gru` mirror the forward pass of `torch.nn.RNN`, `torch.nn.LSTM` and `torch.nn.GRU`
(no dropout, no proj_size): weights come as a dict named like the module's state_dict
(`weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`, and `..._reverse` for the backward
direction). Layer k > 0 reads the concatenation [forward, reverse] of layer k − 1's hidden states;
h_n is indexed by layer·num_directions + direction. Seed 003 covers the cells and the bidirectional
and deep (stacked) RNNs built from them. The cells themselves live in `engine.recurrent_cells`.

Each takes record_steps (keyword) as conv2d does, "lazy" by default. The steps are the time steps
the forward pass runs anyway (their states are stages), so on demand means their (layer, direction,
time) columns are assembled from the loop's order when first read.
"""

from __future__ import annotations

import numpy as np

from layerlab.engine.recurrent_cells import (
    GATES,
    as_float,
    check_weights,
    gru_cell,
    lstm_cell,
    lstm_over_time,
    rnn_cell,
    rnn_mode,
    state_pair,
    step,
)
from layerlab.engine.recurrent_params import cell_params, init_params, param_names
from layerlab.engine.trace import Held, RecordSteps, Trace, recorded_trace

__all__ = ["cell_params", "gru", "gru_cell", "init_params", "lstm", "lstm_cell", "rnn", "rnn_cell"]
DIRECTIONS = ("forward", "reverse")


def rnn(
    input: np.ndarray,
    hx: np.ndarray | None,
    params: dict[str, np.ndarray],
    num_layers: int = 1,
    nonlinearity: str = "tanh",
    bias: bool = True,
    batch_first: bool = False,
    bidirectional: bool = False,
    *,
    record_steps: RecordSteps = "lazy",
) -> Trace:
    """`torch.nn.RNN` forward: h_t = f(W_ih·x_t + b_ih + W_hh·h_{t−1} + b_hh) per layer (seed 003).

    Parameters
    ----------
    input : ndarray of shape (T, N, I), (N, T, I) when batch_first, or (T, I) unbatched
    hx : h_0 of shape (num_layers·D, N, H) or (num_layers·D, H) unbatched, or None for zeros
        (D = 2 when bidirectional else 1; batch_first never applies to it, as in torch)
    params : state_dict-named weights, see `init_params`; exactly the names torch's module has
    nonlinearity : "tanh" or "relu"

    Returns
    -------
    Trace "rnn_tanh" / "rnn_relu"; see `lstm` for the layout. Stages per layer and direction:
    "l{k}.{dir}.ih", ".hh", ".h_pre", ".h", each (T, N, H).
    """
    return _sequence(
        rnn_mode(nonlinearity),
        input,
        hx,
        None,
        params,
        num_layers,
        bias,
        batch_first,
        bidirectional,
        record_steps,
    )


def lstm(
    input: np.ndarray,
    hx: tuple[np.ndarray, np.ndarray] | None,
    params: dict[str, np.ndarray],
    num_layers: int = 1,
    bias: bool = True,
    batch_first: bool = False,
    bidirectional: bool = False,
    *,
    record_steps: RecordSteps = "lazy",
) -> Trace:
    """`torch.nn.LSTM` forward (proj_size=0, no dropout): `lstm_cell` run over the sequence (seed 003).

    Parameters
    ----------
    input : ndarray of shape (T, N, I), (N, T, I) when batch_first, or (T, I) unbatched
    hx : (h_0, c_0), each (num_layers·D, N, H) or (num_layers·D, H) unbatched, or None for zeros
    params : weight_ih_l{k} (4H, I_k), weight_hh_l{k} (4H, H), bias_ih_l{k}, bias_hh_l{k} (4H,)
        (biases only when bias=True), and "_reverse" copies when bidirectional

    Returns
    -------
    Trace "lstm" whose output is torch's `output`: (T, N, D·H) ((N, T, D·H) when batch_first,
    (T, D·H) unbatched), the last axis the forward states then the reverse ones. torch's (h_n, c_n)
    are stages "h_n" and "c_n" (num_layers·D, N, H). Every other stage is time-major whatever
    batch_first is, and loses its N axis when the input is unbatched:
    "h_0", "c_0" (num_layers·D, N, H) the initial states; "l{k}.input" (T, N, I_k) what layer k reads;
    per layer k and direction dir in ("forward", "reverse"): "l{k}.{dir}.ih" and ".hh" (T, N, 4H), and
    ".i_pre", ".i", ".f_pre", ".f", ".g_pre", ".g", ".o_pre", ".o", ".c", ".c_tanh", ".h" (T, N, H).
    Index t is time t in both directions: the reverse direction runs t = T−1 … 0, so its state before
    step t is index t + 1 (h_0 at t = T−1). Steps, one per cell evaluation in the order computed
    (layer, then forward before reverse, then time in running order): "layer", "direction" (0 forward,
    1 reverse), "time" (S,) ints, S = num_layers·D·T.
    """
    h0, c0 = state_pair(hx, "(h_0, c_0)")
    return _sequence(
        "lstm", input, h0, c0, params, num_layers, bias, batch_first, bidirectional, record_steps
    )


def gru(
    input: np.ndarray,
    hx: np.ndarray | None,
    params: dict[str, np.ndarray],
    num_layers: int = 1,
    bias: bool = True,
    batch_first: bool = False,
    bidirectional: bool = False,
    *,
    record_steps: RecordSteps = "lazy",
) -> Trace:
    """`torch.nn.GRU` forward (no dropout): `gru_cell` run over the sequence (seed 003).

    Same arguments as `rnn` without nonlinearity, weights with 3H rows (r, z, n). Returns a Trace
    "gru" laid out as `lstm`'s, without "c_0"/"c_n"; stages per layer and direction: "l{k}.{dir}.ih",
    ".hh" (T, N, 3H), ".r_pre", ".r", ".z_pre", ".z", ".n_pre", ".n", ".h" (T, N, H).
    """
    return _sequence(
        "gru", input, hx, None, params, num_layers, bias, batch_first, bidirectional, record_steps
    )


def _layer_weights(mode, params, num_layers, directions, input_size, bias):
    """Every (w_ih, w_hh, b_ih, b_hh) by [layer][direction], checked against torch's names and shapes."""
    if not isinstance(params, dict):
        raise ValueError("params must be a dict named like torch's state_dict")
    names = [param_names(k, d) for k in range(num_layers) for d in range(directions)]
    expected = [name for group in names for name in group[: 4 if bias else 2]]  # torch's order
    missing, unexpected = [n for n in expected if n not in params], [n for n in params if n not in expected]
    if missing:
        raise ValueError(
            f"params lacks {', '.join(missing)} (num_layers, bias and bidirectional decide the names)"
        )
    if unexpected:
        raise ValueError(f"params has unexpected entries {', '.join(map(str, unexpected))}")
    if np.ndim(params["weight_hh_l0"]) != 2:
        raise ValueError("weight_hh_l0 must have shape (gates·hidden_size, hidden_size)")
    hidden = np.shape(params["weight_hh_l0"])[1]
    weights = []
    for layer in range(num_layers):
        layer_input = input_size if layer == 0 else directions * hidden
        row = []
        for d in range(directions):
            n = param_names(layer, d)
            row.append(check_weights(mode, layer_input, *(params.get(name) for name in n), n))
            if row[-1][1].shape[1] != hidden:
                raise ValueError(f"{n[1]} has hidden size {row[-1][1].shape[1]}, weight_hh_l0 has {hidden}")
        weights.append(row)
    return weights, hidden


def _state(value, name, shape, unbatched):
    """An initial state (zeros for None) as (L·D, N, H), checked against torch's layout."""
    if value is None:
        return np.zeros(shape)
    s = as_float(value, name)
    want = (shape[0], shape[2]) if unbatched else shape
    if s.shape != want:
        raise ValueError(f"{name} must have shape {want} (num_layers·num_directions, N, H), got {s.shape}")
    return s[:, None] if unbatched else s


def _step_by_step(mode: str):
    """`step` of `mode` run over time steps `times` of x (T, N, I) from h, c: its record, each stage
    stacked over time (T, N, ...)."""

    def run(x, h, c, w_ih, w_hh, b_ih, b_hh, times):
        records = [None] * len(x)
        for t in times:
            records[t] = step(mode, x[t], h, c, w_ih, w_hh, b_ih, b_hh)
            h, c = records[t]["h"], records[t].get("c")
        return {name: np.stack([r[name] for r in records]) for name in records[0]}

    return run


def _sequence(
    mode, input, h0, c0, params, num_layers, bias, batch_first, bidirectional, record_steps
) -> Trace:
    """Shared body of rnn / lstm / gru: check, run every layer and direction, trace."""
    x = as_float(input, "input")
    if x.ndim not in (2, 3) or 0 in x.shape:
        raise ValueError(f"input must have shape (T, N, I), (N, T, I) or (T, I), non-empty, got {x.shape}")
    if not isinstance(num_layers, (int, np.integer)) or num_layers < 1:
        raise ValueError(f"num_layers must be a positive integer, got {num_layers!r}")
    unbatched = x.ndim == 2
    x = x[:, None] if unbatched else x.transpose(1, 0, 2) if batch_first else x  # (T, N, I)
    steps_t, batch, input_size = x.shape
    directions = 2 if bidirectional else 1
    weights, hidden = _layer_weights(mode, params, num_layers, directions, input_size, bias)
    shape = (num_layers * directions, batch, hidden)
    states = [_state(h0, "h_0", shape, unbatched), _state(c0, "c_0", shape, unbatched)]
    stages = {"h_0": states[0], **({"c_0": states[1]} if mode == "lstm" else {})}
    finals = [np.empty(shape), np.empty(shape)]
    order = []
    layer_input = x
    for layer in range(num_layers):
        stages[f"l{layer}.input"] = layer_input
        outputs = []
        for d in range(directions):
            index = layer * directions + d
            h, c = states[0][index], states[1][index]
            times = range(steps_t - 1, -1, -1) if d else range(steps_t)
            run = lstm_over_time if mode == "lstm" else _step_by_step(mode)
            record = run(layer_input, h, c, *weights[layer][d], times)
            order.extend((layer, d, t) for t in times)
            finals[0][index] = record["h"][times[-1]]
            if mode == "lstm":
                finals[1][index] = record["c"][times[-1]]
            for name, stage in record.items():
                stages[f"l{layer}.{DIRECTIONS[d]}.{name}"] = stage
            outputs.append(stages[f"l{layer}.{DIRECTIONS[d]}.h"])
        layer_input = np.concatenate(outputs, axis=-1)  # (T, N, D·H): forward then reverse
    stages["h_n"] = finals[0]
    if mode == "lstm":
        stages["c_n"] = finals[1]
    if unbatched:
        stages = {name: value[:, 0] for name, value in stages.items()}
        output = layer_input[:, 0]
    else:
        output = layer_input.transpose(1, 0, 2) if batch_first else layer_input
    params_out = {
        "mode": mode,
        "gates": list(GATES[mode]),
        "num_layers": num_layers,
        "bidirectional": bool(bidirectional),
        "directions": list(DIRECTIONS[:directions]),
        "batch_first": bool(batch_first),
        "has_bias": bool(bias),
        "seq_len": steps_t,
        "batch": None if unbatched else batch,
        "input_size": input_size,
        "hidden_size": hidden,
    }

    def steps() -> dict[str, np.ndarray]:
        columns = np.array(order, dtype=np.int32).reshape(-1, 3)
        return {"layer": columns[:, 0], "direction": columns[:, 1], "time": columns[:, 2]}

    return recorded_trace(mode, params_out, output, stages, record_steps, Held(steps), len(order))
