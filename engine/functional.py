"""The engine as `torch.nn.functional`: every operation under its torch name, with torch's signature.

`from layerlab.functional import conv2d, relu, max_pool2d` reads like `import torch.nn.functional
as F`: the same names, argument names, order, defaults and keyword-only markers (the torch 2.5
documentation's; tests/engine/test_functional.py writes each one out). Each call returns a
`Trace`, which behaves as its output array, so calls compose: `max_pool2d(relu(conv2d(x, w)), 2)`.
Where torch returns a tuple (`return_indices=True`), so does the function here: (Trace, indices
as int64, torch's dtype).

dtype: the engine computes in float64; the output's dtype follows the input's as in torch
(float32 in, float32 out; float16 and float64 likewise; `query`'s for attention). An input that
is not floating (a list of numbers, integers) gives float64, where torch would refuse or use its
default dtype. Stages and steps stay float64: they are the record of the computation.

Accepted for torch parity and different from torch: `inplace=True` returns a new trace and leaves
the input as it is; `dropout_p` must be 0 (the engine is deterministic); `_stacklevel` is ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from layerlab.engine import activations as act
from layerlab.engine import (
    attention,
    grouped,
    norm,
    norm_weights,
    pool,
    pool1d,
    pool_fractional,
    pool_regions,
    pool_variants,
    transposed,
)
from layerlab.engine import linear as lin
from layerlab.engine.conv import conv2d as _conv2d
from layerlab.engine.trace import Trace

__all__ = [
    "adaptive_avg_pool2d",
    "adaptive_max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "batch_norm",
    "channel_shuffle",
    "conv1d",
    "conv2d",
    "conv_transpose1d",
    "conv_transpose2d",
    "elu",
    "fractional_max_pool2d",
    "gelu",
    "group_norm",
    "instance_norm",
    "layer_norm",
    "leaky_relu",
    "linear",
    "local_response_norm",
    "log_softmax",
    "lp_pool1d",
    "lp_pool2d",
    "max_pool1d",
    "max_pool2d",
    "pad",
    "prelu",
    "relu",
    "rms_norm",
    "scaled_dot_product_attention",
    "sigmoid",
    "silu",
    "softmax",
    "tanh",
]

Tensor = np.ndarray | Trace  # anything np.asarray reads: an array, a Trace, nested lists
Size = int | tuple[int, ...]


def _like(result: Trace, input: Tensor) -> Trace:
    """`result` with its output cast to `input`'s floating dtype (the engine computes in float64)."""
    dtype = np.asarray(input).dtype  # a Trace gives its output: no copy
    if dtype.kind == "f" and result.output.dtype != dtype:
        result.output = np.asarray(result.output).astype(dtype)
    return result


def _with_indices(result: Trace, input: Tensor, return_indices: bool) -> Trace | tuple[Trace, np.ndarray]:
    """torch's (output, indices) when return_indices, else the output; indices int64 as torch's."""
    result = _like(result, input)
    return (result, result.stages["indices"].astype(np.int64)) if return_indices else result


# --- convolution ---------------------------------------------------------------------------------


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Size = 1,
    padding: Size | str = 0,
    dilation: Size = 1,
    groups: int = 1,
) -> Trace:
    """input (N, C_in, L) or (C_in, L), weight (C_out, C_in / groups, k) -> (N, C_out, L_out)."""
    return _like(grouped.conv1d(input, weight, bias, stride, padding, dilation, groups), input)


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Size = 1,
    padding: Size | str = 0,
    dilation: Size = 1,
    groups: int = 1,
) -> Trace:
    """input (N, C_in, H, W) or (C_in, H, W), weight (C_out, C_in / groups, kH, kW) -> (N, C_out, OH, OW)."""
    return _like(_conv2d(input, weight, bias, stride, padding, dilation, groups), input)


def conv_transpose1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Size = 1,
    padding: Size = 0,
    output_padding: Size = 0,
    groups: int = 1,
    dilation: Size = 1,
) -> Trace:
    """input (N, C_in, L), weight (C_in, C_out / groups, k) -> (N, C_out, L_out)."""
    trace = transposed.conv_transpose1d(
        input, weight, bias, stride, padding, output_padding, groups, dilation
    )
    return _like(trace, input)


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Size = 1,
    padding: Size = 0,
    output_padding: Size = 0,
    groups: int = 1,
    dilation: Size = 1,
) -> Trace:
    """input (N, C_in, H, W), weight (C_in, C_out / groups, kH, kW) -> (N, C_out, OH, OW)."""
    trace = transposed.conv_transpose2d(
        input, weight, bias, stride, padding, output_padding, groups, dilation
    )
    return _like(trace, input)


# --- pooling -------------------------------------------------------------------------------------


def max_pool1d(
    input: Tensor,
    kernel_size: Size,
    stride: Size | None = None,
    padding: Size = 0,
    dilation: Size = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Trace | tuple[Trace, np.ndarray]:
    """input (N, C, L) or (C, L) -> (N, C, L_out), and the winners' indices when asked."""
    trace = pool1d.max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)
    return _with_indices(trace, input, return_indices)


def max_pool2d(
    input: Tensor,
    kernel_size: Size,
    stride: Size | None = None,
    padding: Size = 0,
    dilation: Size = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Trace | tuple[Trace, np.ndarray]:
    """input (N, C, H, W) or (C, H, W) -> (N, C, OH, OW), and the winners' flat h*W + w when asked."""
    trace = pool.max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)
    return _with_indices(trace, input, return_indices)


def avg_pool1d(
    input: Tensor,
    kernel_size: Size,
    stride: Size | None = None,
    padding: Size = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Trace:
    """input (N, C, L) or (C, L) -> (N, C, L_out)."""
    trace = pool1d.avg_pool1d(input, kernel_size, stride, padding, ceil_mode, count_include_pad)
    return _like(trace, input)


def avg_pool2d(
    input: Tensor,
    kernel_size: Size,
    stride: Size | None = None,
    padding: Size = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Trace:
    """input (N, C, H, W) or (C, H, W) -> (N, C, OH, OW)."""
    trace = pool.avg_pool2d(
        input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )
    return _like(trace, input)


def lp_pool1d(
    input: Tensor, norm_type: float, kernel_size: int, stride: Size | None = None, ceil_mode: bool = False
) -> Trace:
    """(sum of x^p over each window)^(1/p); input (N, C, L) or (C, L)."""
    return _like(pool1d.lp_pool1d(input, norm_type, kernel_size, stride, ceil_mode), input)


def lp_pool2d(
    input: Tensor, norm_type: float, kernel_size: Size, stride: Size | None = None, ceil_mode: bool = False
) -> Trace:
    """(sum of x^p over each window)^(1/p); input (N, C, H, W) or (C, H, W)."""
    return _like(pool_variants.lp_pool2d(input, norm_type, kernel_size, stride, ceil_mode), input)


def adaptive_avg_pool2d(input: Tensor, output_size: Size | None) -> Trace:
    """input (N, C, H, W) or (C, H, W) -> (N, C, *output_size), regions as torch's."""
    return _like(pool_regions.adaptive_avg_pool2d(input, output_size), input)


def adaptive_max_pool2d(
    input: Tensor, output_size: Size | None, return_indices: bool = False
) -> Trace | tuple[Trace, np.ndarray]:
    """input (N, C, H, W) or (C, H, W) -> (N, C, *output_size), and the winners' indices when asked."""
    trace = pool_regions.adaptive_max_pool2d(input, output_size, return_indices)
    return _with_indices(trace, input, return_indices)


def fractional_max_pool2d(
    input: Tensor,
    kernel_size: Size,
    output_size: Size | None = None,
    output_ratio: float | tuple[float, float] | None = None,
    return_indices: bool = False,
    _random_samples: Tensor | None = None,
) -> Trace | tuple[Trace, np.ndarray]:
    """input (N, C, H, W) or (C, H, W) -> (N, C, *output_size): windows at pseudo-random starts."""
    trace = pool_fractional.fractional_max_pool2d(
        input, kernel_size, output_size, output_ratio, return_indices, _random_samples
    )
    return _with_indices(trace, input, return_indices)


# --- normalization -------------------------------------------------------------------------------


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-05,
) -> Trace:
    """Normalize each channel of input (N, C, *) over N and *; the running statistics as torch's."""
    trace = norm.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)
    return _like(trace, input)


def instance_norm(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-05,
) -> Trace:
    """Normalize each (sample, channel) of input (N, C, *) over *."""
    trace = norm.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)
    return _like(trace, input)


def layer_norm(
    input: Tensor,
    normalized_shape: Sequence[int] | int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-05,
) -> Trace:
    """Normalize input (*, *normalized_shape) over its last len(normalized_shape) dimensions."""
    return _like(norm.layer_norm(input, normalized_shape, weight, bias, eps), input)


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-05,
) -> Trace:
    """Normalize input (N, C, *) over each group of C / num_groups channels and *."""
    return _like(norm.group_norm(input, num_groups, weight, bias, eps), input)


def rms_norm(
    input: Tensor,
    normalized_shape: Sequence[int] | int,
    weight: Tensor | None = None,
    eps: float | None = None,
) -> Trace:
    """x / sqrt(mean(x^2) + eps) over the last len(normalized_shape) dimensions, times weight."""
    return _like(norm.rms_norm(input, normalized_shape, weight, eps), input)


def local_response_norm(
    input: Tensor, size: int, alpha: float = 0.0001, beta: float = 0.75, k: float = 1.0
) -> Trace:
    """x / (k + alpha / size * sum of x^2 over `size` neighbouring channels)^beta; input (N, C, *)."""
    return _like(norm_weights.local_response_norm(input, size, alpha, beta, k), input)


# --- activations ---------------------------------------------------------------------------------


def relu(input: Tensor, inplace: bool = False) -> Trace:
    """max(0, x) element-wise."""
    return _like(act.relu(input, inplace), input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Trace:
    """x for x > 0, negative_slope * x otherwise."""
    return _like(act.leaky_relu(input, negative_slope, inplace), input)


def prelu(input: Tensor, weight: Tensor) -> Trace:
    """Leaky ReLU with one learned slope per channel (dim 1)."""
    return _like(act.prelu(input, weight), input)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Trace:
    """x for x > 0, alpha (e^x - 1) otherwise."""
    return _like(act.elu(input, alpha, inplace), input)


def gelu(input: Tensor, approximate: Literal["none", "tanh"] = "none") -> Trace:
    """x Phi(x), or its tanh approximation."""
    return _like(act.gelu(input, approximate), input)


def sigmoid(input: Tensor) -> Trace:
    """1 / (1 + e^-x) element-wise."""
    return _like(act.sigmoid(input), input)


def tanh(input: Tensor) -> Trace:
    """tanh(x) element-wise."""
    return _like(act.tanh(input), input)


def silu(input: Tensor, inplace: bool = False) -> Trace:
    """x * sigmoid(x) (Elfwing et al. 2017, the swish of Ramachandran et al.); stage "sigmoid"."""
    s = act.sigmoid(input)
    x, y = s.stages["input"], s.output
    grad = y * (1.0 + x * (1.0 - y))  # d/dx x s(x) = s + x s (1 - s)
    stages = {"input": x, "sigmoid": y, "grad": grad, "saturated": np.abs(grad) < act.SATURATION}
    return _like(Trace("silu", {"inplace": inplace}, x * y, stages), input)


def softmax(
    input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: np.dtype | None = None
) -> Trace:
    """e^x_i / sum_j e^x_j along dim (the engine's one softmax); dtype casts the input first, as torch."""
    x = input if dtype is None else np.asarray(input, dtype=dtype)
    return _like(act.softmax(x, dim), x)


def log_softmax(
    input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: np.dtype | None = None
) -> Trace:
    """log softmax = (x - max) - log(sum e^(x - max)) along dim, from the one softmax's stages."""
    x = input if dtype is None else np.asarray(input, dtype=dtype)
    s = act.softmax(x, dim)
    log_sum = np.log(s.stages["sum"])
    stages = {"input": s.stages["input"], "shifted": s.stages["shifted"], "log_sum": log_sum}
    return _like(Trace("log_softmax", s.params, s.stages["shifted"] - log_sum, stages), x)


# --- linear, attention, shapes -------------------------------------------------------------------


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Trace:
    """x W^T + b: input (*, in_features), weight (out_features, in_features) -> (*, out_features)."""
    return _like(lin.linear(input, weight, bias), input)


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Trace:
    """softmax(Q K^T scale + mask) V: query (..., Hq, L, E), key (..., H, S, E), value (..., H, S, Ev).

    enable_gqa: grouped-query attention, each of the H key/value heads shared by Hq / H query heads
    (torch repeats them along dim -3, as here).
    """
    if enable_gqa:
        q, k, v = np.asarray(query), np.asarray(key), np.asarray(value)
        if min(q.ndim, k.ndim, v.ndim) < 3 or k.shape[-3] != v.shape[-3] or q.shape[-3] % k.shape[-3]:
            raise ValueError(
                "enable_gqa: query's heads (dim -3) must be a multiple of key's and value's, got "
                f"{q.shape}, {k.shape} and {v.shape}"
            )
        repeat = q.shape[-3] // k.shape[-3]
        key, value = np.repeat(k, repeat, axis=-3), np.repeat(v, repeat, axis=-3)
    trace = attention.scaled_dot_product_attention(query, key, value, attn_mask, dropout_p, is_causal, scale)
    return _like(trace, query)


def channel_shuffle(input: Tensor, groups: int) -> Trace:
    """input (N, C, *) with its channels read as (groups, C / groups) and transposed."""
    return _like(grouped.channel_shuffle(input, groups), input)


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Trace:
    """Pad the last len(pad) / 2 dimensions: pad = (left, right) of the last, then of the one before, ...

    A negative amount crops, as in torch. Stage "input"; params hold the per-dimension widths.
    """
    x = np.asarray(input)
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be one of {sorted(_PAD_MODES)}, got {mode!r}")
    amounts = [int(p) for p in pad]
    if len(amounts) % 2 or len(amounts) // 2 > x.ndim:
        raise ValueError(f"pad: an even number of amounts, at most 2 * {x.ndim}, got {len(amounts)}")
    if value is not None and mode != "constant":
        raise ValueError(f"pad: value is only for mode 'constant', not {mode!r}")
    widths = [(0, 0)] * x.ndim
    for i in range(len(amounts) // 2):
        widths[x.ndim - 1 - i] = (amounts[2 * i], amounts[2 * i + 1])
    crop = tuple(slice(max(-lo, 0), x.shape[d] - max(-hi, 0)) for d, (lo, hi) in enumerate(widths))
    grow = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
    kwargs = {"constant_values": 0.0 if value is None else value} if mode == "constant" else {}
    out = np.pad(x[crop].astype(np.float64), grow, mode=_PAD_MODES[mode], **kwargs)
    params = {"pad": tuple(amounts), "mode": mode, "value": 0.0 if value is None else float(value)}
    return _like(Trace("pad", params, out, {"input": x}), input)
