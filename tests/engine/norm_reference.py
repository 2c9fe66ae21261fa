"""Plain-loop references for engine/norm.py and engine/norm_weights.py, from torch's documented definitions.

Each normalization is written as "which statistics key does element idx belong to": elements are
visited one at a time with np.ndindex, gathered into Python lists per key, and the mean and biased
variance (unbiased for running-statistic updates, as torch) are computed with plain sums. Nothing is
shared with the engine: no group ids, no reshapes, no bincount. Slow on purpose.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable

import numpy as np

Key = Callable[[tuple[int, ...]], Hashable]


def bn_key(idx: tuple[int, ...]) -> Hashable:
    """batch_norm: every element of channel c, across samples and positions, shares statistics."""
    return idx[1]


def in_key(idx: tuple[int, ...]) -> Hashable:
    """instance_norm: one (sample, channel) plane."""
    return idx[0], idx[1]


def gn_key(channels: int, num_groups: int) -> Key:
    """group_norm: sample n and the run of C / num_groups consecutive channels holding channel c."""
    per_group = channels // num_groups
    return lambda idx: (idx[0], idx[1] // per_group)


def ln_key(ndim: int, normalized_ndim: int) -> Key:
    """layer_norm / rms_norm: everything with the same leading (un-normalized) index."""
    return lambda idx: idx[: ndim - normalized_ndim]


def moments(x: np.ndarray, key: Key) -> dict[Hashable, tuple[float, float, float, int]]:
    """key -> (mean, biased variance, unbiased variance, count), by plain sums over lists."""
    members: dict[Hashable, list[float]] = {}
    for idx in np.ndindex(x.shape):
        members.setdefault(key(idx), []).append(float(x[idx]))
    out = {}
    for k, values in members.items():
        m = len(values)
        mean = sum(values) / m
        square_dev = sum((v - mean) ** 2 for v in values)
        out[k] = (mean, square_dev / m, square_dev / (m - 1) if m > 1 else math.nan, m)
    return out


def normalize_loop(
    x: np.ndarray,
    key: Key,
    mean_var: Callable[[Hashable], tuple[float, float]],
    eps: float,
    gamma: Callable[[tuple[int, ...]], float],
    beta: Callable[[tuple[int, ...]], float],
) -> tuple[np.ndarray, np.ndarray]:
    """(x_hat, y): x_hat = (x - mean) / sqrt(var + eps) with its key's statistics, y = gamma x_hat + beta."""
    x_hat, y = np.empty(x.shape), np.empty(x.shape)
    for idx in np.ndindex(x.shape):
        mean, var = mean_var(key(idx))
        x_hat[idx] = (x[idx] - mean) / math.sqrt(var + eps)
        y[idx] = gamma(idx) * x_hat[idx] + beta(idx)
    return x_hat, y


def _per_channel(p: np.ndarray | None, default: float) -> Callable[[tuple[int, ...]], float]:
    return (lambda idx: default) if p is None else (lambda idx: float(p[idx[1]]))


def _per_element(p: np.ndarray | None, default: float, lead: int) -> Callable[[tuple[int, ...]], float]:
    return (lambda idx: default) if p is None else (lambda idx: float(p[idx[lead:]]))


def batch_norm_loop(x, running_mean, running_var, weight, bias, training, momentum, eps):
    """torch.nn.functional.batch_norm: (output, new running_mean or None, new running_var or None)."""
    channels = x.shape[1]
    if training:
        stats = moments(x, bn_key)
        mean_var = lambda c: stats[c][:2]  # noqa: E731
        new_mean = None if running_mean is None else np.empty(channels)
        new_var = None if running_var is None else np.empty(channels)
        for c in range(channels):
            mean, _, unbiased, _ = stats[c]
            if new_mean is not None:
                new_mean[c] = (1 - momentum) * running_mean[c] + momentum * mean
            if new_var is not None:
                new_var[c] = (1 - momentum) * running_var[c] + momentum * unbiased
    else:
        mean_var = lambda c: (float(running_mean[c]), float(running_var[c]))  # noqa: E731
        new_mean, new_var = None, None
    _, y = normalize_loop(x, bn_key, mean_var, eps, _per_channel(weight, 1.0), _per_channel(bias, 0.0))
    return y, new_mean, new_var


def instance_norm_loop(x, running_mean, running_var, weight, bias, use_input_stats, momentum, eps):
    """torch.nn.functional.instance_norm: (output, new running_mean or None, new running_var or None).

    torch (ATen instance_norm) gives every sample its own copy of the running statistics, updates
    each with that sample's plane statistics (unbiased variance), then averages the copies.
    """
    n_batch, channels = x.shape[:2]
    if not use_input_stats:
        mean_var = lambda k: (float(running_mean[k[1]]), float(running_var[k[1]]))  # noqa: E731
        _, y = normalize_loop(x, in_key, mean_var, eps, _per_channel(weight, 1.0), _per_channel(bias, 0.0))
        return y, None, None
    stats = moments(x, in_key)
    _, y = normalize_loop(
        x, in_key, lambda k: stats[k][:2], eps, _per_channel(weight, 1.0), _per_channel(bias, 0.0)
    )
    updated = []
    for running, pick in ((running_mean, 0), (running_var, 2)):
        if running is None:
            updated.append(None)
            continue
        new = np.zeros(channels)
        for c in range(channels):
            copies = [(1 - momentum) * running[c] + momentum * stats[(n, c)][pick] for n in range(n_batch)]
            new[c] = sum(copies) / n_batch
        updated.append(new)
    return y, updated[0], updated[1]


def group_norm_loop(x, num_groups, weight, bias, eps):
    """torch.nn.functional.group_norm; weight and bias are per channel."""
    key = gn_key(x.shape[1], num_groups)
    stats = moments(x, key)
    _, y = normalize_loop(
        x, key, lambda k: stats[k][:2], eps, _per_channel(weight, 1.0), _per_channel(bias, 0.0)
    )
    return y


def layer_norm_loop(x, normalized_ndim, weight, bias, eps):
    """torch.nn.functional.layer_norm over the last normalized_ndim dims; weight/bias of those dims' shape."""
    lead = x.ndim - normalized_ndim
    key = ln_key(x.ndim, normalized_ndim)
    stats = moments(x, key)
    gamma, beta = _per_element(weight, 1.0, lead), _per_element(bias, 0.0, lead)
    _, y = normalize_loop(x, key, lambda k: stats[k][:2], eps, gamma, beta)
    return y


def rms_norm_loop(x, normalized_ndim, weight, eps):
    """torch.nn.functional.rms_norm: x / sqrt(mean of x^2 over the last dims + eps) * weight."""
    lead = x.ndim - normalized_ndim
    squares: dict[Hashable, list[float]] = {}
    for idx in np.ndindex(x.shape):
        squares.setdefault(idx[:lead], []).append(float(x[idx]) ** 2)
    y = np.empty(x.shape)
    for idx in np.ndindex(x.shape):
        values = squares[idx[:lead]]
        gamma = 1.0 if weight is None else float(weight[idx[lead:]])
        y[idx] = x[idx] / math.sqrt(sum(values) / len(values) + eps) * gamma
    return y


def local_response_norm_loop(x, size, alpha, beta, k):
    """torch's definition: b_c = a_c / (k + alpha/size * sum over c' in [c - size//2, c + (size-1)//2]
    of a_c'^2)^beta, with channels outside the input counting as zeros (the sum is still / size)."""
    channels = x.shape[1]
    y = np.empty(x.shape)
    for idx in np.ndindex(x.shape):
        c = idx[1]
        total = 0.0
        for other in range(c - size // 2, c + (size - 1) // 2 + 1):
            if 0 <= other < channels:
                total += float(x[(idx[0], other, *idx[2:])]) ** 2
        y[idx] = x[idx] / (k + alpha / size * total) ** beta
    return y


def weight_norm_loop(v, g, dim):
    """torch.nn.utils.weight_norm: w = g_i * v / ||v_i|| for each slice i along dim (dim None: one norm)."""
    w = np.empty(v.shape)
    g = np.asarray(g, dtype=float).ravel()
    norms: dict[int, float] = {}
    for idx in np.ndindex(v.shape):
        i = 0 if dim is None else idx[dim]
        norms[i] = norms.get(i, 0.0) + float(v[idx]) ** 2
    for idx in np.ndindex(v.shape):
        i = 0 if dim is None else idx[dim]
        w[idx] = g[i] * v[idx] / math.sqrt(norms[i])
    return w


def weight_standardization_loop(weight, eps):
    """Qiao et al. 2019, eqs. 5-6: (W_ij - mean_i) / sqrt(biased var_i + eps), i the output channel."""
    stats = moments(weight, lambda idx: idx[0])
    w = np.empty(weight.shape)
    for idx in np.ndindex(weight.shape):
        mean, var = stats[idx[0]][:2]
        w[idx] = (weight[idx] - mean) / math.sqrt(var + eps)
    return w
