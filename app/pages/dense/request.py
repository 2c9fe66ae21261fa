"""From validated dense-page requests to one engine call each, and the fields sent back."""

from __future__ import annotations

import numpy as np

from layerlab.app.errors import ApiError, engine_errors
from layerlab.app.pages.dense import text as dt
from layerlab.app.pages.dense.schemas import (
    DenseNet,
    DensePointRequest,
    InitRequest,
    LinearRequest,
    PlaneRequest,
    tensor,
)
from layerlab.app.serialize import trace_body
from layerlab.engine.init_demo import init_demo
from layerlab.engine.linear import linear
from layerlab.engine.measures import max_abs_difference
from layerlab.engine.mlp import activate, forward, mlp_plane


def net_args(req: DenseNet) -> tuple[list[np.ndarray], list[np.ndarray], list[str]]:
    """The network's weights (n_l, n_{l-1}), biases (n_l,) and activation names."""
    weights = [np.array(layer.weight, dtype=np.float64) for layer in req.layers]
    biases = [np.array(layer.bias, dtype=np.float64) for layer in req.layers]
    return weights, biases, [layer.activation for layer in req.layers]


def plane(req: PlaneRequest) -> dict:
    """Every layer's maps over the plane, the first layer's lines and the output's region."""
    weights, biases, names = net_args(req)
    with engine_errors("layers"):
        t = mlp_plane(weights, biases, names, req.extent, req.resolution)
    layers = [
        {
            "pre": t.stages[f"pre{i}"],  # (n_l, R, R), rows x2, columns x1
            "post": t.stages[f"post{i}"],
            "activation": name,
            "formula": dt.activation_formulas([name])[0],
            "words": dt.ACTIVATION_WORDS[name],
        }
        for i, name in enumerate(names, start=1)
    ]
    return {
        "sizes": t.params["sizes"],
        "axis": t.stages["axis"],
        "layers": layers,
        "lines": t.stages["lines"],  # (n_1, 2, 2), NaN (null) where a line misses the plane
        "normals": t.stages["normals"],  # (n_1, 2)
        "weights": weights,  # echoed as the engine read them
        "biases": biases,
        "region": t.stages["region"],  # (n_L, R, R)
    }


def point(req: DensePointRequest) -> dict:
    """Layer `req.layer`'s weighted sums at the point, with what each layer makes of the point."""
    weights, biases, names = net_args(req)
    x = np.array([req.point], dtype=np.float64)  # (1, 2)
    with engine_errors("layers"):
        path = forward(x, weights, biases, names)
        layer_input = x[0] if req.layer == 0 else path[req.layer - 1][1][0]  # (n_in,)
        t = linear(layer_input, weights[req.layer], biases[req.layer])
        activated = activate(t.output, names[req.layer])
    # output (n_out,) the weighted sums plus biases; every step of the linear layer
    return trace_body(t, stages=False) | {
        "layer": req.layer,
        "point": req.point,
        "input": layer_input,
        "activation": names[req.layer],
        "activated": activated,  # (n_out,)
        "path": [{"pre": z[0], "post": h[0]} for z, h in path],
    }


def linear_call(req: LinearRequest) -> dict:
    """F.linear on the request's tensors, every step sent."""
    x = tensor(req.input)
    w = np.array(req.weight, dtype=np.float64)
    b = None if req.bias is None else np.array(req.bias, dtype=np.float64)
    if x.shape[-1] != w.shape[1]:
        raise ApiError(
            422,
            "weight",
            f"has {w.shape[1]} columns (in_features) but the input's last axis has {x.shape[-1]} entries",
        )
    if b is not None and len(b) != w.shape[0]:
        raise ApiError(
            422, "bias", f"has {len(b)} entries but the weight has {w.shape[0]} rows (out_features)"
        )
    with engine_errors("input"):
        t = linear(x, w, b)
    return trace_body(t, stages=False) | {
        "torch": dt.linear_torch(x.shape, w.shape[0], b is not None),
    }


def init_answer(req: InitRequest) -> dict:
    """Both trainings epoch by epoch, their final maps, and how far apart the hidden neurons ended."""
    with engine_errors("kind"):
        t = init_demo(**req.model_dump())
    summary = {}
    for mode in ("constant", "random"):
        hidden = t.steps[f"{mode}_hidden"]  # (E + 1, H, 3)
        summary[mode] = {
            # the largest difference between any neuron's (w1, w2, b) and neuron 1's, over all epochs
            "spread": max_abs_difference(hidden, hidden[:, :1]),
            "loss": float(t.steps[f"{mode}_loss"][-1]),
            "first_loss": float(t.steps[f"{mode}_loss"][0]),
            "accuracy": float(t.steps[f"{mode}_accuracy"][-1]),
        }
    # output (2, R, R): the probability over the plane after the constant run, the random run
    return trace_body(t) | {"summary": summary}
