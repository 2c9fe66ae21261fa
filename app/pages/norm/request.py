"""The normalization page's requests turned into engine calls: the seeded input, one call per kind,
the per-group sums the equations print, histograms, the batch-dependence demo and the stream."""

from __future__ import annotations

import numpy as np

from layerlab.app.config import in_effect as S
from layerlab.app.pages.norm.schemas import NormInput, NormParams, NormStreamRequest
from layerlab.engine.measures import max_abs_difference
from layerlab.engine.norm import (
    batch_norm,
    batch_norm_stream,
    group_norm,
    instance_norm,
    layer_norm,
    rms_norm,
)
from layerlab.engine.norm_steps import (
    axis_ids,
    channel_window,
    group_sums,
    probe_errors,
    seeded_input,
    series_histogram,
)
from layerlab.engine.norm_weights import local_response_norm, weight_norm, weight_standardization
from layerlab.engine.trace import Trace

STATISTICS = ("batch", "layer", "instance", "group", "rms", "weight_std")  # kinds with a mean and var
WEIGHTS = ("weight_std", "weight_norm")  # the tensor is a conv weight (C_out, C_in, k, k)
TRAILING = {"chw": 3, "hw": 2, "w": 1}  # normalized_shape: how many trailing dims of (N, C, H, W)
PAGE_BATCH, STREAM, TRIAL, PROBE = 0, 1, 2, 3  # the generator's streams: no two draws share numbers
DECIMALS = 2  # generated values are rounded so that every printed number is the one computed with


def generate(inp: NormInput, batch: int | None = None, key: tuple[int, ...] = (PAGE_BATCH,)) -> np.ndarray:
    """(N, C, H, W) drawn by the engine's seeded_input: channel c's population mean and variance are
    offsets[c] and scales[c]**2; the same seed and key give the same numbers."""
    n = inp.batch if batch is None else batch
    shape = (n, inp.channels, inp.size, inp.size)
    return seeded_input(inp.seed, key, shape, inp.offsets, inp.scales, inp.sample_share, DECIMALS)


def normalized_shape(req: NormParams, shape: tuple[int, ...]) -> tuple[int, ...]:
    return shape[len(shape) - TRAILING[req.normalized_shape] :]


def stream_batches(inp: NormInput, batches: int) -> list[np.ndarray]:
    """The training batches streamed before evaluation: the same ones for the page and the stream."""
    return [generate(inp, key=(STREAM, k)) for k in range(batches)]


def run(req: NormParams, x: np.ndarray) -> tuple[Trace, Trace | None]:
    """The engine call for req.kind on x, and for batch norm in evaluation the stream before it."""
    c, gamma, beta = x.shape[1], req.gamma, req.beta
    per_channel = {"weight": np.full(c, gamma), "bias": np.full(c, beta), "eps": req.eps}
    if req.kind == "batch" and req.training:
        zeros, ones = np.zeros(c), np.ones(c)  # a fresh BatchNorm2d's running statistics
        return batch_norm(x, zeros, ones, training=True, momentum=req.momentum, **per_channel), None
    if req.kind == "batch":
        stream = batch_norm_stream(stream_batches(req, req.batches), momentum=req.momentum, eps=req.eps)
        mean, var = stream.stages["running_mean"], stream.stages["running_var"]
        return batch_norm(x, mean, var, training=False, **per_channel), stream
    if req.kind == "instance":
        return instance_norm(x, **per_channel), None
    if req.kind == "group":
        return group_norm(x, req.num_groups, **per_channel), None
    shape = normalized_shape(req, x.shape)
    if req.kind == "layer":
        return layer_norm(x, shape, np.full(shape, gamma), np.full(shape, beta), req.eps), None
    if req.kind == "rms":
        return rms_norm(x, shape, np.full(shape, gamma), req.eps), None
    if req.kind == "lrn":
        return local_response_norm(x, req.lrn_size, req.lrn_alpha, req.lrn_beta, req.lrn_k), None
    if req.kind == "weight_std":
        return weight_standardization(x, req.eps), None
    return weight_norm(x, np.full(x.shape[0], req.g), dim=0), None


def group_of(req: NormParams, t: Trace, shape: tuple[int, ...]) -> np.ndarray:
    """Each element's group: the engine's where it has one, else the channel (lrn) or output channel."""
    if "group_of" in t.stages:
        return t.stages["group_of"]
    return axis_ids(shape, 1 if req.kind == "lrn" else 0)


def steps(
    req: NormParams, x: np.ndarray, columns: dict[str, np.ndarray], ids: np.ndarray
) -> dict[str, np.ndarray]:
    """The columns the page steps through: the engine's step columns as the trace body sends them,
    plus the per-group sums its equations write out, and "group" (the step's group, channel or
    output channel) for every kind."""
    if req.kind in STATISTICS:
        mean = None if req.kind == "rms" else columns["mean"]
        return columns | group_sums(x, ids, len(columns["group"]), mean)
    return columns | {"group": columns["channel" if req.kind == "lrn" else "index"]}


def window(req: NormParams, t: Trace) -> np.ndarray | None:
    """lrn: (S, C), True where channel c' is in step s's window; None for the other kinds."""
    if req.kind != "lrn":
        return None
    return channel_window(t.steps["first"], t.steps["last"], t.output.shape[1])


def histograms(before: np.ndarray, after: np.ndarray, series: np.ndarray, count: int) -> dict:
    """Counts per series (S, B) and in total (B,) over shared bin edges (B + 1,), before and after."""
    bins = S.norm_histogram_bins
    return {
        name: series_histogram(values, series, count, bins)
        for name, values in (("before", before), ("after", after))
    }


def dependence(req: NormParams, base: np.ndarray, changed: np.ndarray, output: np.ndarray) -> dict:
    """The watched sample's output with the batch as drawn and with another sample changed, and how
    much each kind's output moves (batch norm in training mixes the samples; the others do not)."""
    c = base.shape[1]
    before = run(req, base)[0].output[req.watch]
    groups = req.num_groups if c % req.num_groups == 0 else 1
    compared = [
        ("batch", "batch norm, training", {"training": True}),
        ("batch", "batch norm, evaluation", {"training": False}),
        ("layer", "layer norm", {}),
        ("instance", "instance norm", {}),
        ("group", f"group norm ({groups} groups)", {"num_groups": groups}),
        ("rms", "RMS norm", {}),
        ("lrn", "local response norm", {}),
    ]
    moved = []
    for kind, label, extra in compared:
        r = req.model_copy(update={"kind": kind, **extra})
        after, unchanged = run(r, changed)[0].output[req.watch], run(r, base)[0].output[req.watch]
        moved.append({"kind": kind, "label": label, "max_change": max_abs_difference(after, unchanged)})
    return {
        "watch": req.watch,
        "change": req.change,
        "change_by": req.change_by,
        "before": before,  # (C, H, W)
        "after": output[req.watch],
        "difference": output[req.watch] - before,
        "max_change": max_abs_difference(output[req.watch], before),
        "by_kind": moved,
    }


def extent(a: np.ndarray) -> list[float]:
    return [float(a.min()), float(a.max())]


def small_batch(req: NormStreamRequest) -> dict:
    """The same probe sample normalized inside many batches of a small and of a large size.

    Each trial puts the probe beside size - 1 fresh samples and runs batch_norm in training. The
    error is the probe's x_hat minus the x_hat the population statistics would give; it shrinks as
    the batch grows (seed 003: batch norm needs large batches to estimate the statistics).
    """
    probe = generate(req, batch=1, key=(PROBE,))  # (1, C, H, W)
    results, errors = [], []
    for size in (req.small_batch, req.large_batch):
        others = [generate(req, batch=size - 1, key=(TRIAL, size, trial)) for trial in range(req.trials)]
        study = probe_errors(probe, others, req.offsets, req.scales, req.eps)
        errors.append(study.pop("error"))  # (trials, C, H, W)
        results.append({"size": size, **study})
    values = np.concatenate([e.ravel() for e in errors])
    trial_size = np.repeat(np.arange(len(errors)), [e.size for e in errors])
    picture = series_histogram(values, trial_size, len(errors), S.norm_histogram_bins)
    del picture["total"]
    return {"trials": req.trials, "sizes": results, "histogram": picture}
