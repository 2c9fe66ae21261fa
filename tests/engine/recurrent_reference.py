"""Plain-loop references for the recurrent engine, written from torch's documented equations.

RNN: h' = f(W_ih x + b_ih + W_hh h + b_hh). LSTM rows i, f, g, o: c' = f c + i g, h' = o tanh(c').
GRU rows r, z, n: n = tanh(W_in x + b_in + r (W_hn h + b_hn)), h' = (1 − z) n + z h. A sequence runs
each layer forward in time and, when bidirectional, a second set of weights backward in time; the
next layer reads [forward, backward] concatenated; h_n[layer·D + direction]. ConvLSTM: a zero-padded
cross-correlation over [x, h] then the LSTM equations per pixel, with optional peepholes.
Every number is a Python float in a Python loop over units: nothing is shared with the engine.
"""

from __future__ import annotations

import math

import numpy as np

ROWS = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}


def sigm(a: float) -> float:
    return 1.0 / (1.0 + math.exp(-a))


def affine(w, x, b, row: int) -> float:
    """Row `row` of w·x + b (b may be None)."""
    total = 0.0 if b is None else float(b[row])
    for j in range(len(x)):
        total += float(w[row][j]) * float(x[j])
    return total


def cell_loop(mode: str, x, h, c, w_ih, w_hh, b_ih=None, b_hh=None) -> dict[str, list[float]]:
    """One sample, one step: every gate's activation and the new state(s), as lists of floats."""
    size = len(h)
    out: dict[str, list[float]] = {}

    def pre(block: int, unit: int) -> tuple[float, float]:
        row = block * size + unit
        return affine(w_ih, x, b_ih, row), affine(w_hh, h, b_hh, row)

    for u in range(size):
        if mode.startswith("rnn"):
            a = sum(pre(0, u))
            out.setdefault("h_pre", []).append(a)
            out.setdefault("h", []).append(math.tanh(a) if mode == "rnn_tanh" else max(a, 0.0))
        elif mode == "lstm":
            i, f = sigm(sum(pre(0, u))), sigm(sum(pre(1, u)))
            g, o = math.tanh(sum(pre(2, u))), sigm(sum(pre(3, u)))
            cell = f * float(c[u]) + i * g
            for name, value in zip("ifgoc", (i, f, g, o, cell), strict=True):
                out.setdefault(name, []).append(value)
            out.setdefault("h", []).append(o * math.tanh(cell))
        else:
            r, z = sigm(sum(pre(0, u))), sigm(sum(pre(1, u)))
            x_n, h_n = pre(2, u)
            n = math.tanh(x_n + r * h_n)
            for name, value in zip("rzn", (r, z, n), strict=True):
                out.setdefault(name, []).append(value)
            out.setdefault("h", []).append((1.0 - z) * n + z * float(h[u]))
    return out


def sequence_loop(mode, x, h0, c0, params, num_layers: int, bias: bool, bidirectional: bool):
    """x (T, N, I); h0, c0 (L·D, N, H) -> output (T, N, D·H), h_n, c_n, gates {"l0.forward.i": (T, N, H)}."""
    steps, batch = len(x), len(x[0])
    dirs = 2 if bidirectional else 1
    h_n, c_n = np.array(h0, dtype=float), np.array(c0, dtype=float)
    gates = {}
    layer_in = [[list(map(float, x[t][n])) for n in range(batch)] for t in range(steps)]
    for layer in range(num_layers):
        layer_out = [[[] for _ in range(batch)] for _ in range(steps)]
        for d in range(dirs):
            suffix = f"_l{layer}" + ("_reverse" if d else "")
            w_ih, w_hh = params["weight_ih" + suffix], params["weight_hh" + suffix]
            b_ih = params["bias_ih" + suffix] if bias else None
            b_hh = params["bias_hh" + suffix] if bias else None
            name = f"l{layer}.{'reverse' if d else 'forward'}"
            for n in range(batch):
                h, c = list(h_n[layer * dirs + d][n]), list(c_n[layer * dirs + d][n])
                times = range(steps - 1, -1, -1) if d else range(steps)
                for t in times:
                    rec = cell_loop(mode, layer_in[t][n], h, c, w_ih, w_hh, b_ih, b_hh)
                    h, c = rec["h"], rec.get("c", c)
                    layer_out[t][n] = layer_out[t][n] + h if d else h + layer_out[t][n]
                    for gate, values in rec.items():
                        arr = gates.setdefault(f"{name}.{gate}", np.zeros((steps, batch, len(h))))
                        arr[t, n] = values
                h_n[layer * dirs + d][n], c_n[layer * dirs + d][n] = h, c
        layer_in = layer_out
    return np.array(layer_in), h_n, c_n, gates


def conv_lstm_loop(x, h, c, weight, bias, pad: int, peephole=None):
    """One unbatched ConvLSTM step: x (C_in, H, W), h, c (C_h, H, W), odd kernel, zero padding `pad`."""
    c_in, height, width = x.shape
    hidden = weight.shape[0] // 4
    combined = np.concatenate([x, h])  # this reference's own padding and window loops below
    kh, kw = weight.shape[2:]
    gates = np.zeros((4 * hidden, height, width))
    for oc in range(4 * hidden):
        for row in range(height):
            for col in range(width):
                total = 0.0 if bias is None else float(bias[oc])
                for ic in range(c_in + hidden):
                    for u in range(kh):
                        for v in range(kw):
                            rr, cc = row - pad + u, col - pad + v
                            if 0 <= rr < height and 0 <= cc < width:
                                total += float(weight[oc, ic, u, v]) * float(combined[ic, rr, cc])
                gates[oc, row, col] = total
    out = {name: np.zeros((hidden, height, width)) for name in ("i", "f", "g", "o", "c", "h")}
    for k in range(hidden):
        for row in range(height):
            for col in range(width):
                peep = [0.0, 0.0, 0.0] if peephole is None else [float(p[k, row, col]) for p in peephole]
                old = float(c[k, row, col])
                i = sigm(gates[k, row, col] + peep[0] * old)
                f = sigm(gates[hidden + k, row, col] + peep[1] * old)
                g = math.tanh(gates[2 * hidden + k, row, col])
                cell = f * old + i * g
                o = sigm(gates[3 * hidden + k, row, col] + peep[2] * cell)
                for name, value in zip("ifgoch", (i, f, g, o, cell, o * math.tanh(cell)), strict=True):
                    out[name][k, row, col] = value
    return out
