"""Vanishing gradients: how much the last hidden state still depends on each earlier input.

For one layer and direction, ∂h_T/∂x_t = (∂h_T/∂s_T)·A_T·A_{T−1}·…·A_{t+1}·B_t, where s is the
recurrent state (h, or (h, c) for the LSTM), A_k = ∂s_k/∂s_{k−1} and B_t = ∂s_t/∂x_t: backpropagation
through time, written here as explicit Jacobian products from the forward trace's gate values. A
simple RNN multiplies by diag(f′)·W_hh at every step, so with small weights the product shrinks
geometrically; the LSTM's cell state carries ∂c_k/∂c_{k−1} = diag(f_k), close to the identity when the
forget gate is open (seed 003: the cell state "saves long/short dependencies"; the GRU's z plays
the same role).
"""

from __future__ import annotations

import numpy as np

from layerlab.engine.recurrent import gru, init_params, lstm, rnn
from layerlab.engine.recurrent_cells import as_float
from layerlab.engine.trace import Trace

KIND_ORDER = ("rnn", "lstm", "gru")


def gradient_through_time(
    kind: str,
    inputs: np.ndarray,
    params: dict[str, np.ndarray],
    hx: np.ndarray | tuple[np.ndarray, np.ndarray] | None = None,
    nonlinearity: str = "tanh",
) -> Trace:
    """‖∂h_T/∂x_t‖_F for every t of one unbatched sequence, by backpropagation through time.

    Parameters
    ----------
    kind : "rnn", "lstm" or "gru"
    inputs : ndarray of shape (T, I), one sequence
    params : layer-0 forward weights named like torch's state_dict (weight_ih_l0, weight_hh_l0 and,
        for a biased layer, bias_ih_l0 and bias_hh_l0), e.g. from `init_params`
    hx : the initial state as the sequence functions take it unbatched: h_0 of shape (1, H), or
        (h_0, c_0) for the LSTM; None for zeros
    nonlinearity : "tanh" or "relu" (simple RNN only)

    Returns
    -------
    Trace "gradient_through_time" with output the norms (T,) (index t: ∂h_T/∂x_t, T the last step),
    and stages "jacobian" (T, H, I) the Jacobians themselves, "step_norm" (T,) the Frobenius norm of
    each step's state Jacobian A_t = ∂s_t/∂s_{t−1} (2H × 2H for the LSTM), "h" (T, H) the forward
    hidden states, and for the LSTM "c" (T, H) and "f" (T, H) the forget gate.
    """
    if kind not in KIND_ORDER:
        raise ValueError(f"kind must be one of {list(KIND_ORDER)}, got {kind!r}")
    x = as_float(inputs, "inputs")
    if x.ndim != 2 or 0 in x.shape:
        raise ValueError(f"inputs must have shape (T, I) with T, I > 0, got {x.shape}")
    bias = isinstance(params, dict) and "bias_ih_l0" in params
    if kind == "rnn":
        forward = rnn(x, hx, params, 1, nonlinearity, bias)
    else:
        forward = (lstm if kind == "lstm" else gru)(x, hx, params, 1, bias)
    record = {name.removeprefix("l0.forward."): v for name, v in forward.stages.items()}
    w_ih, w_hh = (np.asarray(params[name], dtype=np.float64) for name in ("weight_ih_l0", "weight_hh_l0"))
    steps, hidden = len(x), w_hh.shape[1]
    h_prev = np.concatenate([record["h_0"], record["h"][:-1]])  # (T, H): the state each step reads
    c_prev = np.concatenate([record["c_0"], record["c"][:-1]]) if kind == "lstm" else None
    jacobian = np.empty((steps, hidden, x.shape[1]))
    step_norm = np.empty(steps)
    upstream = np.eye(hidden, 2 * hidden if kind == "lstm" else hidden)  # ∂h_T/∂s_T
    for t in reversed(range(steps)):
        at = {name: value[t] for name, value in record.items() if value.shape[0] == steps}
        at["h_prev"], at["c_prev"] = h_prev[t], None if c_prev is None else c_prev[t]
        a_t, b_t = _local(forward.params["mode"], at, w_ih, w_hh)
        jacobian[t] = upstream @ b_t
        step_norm[t] = np.linalg.norm(a_t)
        upstream = upstream @ a_t
    norms = np.linalg.norm(jacobian, axis=(1, 2))
    stages = {"jacobian": jacobian, "step_norm": step_norm, "h": record["h"]}
    if kind == "lstm":
        stages.update(c=record["c"], f=record["f"])
    params_out = {"kind": kind, "mode": forward.params["mode"], "seq_len": steps, "hidden_size": hidden}
    return Trace("gradient_through_time", params_out, norms, stages)


def _local(mode: str, at: dict[str, np.ndarray], w_ih: np.ndarray, w_hh: np.ndarray):
    """(A, B) = (∂s_t/∂s_{t−1}, ∂s_t/∂x_t) of one step from its recorded gate values."""
    hidden = w_hh.shape[1]
    if mode in ("rnn_tanh", "rnn_relu"):
        slope = 1.0 - at["h"] ** 2 if mode == "rnn_tanh" else (at["h_pre"] > 0).astype(float)
        return slope[:, None] * w_hh, slope[:, None] * w_ih
    block = [slice(k * hidden, (k + 1) * hidden) for k in range(4)]
    if mode == "lstm":
        i, f, g, o, c_tanh = at["i"], at["f"], at["g"], at["o"], at["c_tanh"]
        dc_dh, dc_dx = (
            (g * i * (1 - i))[:, None] * w[block[0]]
            + (at["c_prev"] * f * (1 - f))[:, None] * w[block[1]]
            + (i * (1 - g**2))[:, None] * w[block[2]]
            for w in (w_hh, w_ih)
        )
        through_c = (o * (1 - c_tanh**2))[:, None]  # ∂h/∂c, diagonal
        through_o = (c_tanh * o * (1 - o))[:, None]
        dh_dh, dh_dx = (through_c * dc + through_o * w[block[3]] for dc, w in ((dc_dh, w_hh), (dc_dx, w_ih)))
        a = np.block([[dh_dh, through_c * np.diag(f)], [dc_dh, np.diag(f)]])
        return a, np.vstack([dh_dx, dc_dx])
    r, z, n = at["r"], at["z"], at["n"]
    hh_n = at["hh"][block[2]]  # W_hn·h + b_hn, the term the reset gate scales
    dr_dh, dr_dx = ((r * (1 - r))[:, None] * w[block[0]] for w in (w_hh, w_ih))
    dz_dh, dz_dx = ((z * (1 - z))[:, None] * w[block[1]] for w in (w_hh, w_ih))
    dn_dh = (1 - n**2)[:, None] * (hh_n[:, None] * dr_dh + r[:, None] * w_hh[block[2]])
    dn_dx = (1 - n**2)[:, None] * (w_ih[block[2]] + hh_n[:, None] * dr_dx)
    keep = (at["h_prev"] - n)[:, None]
    a = (1 - z)[:, None] * dn_dh + keep * dz_dh + np.diag(z)
    return a, (1 - z)[:, None] * dn_dx + keep * dz_dx


def vanishing_gradients(
    seq_len: int = 20,
    input_size: int = 4,
    hidden_size: int = 8,
    scale: float = 1.0,
    forget_bias: float | None = 3.0,
    seed: int = 0,
) -> Trace:
    """The three cells side by side on the same random sequence: ‖∂h_T/∂x_t‖_F for every t.

    Inputs are standard normal (seed `seed`); each kind gets `init_params(kind, ..., seed=seed,
    scale=scale)`, the LSTM with `forget_bias`. Returns a Trace "vanishing_gradients" with output
    (3, T), rows in KIND_ORDER ("rnn", "lstm", "gru"), stages "inputs" (T, I) and "<kind>.step_norm"
    (T,) (see `gradient_through_time`).
    """
    if not isinstance(seq_len, (int, np.integer)) or seq_len < 1:
        raise ValueError(f"seq_len must be a positive integer, got {seq_len!r}")
    weights = {
        kind: init_params(
            kind,
            input_size,
            hidden_size,
            seed=seed,
            scale=scale,
            forget_bias=forget_bias if kind == "lstm" else None,
        )
        for kind in KIND_ORDER
    }
    x = np.random.default_rng(seed).standard_normal((seq_len, input_size))
    rows, stages = [], {"inputs": x}
    for kind in KIND_ORDER:
        trace = gradient_through_time(kind, x, weights[kind])
        rows.append(trace.output)
        stages[f"{kind}.step_norm"] = trace.stages["step_norm"]
    settings = {"kinds": list(KIND_ORDER), "seq_len": seq_len, "input_size": input_size}
    settings.update(hidden_size=hidden_size, scale=scale, forget_bias=forget_bias, seed=seed)
    return Trace("vanishing_gradients", settings, np.stack(rows), stages)
