"""From a recurrent request to engine arguments, and the engine's trace laid out one step per cell.

The input x (T, I) comes from typed numbers (I = 1), a generated signal (I = 1: a sine of the
requested period, or a step from 0 to 1 halfway through) or a sentence embedded with the attention
page's vocabulary (I = 8 named features). The weights are `init_params(kind, I, H, ...)` with the
request's seed and scale, so a link reproduces them.
"""

from __future__ import annotations

import numpy as np

from layerlab.app.config import in_effect as S
from layerlab.app.errors import ApiError, engine_errors
from layerlab.app.pages.recurrent.schemas import SequenceRequest
from layerlab.engine.recurrent import DIRECTIONS, gru, init_params, lstm, rnn
from layerlab.engine.sequences import signal
from layerlab.engine.trace import Trace
from layerlab.engine.vocab import FEATURES, embed, tokenize

RUN = {"rnn": rnn, "lstm": lstm, "gru": gru}


def sequence(req: SequenceRequest) -> tuple[np.ndarray, list[str], list[str]]:
    """The input (T, I), a label per time step (the word, or x_t to 3 decimals) and a name per feature."""
    if req.source == "sentence":
        tokens = tokenize(req.sentence)
        if not tokens:
            raise ApiError(422, "sentence", "type at least one word")
        if len(tokens) > S.max_rnn_seq_len:
            raise ApiError(
                422, "sentence", f"at most {S.max_rnn_seq_len} words (max_rnn_seq_len), got {len(tokens)}"
            )
        x, _ = embed(tokens)
        return x, tokens, list(FEATURES)
    if req.source == "numbers":
        x = np.array(req.numbers, dtype=float)
    else:
        x = signal(req.source, req.length, req.period)
    return x[:, None], [f"{round(v, 3) + 0.0:g}" for v in x], ["x"]


def run(req: SequenceRequest, kind: str) -> tuple[Trace, dict[str, np.ndarray]]:
    """The engine's unbatched trace of `kind` over the request's sequence, and the weights it used."""
    x, _, _ = sequence(req)
    with engine_errors():
        size = {"num_layers": req.num_layers, "bidirectional": req.bidirectional}
        params = init_params(kind, x.shape[1], req.hidden_size, **size, seed=req.seed, scale=req.scale)
        if kind == "rnn":
            trace = rnn(x, None, params, req.num_layers, req.nonlinearity, bidirectional=req.bidirectional)
        else:
            trace = RUN[kind](x, None, params, req.num_layers, bidirectional=req.bidirectional)
    return trace, params


def step_columns(trace: Trace) -> dict[str, object]:
    """Every cell evaluation in the engine's order, as columns indexed by step.

    "layer", "direction", "time" (S,) are the engine's; "x" holds what the cell read (a list of S
    rows, I wide on layer 0 and D·H above); "h_prev" (and "c_prev") (S, H) the state it started from
    (h_0 for the first step of a direction, else the state of the step before in running order);
    then every stage of the cell (each (S, H)): the gates before and after their nonlinearity,
    "c" and "c_tanh" for the LSTM, and "h".
    """
    st, mode = trace.stages, trace.params["mode"]
    directions = len(trace.params["directions"])
    steps = trace.steps
    names = [n.removeprefix("l0.forward.") for n in st if n.startswith("l0.forward.")]
    names = [n for n in names if n not in ("ih", "hh")]  # (T, G·H): the gates' pre-activations split
    columns: dict[str, list] = {
        name: [] for name in ("x", "h_prev", *(["c_prev"] if mode == "lstm" else []), *names)
    }
    for layer, d, t in zip(steps["layer"], steps["direction"], steps["time"], strict=True):
        prefix = f"l{layer}.{DIRECTIONS[d]}."
        before = t + 1 if d else t - 1  # the reverse direction runs T−1 → 0
        first = before < 0 or before >= trace.params["seq_len"]
        columns["x"].append(st[f"l{layer}.input"][t])
        columns["h_prev"].append(st["h_0"][layer * directions + d] if first else st[prefix + "h"][before])
        if mode == "lstm":
            columns["c_prev"].append(st["c_0"][layer * directions + d] if first else st[prefix + "c"][before])
        for name in names:
            columns[name].append(st[prefix + name][t])
    out: dict[str, object] = {key: steps[key] for key in ("layer", "direction", "time")}
    out.update({name: (rows if name == "x" else np.array(rows)) for name, rows in columns.items()})
    return out
