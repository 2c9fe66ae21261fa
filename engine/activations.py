"""Activation functions, as in torch.nn.functional (seed 001 describes them).

Every function returns a `Trace` whose output is what torch returns and whose stages hold
"input", "grad" (the local derivative dy/dx element-wise, the number backpropagation multiplies
the incoming gradient by) and "saturated" (|grad| < SATURATION, where the gradient all but
vanishes: seed 001's complaint about sigmoid and tanh). At a kink (x = 0) "grad" is the one
torch's backward uses: 0 for ReLU, the negative slope for leaky ReLU and PReLU, alpha for ELU.
Softmax and maxout are not element-wise; their docstrings say what they store instead.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from layerlab.engine.trace import Trace

SATURATION = 0.05  # |f'(x)| below this counts as saturated in the stored mask
GELU_TANH_C = 0.044715  # the cubic coefficient of GELU's tanh approximation (Hendrycks & Gimpel 2016)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_erf = np.vectorize(math.erf, otypes=[np.float64])


def _as_array(input: np.ndarray | float) -> np.ndarray:
    return np.asarray(input, dtype=np.float64)


def _elementwise(op: str, params: dict, x: np.ndarray, y: np.ndarray, grad: np.ndarray) -> Trace:
    grad = np.broadcast_to(grad, x.shape).astype(np.float64)
    stages = {"input": x, "grad": grad, "saturated": np.abs(grad) < SATURATION}
    return Trace(op, params, y, stages)


def sigmoid(input: np.ndarray) -> Trace:
    """1 / (1 + e^-x) element-wise, computed without overflow; f' = f (1 - f). Any shape."""
    x = _as_array(input)
    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    y = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return _elementwise("sigmoid", {}, x, y, y * (1.0 - y))


def tanh(input: np.ndarray) -> Trace:
    """tanh(x) = 2 sigmoid(2x) - 1 element-wise (seed 001); f' = 1 - f^2. Any shape."""
    x = _as_array(input)
    y = np.tanh(x)
    return _elementwise("tanh", {}, x, y, 1.0 - y * y)


def relu(input: np.ndarray, inplace: bool = False) -> Trace:
    """max(0, x) element-wise; input : ndarray of any shape. `inplace` is accepted for torch parity."""
    x = _as_array(input)
    return _elementwise("relu", {"inplace": inplace}, x, np.maximum(x, 0.0), (x > 0).astype(np.float64))


def leaky_relu(input: np.ndarray, negative_slope: float = 0.01, inplace: bool = False) -> Trace:
    """x for x > 0, negative_slope * x otherwise (seed 001: a small slope so the unit cannot die)."""
    x = _as_array(input)
    params = {"negative_slope": float(negative_slope), "inplace": inplace}
    y = np.where(x > 0, x, x * negative_slope)
    return _elementwise("leaky_relu", params, x, y, np.where(x > 0, 1.0, negative_slope))


def prelu(input: np.ndarray, weight: np.ndarray | float) -> Trace:
    """Leaky ReLU whose slope is learned (seed 001's PReLU), one slope per channel.

    input : ndarray of shape (N, C, *) or of any shape when weight has one element
    weight : a number or ndarray of shape (1,) or (C,); as in torch, C is input.shape[1]
        (1 for an input of fewer than two dimensions) and the slopes broadcast over dim 1.
    """
    x = _as_array(input)
    w = _as_array(weight)
    if w.ndim > 1:
        raise ValueError(f"prelu: weight must be a number or 1-D, got shape {w.shape}")
    if w.size != 1:
        if x.ndim == 0:
            raise ValueError("prelu: a zero-dimensional input takes a single weight")
        channels = x.shape[1] if x.ndim > 1 else 1
        if w.size != channels:
            raise ValueError(f"prelu: {w.size} weights for {channels} channels (input dim 1)")
    # (C, 1, ..., 1) lines the slopes up with dim 1; below two dimensions there is one slope
    slope = w.reshape((-1,) + (1,) * (x.ndim - 2)) if x.ndim > 1 else w.reshape(())
    y = np.where(x > 0, x, slope * x)
    return _elementwise("prelu", {"weight": w.reshape(-1).tolist()}, x, y, np.where(x > 0, 1.0, slope))


def elu(input: np.ndarray, alpha: float = 1.0, inplace: bool = False) -> Trace:
    """x for x > 0, alpha (e^x - 1) otherwise (Clevert et al. 2015); f' = alpha e^x below 0."""
    x = _as_array(input)
    negative = np.minimum(x, 0.0)  # e^x only where it is used, so large x cannot overflow
    y = np.where(x > 0, x, alpha * np.expm1(negative))
    grad = np.where(x > 0, 1.0, alpha * np.exp(negative))
    return _elementwise("elu", {"alpha": float(alpha), "inplace": inplace}, x, y, grad)


def gelu(input: np.ndarray, approximate: Literal["none", "tanh"] = "none") -> Trace:
    """x Phi(x), Phi the standard normal CDF (Hendrycks & Gimpel 2016), or its tanh approximation.

    "none": 0.5 x (1 + erf(x / sqrt 2)), f' = Phi(x) + x phi(x); stages "cdf" Phi(x), "pdf" phi(x).
    "tanh": 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3); stage "tanh" tanh(u).
    """
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    x = _as_array(input)
    if approximate == "none":
        cdf = 0.5 * (1.0 + _erf(x / math.sqrt(2.0)))
        pdf = np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
        t = _elementwise("gelu", {"approximate": "none"}, x, x * cdf, cdf + x * pdf)
        return Trace(t.op, t.params, t.output, {**t.stages, "cdf": cdf, "pdf": pdf})
    t = np.tanh(_SQRT_2_OVER_PI * (x + GELU_TANH_C * x**3))
    du = _SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_TANH_C * x * x)
    grad = 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du
    out = _elementwise("gelu", {"approximate": "tanh"}, x, 0.5 * x * (1.0 + t), grad)
    return Trace(out.op, out.params, out.output, {**out.stages, "tanh": t})


def _softmax_dim(ndim: int) -> int:
    """torch's choice when dim is None (deprecated there): 0 for 0-, 1- and 3-D input, else 1."""
    return 0 if ndim in (0, 1, 3) else 1


def softmax_parts(x: np.ndarray, axis: int = -1) -> dict[str, np.ndarray]:
    """Layerlab's one softmax: e^x_i / sum_j e^x_j along `axis`, the maximum subtracted first.

    x : ndarray of any shape (float64). Returns "max", "shifted" (x - max), "exp", "sum" (max and
    sum keep the reduced axis as 1) and "output"; every other softmax in the engine (the traced
    one below, attention's with a temperature, the small CNN's) is this one. A row of only -inf
    gives NaN (0/0), as torch.softmax does.
    """
    with np.errstate(invalid="ignore"):  # -inf - -inf in a row of only -inf: NaN on purpose
        top = x.max(axis=axis, keepdims=True)
        shifted = x - top
        e = np.exp(shifted)
        total = e.sum(axis=axis, keepdims=True)
        return {"max": top, "shifted": shifted, "exp": e, "sum": total, "output": e / total}


def softmax(input: np.ndarray, dim: int | None = None) -> Trace:
    """softmax_parts along `dim` as a Trace; dim None picks torch's (deprecated) default.

    Stages: "input", "shifted" (x - max), "exp", "sum" (keepdims) and, softmax not being
    element-wise, its derivative as "jacobian" dy_i/dx_j = y_i (delta_ij - y_j) of shape (n, n)
    for a 1-D input; for more dimensions only the diagonal y (1 - y) is stored, as "grad".
    """
    x = _as_array(input)
    axis = _softmax_dim(x.ndim) if dim is None else dim
    if not -max(x.ndim, 1) <= axis < max(x.ndim, 1):
        raise ValueError(f"softmax: dim {axis} is out of range for a {x.ndim}-D input")
    parts = softmax_parts(x, axis)
    y = parts["output"]
    stages = {"input": x, "shifted": parts["shifted"], "exp": parts["exp"], "sum": parts["sum"]}
    if x.ndim == 1:
        stages["jacobian"] = np.diag(y) - np.outer(y, y)  # (n, n)
    else:
        stages["grad"] = y * (1.0 - y)
    return Trace("softmax", {"dim": axis}, y, stages)


def maxout(input: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> Trace:
    """max over k linear pieces: seed 001's max(w1^T x + b1, w2^T x + b2) (Goodfellow et al. 2013).

    Not in torch.nn.functional; in torch: (x @ weight.transpose(-1, -2) + bias[..., None]).amax(0)
    reordered, i.e. the max over pieces of F.linear(x, weight[j], bias[j]).

    input : ndarray of shape (*, in_features)
    weight : ndarray of shape (k, out_features, in_features), or (k, in_features) for one unit
    bias : ndarray of shape (k, out_features), or (k,)

    Output (*, out_features), or (*) for one unit. Stages: "input", "pieces" (*, k[, out]) each
    piece's value, "winner" (*[, out]) the index of the piece that gives the max (the first on a
    tie), and "grad" (*[, out], in_features) = the winning piece's weights, dy/dx.
    """
    x, w, b = _as_array(input), _as_array(weight), _as_array(bias)
    single = w.ndim == 2
    if single:
        w, b = w[:, None, :], b[:, None]
    if w.ndim != 3 or b.shape != w.shape[:2] or w.shape[0] < 1:
        raise ValueError(f"maxout: weight (k, out, in) and bias (k, out) expected, got {w.shape}, {b.shape}")
    if x.ndim < 1 or x.shape[-1] != w.shape[2]:
        raise ValueError(f"maxout: input's last dimension must be in_features = {w.shape[2]}")
    pieces = np.einsum("...i,koi->...ko", x, w) + b  # (*, k, out)
    winner = np.argmax(pieces, axis=-2)  # (*, out)
    y = np.take_along_axis(pieces, winner[..., None, :], axis=-2)[..., 0, :]  # (*, out)
    grad = w[winner, np.arange(w.shape[1])]  # (*, out, in)
    if single:
        pieces, winner, y, grad = pieces[..., 0], winner[..., 0], y[..., 0], grad[..., 0, :]
    params = {"pieces": w.shape[0], "in_features": w.shape[2], "out_features": None if single else w.shape[1]}
    stages = {"input": x, "pieces": pieces, "winner": winner, "grad": grad}
    return Trace("maxout", params, y, stages)
