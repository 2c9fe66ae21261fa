"""The recurrent page's formulas (LaTeX for app.mathml.tex) and its PyTorch lines (seed 003)."""

from __future__ import annotations

from layerlab.app.pages.recurrent.schemas import SequenceRequest


def _gate(name: str, squash: str, gate: str) -> str:
    """One gate of torch's LSTM or GRU, e.g. f_t = σ(W_if x_t + b_if + W_hf h_{t−1} + b_hf)."""
    return (
        rf"{name}_t = {squash}\left(W_{{i{gate}}} x_t + b_{{i{gate}}} + W_{{h{gate}}} h_{{t-1}}"
        rf" + b_{{h{gate}}}\right)"
    )


DEFINITIONS = {
    # seed 003's simple RNN, with torch's names: its U is W_ih, its V is W_hh
    "rnn": r"h_t = f\left(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}\right),\quad f = \tanh"
    r"\text{ or ReLU}",
    "rnn_seed": r"h_t = f\left(V h_{t-1} + U x_t\right),\qquad o_t = g\left(W h_t\right)",
    "lstm_gates": ",\\quad ".join([_gate("i", r"\sigma", "i"), _gate("f", r"\sigma", "f")]),
    "lstm_gates2": ",\\quad ".join([_gate("g", r"\tanh", "g"), _gate("o", r"\sigma", "o")]),
    "lstm_state": r"c_t = f_t \odot c_{t-1} + i_t \odot g_t,\qquad h_t = o_t \odot \tanh(c_t)",
    "gru_gates": ",\\quad ".join([_gate("r", r"\sigma", "r"), _gate("z", r"\sigma", "z")]),
    "gru_candidate": r"n_t = \tanh\left(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})\right)",
    "gru_state": r"h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}",
    "bidirectional": r"y_t = \left[\, \overrightarrow{h}_t \,;\, \overleftarrow{h}_t \,\right]",
    "bptt": r"\frac{\partial h_T}{\partial x_t} = \frac{\partial h_T}{\partial h_{T-1}} \cdots "
    r"\frac{\partial h_{t+1}}{\partial h_t} \, \frac{\partial h_t}{\partial x_t}",
    "rnn_jacobian": r"\frac{\partial h_k}{\partial h_{k-1}} = \mathrm{diag}\left(f'\right) W_{hh}",
    "lstm_jacobian": r"\frac{\partial c_k}{\partial c_{k-1}} = \mathrm{diag}\left(f_k\right)",
}

MODULES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


def torch_line(req: SequenceRequest, kind: str, input_size: int, length: int) -> str:
    """The PyTorch module for the current settings and the call that gives what the page shows."""
    args = [f"input_size={input_size}", f"hidden_size={req.hidden_size}", f"num_layers={req.num_layers}"]
    if kind == "rnn" and req.nonlinearity != "tanh":
        args.append(f"nonlinearity='{req.nonlinearity}'")
    args.append(f"bidirectional={req.bidirectional}")
    states = "(h_n, c_n)" if kind == "lstm" else "h_n"
    width = (2 if req.bidirectional else 1) * req.hidden_size
    return (
        f"{kind} = nn.{MODULES[kind]}({', '.join(args)})\n"
        f"output, {states} = {kind}(x)  # x ({length}, {input_size}) unbatched -> output ({length}, {width})"
    )


def gradients_torch() -> str:
    """How to measure one point of the gradient chart with autograd."""
    return (
        "x.requires_grad_(True); output, _ = rnn(x)\n"
        "jac = torch.autograd.functional.jacobian(lambda x: rnn(x)[0][-1], x)  # (H, T, I)\n"
        "norms = jac.permute(1, 0, 2).flatten(1).norm(dim=1)  # ‖∂h_T/∂x_t‖ for every t"
    )
