"""The small CNN: seed 002's Keras MNIST model in miniature, forward and backward as Traces.

    input (N, 1, 28, 28)
    conv1  1 -> 8, 3x3   (N, 8, 26, 26)    80 parameters
    relu1                (N, 8, 26, 26)
    pool1  2x2 max       (N, 8, 13, 13)
    conv2  8 -> 16, 3x3  (N, 16, 11, 11)   1,168 parameters
    relu2                (N, 16, 11, 11)
    pool2  2x2 max       (N, 16, 5, 5)     (the 11th row and column are dropped, as in seed 002)
    flatten              (N, 400)
    fc     400 -> 10     (N, 10)           4,010 parameters
    softmax              (N, 10)           5,258 parameters in all

Seed 002's model has 32 and 64 filters (34,826 parameters) and dropout; this one keeps its shape with
8 and 16 filters and no dropout, small enough to train on two CPU cores in a minute.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from layerlab.engine.cnn import layers as L
from layerlab.engine.trace import Trace
from layerlab.engine.transposed import conv_transpose2d

WEIGHTS = Path(__file__).with_name("weights.npz")
CLASSES = 10
# name -> shape, in torch's state_dict order and naming
SHAPES: dict[str, tuple[int, ...]] = {
    "conv1.weight": (8, 1, 3, 3),
    "conv1.bias": (8,),
    "conv2.weight": (16, 8, 3, 3),
    "conv2.bias": (16,),
    "fc.weight": (10, 400),
    "fc.bias": (10,),
}
# the stages of a forward trace, in order, with their shapes for one input (N = 1)
LAYERS: list[tuple[str, tuple[int, ...]]] = [
    ("input", (1, 1, 28, 28)),
    ("conv1", (1, 8, 26, 26)),
    ("relu1", (1, 8, 26, 26)),
    ("pool1", (1, 8, 13, 13)),
    ("conv2", (1, 16, 11, 11)),
    ("relu2", (1, 16, 11, 11)),
    ("pool2", (1, 16, 5, 5)),
    ("flatten", (1, 400)),
    ("logits", (1, 10)),
    ("probs", (1, 10)),
]
Params = dict[str, np.ndarray]


def parameter_count(params: Params | None = None) -> int:
    """Learnable numbers: of the architecture, or of the given parameters."""
    if params is None:
        return sum(int(np.prod(s)) for s in SHAPES.values())
    return sum(p.size for p in params.values())


def init_params(seed: int) -> Params:
    """He-normal weights (std sqrt(2 / fan_in), for ReLU) and zero biases, from a seeded generator."""
    rng = np.random.default_rng(seed)
    params = {}
    for name, shape in SHAPES.items():
        if name.endswith("bias"):
            params[name] = np.zeros(shape)
        else:
            fan_in = int(np.prod(shape[1:]))
            params[name] = rng.normal(0.0, np.sqrt(2.0 / fan_in), shape)
    return params


def load_weights(path: Path = WEIGHTS) -> Params:
    """The committed trained weights (float32 on disk) as float64 arrays."""
    with np.load(path) as data:
        params = {name: data[name].astype(np.float64) for name in SHAPES}
    for name, shape in SHAPES.items():
        if params[name].shape != shape:
            raise ValueError(f"{path}: {name} has shape {params[name].shape}, expected {shape}")
    return params


def _batched(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 2:
        x = x[None, None]
    elif x.ndim == 3:
        x = x[None]
    if x.ndim != 4 or x.shape[1:] != (1, 28, 28):
        raise ValueError(f"input must have shape (N, 1, 28, 28), (1, 28, 28) or (28, 28), got {x.shape}")
    return x


def forward(x: np.ndarray, params: Params) -> Trace:
    """Every layer's output for a batch x (N, 1, 28, 28) (or one (28, 28) image).

    Returns a Trace with output = probabilities (N, 10), stages named as LAYERS (shapes there with
    N = 1) plus "pool1_argmax" and "pool2_argmax", the winning cell 0..3 of each 2x2 window.
    """
    x = _batched(x)
    s: dict[str, np.ndarray] = {"input": x}
    s["conv1"] = L.conv2d_forward(x, params["conv1.weight"], params["conv1.bias"])
    s["relu1"] = L.relu_forward(s["conv1"])
    s["pool1"], s["pool1_argmax"] = L.max_pool2x2_forward(s["relu1"])
    s["conv2"] = L.conv2d_forward(s["pool1"], params["conv2.weight"], params["conv2.bias"])
    s["relu2"] = L.relu_forward(s["conv2"])
    s["pool2"], s["pool2_argmax"] = L.max_pool2x2_forward(s["relu2"])
    s["flatten"] = L.flatten_forward(s["pool2"])
    s["logits"] = L.linear_forward(s["flatten"], params["fc.weight"], params["fc.bias"])
    s["probs"] = L.softmax(s["logits"])
    shapes = {name: tuple(a.shape) for name, a in s.items()}
    return Trace("small_cnn", {"shapes": shapes, "parameters": parameter_count(params)}, s["probs"], s)


def gradients(fwd: Trace, target: np.ndarray, params: Params) -> tuple[float, dict[str, np.ndarray]]:
    """(mean cross-entropy loss, dL/d(every stage) and dL/d(every parameter)) for a forward trace.

    Keys: "grad_<stage>" for logits, flatten, pool2, relu2, conv2, pool1, relu1, conv1 and input,
    and each parameter's name (e.g. "conv1.weight").
    """
    s = fwd.stages
    loss, probs = L.cross_entropy_forward(s["logits"], target)
    g: dict[str, np.ndarray] = {"grad_logits": L.cross_entropy_backward(probs, target)}
    g["grad_flatten"], g["fc.weight"], g["fc.bias"] = L.linear_backward(
        s["flatten"], params["fc.weight"], g["grad_logits"]
    )
    g["grad_pool2"] = L.flatten_backward(g["grad_flatten"], s["pool2"].shape)
    g["grad_relu2"] = L.max_pool2x2_backward(s["pool2_argmax"], g["grad_pool2"], s["relu2"].shape)
    g["grad_conv2"] = L.relu_backward(s["conv2"], g["grad_relu2"])
    g["grad_pool1"], g["conv2.weight"], g["conv2.bias"] = L.conv2d_backward(
        s["pool1"], params["conv2.weight"], g["grad_conv2"]
    )
    g["grad_relu1"] = L.max_pool2x2_backward(s["pool1_argmax"], g["grad_pool1"], s["relu1"].shape)
    g["grad_conv1"] = L.relu_backward(s["conv1"], g["grad_relu1"])
    g["grad_input"], g["conv1.weight"], g["conv1.bias"] = L.conv2d_backward(
        s["input"], params["conv1.weight"], g["grad_conv1"]
    )
    return loss, g


def conv_input_gradient_as_transposed(grad_output: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """dL/d(conv input) computed the other way: the transposed convolution of dL/d(conv output).

    conv2d with weight (C_out, C_in, kH, kW) maps C_in channels to C_out; conv_transpose2d reads the
    same array as (C_in_of_the_transpose = C_out, C_out_of_the_transpose = C_in, kH, kW), so it maps
    the output gradient (N, C_out, OH, OW) back to (N, C_in, H, W): the backward pass of convolution.
    """
    return conv_transpose2d(grad_output, weight).output


def backward(x: np.ndarray, target: int, params: Params) -> Trace:
    """The gradient of -log p[target] at one input x (28, 28) for every layer and parameter.

    Returns a Trace whose output is the loss; stages hold the forward stages, the gradients of
    `gradients` (N = 1), and "grad_pool1_transposed" / "grad_input_transposed", the conv inputs'
    gradients recomputed by `conv_input_gradient_as_transposed`. params records the largest
    difference of each pair ("transposed_max_abs_diff").
    """
    if not 0 <= target < CLASSES:
        raise ValueError(f"target must be a class 0-{CLASSES - 1}, got {target}")
    fwd = forward(x, params)
    loss, grads = gradients(fwd, np.array([target]), params)
    as_transposed = conv_input_gradient_as_transposed
    transposed = {
        "grad_pool1_transposed": as_transposed(grads["grad_conv2"], params["conv2.weight"]),
        "grad_input_transposed": as_transposed(grads["grad_conv1"], params["conv1.weight"]),
    }
    diffs = {
        "conv2": float(np.abs(transposed["grad_pool1_transposed"] - grads["grad_pool1"]).max()),
        "conv1": float(np.abs(transposed["grad_input_transposed"] - grads["grad_input"]).max()),
    }
    params_out = {"target": target, "loss": loss, "transposed_max_abs_diff": diffs}
    return Trace("small_cnn_backward", params_out, np.array(loss), {**fwd.stages, **grads, **transposed})


def predict(x: np.ndarray, params: Params, batch: int = 500) -> np.ndarray:
    """Predicted classes (N,) for images (N, 1, 28, 28), in batches."""
    starts = range(0, len(x), batch)
    return np.concatenate([forward(x[i : i + batch], params).output.argmax(axis=1) for i in starts])
