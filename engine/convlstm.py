"""ConvLSTM (Shi et al. 2015): an LSTM whose matrix products are convolutions, so states stay maps.

Seed 003 gives the cell: i, f, o = σ(W_x∗X + W_h∗H + W_c∘C + b), C' = f∘C + i∘tanh(W_x∗X + W_h∗H + b),
H' = o∘tanh(C'). As in most implementations, one `engine.conv.conv2d` over the channel concatenation
[X, H] with 4·C_h output channels computes the four gates' convolution terms at once (blocks in
the LSTM's torch order i, f, g, o); the Hadamard "peephole" terms W_c∘C are optional.
"""

from __future__ import annotations

import numpy as np

from layerlab.engine.conv import conv2d
from layerlab.engine.recurrent_cells import as_float, sigmoid, state_pair
from layerlab.engine.trace import Trace

GATES = ("i", "f", "g", "o")


def conv_lstm_cell(
    input: np.ndarray,
    hx: tuple[np.ndarray, np.ndarray] | None,
    weight: np.ndarray,
    bias: np.ndarray | None = None,
    padding: int | tuple[int, int] | str = "same",
    peephole: np.ndarray | None = None,
) -> Trace:
    """One ConvLSTM step on image-shaped states.

    Parameters
    ----------
    input : ndarray of shape (N, C_in, H, W) or (C_in, H, W)
    hx : (h, c), each of shape (N, C_h, H, W) (no N when unbatched), or None for zeros
    weight : ndarray of shape (4·C_h, C_in + C_h, kH, kW); input channels first, then hidden ones
    bias : ndarray of shape (4·C_h,) or None
    padding : as conv2d's; it must keep the H × W size (e.g. "same", or k // 2 for an odd kernel k)
    peephole : None or ndarray of shape (3, C_h, H, W): W_ci, W_cf, W_co, multiplied element-wise by
        the previous cell state (i and f) and the new one (o)

    Returns
    -------
    Trace "conv_lstm_cell" with output h' (N, C_h, H, W), stages "combined" (N, C_in + C_h, H, W) the
    conv's input, "padded" (conv2d's padded input), "gates" (N, 4·C_h, H, W) the conv's output, and,
    each (N, C_h, H, W): "h_prev", "c_prev", "i_pre", "i", "f_pre", "f", "g_pre", "g", "o_pre", "o",
    "c", "c_tanh", "h". Every stage loses N when the input is unbatched.
    """
    x = as_float(input, "input")
    unbatched = x.ndim == 3
    x = x[None] if unbatched else x
    if x.ndim != 4 or 0 in x.shape:
        raise ValueError(f"input must have shape (N, C_in, H, W) or (C_in, H, W), got {np.shape(input)}")
    w = as_float(weight, "weight")
    if w.ndim != 4 or w.shape[0] == 0 or w.shape[0] % 4:
        raise ValueError(f"weight must have shape (4·C_h, C_in + C_h, kH, kW) with C_h > 0, got {w.shape}")
    hidden = w.shape[0] // 4
    if w.shape[1] != x.shape[1] + hidden:
        raise ValueError(
            f"weight must have {x.shape[1] + hidden} input channels (C_in + C_h), got {w.shape[1]}"
        )
    state_shape = (x.shape[0], hidden, *x.shape[2:])
    h_prev, c_prev = (
        np.zeros(state_shape) if s is None else _state(s, name, state_shape, unbatched)
        for s, name in zip(state_pair(hx, "(h, c)"), ("hx[0]", "hx[1]"), strict=True)
    )
    peep = np.zeros((3, *state_shape[1:])) if peephole is None else as_float(peephole, "peephole")
    if peep.shape != (3, *state_shape[1:]):
        raise ValueError(f"peephole must have shape {(3, *state_shape[1:])}, got {peep.shape}")
    combined = np.concatenate([x, h_prev], axis=1)  # (N, C_in + C_h, H, W)
    conv = conv2d(combined, w, bias, padding=padding, record_steps=False)
    if conv.output.shape[2:] != x.shape[2:]:
        raise ValueError(
            f"padding {padding!r} gives {conv.output.shape[2:]} maps, not {x.shape[2:]}: use 'same'"
        )
    blocks = [conv.output[:, k * hidden : (k + 1) * hidden] for k in range(4)]
    i_pre, f_pre, g_pre = blocks[0] + peep[0] * c_prev, blocks[1] + peep[1] * c_prev, blocks[2]
    i, f, g = sigmoid(i_pre), sigmoid(f_pre), np.tanh(g_pre)
    c = f * c_prev + i * g
    o_pre = blocks[3] + peep[2] * c  # the output gate peeks at the new cell state
    o, c_tanh = sigmoid(o_pre), np.tanh(c)
    stages = {"combined": combined, "padded": conv.stages["padded"], "gates": conv.output}
    stages.update(h_prev=h_prev, c_prev=c_prev, i_pre=i_pre, i=i, f_pre=f_pre, f=f, g_pre=g_pre, g=g)
    stages.update(o_pre=o_pre, o=o, c=c, c_tanh=c_tanh, h=o * c_tanh)
    if unbatched:
        stages = {name: value[0] for name, value in stages.items()}
    params = {
        "hidden_channels": hidden,
        "input_channels": x.shape[1],
        "kernel_size": w.shape[2:],
        "padding": conv.params["padding"],
        "pads": conv.params["pads"],
        "map_size": x.shape[2:],
        "batch": None if unbatched else x.shape[0],
        "has_bias": bias is not None,
        "peephole": peephole is not None,
    }
    return Trace("conv_lstm_cell", params, stages["h"], stages)


def conv_lstm(
    input: np.ndarray,
    hx: tuple[np.ndarray, np.ndarray] | None,
    weight: np.ndarray,
    bias: np.ndarray | None = None,
    padding: int | tuple[int, int] | str = "same",
    peephole: np.ndarray | None = None,
) -> Trace:
    """`conv_lstm_cell` run over a sequence of frames, one layer, forward in time.

    Parameters
    ----------
    input : ndarray of shape (T, N, C_in, H, W) or (T, C_in, H, W) unbatched
    hx : the initial (h_0, c_0), each (N, C_h, H, W) (no N when unbatched), or None for zeros
    weight, bias, padding, peephole : as `conv_lstm_cell`

    Returns
    -------
    Trace "conv_lstm" with output the hidden maps of every step (T, N, C_h, H, W), and every stage
    of `conv_lstm_cell` (but "padded") stacked over time: (T, N, ...), no N when unbatched. Step t
    reads the state at index t − 1 (hx for t = 0): stages "h_prev" and "c_prev" hold it.
    """
    frames = as_float(input, "input")
    if frames.ndim not in (4, 5) or len(frames) == 0:
        raise ValueError(f"input must have shape (T, N, C_in, H, W) or (T, C_in, H, W), got {frames.shape}")
    cells = []
    for frame in frames:
        cells.append(conv_lstm_cell(frame, hx, weight, bias, padding, peephole))
        hx = (cells[-1].stages["h"], cells[-1].stages["c"])
    stages = {
        name: np.stack([cell.stages[name] for cell in cells]) for name in cells[0].stages if name != "padded"
    }
    return Trace("conv_lstm", {**cells[0].params, "seq_len": len(frames)}, stages["h"], stages)


def _state(value: np.ndarray, name: str, shape: tuple[int, ...], unbatched: bool) -> np.ndarray:
    """One of hx's maps as (N, C_h, H, W), checked."""
    s = as_float(value, name)
    want = shape[1:] if unbatched else shape
    if s.shape != want:
        raise ValueError(f"{name} must have shape {want}, got {s.shape}")
    return s[None] if unbatched else s
