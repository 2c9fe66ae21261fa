"""Convolutions that split or reorder channels: 1-D, depthwise separable, grouped, shuffled.

Seed 003 describes them: 1x1 convolutions, depthwise separable convolutions (a
per-channel spatial convolution, then a 1x1 "pointwise" one), grouped
convolutions (each output channel sees only its group's input channels) and
shuffled grouped convolutions (channel shuffle: reshape the channels into
(g, n), transpose, flatten). Everything is built on `engine.conv.conv2d`.
"""

from __future__ import annotations

import numpy as np

from layerlab.engine.conv import PaddingMode, _pair, conv2d
from layerlab.engine.errors import ArgumentError
from layerlab.engine.trace import RecordSteps, Trace


def _single(value: int | tuple[int] | list[int], name: str) -> int:
    """An int, or a one-entry tuple of one (torch's Conv1d stores 1-tuples)."""
    if isinstance(value, (int, np.integer)):
        return int(value)
    single = tuple(value)
    if len(single) != 1:
        raise ArgumentError(name, f"{name} must be an int or a 1-tuple, got {value!r}")
    return int(single[0])


def conv1d(
    input: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None = None,
    stride: int | tuple[int] = 1,
    padding: int | tuple[int] | str = 0,
    dilation: int | tuple[int] = 1,
    groups: int = 1,
    padding_mode: PaddingMode = "zeros",
    *,
    record_steps: RecordSteps = "lazy",
) -> Trace:
    """1-D convolution as `torch.nn.functional.conv1d` (plus `padding_mode`): conv2d with height 1.

    Parameters
    ----------
    input : ndarray of shape (N, C_in, L) or (C_in, L)
    weight : ndarray of shape (C_out, C_in/groups, k)
    bias : ndarray of shape (C_out,) or None
    record_steps : as for `engine.conv.conv2d`.

    Returns
    -------
    Trace "conv1d" with output (N, C_out, L_out) (no N when unbatched), stages "padded"
    (N, C_in, L + pads) and "weight", and one step per recorded output element in C order
    (n, c_out, position): index (S, 3), origin (S,) first padded position of the window,
    positions (S, k) the padded positions the taps sample, window and products
    (S, C_in/groups, k), sum, bias and result (S,).
    """
    x = np.asarray(input, dtype=np.float64)
    w = np.asarray(weight, dtype=np.float64)
    if x.ndim not in (2, 3):
        raise ArgumentError("input", f"input must have shape (N, C, L) or (C, L), got {x.shape}")
    if w.ndim != 3:
        raise ArgumentError("weight", f"weight must have shape (C_out, C_in/groups, k), got {w.shape}")
    s, d = _single(stride, "stride"), _single(dilation, "dilation")
    pad = padding if isinstance(padding, str) else (0, _single(padding, "padding"))
    trace = conv2d(
        x[..., None, :],  # (N, C, 1, L): a one-row image
        w[:, :, None, :],  # (C_out, Cg, 1, k)
        bias,
        (1, s),
        pad,
        (1, d),
        groups,
        padding_mode,
        record_steps=record_steps,
    )
    p = trace.params
    params = {
        "stride": (s,),
        "padding": padding if isinstance(padding, str) else (pad[1],),
        "dilation": (d,),
        "groups": groups,
        "padding_mode": padding_mode,
        "pads": p["pads"][2:],  # (left, right) actually applied
        "input_size": (p["input_size"][1],),
        "padded_size": (p["padded_size"][1],),
        "kernel_size": (w.shape[2],),
        "output_size": (p["output_size"][1],),
        "has_bias": p["has_bias"],
    }
    stages = {"padded": trace.stages["padded"][..., 0, :], "weight": w}
    return trace.derive("conv1d", params, trace.output[..., 0, :], stages, _conv1d_steps)


def _conv1d_steps(steps: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """conv2d's steps of a one-row image as conv1d's (the row, always 0, dropped)."""
    return {
        "index": steps["index"][:, [0, 1, 3]],
        "origin": steps["origin"][:, 1],
        "positions": steps["cols"],
        "window": steps["window"][:, :, 0],
        "products": steps["products"][:, :, 0],
        "sum": steps["sum"],
        "bias": steps["bias"],
        "result": steps["result"],
    }


def conv_cost(
    c_in: int,
    c_out: int,
    kernel_size: int | tuple[int, int],
    output_size: int | tuple[int, int],
    groups: int = 1,
    bias: bool = True,
) -> dict[str, int]:
    """Parameters and multiply-accumulates of one conv2d layer (batch of one).

    parameters = C_out * (C_in/groups) * kH * kW (+ C_out with a bias);
    macs = C_out * OH * OW * (C_in/groups) * kH * kW (the bias additions are not MACs).
    """
    if groups < 1 or c_in % groups or c_out % groups:
        raise ValueError(f"groups={groups} must divide both in_channels={c_in} and out_channels={c_out}")
    kh, kw = _pair(kernel_size, "kernel_size")
    oh, ow = _pair(output_size, "output_size")
    per_output = (c_in // groups) * kh * kw  # weights (and MACs) behind one output element
    return {
        "parameters": c_out * per_output + (c_out if bias else 0),
        "macs": c_out * oh * ow * per_output,
    }


def depthwise_separable_conv2d(
    input: np.ndarray,
    depthwise_weight: np.ndarray,
    pointwise_weight: np.ndarray,
    depthwise_bias: np.ndarray | None = None,
    pointwise_bias: np.ndarray | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 0,
    dilation: int | tuple[int, int] = 1,
    padding_mode: PaddingMode = "zeros",
) -> Trace:
    """Depthwise convolution (groups = C_in) followed by a pointwise 1x1 convolution (seed 003).

    Parameters
    ----------
    input : ndarray of shape (N, C_in, H, W) or (C_in, H, W)
    depthwise_weight : ndarray of shape (C_in*m, 1, kH, kW), m the depth multiplier
    pointwise_weight : ndarray of shape (C_out, C_in*m, 1, 1)
    depthwise_bias : (C_in*m,) or None; pointwise_bias : (C_out,) or None

    Returns
    -------
    Trace "depthwise_separable_conv2d" with output (N, C_out, OH, OW), stages "padded" (the
    depthwise input after padding) and "depthwise" (N, C_in*m, OH, OW), and params["cost"]:
    parameters and MACs of this layer ("separable", split into "depthwise" and "pointwise")
    and of a standard conv2d from C_in to C_out with the same kernel and output size
    ("standard", its bias counted when this layer has any bias).
    """
    x = np.asarray(input, dtype=np.float64)
    dw = np.asarray(depthwise_weight, dtype=np.float64)
    pw = np.asarray(pointwise_weight, dtype=np.float64)
    if x.ndim not in (3, 4):
        raise ValueError(f"input must have shape (N, C, H, W) or (C, H, W), got {x.shape}")
    c_in = x.shape[-3]
    if dw.ndim != 4 or dw.shape[1] != 1 or dw.shape[0] % c_in:
        raise ValueError(
            f"depthwise_weight must have shape (C_in*m, 1, kH, kW) with C_in={c_in}, got {dw.shape}"
        )
    if pw.ndim != 4 or pw.shape[1:] != (dw.shape[0], 1, 1):
        raise ValueError(f"pointwise_weight must have shape (C_out, {dw.shape[0]}, 1, 1), got {pw.shape}")
    depthwise = conv2d(
        x, dw, depthwise_bias, stride, padding, dilation, c_in, padding_mode, record_steps=False
    )
    pointwise = conv2d(depthwise.output, pw, pointwise_bias, record_steps=False)
    kernel, out_size = depthwise.params["kernel_size"], depthwise.params["output_size"]
    c_mid, c_out = dw.shape[0], pw.shape[0]
    depthwise_cost = conv_cost(c_in, c_mid, kernel, out_size, c_in, depthwise_bias is not None)
    pointwise_cost = conv_cost(c_mid, c_out, 1, out_size, 1, pointwise_bias is not None)
    has_bias = depthwise_bias is not None or pointwise_bias is not None
    cost = {
        "separable": {key: depthwise_cost[key] + pointwise_cost[key] for key in depthwise_cost},
        "standard": conv_cost(c_in, c_out, kernel, out_size, 1, has_bias),
        "depthwise": depthwise_cost,
        "pointwise": pointwise_cost,
    }
    params = {
        key: depthwise.params[key]
        for key in ("stride", "padding", "dilation", "padding_mode", "pads", "input_size", "kernel_size")
    }
    params |= {
        "output_size": out_size,
        "in_channels": c_in,
        "depth_multiplier": c_mid // c_in,
        "out_channels": c_out,
        "cost": cost,
    }
    stages = {"padded": depthwise.stages["padded"], "depthwise": depthwise.output}
    return Trace("depthwise_separable_conv2d", params, pointwise.output, stages)


def channel_shuffle(input: np.ndarray, groups: int) -> Trace:
    """Channel shuffle as `torch.nn.functional.channel_shuffle` (ShuffleNet, seed 003).

    input : ndarray of shape (N, C, *) with C divisible by groups. The C channels are
    reshaped to (groups, C/groups), transposed and flattened, so consecutive output
    channels come from different groups. Returns a Trace whose params and stages hold
    "permutation" (C,): output[:, k] = input[:, permutation[k]].
    """
    x = np.asarray(input)
    if x.ndim < 3:
        raise ValueError(f"channel_shuffle expects an input of shape (N, C, *) with 3+ dims, got {x.shape}")
    channels = x.shape[1]
    if groups < 1 or channels % groups:
        raise ValueError(f"groups={groups} must be positive and divide the {channels} channels")
    per_group = channels // groups
    # output channel i*g + j is input channel j*n + i: the transpose of a (g, n) grid of channels
    permutation = np.arange(channels).reshape(groups, per_group).T.reshape(-1)  # (C,)
    output = x[:, permutation]
    params = {"groups": groups, "channels_per_group": per_group, "permutation": permutation}
    return Trace("channel_shuffle", params, output, {"permutation": permutation})


def connections(c_in: int, c_out: int, groups: int) -> np.ndarray:
    """(C_out, C_in) boolean: True where input channel c feeds output channel o in a grouped conv.

    Output channel o belongs to group o // (C_out/groups) and sees exactly that group's
    C_in/groups input channels, so the matrix is block diagonal with `groups` blocks.
    """
    if groups < 1 or c_in % groups or c_out % groups:
        raise ValueError(f"groups={groups} must divide both in_channels={c_in} and out_channels={c_out}")
    out_group = np.arange(c_out) // (c_out // groups)  # (C_out,)
    in_group = np.arange(c_in) // (c_in // groups)  # (C_in,)
    return out_group[:, None] == in_group[None, :]
