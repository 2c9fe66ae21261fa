"""What the activations page plots: a function sampled on an x grid with its derivative and its
saturated stretches, and seed 001's dying ReLU made to happen in a tiny network."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from layerlab.engine.trace import Held, RecordSteps, Trace, recorded_trace


def saturated_runs(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(M, 2): the first and last x of every run of consecutive True in `mask` (x ascending)."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return np.stack([x[starts], x[ends]], axis=1) if starts.size else np.zeros((0, 2))


def sample_curve(
    activation: Callable[[np.ndarray], Trace], x_min: float, x_max: float, points: int, threshold: float
) -> Trace:
    """An element-wise activation on `points` evenly spaced x in [x_min, x_max].

    Output f(x) (points,). Stages: "x", "grad" f'(x), "saturated" |f'(x)| < threshold, "intervals"
    (M, 2) those stretches as [first x, last x], plus the activation's own stages of the same
    length (maxout's "pieces" (points, k) and "winner").
    """
    if not x_min < x_max:
        raise ValueError(f"the x range must go up: x_min {x_min} >= x_max {x_max}")
    if points < 2:
        raise ValueError("a curve needs at least 2 points")
    x = np.linspace(x_min, x_max, points)
    t = activation(x)
    grad = t.stages["grad"].reshape(points)
    mask = np.abs(grad) < threshold
    extra = {k: v for k, v in t.stages.items() if k in ("pieces", "winner")}
    stages = {"x": x, "grad": grad, "saturated": mask, "intervals": saturated_runs(x, mask), **extra}
    params = {"activation": t.op, **t.params, "threshold": threshold}
    return Trace("curve", params, t.output.reshape(points), stages)


def _toy_data(samples: int) -> tuple[np.ndarray, np.ndarray]:
    """x evenly in [-2, 2] and a bumpy target a handful of ReLU pieces can follow."""
    x = np.linspace(-2.0, 2.0, samples)
    return x, np.sin(2.0 * x) + 0.5 * np.abs(x)


def dead_relu_training(
    seed: int = 0,
    neurons: int = 16,
    lr: float = 0.5,
    steps: int = 100,
    bias_shift: float = 0.0,
    negative_slope: float = 0.0,
    samples: int = 40,
    *,
    record_steps: RecordSteps = "lazy",
) -> Trace:
    """A 1-16-1 ReLU network fitted to a 1-D curve by full-batch gradient descent on the mean squared
    error, recording how its hidden units die (seed 001: a large update knocks a unit off the data).

    z = x w1 + b1 (samples, neurons); h = leaky_relu(z, negative_slope) (0: ReLU); y_hat = h w2 + b2.
    A unit is dead when z <= 0 for every sample: its ReLU passes 0 and its local gradient is
    exactly 0 (torch's at z = 0 too), so w1, b1 and w2 of that unit get zero gradient, never move
    and it stays dead: the data are fixed. A leaky unit (negative_slope > 0) in the same place keeps
    a gradient of negative_slope and can come back. `bias_shift` is added to every initial b1.
    Raises ValueError when the weights blow up (too large an lr).

    Output: the final loss. Stages "x", "target" (samples,). Steps, one per weight state
    0..steps (state i is after i updates): "loss" (S,), "dead" (S, neurons) bool, "dead_fraction"
    (S,), "pre_min" and "pre_max" (S, neurons) each unit's range of z over the data,
    "grad_w1", "grad_b1" (S, neurons) the gradient at that state, "w1", "b1", "w2" (S, neurons),
    "b2" (S,), "prediction" (S, samples). record_steps as conv2d's: the states are the training
    loop's own, so on demand means their columns are stacked from its lists when first read.
    """
    rng = np.random.default_rng(seed)
    x, target = _toy_data(samples)  # (N,)
    w1 = rng.normal(0.0, 1.0, neurons)  # (H,)
    b1 = rng.normal(0.0, 0.5, neurons) + bias_shift
    w2 = rng.normal(0.0, 1.0 / np.sqrt(neurons), neurons)
    b2 = 0.0
    names = ("loss", "dead", "pre_min", "pre_max", "grad_w1", "grad_b1", "w1", "b1", "w2", "b2", "prediction")
    record: dict[str, list] = {name: [] for name in names}
    for i in range(steps + 1):
        with np.errstate(over="ignore", invalid="ignore"):
            z = x[:, None] * w1 + b1  # (N, H)
            slope = np.where(z > 0, 1.0, negative_slope)  # the activation's local gradient
            h = z * slope
            y_hat = h @ w2 + b2  # (N,)
            err = y_hat - target
            loss = float(np.mean(err**2))
        if not loss < 1e12:  # NaN included
            raise ValueError(f"training diverged at step {i} (the loss blew up): take a smaller lr")
        d_y = 2.0 * err / samples  # dL/dy_hat of L = mean(err^2)
        d_z = d_y[:, None] * w2 * slope  # (N, H)
        grads = (x @ d_z, d_z.sum(axis=0), h.T @ d_y, d_y.sum())  # w1, b1, w2, b2
        values = (loss, z.max(axis=0) <= 0, z.min(axis=0), z.max(axis=0))
        values += (grads[0], grads[1], w1.copy(), b1.copy(), w2.copy(), b2, y_hat)
        for name, value in zip(names, values, strict=True):
            record[name].append(value)
        if i < steps:
            w1, b1, w2, b2 = w1 - lr * grads[0], b1 - lr * grads[1], w2 - lr * grads[2], b2 - lr * grads[3]

    def columns() -> dict[str, np.ndarray]:
        stacked = {name: np.array(values) for name, values in record.items()}
        return stacked | {"dead_fraction": stacked["dead"].mean(axis=1)}

    params = {"seed": seed, "neurons": neurons, "lr": lr, "steps": steps, "bias_shift": bias_shift}
    params |= {"negative_slope": negative_slope, "samples": samples}
    stages = {"x": x, "target": target}
    output = np.array(record["loss"][-1])
    return recorded_trace(
        "dead_relu_training", params, output, stages, record_steps, Held(columns), steps + 1
    )
