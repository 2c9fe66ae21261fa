"""Normalizations that share no statistics between samples: of a weight, or across nearby channels.

weight_norm and weight_standardization reparameterize a conv weight (C_out, C_in, kH, kW) or a
linear weight (out, in), one output unit at a time; seed 003 describes both (Salimans & Kingma
2016: w = g * v / ||v||; Qiao et al. 2019: each output channel to zero mean and unit variance).
local_response_norm (torch.nn.functional.local_response_norm, Krizhevsky et al. 2012) divides
each activation by a power of the energy in a window of neighbouring channels.

Each takes record_steps (keyword) as conv2d does, "lazy" by default; the steps (one per slice or
channel) are computed with the output and sliced from it when read.
"""

from __future__ import annotations

import numpy as np

from layerlab.engine.norm import layer_norm
from layerlab.engine.trace import Held, RecordSteps, Trace, recorded_trace


def weight_norm(
    v: np.ndarray, g: np.ndarray | float, dim: int | None = 0, *, record_steps: RecordSteps = "lazy"
) -> Trace:
    """w = g * v / ||v||, the norm taken over every dim but `dim`, as torch.nn.utils.weight_norm.

    Parameters
    ----------
    v : ndarray of any shape, e.g. (C_out, C_in, kH, kW) or (out, in); it gives the direction
    g : the lengths, one per slice v[i] along dim: shape (v.shape[dim],) or torch's parameter
        shape (v.shape[dim] at dim, 1 elsewhere). With dim None, or -1 as torch reads it, one
        norm over the whole tensor and a single g (a scalar or all-ones shape).

    Returns
    -------
    Trace with output w (v's shape), stages "v", "direction" v / ||v||, and "norm" and "g" in
    torch's parameter shape, and one step per slice: index, norm ||v_i||, g, w_norm = |g_i|, (S,).
    """
    v = np.asarray(v, dtype=np.float64)
    if v.ndim == 0 or v.size == 0:
        raise ValueError(f"v must be a non-empty array with at least one dim, got shape {v.shape}")
    whole = dim is None or dim == -1  # torch's norm_except_dim takes -1 to mean the whole tensor
    if not whole and not -v.ndim <= dim < v.ndim:
        raise ValueError(f"dim must be None or in [{-v.ndim}, {v.ndim}) for v of shape {v.shape}, got {dim}")
    dim = None if whole else dim % v.ndim
    axes = tuple(a for a in range(v.ndim) if a != dim)
    norm = np.sqrt(np.sum(v * v, axis=axes, keepdims=True))  # (.., v.shape[dim], ..) or all ones
    gain = np.asarray(g, dtype=np.float64)
    if gain.shape not in {norm.shape, (norm.size,)} and not (whole and gain.ndim == 0):
        raise ValueError(f"g must have shape {norm.shape} or ({norm.size},) for dim={dim}, got {gain.shape}")
    gain = gain.reshape(norm.shape)
    if (norm == 0).any():
        raise ValueError("v has a slice of all zeros: it has no direction to normalize")
    direction = v / norm
    params = {"dim": dim, "norm_axes": axes, "num_slices": norm.size}
    steps = {
        "index": np.arange(norm.size),
        "norm": norm.ravel(),
        "g": gain.ravel(),
        "w_norm": np.abs(gain).ravel(),
    }
    stages = {"v": v, "direction": direction, "norm": norm, "g": gain}
    return recorded_trace(
        "weight_norm", params, v * (gain / norm), stages, record_steps, Held(steps), norm.size
    )


def weight_standardization(
    weight: np.ndarray, eps: float = 1e-5, *, record_steps: RecordSteps = "lazy"
) -> Trace:
    """Each output channel's weights minus their mean, divided by sqrt(var + eps) (biased var).

    weight : (C_out, *), e.g. (C_out, C_in, kH, kW) or (out, in).
    That is layer_norm over weight.shape[1:] without affine, the paper's equations (the variance
    over C_in * kH * kW values, eps inside the root); the paper's reference code instead divides by
    the unbiased std plus eps, which differs by O(1 / (C_in kH kW)) and O(eps).

    Returns a Trace shaped as engine.norm's: output the standardized weight, stages "group_of"
    (weight's shape) the output channel of each entry and "normalized" (the output: no affine
    step), and one step per output channel with fields group, count, mean, var, eps, inv_std (S,).
    """
    w = np.asarray(weight, dtype=np.float64)
    if w.ndim < 2:
        raise ValueError(f"weight must have shape (C_out, *) with at least 2 dims, got {w.shape}")
    trace = layer_norm(w, w.shape[1:], eps=eps, record_steps=record_steps)
    params = {name: trace.params[name] for name in ("eps", "reduce_axes", "group_size")}
    return trace.derive("weight_standardization", params, trace.output, trace.stages)


def local_response_norm(
    input: np.ndarray,
    size: int,
    alpha: float = 1e-4,
    beta: float = 0.75,
    k: float = 1.0,
    *,
    record_steps: RecordSteps = "lazy",
) -> Trace:
    """b_c = a_c / (k + alpha / size * sum of a_c'^2 over the window of channels c')^beta.

    As torch: the window of channel c is c - size // 2 .. c + (size - 1) // 2, channels outside
    0..C-1 count as zeros (padding), and the sum is always divided by size.

    Parameters
    ----------
    input : ndarray of shape (N, C, *spatial), at least 3 dims
    size : number of channels in the window

    Returns
    -------
    Trace with output of the input's shape, stages "square_sum" (the windowed sum of squares) and
    "denominator" (k + alpha / size * square_sum)^beta, both the input's shape, and one step per
    channel: channel, first and last (the real channels in its window, inclusive), count, (S,).
    """
    x = np.asarray(input, dtype=np.float64)
    if x.ndim < 3 or x.size == 0:
        raise ValueError(f"Expected 3D or higher dimensionality input (N, C, *), got shape {x.shape}")
    if not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size must be a positive int, got {size!r}")
    c, before, after = x.shape[1], size // 2, (size - 1) // 2
    widths = [(0, 0), (before, after)] + [(0, 0)] * (x.ndim - 2)
    squares = np.pad(x * x, widths)  # zero channels around: (N, C + size - 1, *spatial)
    square_sum = np.zeros_like(x)
    for offset in range(size):  # a loop over the window only; each term is one slice of all channels
        square_sum += squares[:, offset : offset + c]
    base = k + alpha / size * square_sum
    if (base <= 0).any():
        raise ValueError(f"k + alpha / size * (sum of squares) must be positive (k={k}, alpha={alpha})")
    denominator = base**beta
    channel = np.arange(c)
    first, last = np.maximum(channel - before, 0), np.minimum(channel + after, c - 1)
    params = {"size": int(size), "alpha": alpha, "beta": beta, "k": k, "window": (before, after)}
    steps = {"channel": channel, "first": first, "last": last, "count": last - first + 1}
    stages = {"square_sum": square_sum, "denominator": denominator}
    return recorded_trace(
        "local_response_norm", params, x / denominator, stages, record_steps, Held(steps), c
    )
