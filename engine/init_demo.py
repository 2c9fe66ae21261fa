"""Why weights start random: one tiny network trained twice, from a constant and from random weights.

The network is 2 -> H -> 1: a hidden layer (tanh, sigmoid or ReLU) and a sigmoid output, trained on
a seeded two-class toy set by full-batch gradient descent on the binary cross-entropy. Seed 000's
argument: when every weight starts at the same value, every hidden neuron computes the same thing,
gets the same gradient and takes the same step, so they stay copies of each other for ever and the
layer is worth one neuron. Random starting weights differ, so the neurons move apart and learn
different lines.

Forward and backward sums run over explicit axes (not a matrix product) so that identical neurons
see identical arithmetic and stay bit-for-bit equal, as the argument says they must.
"""

from __future__ import annotations

import numpy as np

from layerlab.engine.mlp import ACTIVATIONS, plane_grid
from layerlab.engine.trace import Held, RecordSteps, Trace, recorded_trace

Params = dict[str, np.ndarray]  # W1 (H, 2), b1 (H,), w2 (H,), b2 ()

TOY_SETS = {
    "xor": "four clusters, opposite corners in the same class (XOR)",
    "circle": "a disc inside a ring",
}
HIDDEN = ("tanh", "sigmoid", "relu")


def toy_set(kind: str, n: int, seed: int, noise: float = 0.35) -> tuple[np.ndarray, np.ndarray]:
    """Points (n, 2) and labels (n,) in {0, 1} of a seeded toy set inside [-3, 3]^2."""
    rng = np.random.default_rng(seed)
    if kind == "xor":
        corners = np.array([[1.3, 1.3], [-1.3, -1.3], [1.3, -1.3], [-1.3, 1.3]])
        which = np.arange(n) % 4
        x = corners[which] + rng.normal(0.0, noise, (n, 2))
        return x, (which >= 2).astype(np.float64)  # class 1: the corners where x1 x2 < 0
    if kind == "circle":
        labels = (np.arange(n) % 2).astype(np.float64)
        radius = np.where(labels == 1, rng.uniform(0.0, 1.0, n), rng.uniform(1.7, 2.5, n))
        angle = rng.uniform(0.0, 2 * np.pi, n)
        x = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)]) + rng.normal(
            0, noise / 4, (n, 2)
        )
        return x, labels
    raise ValueError(f"unknown toy set {kind!r}; expected one of {', '.join(TOY_SETS)}")


def init_params(hidden: int, mode: str, constant: float = 0.5, seed: int = 0) -> Params:
    """Every weight and bias equal to `constant`, or (mode "random") weights N(0, 1/fan_in), biases 0."""
    if mode == "constant":
        return {
            "W1": np.full((hidden, 2), constant),
            "b1": np.full(hidden, constant),
            "w2": np.full(hidden, constant),
            "b2": np.array(constant),
        }
    rng = np.random.default_rng(seed)
    return {
        "W1": rng.normal(0.0, 1.0 / np.sqrt(2), (hidden, 2)),
        "b1": np.zeros(hidden),
        "w2": rng.normal(0.0, 1.0 / np.sqrt(hidden), hidden),
        "b2": np.array(0.0),
    }


def _derivative(name: str, z: np.ndarray, h: np.ndarray) -> np.ndarray:
    """f'(z) of a hidden activation, from z and h = f(z)."""
    if name == "tanh":
        return 1.0 - h * h
    if name == "sigmoid":
        return h * (1.0 - h)
    return (z > 0).astype(np.float64)


def predict(params: Params, x: np.ndarray, activation: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hidden pre-activation z (N, H), hidden activation h (N, H) and output probability p (N,)."""
    z = (x[:, None, :] * params["W1"][None, :, :]).sum(axis=2) + params["b1"]  # (N, H)
    h = ACTIVATIONS[activation][0](z)
    out = (h * params["w2"]).sum(axis=1) + params["b2"]  # (N,)
    return z, h, ACTIVATIONS["sigmoid"][0](out)


def loss_and_grads(params: Params, x: np.ndarray, y: np.ndarray, activation: str) -> tuple[float, Params]:
    """The mean binary cross-entropy of the network on (x, y) and its gradient for each parameter."""
    z, h, p = predict(params, x, activation)
    out = (h * params["w2"]).sum(axis=1) + params["b2"]
    loss = float(np.mean(np.logaddexp(0.0, out) - y * out))  # -y log p - (1 - y) log(1 - p), stably
    d_out = (p - y) / len(y)  # (N,)
    d_z = d_out[:, None] * params["w2"][None, :] * _derivative(activation, z, h)  # (N, H)
    grads = {
        "W1": (d_z[:, :, None] * x[:, None, :]).sum(axis=0),  # (H, 2)
        "b1": d_z.sum(axis=0),
        "w2": (d_out[:, None] * h).sum(axis=0),
        "b2": np.array(d_out.sum()),
    }
    return loss, grads


def train(params: Params, x: np.ndarray, y: np.ndarray, activation: str, epochs: int, lr: float) -> dict:
    """Full-batch gradient descent; per epoch (0 = the start) the loss, accuracy and hidden weights."""
    p = {k: v.copy() for k, v in params.items()}
    hidden = p["W1"].shape[0]
    losses, accuracy = np.zeros(epochs + 1), np.zeros(epochs + 1)
    neurons = np.zeros((epochs + 1, hidden, 3))  # (E + 1, H, [w1, w2, b])
    output_weights = np.zeros((epochs + 1, hidden + 1))  # (E + 1, [w2..., b2])
    for epoch in range(epochs + 1):
        loss, grads = loss_and_grads(p, x, y, activation)
        losses[epoch] = loss
        accuracy[epoch] = np.mean((predict(p, x, activation)[2] > 0.5) == (y == 1))
        neurons[epoch] = np.column_stack([p["W1"], p["b1"]])
        output_weights[epoch] = np.append(p["w2"], p["b2"])
        if epoch < epochs:
            p = {k: p[k] - lr * grads[k] for k in p}
    return {"loss": losses, "accuracy": accuracy, "hidden": neurons, "output": output_weights, "params": p}


def init_demo(
    kind: str = "xor",
    points: int = 80,
    hidden: int = 4,
    activation: str = "tanh",
    epochs: int = 300,
    lr: float = 0.5,
    constant: float = 0.5,
    seed: int = 0,
    extent: float = 3.0,
    resolution: int = 41,
    *,
    record_steps: RecordSteps = "lazy",
) -> Trace:
    """The same network trained from constant and from random weights (seed 000).

    output : (2, R, R), the final probability of class 1 over the plane, constant run first.
    stages : points (N, 2), labels (N,), axis (R,), and per run (constant_, random_) region
    (R, R), 1 where the final network says class 1.
    steps : one per epoch, 0 being the start: epoch, and per run loss, accuracy, hidden
    (E + 1, H, 3) each hidden neuron's (w1, w2, b), output (E + 1, H + 1) the output neuron's weights
    and bias. record_steps as conv2d's: the epochs are the training loops' own, so on demand means
    their columns are sliced from what the loops kept when first read.
    """
    if activation not in HIDDEN:
        raise ValueError(f"hidden activation must be one of {', '.join(HIDDEN)}, got {activation!r}")
    x, y = toy_set(kind, points, seed)
    axis, grid = plane_grid(extent, resolution)
    stages: dict[str, np.ndarray] = {"points": x, "labels": y, "axis": axis}
    steps: dict[str, np.ndarray] = {"epoch": np.arange(epochs + 1)}
    maps = []
    for mode in ("constant", "random"):
        run = train(init_params(hidden, mode, constant, seed), x, y, activation, epochs, lr)
        for key in ("loss", "accuracy", "hidden", "output"):
            steps[f"{mode}_{key}"] = run[key]
        probability = predict(run["params"], grid, activation)[2].reshape(resolution, resolution)
        stages[f"{mode}_region"] = (probability > 0.5).astype(np.int64)
        maps.append(probability)
    params = {
        "kind": kind,
        "points": points,
        "hidden": hidden,
        "activation": activation,
        "epochs": epochs,
        "lr": lr,
        "constant": constant,
        "seed": seed,
    }
    return recorded_trace("init_demo", params, np.stack(maps), stages, record_steps, Held(steps), epochs + 1)
