"""A small stack of fully connected layers over the 2-D input plane (seed 003).

Each neuron of the first layer is a line w1 x1 + w2 x2 + b = 0 on the plane (a hyperplane in
n dimensions); its activation folds the plane along it (sign, step: hard; sigmoid, tanh: soft)
or rectifies it (ReLU). A second layer combines the folded planes: with step neurons and a bias
near their count it acts as an AND, and the region where it fires is the convex polygon the
lines enclose. A third layer combines convex regions (an OR), which may be non-convex.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from layerlab.engine.trace import Trace


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # never overflows, unlike 1 / (1 + exp(-z))


# name -> (f, the value its output is compared with for "inside the region")
ACTIVATIONS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], float]] = {
    "identity": (lambda z: z, 0.0),
    "relu": (lambda z: np.maximum(z, 0.0), 0.0),
    "step": (lambda z: (z > 0).astype(np.float64), 0.5),  # hard threshold: 1 where z > 0
    "sign": (np.sign, 0.0),  # bipolar hard threshold
    "sigmoid": (_sigmoid, 0.5),
    "tanh": (np.tanh, 0.0),
}


def activate(z: np.ndarray, name: str) -> np.ndarray:
    """The element-wise activation `name` of z (any shape)."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name][0](z)


def check_layers(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], in_features: int) -> None:
    """Each weight is (n_l, n_{l-1}) with n_0 = in_features, each bias (n_l,)."""
    if len(weights) != len(biases) or not weights:
        raise ValueError(
            f"need one bias per weight and at least one layer, got {len(weights)} and {len(biases)}"
        )
    n = in_features
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        if w.ndim != 2 or w.shape[1] != n or b.shape != (w.shape[0],):
            raise ValueError(f"layer {i}: weight must be (n, {n}) and bias (n,), got {w.shape} and {b.shape}")
        n = w.shape[0]


def forward(
    x: np.ndarray, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], activations: Sequence[str]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per layer (pre-activation, activation), each (N, n_l), for points x (N, n_0)."""
    check_layers(weights, biases, x.shape[1])
    layers, h = [], x
    for w, b, name in zip(weights, biases, activations, strict=True):
        z = h @ w.T + b  # (N, n_l)
        h = activate(z, name)
        layers.append((z, h))
    return layers


def plane_grid(extent: float, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """The grid's coordinates (resolution,) and its points (resolution**2, 2), x1 fastest."""
    axis = np.linspace(-extent, extent, resolution)
    x1, x2 = np.meshgrid(axis, axis)  # rows follow x2, columns x1
    return axis, np.column_stack([x1.ravel(), x2.ravel()])


def clip_line(w: np.ndarray, b: float, extent: float) -> np.ndarray:
    """The segment of w1 x1 + w2 x2 + b = 0 inside [-extent, extent]^2: (2, 2), NaN when it misses."""
    e, (w1, w2) = extent, w
    found = []
    with np.errstate(over="ignore"):  # a near-zero weight puts a crossing at +-inf: it is outside anyway
        if w2 != 0:  # crossings with the left and right edges
            found += [(x1, -(w1 * x1 + b) / w2) for x1 in (-e, e)]
        if w1 != 0:  # with the bottom and top edges
            found += [(-(w2 * x2 + b) / w1, x2) for x2 in (-e, e)]
    inside = sorted(
        {(round(p, 12), round(q, 12)) for p, q in found if abs(p) <= e + 1e-9 and abs(q) <= e + 1e-9}
    )
    if len(inside) < 2:
        return np.full((2, 2), np.nan)
    return np.array([inside[0], inside[-1]], dtype=np.float64)


def mlp_plane(
    weights: Sequence[np.ndarray],
    biases: Sequence[np.ndarray],
    activations: Sequence[str],
    extent: float = 3.0,
    resolution: int = 61,
) -> Trace:
    """Every layer's pre-activation and activation over a grid of [-extent, extent]^2.

    weights[l] : (n_l, n_{l-1}) with n_0 = 2; biases[l] : (n_l,); activations[l] : a key of ACTIVATIONS.
    output : the last layer's activation, (n_L, R, R) with R = resolution, rows x2, columns x1.
    stages : axis (R,); pre{l}, post{l} (n_l, R, R) for l = 1..L; lines (n_1, 2, 2), the first
    layer's lines clipped to the plane (NaN rows where a line misses it); normals (n_1, 2), the unit
    direction of w (the side where w.x + b > 0); region (n_L, R, R), 1 where the output is above its
    activation's midpoint (0.5 for step and sigmoid, 0 otherwise).
    """
    w = [np.asarray(m, dtype=np.float64) for m in weights]
    b = [np.asarray(v, dtype=np.float64) for v in biases]
    axis, points = plane_grid(extent, resolution)
    layers = forward(points, w, b, activations)
    shape = (resolution, resolution)
    stages: dict[str, np.ndarray] = {"axis": axis}
    for i, (z, h) in enumerate(layers, start=1):
        stages[f"pre{i}"] = z.T.reshape(-1, *shape)  # (n_l, R, R)
        stages[f"post{i}"] = h.T.reshape(-1, *shape)
    first_w, first_b = w[0], b[0]
    stages["lines"] = np.array(
        [clip_line(row, bias, extent) for row, bias in zip(first_w, first_b, strict=True)]
    )
    norms = np.linalg.norm(first_w, axis=1, keepdims=True)
    stages["normals"] = np.divide(first_w, norms, out=np.zeros_like(first_w), where=norms > 0)
    output = stages[f"post{len(layers)}"]
    stages["region"] = (output > ACTIVATIONS[activations[-1]][1]).astype(np.int64)
    params = {
        "sizes": [2, *(m.shape[0] for m in w)],
        "activations": list(activations),
        "extent": extent,
        "resolution": resolution,
    }
    return Trace("mlp_plane", params, output, stages=stages)
