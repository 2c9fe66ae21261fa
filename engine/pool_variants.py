"""Pooling variants from seed 003 beyond max, min and average: Lp, mixed and stochastic pooling.

They share engine/pool.py's window placement and step fields (index, origin, rows, cols, window,
valid, result); each function lists the fields it adds.
"""

from __future__ import annotations

import functools

import numpy as np

from layerlab.engine.errors import ArgumentError
from layerlab.engine.pool import (
    Size,
    _batched,
    _divisor,
    _Grid,
    _grid,
    _largest,
    _pad,
    _Recorder,
    _trace,
)
from layerlab.engine.trace import RecordSteps, Trace


def lp_pool2d(
    input: np.ndarray,
    norm_type: float,
    kernel_size: Size,
    stride: Size | None = None,
    ceil_mode: bool = False,
    *,
    record_steps: RecordSteps = "lazy",
) -> Trace:
    """Power-average pooling (seed 003): (sum of x^p over the window)^(1/p), as torch.nn.functional.lp_pool2d.

    torch computes it as (avg_pool2d(x^p, padding 0) * kH*kW)^(1/p), which is the plain sum except for a
    ceil_mode window cut by the edge: its sum is scaled by kH*kW / (cells inside). torch's
    sign(out) * relu(|out|) changes no number, so negative x with a fractional p, or a negative sum with
    p != 1, give NaN exactly as in torch. p = 1 is the sum; p -> infinity tends to the max.
    norm_type : finite p > 0.
    Steps add powered (S, kH, kW) = window^p, powered_sum (S,), and divisor (S,) the cells avg_pool2d
    divides by; result = (powered_sum / divisor * kH*kW)^(1/p).
    """
    p = float(norm_type)
    if not (np.isfinite(p) and p > 0):
        raise ArgumentError("norm_type", f"norm_type must be a finite positive number, got {norm_type!r}")
    x, unbatched = _batched(input)
    grid = _grid(x.shape[2:], kernel_size, stride, 0, 1, ceil_mode)
    padded = _pad(x, grid, 0.0)
    own = grid.kernel[0] * grid.kernel[1] + 3  # powered (kH*kW), powered_sum, divisor, result
    recorder = _Recorder(padded, grid, functools.partial(_lp_steps, p, grid), own)
    params = grid.params(ceil_mode=ceil_mode, norm_type=p)
    return _trace("lp_pool2d", params, {"padded": padded}, recorder, unbatched, record_steps)


def _lp_steps(p: float, grid: _Grid, steps: dict, picked: range) -> dict:
    """lp pooling's own fields: powered, powered_sum, divisor and result."""
    with np.errstate(invalid="ignore"):
        powered = np.power(steps["window"], p)
        steps.update(
            powered=powered, powered_sum=powered.sum(axis=(1, 2)), divisor=_divisor(steps, grid, True)
        )
        steps["result"] = np.power(
            steps["powered_sum"] / steps["divisor"] * (grid.kernel[0] * grid.kernel[1]), 1.0 / p
        )
    return steps


def mixed_pool2d(
    input: np.ndarray,
    kernel_size: Size,
    stride: Size | None = None,
    padding: Size = 0,
    mix: float = 0.5,
    *,
    record_steps: RecordSteps = "lazy",
) -> Trace:
    """Mixed pooling (seed 003): mix * max + (1 - mix) * average, mix (the papers' lambda) in [0, 1].

    The max ignores padding (as max_pool2d), the average counts it (avg_pool2d's default). Returns a Trace
    with stage "padded" (zeros, so window shows zeros there); steps add max, avg (S,) and winner (S, 2).
    """
    if not 0.0 <= mix <= 1.0:
        raise ArgumentError("mix", f"mix must be in [0, 1], got {mix!r}")
    x, unbatched = _batched(input)
    grid = _grid(x.shape[2:], kernel_size, stride, padding, 1, False)
    padded = _pad(x, grid, 0.0)
    own = 5  # max, avg, winner (2), result
    recorder = _Recorder(padded, grid, functools.partial(_mixed_steps, mix, grid), own)
    params = grid.params(mix=float(mix))
    return _trace("mixed_pool2d", params, {"padded": padded}, recorder, unbatched, record_steps)


def _mixed_steps(mix: float, grid: _Grid, steps: dict, picked: range) -> dict:
    """mixed pooling's own fields: max, avg, winner and result."""
    best, winner = _largest(steps, grid.dilation)
    avg = steps["window"].sum(axis=(1, 2)) / (grid.kernel[0] * grid.kernel[1])
    steps.update(max=best, avg=avg, winner=winner, result=mix * best + (1 - mix) * avg)
    return steps


def stochastic_pool2d(
    input: np.ndarray,
    kernel_size: Size,
    stride: Size | None = None,
    training: bool = True,
    seed: int = 0,
    *,
    record_steps: RecordSteps = "lazy",
) -> Trace:
    """Stochastic pooling (seed 003; Zeiler & Fergus 2013), no padding.

    Cell i of a window has probability p_i = a_i / sum(a) with a = max(x, 0): the method assumes ReLU
    outputs, so negative cells get probability 0; a window with no positive cell gives 0 (probabilities 0).
    training: one u ~ U[0, 1) per window from np.random.default_rng(seed), windows in C order, and the
    drawn cell is the first whose cumulative weight exceeds u * sum(a); the result is its value.
    The same seed always draws the same cells. Evaluation: the probability-weighted average sum(p_i x_i).
    Steps add probabilities (S, kH, kW) and, in training, draw (S, 2) (row, col), (-1, -1) if none.
    """
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise ArgumentError("seed", f"seed must be a non-negative int, got {seed!r}")
    x, unbatched = _batched(input)
    grid = _grid(x.shape[2:], kernel_size, stride, 0, 1, False)
    padded = _pad(x, grid, 0.0)
    total = x.shape[0] * x.shape[1] * grid.output_size[0] * grid.output_size[1]
    draws = np.random.default_rng(seed).random(total) if training else None  # one u per window, C order
    own = grid.kernel[0] * grid.kernel[1] + (3 if training else 1)  # probabilities, draw, result
    recorder = _Recorder(padded, grid, functools.partial(_stochastic_steps, draws, grid), own)
    params = grid.params(training=training, seed=int(seed))
    return _trace("stochastic_pool2d", params, {"padded": padded}, recorder, unbatched, record_steps)


def _stochastic_steps(draws: np.ndarray | None, grid: _Grid, steps: dict, picked: range) -> dict:
    """stochastic pooling's own fields: probabilities, draw (in training) and result."""
    values = steps["window"].reshape(len(steps["index"]), grid.kernel[0] * grid.kernel[1])  # empty too
    cumulative = np.cumsum(np.maximum(values, 0.0), axis=1)
    total = cumulative[:, -1:]
    probabilities = np.divide(np.maximum(values, 0.0), total, out=np.zeros_like(values), where=total > 0)
    steps["probabilities"] = probabilities.reshape(steps["window"].shape)
    if draws is not None:
        u = draws[picked.start : picked.stop]
        # u * total can round up to total: never pick past the last cell that has weight
        last_positive = values.shape[1] - 1 - np.argmax(values[:, ::-1] > 0, axis=1)
        pick = np.minimum((cumulative <= u[:, None] * total).sum(axis=1), last_positive)
        drawn = total[:, 0] > 0
        s, kw = np.arange(len(pick)), grid.kernel[1]
        draw = np.stack([steps["rows"][s, pick // kw], steps["cols"][s, pick % kw]], axis=1)
        steps["draw"] = np.where(drawn[:, None], draw, -1)
        steps["result"] = np.where(drawn, values[s, pick], 0.0)
    else:
        steps["result"] = (probabilities * values).sum(axis=1)
    return steps
