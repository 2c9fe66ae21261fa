"""Normalization layers, traced by which elements share a mean and a variance.

Mirrors `torch.nn.functional.batch_norm`, `instance_norm`, `group_norm`, `layer_norm` and `rms_norm`
(names, defaults, (N, C, *) layout). Seed 003 quotes the batch-normalizing transform (Ioffe & Szegedy
2015, Algorithm 1), which all of them apply, each to its own groups of elements:

    mean = (1/m) sum x,   var = (1/m) sum (x - mean)^2  (biased),
    x_hat = (x - mean) / sqrt(var + eps),   y = gamma * x_hat + beta

Seed 003 tells them apart by the elements a group holds (seed 000 introduces batch norm):

    batch_norm     one group per channel c          over (N, *spatial)
    instance_norm  one group per (n, c)             over (*spatial)
    group_norm     one group per (n, g)             over (C / num_groups, *spatial)
    layer_norm     one group per leading index      over the trailing normalized_shape dims
    rms_norm       as layer_norm, not centred:      x / sqrt(mean(x^2) + eps)

Every trace has the same shape, so one picture draws them all: stages "group_of" (the input's
shape, int64, a read-only broadcast view) each element's group id and "normalized" x_hat before the
affine step; output y; one step per group with fields group, count, mean, var (biased), eps and
inv_std = 1 / sqrt(var + eps), each (S,). params["reduce_axes"] are the axes a group spans,
params["affine_axes"] those gamma and beta vary along.

Each takes record_steps (keyword) as conv2d does, "lazy" by default. The steps are few (one per
group, or per batch for batch_norm_stream) and computed with the output, so on demand here means the
record is sliced, when read, from the statistics the output's computation already holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Real

import numpy as np

from layerlab.engine.trace import Held, RecordSteps, Trace, recorded_trace


def batch_norm(
    input: np.ndarray,
    running_mean: np.ndarray | None,
    running_var: np.ndarray | None,
    weight: np.ndarray | None = None,
    bias: np.ndarray | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
    *,
    record_steps: RecordSteps = "lazy",
) -> Trace:
    """Normalize each channel over (N, *spatial): batch statistics in training, running ones in eval.

    Parameters
    ----------
    input : ndarray of shape (N, C) or (N, C, *spatial), e.g. (N, C, H, W)
    running_mean, running_var : ndarray of shape (C,), or None (in training only: no update)
    weight, bias : ndarray of shape (C,) or None (gamma = 1, beta = 0)

    Returns
    -------
    Trace with one step per channel (group id c). In training the steps also hold unbiased_var
    (S,) and, where torch updates the given running statistics in place, this pure version returns
    them in stages "running_mean" and "running_var" (C,): (1 - momentum) * old + momentum * batch
    statistic, using the unbiased variance m/(m-1) * var as torch does. In eval the steps' mean and
    var are the running statistics.
    """
    x, eps, momentum = _input(input, 2), _eps(eps), _momentum(momentum)
    c = x.shape[1]
    running = _running(running_mean, running_var, c, required=not training)
    group_of = _ids(np.arange(c), x.shape, axis=1)
    params = {
        "training": training,
        "momentum": momentum,
        "statistics": "batch" if training else "running",
        "reduce_axes": (0, *range(2, x.ndim)),
        "affine_axes": (1,),
    }
    outer = x.shape[0]  # x as (N, C, *spatial flattened): group c is [:, c, :]
    if not training:
        stats = (running["running_mean"], running["running_var"], np.full(c, x.size // c))
        return _trace("batch_norm", params, x, group_of, stats, eps, weight, bias, record_steps, outer=outer)
    if x.size == c:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.shape}")
    stats = group_stats(x.reshape(outer, c, -1))
    mean, var, count, _ = stats
    unbiased = var * count / (count - 1)
    batch = {"running_mean": mean, "running_var": unbiased}
    updated = {name: (1 - momentum) * old + momentum * batch[name] for name, old in running.items()}
    return _trace(
        "batch_norm", params, x, group_of, stats, eps, weight, bias, record_steps, (updated, unbiased)
    )


def batch_norm_stream(
    batches: Sequence[np.ndarray],
    running_mean: np.ndarray | None = None,
    running_var: np.ndarray | None = None,
    momentum: float = 0.1,
    eps: float = 1e-5,
    *,
    record_steps: RecordSteps = "lazy",
) -> Trace:
    """Feed batches through batch_norm in training mode one after another, as a training loop does.

    batches : arrays of shape (N_k, C, *spatial_k), the same C for all (N_k may differ)
    running_mean, running_var : (C,), or None for a fresh BatchNorm's zeros and ones

    Returns a Trace whose output (2, C) stacks the final running mean and running variance, stages
    "initial_running_mean", "initial_running_var", "running_mean", "running_var" (C,), and one step
    per batch: batch, batch_size, count (S,); the batch statistics mean, var (biased), unbiased_var,
    inv_std and the running_mean, running_var after the update, each (S, C).
    """
    if len(batches) == 0:
        raise ValueError("batch_norm_stream needs at least one batch")
    c = _input(batches[0], 2).shape[1]
    mean = np.zeros(c) if running_mean is None else _running(running_mean, None, c)["running_mean"]
    var = np.ones(c) if running_var is None else _running(None, running_var, c)["running_var"]
    stages = {"initial_running_mean": mean, "initial_running_var": var}
    traces = []
    for batch in batches:
        traces.append(batch_norm(batch, mean, var, training=True, momentum=momentum, eps=eps))
        mean, var = traces[-1].stages["running_mean"], traces[-1].stages["running_var"]
    steps = {
        "batch": np.arange(len(traces)),
        "batch_size": np.array([t.output.shape[0] for t in traces]),
        "count": np.array([t.steps["count"][0] for t in traces]),
    }
    steps |= {name: np.stack([t.steps[name] for t in traces]) for name in ("mean", "var", "unbiased_var")}
    steps["inv_std"] = np.stack([t.steps["inv_std"] for t in traces])
    steps |= {name: np.stack([t.stages[name] for t in traces]) for name in ("running_mean", "running_var")}
    params = {"momentum": float(momentum), "eps": float(eps), "num_batches": len(traces), "channels": c}
    stages |= {"running_mean": mean, "running_var": var}
    return recorded_trace(
        "batch_norm_stream", params, np.stack([mean, var]), stages, record_steps, Held(steps), len(traces)
    )


def instance_norm(
    input: np.ndarray,
    running_mean: np.ndarray | None = None,
    running_var: np.ndarray | None = None,
    weight: np.ndarray | None = None,
    bias: np.ndarray | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
    *,
    record_steps: RecordSteps = "lazy",
) -> Trace:
    """Normalize each (sample, channel) plane over its spatial positions.

    input : (N, C, *spatial); running_mean, running_var, weight, bias : (C,) or None.
    One step per (n, c), group id n * C + c. With use_input_stats each plane uses its own
    statistics, the steps also hold unbiased_var, and given running statistics come back updated
    in stages "running_mean"/"running_var" as torch does it: each sample updates a copy with
    momentum, then the copies are averaged over the batch. Without, every plane of channel c is
    normalized with running_mean[c] and running_var[c].
    """
    x, eps, momentum = _input(input, 2), _eps(eps), _momentum(momentum)
    n, c = x.shape[:2]
    running = _running(running_mean, running_var, c, required=not use_input_stats)
    group_of = _ids(np.arange(n * c).reshape(n, c), x.shape, axis=0)
    params = {
        "use_input_stats": use_input_stats,
        "momentum": momentum,
        "statistics": "input" if use_input_stats else "running",
        "reduce_axes": tuple(range(2, x.ndim)),
        "affine_axes": (1,),
    }
    plane = x.size // (n * c)
    if not use_input_stats:
        mean, var = np.tile(running["running_mean"], n), np.tile(running["running_var"], n)
        stats = (mean, var, np.full(n * c, plane))
        return _trace("instance_norm", params, x, group_of, stats, eps, weight, bias, record_steps)
    if plane == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {x.shape}")
    stats = group_stats(x.reshape(1, n * c, -1))
    mean, var, count, _ = stats
    unbiased = var * count / (count - 1)
    planes = {"running_mean": mean.reshape(n, c), "running_var": unbiased.reshape(n, c)}
    updated = {
        name: ((1 - momentum) * old + momentum * planes[name]).mean(axis=0) for name, old in running.items()
    }
    return _trace(
        "instance_norm", params, x, group_of, stats, eps, weight, bias, record_steps, (updated, unbiased)
    )


def group_norm(
    input: np.ndarray,
    num_groups: int,
    weight: np.ndarray | None = None,
    bias: np.ndarray | None = None,
    eps: float = 1e-5,
    *,
    record_steps: RecordSteps = "lazy",
) -> Trace:
    """Split the C channels into num_groups runs of C / num_groups and normalize each (n, run).

    input : (N, C, *spatial); weight, bias : (C,) or None (per channel, not per group, as torch).
    One step per (n, g), group id n * num_groups + g. num_groups = C groups as instance_norm does,
    num_groups = 1 as layer_norm over (C, *spatial).
    """
    x, eps = _input(input, 2), _eps(eps)
    n, c = x.shape[:2]
    if not isinstance(num_groups, (int, np.integer)) or num_groups < 1 or c % num_groups:
        raise ValueError(f"num_groups={num_groups!r} must be a positive int that divides the {c} channels")
    if x.size // num_groups == 1:  # torch's own check (_verify_batch_size), though the groups are fine
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.shape}")
    ids = np.arange(n)[:, None] * num_groups + np.arange(c) // (c // num_groups)  # (N, C)
    group_of = _ids(ids, x.shape, axis=0)
    params = {
        "num_groups": int(num_groups),
        "channels_per_group": c // num_groups,
        "reduce_axes": tuple(range(1, x.ndim)),
        "affine_axes": (1,),
    }
    stats = group_stats(x.reshape(1, n * num_groups, -1))
    return _trace("group_norm", params, x, group_of, stats, eps, weight, bias, record_steps)


def layer_norm(
    input: np.ndarray,
    normalized_shape: int | Sequence[int],
    weight: np.ndarray | None = None,
    bias: np.ndarray | None = None,
    eps: float = 1e-5,
    *,
    record_steps: RecordSteps = "lazy",
) -> Trace:
    """Normalize over the trailing dims named by normalized_shape, one group per leading index.

    input : (*leading, *normalized_shape); weight, bias : normalized_shape or None (a gamma and a
    beta per element of a group, not per channel). For (N, C, H, W) and normalized_shape (C, H, W)
    there is one group per sample; group ids count the leading indices in C order.
    """
    x, eps = _input(input, 1), _eps(eps)
    shape, group_of, params = _trailing(x, normalized_shape)
    stats = group_stats(x.reshape(1, x.size // int(np.prod(shape)), -1))
    return _trace(
        "layer_norm", params, x, group_of, stats, eps, weight, bias, record_steps, affine_shape=shape
    )


def rms_norm(
    input: np.ndarray,
    normalized_shape: int | Sequence[int],
    weight: np.ndarray | None = None,
    eps: float | None = None,
    *,
    record_steps: RecordSteps = "lazy",
) -> Trace:
    """Divide by the root mean square over the trailing normalized_shape dims: no centring, no bias.

    input : (*leading, *normalized_shape); weight : normalized_shape or None. eps None is torch's
    default, the machine epsilon of the input's float dtype (of float64 for other input);
    params["eps"] holds the value used. The steps' mean is 0 (nothing is subtracted) and var is the
    mean square, so inv_std = 1 / sqrt(mean(x^2) + eps) reads as for the other normalizations.
    """
    if eps is None:
        dtype = np.asarray(input).dtype
        eps = float(np.finfo(dtype if np.issubdtype(dtype, np.floating) else np.float64).eps)
    x, eps = _input(input, 1), _eps(eps)
    shape, group_of, params = _trailing(x, normalized_shape)
    mean, mean_square, count, _ = group_stats(x.reshape(1, x.size // int(np.prod(shape)), -1), centered=False)
    stats = (mean, mean_square, count)  # no deviation: x itself, which the normalization must not overwrite
    params["centered"] = False
    return _trace("rms_norm", params, x, group_of, stats, eps, weight, None, record_steps, affine_shape=shape)


def group_stats(
    grouped: np.ndarray, centered: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-group statistics of grouped (A, G, B), whose group g is grouped[:, g, :].

    Returns mean (0 when not centred), biased variance (the mean square when not centred) and element
    count, each (G,), and the deviation grouped - mean (A, G, B) (grouped itself when not centred).
    """
    a, groups, b = grouped.shape
    count = np.full(groups, a * b)
    mean = grouped.mean(axis=(0, 2)) if centered else np.zeros(groups)
    deviation = grouped - mean[:, None] if centered else grouped  # two passes, no E[x^2] - E[x]^2
    return mean, np.square(deviation).mean(axis=(0, 2)), count, deviation


def _trace(
    op, params, x, group_of, stats, eps, weight, bias, record_steps, running=None, affine_shape=None, outer=1
):
    """x_hat = (x - mean) * inv_std for each element's group, then y = gamma * x_hat + beta.

    stats: (mean, var, count), or group_stats's four with the deviation x - mean, which becomes x_hat
    in place (its last use); without it x viewed as (outer, G, rest) has group g at [:, g, :].
    running: (the updated running statistics, the unbiased variance) in training, or None.
    """
    mean, var, count, *computed = stats
    per_channel = affine_shape is None  # else gamma and beta have the trailing shape and broadcast as is
    shape = (x.shape[1],) if per_channel else affine_shape
    inv_std = 1.0 / np.sqrt(var + eps)
    deviation = computed[0] if computed else x.reshape(outer, len(mean), -1) - mean[:, None]
    normalized = np.multiply(deviation, inv_std[:, None], out=deviation).reshape(x.shape)
    out = normalized
    for name, value, apply in (("weight", weight, np.multiply), ("bias", bias, np.add)):
        if value is not None:
            v = np.asarray(value, dtype=np.float64)
            if v.shape != shape:
                raise ValueError(f"{name} must have shape {shape}, got {v.shape}")
            v = v.reshape(shape + (1,) * (x.ndim - 2)) if per_channel else v
            out = apply(out, v, out=None if out is normalized else out)
    flags = {"has_weight": weight is not None, "has_bias": bias is not None, "group_size": int(count[0])}
    params = params | {"eps": eps} | flags
    steps = {"group": np.arange(len(mean)), "count": count, "mean": mean, "var": var}
    steps |= {"eps": np.full(len(mean), eps), "inv_std": inv_std}
    stages = {"group_of": group_of, "normalized": normalized}
    if running is not None:
        stages |= running[0]
        steps["unbiased_var"] = running[1]
    return recorded_trace(op, params, out, stages, record_steps, Held(steps), len(mean))


def _ids(ids: np.ndarray, shape: tuple[int, ...], axis: int) -> np.ndarray:
    """An int array of `shape` holding ids laid along axes axis.., repeated along all the others.

    A read-only broadcast view: the ids are (N, C) at most, the stage is the input's size.
    """
    ids = ids.astype(np.int64, copy=False).reshape(
        (1,) * axis + ids.shape + (1,) * (len(shape) - axis - ids.ndim)
    )
    return np.broadcast_to(ids, shape)


def _trailing(
    x: np.ndarray, normalized_shape: int | Sequence[int]
) -> tuple[tuple[int, ...], np.ndarray, dict]:
    """normalized_shape checked against x's trailing dims, the leading-index group ids, the params."""
    shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else normalized_shape
    shape = tuple(int(s) for s in shape)
    lead = x.ndim - len(shape)
    if not shape or lead < 0 or x.shape[lead:] != shape:
        raise ValueError(
            f"normalized_shape {shape} must be 1 to {x.ndim} trailing dims of input shape {x.shape}"
        )
    group_of = _ids(np.arange(int(np.prod(x.shape[:lead]))).reshape(x.shape[:lead]), x.shape, axis=0)
    axes = tuple(range(lead, x.ndim))
    return shape, group_of, {"normalized_shape": shape, "reduce_axes": axes, "affine_axes": axes}


def _input(value: np.ndarray, min_ndim: int) -> np.ndarray:
    """input as float64, with at least min_ndim dims and at least one element."""
    x = np.asarray(value, dtype=np.float64)
    if x.ndim < min_ndim or x.size == 0:
        expected = "(N, C, *)" if min_ndim == 2 else "at least one dim"
        raise ValueError(f"input must be non-empty with shape {expected}, got {x.shape}")
    return x


def _eps(eps: float) -> float:
    if not isinstance(eps, Real) or not np.isfinite(eps) or eps <= 0:
        raise ValueError(f"eps must be a positive number, got {eps!r}")
    return float(eps)


def _momentum(momentum: float) -> float:
    # torch does not check, but outside [0, 1] it is no moving average; None (a cumulative
    # average in torch's BatchNorm modules) is not supported
    if not isinstance(momentum, Real) or not 0 <= momentum <= 1:
        raise ValueError(f"momentum must be a number in [0, 1], got {momentum!r}")
    return float(momentum)


def _running(mean, var, channels: int, required: bool = False) -> dict[str, np.ndarray]:
    """The given running statistics, checked: (C,) each and a non-negative variance."""
    if required and (mean is None or var is None):
        raise ValueError("running_mean and running_var are needed to normalize with running statistics")
    running = {}
    for name, value in (("running_mean", mean), ("running_var", var)):
        if value is not None:
            running[name] = np.asarray(value, dtype=np.float64)
            if running[name].shape != (channels,):
                raise ValueError(f"{name} must have shape ({channels},), got {running[name].shape}")
    if "running_var" in running and (running["running_var"] < 0).any():
        raise ValueError("running_var must not be negative")
    return running
