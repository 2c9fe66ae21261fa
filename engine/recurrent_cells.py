"""One recurrent step, traced gate by gate: RNNCell, LSTMCell and GRUCell.

Mirrors `torch.nn.RNNCell`, `torch.nn.LSTMCell` and `torch.nn.GRUCell` (weights of shape
(G·H, I) and (G·H, H) with the G gate blocks stacked in torch's order: LSTM i, f, g, o; GRU r, z, n).
Seed 003 defines the three: the simple RNN h_t = f(V·h_{t−1} + U·x_t) (U is torch's weight_ih,
V its weight_hh), the LSTM's forget, input and output gates around a cell state, and the GRU's
update and reset gates. torch's GRU puts the reset gate inside the candidate's hidden term,
n = tanh(W_in·x + b_in + r ⊙ (W_hn·h + b_hn)), and mixes h' = (1 − z) ⊙ n + z ⊙ h; seed 003 writes
the same cell with z and 1 − z swapped, so here z is the share of the old state that is kept.
"""

from __future__ import annotations

import numpy as np

from layerlab.engine.trace import Trace

# torch's mode names; the gate blocks of weight_ih / weight_hh, in torch's row order
GATES = {"rnn_tanh": ("h",), "rnn_relu": ("h",), "lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}
NONLINEARITIES = ("tanh", "relu")


def sigmoid(a: np.ndarray) -> np.ndarray:
    """σ(a) = 1 / (1 + e^−a), written through tanh so a large |a| never overflows."""
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def rnn_mode(nonlinearity: str) -> str:
    """torch's mode name for a simple RNN, "rnn_tanh" or "rnn_relu"."""
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    return f"rnn_{nonlinearity}"


def step(
    mode: str,
    x: np.ndarray,
    h: np.ndarray,
    c: np.ndarray | None,
    w_ih: np.ndarray,
    w_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
) -> dict[str, np.ndarray]:
    """One time step of `mode` on checked float arrays; returns every intermediate by name.

    x : (..., I); h, c : (..., H); w_ih : (G·H, I); w_hh : (G·H, H); b_ih, b_hh : (G·H,).
    The record holds "ih" = W_ih·x + b_ih and "hh" = W_hh·h + b_hh (..., G·H), "<gate>_pre" and
    "<gate>" (..., H) for each gate of GATES[mode], then "h" (and, for the LSTM, "c" and "c_tanh").
    """
    hidden = w_hh.shape[1]
    ih = x @ w_ih.T + b_ih  # (..., G·H)
    hh = h @ w_hh.T + b_hh  # (..., G·H)
    blocks = [slice(k * hidden, (k + 1) * hidden) for k in range(len(GATES[mode]))]
    record = {"ih": ih, "hh": hh}
    if mode in ("rnn_tanh", "rnn_relu"):
        pre = ih + hh
        record.update(h_pre=pre, h=np.tanh(pre) if mode == "rnn_tanh" else np.maximum(pre, 0.0))
    elif mode == "lstm":
        summed = ih + hh  # every gate's pre-activation at once, element-wise as gate by gate
        gates = sigmoid(summed)  # the g block's sigmoid goes unused: one call beats three
        pre = [summed[..., b] for b in blocks]
        i, f, g, o = gates[..., blocks[0]], gates[..., blocks[1]], np.tanh(pre[2]), gates[..., blocks[3]]
        c_new = f * c + i * g
        c_tanh = np.tanh(c_new)
        record.update(i_pre=pre[0], i=i, f_pre=pre[1], f=f, g_pre=pre[2], g=g, o_pre=pre[3], o=o)
        record.update(c=c_new, c_tanh=c_tanh, h=o * c_tanh)
    elif mode == "gru":
        (x_r, x_z, x_n), (h_r, h_z, h_n) = ([a[..., b] for b in blocks] for a in (ih, hh))
        r, z = sigmoid(x_r + h_r), sigmoid(x_z + h_z)
        n_pre = x_n + r * h_n  # the reset gate scales only the hidden state's share
        n = np.tanh(n_pre)
        record.update(r_pre=x_r + h_r, r=r, z_pre=x_z + h_z, z=z, n_pre=n_pre, n=n)
        record["h"] = (1.0 - z) * n + z * h
    else:
        raise ValueError(f"mode must be one of {sorted(GATES)}, got {mode!r}")
    return record


def lstm_over_time(
    x: np.ndarray,
    h: np.ndarray,
    c: np.ndarray,
    w_ih: np.ndarray,
    w_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
    times: range,
) -> dict[str, np.ndarray]:
    """`step`'s LSTM run over time steps `times` of x (T, N, I) from states h, c (N, H): its record,
    each stage one array over time (T, N, ...) filled in the loop, the same numbers as T `step` calls.

    The input's share of every gate is one matmul over time (numpy runs it as T matmuls of (N, I));
    the gate stages are views into the summed pre-activations (T, N, 4H) and their sigmoids (the g
    block's goes unused, g is its tanh). Few arrays, none stacked afterwards: at the recurrent page's
    sizes the cost of a step is Python's per array, not the arithmetic.
    """
    hidden = w_hh.shape[1]
    blocks = [slice(k * hidden, (k + 1) * hidden) for k in range(4)]
    ih = x @ w_ih.T + b_ih  # (T, N, 4H)
    hh, summed, gates = np.empty_like(ih), np.empty_like(ih), np.empty_like(ih)
    g, c_all, c_tanh, h_all = (np.empty((*x.shape[:-1], hidden)) for _ in range(4))
    w_hh_t = w_hh.T
    for t in times:
        np.matmul(h, w_hh_t, out=hh[t])
        hh[t] += b_hh
        pre, gate = np.add(ih[t], hh[t], out=summed[t]), gates[t]
        np.multiply(pre, 0.5, out=gate)  # sigmoid(pre) as `sigmoid` writes it, in place
        np.tanh(gate, out=gate)
        gate += 1.0
        gate *= 0.5
        np.tanh(pre[..., blocks[2]], out=g[t])
        c = np.multiply(gate[..., blocks[1]], c, out=c_all[t])
        c += gate[..., blocks[0]] * g[t]
        h = np.multiply(gate[..., blocks[3]], np.tanh(c, out=c_tanh[t]), out=h_all[t])
    record = {"ih": ih, "hh": hh}
    for name, block in zip(GATES["lstm"], blocks, strict=True):
        record[f"{name}_pre"] = summed[..., block]
        record[name] = g if name == "g" else gates[..., block]
    return record | {"c": c_all, "c_tanh": c_tanh, "h": h_all}


def as_float(value: np.ndarray, name: str) -> np.ndarray:
    """value as a float64 array; a ValueError naming `name` when it is not real and finite."""
    a = np.asarray(value)
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise ValueError(f"{name} must be a numeric array, got dtype {a.dtype}")
    if np.iscomplexobj(a):
        raise ValueError(f"{name} must be real-valued")
    a = a.astype(np.float64)
    if not np.isfinite(a).all():
        raise ValueError(f"{name} must hold only finite numbers")
    return a


def state_pair(hx, names: str) -> tuple:
    """(h, c) from an LSTM-style state argument: a pair, or None for (None, None)."""
    if hx is None:
        return None, None
    if not isinstance(hx, (tuple, list)) or len(hx) != 2:
        raise ValueError(f"hx must be a pair {names} or None")
    return hx[0], hx[1]


def check_weights(
    mode: str,
    input_size: int,
    weight_ih: np.ndarray,
    weight_hh: np.ndarray,
    bias_ih: np.ndarray | None,
    bias_hh: np.ndarray | None,
    names: tuple[str, str, str, str] = ("weight_ih", "weight_hh", "bias_ih", "bias_hh"),
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(w_ih, w_hh, b_ih, b_hh) as float arrays after checking their shapes; None biases become zeros.

    The hidden size H is weight_hh's column count, as in torch; `names` are the argument (or
    state_dict) names the error messages use.
    """
    gates = len(GATES[mode])
    w_hh = as_float(weight_hh, names[1])
    if w_hh.ndim != 2 or w_hh.shape[1] == 0:
        raise ValueError(
            f"{names[1]} must have shape ({gates}·hidden_size, hidden_size) with hidden_size > 0"
        )
    hidden = w_hh.shape[1]
    size = gates * hidden
    if w_hh.shape != (size, hidden):
        raise ValueError(f"{names[1]} must have shape ({size}, {hidden}), got {w_hh.shape}")
    w_ih = as_float(weight_ih, names[0])
    if w_ih.shape != (size, input_size):
        raise ValueError(f"{names[0]} must have shape ({size}, {input_size}), got {w_ih.shape}")
    if (bias_ih is None) != (bias_hh is None):
        raise ValueError(f"{names[2]} and {names[3]} must both be given or both be None")
    biases = []
    for name, bias in zip(names[2:], (bias_ih, bias_hh), strict=True):
        b = np.zeros(size) if bias is None else as_float(bias, name)
        if b.shape != (size,):
            raise ValueError(f"{name} must have shape ({size},), got {b.shape}")
        biases.append(b)
    return w_ih, w_hh, biases[0], biases[1]


def _cell(mode: str, input, hx, cx, weight_ih, weight_hh, bias_ih, bias_hh) -> Trace:
    """The shared body of the three cells: check, run one step, trace it."""
    x = as_float(input, "input")
    if x.ndim not in (1, 2) or x.shape[-1] == 0:
        raise ValueError(f"input must have shape (N, input_size) or (input_size,), got {x.shape}")
    w_ih, w_hh, b_ih, b_hh = check_weights(mode, x.shape[-1], weight_ih, weight_hh, bias_ih, bias_hh)
    state_shape = (*x.shape[:-1], w_hh.shape[1])
    states = []
    for name, value in (("hx", hx), ("cx", cx)):
        s = np.zeros(state_shape) if value is None else as_float(value, name)
        if s.shape != state_shape:
            raise ValueError(f"{name} must have shape {state_shape} to match input {x.shape}, got {s.shape}")
        states.append(s)
    record = step(mode, x, states[0], states[1] if mode == "lstm" else None, w_ih, w_hh, b_ih, b_hh)
    params = {
        "mode": mode,
        "gates": list(GATES[mode]),
        "input_size": x.shape[-1],
        "hidden_size": w_hh.shape[1],
        "batch": x.shape[0] if x.ndim == 2 else None,
        "has_bias": bias_ih is not None,
    }
    stages = {"h_prev": states[0], **({"c_prev": states[1]} if mode == "lstm" else {}), **record}
    return Trace(f"{mode}_cell", params, record["h"], stages)


def rnn_cell(
    input: np.ndarray,
    hx: np.ndarray | None,
    weight_ih: np.ndarray,
    weight_hh: np.ndarray,
    bias_ih: np.ndarray | None = None,
    bias_hh: np.ndarray | None = None,
    nonlinearity: str = "tanh",
) -> Trace:
    """h' = f(W_ih·x + b_ih + W_hh·h + b_hh), one step of `torch.nn.RNNCell` (seed 003's simple RNN).

    Parameters
    ----------
    input : ndarray of shape (N, I) or (I,)
    hx : ndarray of shape (N, H) or (H,), or None for zeros
    weight_ih : ndarray of shape (H, I), seed 003's U
    weight_hh : ndarray of shape (H, H), seed 003's V
    bias_ih, bias_hh : ndarray of shape (H,), or both None
    nonlinearity : "tanh" or "relu"

    Returns
    -------
    Trace "rnn_tanh_cell" / "rnn_relu_cell" with output h' (N, H) or (H,), and stages (each (N, H)
    or (H,)): "h_prev", "ih" (U·x + b_ih), "hh" (V·h + b_hh), "h_pre" (their sum) and "h" (= output).
    """
    return _cell(rnn_mode(nonlinearity), input, hx, None, weight_ih, weight_hh, bias_ih, bias_hh)


def lstm_cell(
    input: np.ndarray,
    hx: tuple[np.ndarray, np.ndarray] | None,
    weight_ih: np.ndarray,
    weight_hh: np.ndarray,
    bias_ih: np.ndarray | None = None,
    bias_hh: np.ndarray | None = None,
) -> Trace:
    """One step of `torch.nn.LSTMCell`: input, forget, cell and output gates around a cell state.

    i = σ(·), f = σ(·), g = tanh(·), o = σ(·) of W_ih·x + b_ih + W_hh·h + b_hh (blocks in that
    order); c' = f ⊙ c + i ⊙ g; h' = o ⊙ tanh(c') (seed 003, after Hochreiter & Schmidhuber 1997).

    Parameters
    ----------
    input : ndarray of shape (N, I) or (I,)
    hx : (h, c), each of shape (N, H) or (H,), or None for zeros
    weight_ih : ndarray of shape (4H, I); weight_hh : ndarray of shape (4H, H)
    bias_ih, bias_hh : ndarray of shape (4H,), or both None

    Returns
    -------
    Trace "lstm_cell" with output h' (torch returns (h', c'): c' is stage "c"), and stages
    "ih", "hh" (N, 4H) and, each (N, H): "h_prev", "c_prev", "i_pre", "i", "f_pre", "f", "g_pre",
    "g" (the candidate), "o_pre", "o", "c", "c_tanh", "h". No N axis for an unbatched input.
    """
    h, c = state_pair(hx, "(h, c)")
    return _cell("lstm", input, h, c, weight_ih, weight_hh, bias_ih, bias_hh)


def gru_cell(
    input: np.ndarray,
    hx: np.ndarray | None,
    weight_ih: np.ndarray,
    weight_hh: np.ndarray,
    bias_ih: np.ndarray | None = None,
    bias_hh: np.ndarray | None = None,
) -> Trace:
    """One step of `torch.nn.GRUCell`: reset gate r, update gate z, candidate n.

    r = σ(W_ir·x + b_ir + W_hr·h + b_hr), z likewise, n = tanh(W_in·x + b_in + r ⊙ (W_hn·h + b_hn)),
    h' = (1 − z) ⊙ n + z ⊙ h (seed 003, after Cho et al. 2014).

    Parameters
    ----------
    input : ndarray of shape (N, I) or (I,)
    hx : ndarray of shape (N, H) or (H,), or None for zeros
    weight_ih : ndarray of shape (3H, I); weight_hh : ndarray of shape (3H, H)
    bias_ih, bias_hh : ndarray of shape (3H,), or both None

    Returns
    -------
    Trace "gru_cell" with output h', and stages "ih", "hh" (N, 3H) and, each (N, H): "h_prev",
    "r_pre", "r", "z_pre", "z", "n_pre", "n" (the candidate), "h". No N axis for an unbatched input.
    """
    return _cell("gru", input, hx, None, weight_ih, weight_hh, bias_ih, bias_hh)
