"""The activations page's words in code: f and f' as formulas with the request's parameters, the
same with one x's numbers plugged in (every number from an engine trace), softmax's normalization
written out, and the PyTorch line. Every formula is returned as MathML."""

from __future__ import annotations

import math

import numpy as np

from layerlab.app.mathml import tex
from layerlab.app.pages.activations.schemas import ActivationParams
from layerlab.engine.activations import GELU_TANH_C
from layerlab.engine.trace import Trace

PHI = r"\Phi(x) = \tfrac{1}{2}\Bigl(1 + \operatorname{erf}\tfrac{x}{\sqrt{2}}\Bigr)"
GELU_U = rf"u = \sqrt{{2/\pi}}\,\bigl(x + {GELU_TANH_C}\,x^3\bigr)"
# fixed formulas, rendered in the template's explanation
DEFINITIONS = {
    "sigmoid": r"\sigma(x) = \frac{1}{1 + e^{-x}}, \qquad \sigma'(x) = \sigma(x)\,\bigl(1 - \sigma(x)\bigr)",
    "tanh": r"\tanh(x) = 2\,\sigma(2x) - 1, \qquad \tanh'(x) = 1 - \tanh^2(x)",
    "chain": r"\frac{\partial L}{\partial x} = f'(x)\,\frac{\partial L}{\partial y}",
    "softmax": r"\operatorname{softmax}(z)_i = \frac{e^{z_i / T}}{\sum_j e^{z_j / T}}"
    r" = \frac{e^{z_i / T - m}}{\sum_j e^{z_j / T - m}}, \quad m = \max_j z_j / T",
    "jacobian": r"\frac{\partial y_i}{\partial s_j} = y_i\,(\delta_{ij} - y_j), \quad s = z / T",
    "maxout": r"f(x) = \max\bigl(w_1^{\top} x + b_1,\; w_2^{\top} x + b_2\bigr)",
}


def n(value: float, sign: bool = False) -> str:
    """A number as LaTeX, 4 significant digits; `sign` (a factor, or a base: y^2) wraps a negative
    or a power of ten in parentheses, so that (-2)^2 and (9.8e-5)^2 read right and parse."""
    v = float(value)
    if v == 0:
        return "0"
    text = f"{v:.4g}"
    scientific = "e" in text
    if scientific:
        mantissa, exponent = text.split("e")
        text = rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return f"({text})" if sign and (v < 0 or scientific) else text


def _cases(positive: str, negative: str) -> str:
    return rf"\begin{{cases}} {positive} & x > 0 \\ {negative} & x \le 0 \end{{cases}}"


def formulas(req: ActivationParams) -> dict[str, str]:
    """f(x) and f'(x) with the request's parameters (MathML)."""
    kind = req.kind
    slope = {"leaky_relu": req.negative_slope, "prelu": req.weight}.get(kind)
    if kind in ("sigmoid", "tanh"):
        f, grad = DEFINITIONS[kind].split(r", \qquad ")
    elif kind == "relu":
        f, grad = r"f(x) = \max(0, x)", "f'(x) = " + _cases("1", "0")
    elif slope is not None:
        name = "a" if kind == "prelu" else r"\text{negative\_slope}"
        f = "f(x) = " + _cases("x", rf"{n(slope, True)}\,x") + rf", \quad {name} = {n(slope)}"
        grad = "f'(x) = " + _cases("1", n(slope))
    elif kind == "elu":
        a = n(req.alpha, True)
        f = "f(x) = " + _cases("x", rf"{a}\,(e^{{x}} - 1)") + rf", \quad \alpha = {n(req.alpha)}"
        grad = "f'(x) = " + _cases("1", rf"{a}\,e^{{x}}")
    elif kind == "gelu" and req.approximate == "none":
        f = rf"f(x) = x\,\Phi(x), \quad {PHI}"
        grad = r"f'(x) = \Phi(x) + x\,\varphi(x), \quad \varphi(x) = \frac{e^{-x^2/2}}{\sqrt{2\pi}}"
    elif kind == "gelu":
        f = rf"f(x) = \tfrac{{x}}{{2}}\,(1 + \tanh u), \quad {GELU_U}"
        grad = (
            r"f'(x) = \tfrac{1}{2}(1 + \tanh u) + \tfrac{x}{2}\,(1 - \tanh^2 u)\,\sqrt{2/\pi}\,"
            rf"(1 + 3\cdot {GELU_TANH_C}\,x^2)"
        )
    else:
        lines = ",\\; ".join(rf"{n(w)}\,x + {n(b, True)}" for w, b in req.pieces)
        f = rf"f(x) = \max\bigl({lines}\bigr)"
        grad = r"f'(x) = w_{j^*}, \quad j^* = \text{the piece that gives the max}"
    return {"f": str(tex(f)), "grad": str(tex(grad))}


def _point_latex(req: ActivationParams, t: Trace) -> tuple[str, str]:
    """f(x) = ... and f'(x) = ... at the one x of trace t, numbers from its stages."""
    x, y, g = (
        float(t.stages["input"].reshape(-1)[0]),
        float(t.output.reshape(-1)[0]),
        float(t.stages["grad"].reshape(-1)[0]),
    )
    at, kind = n(x, True), req.kind
    if kind == "sigmoid":
        return (
            rf"\sigma({n(x)}) = \frac{{1}}{{1 + e^{{-{at}}}}} = {n(y)}",
            rf"\sigma'({n(x)}) = {n(y)}\cdot(1 - {n(y)}) = {n(g)}",
        )
    if kind == "tanh":
        return rf"\tanh({n(x)}) = {n(y)}", rf"1 - \tanh^2({n(x)}) = 1 - {n(y, True)}^2 = {n(g)}"
    if kind == "gelu" and req.approximate == "none":
        cdf, pdf = float(t.stages["cdf"].reshape(-1)[0]), float(t.stages["pdf"].reshape(-1)[0])
        return (
            rf"f({n(x)}) = {at}\cdot\Phi({n(x)}) = {at}\cdot {n(cdf)} = {n(y)}",
            rf"f'({n(x)}) = {n(cdf)} + {at}\cdot {n(pdf)} = {n(g)}",
        )
    if kind == "gelu":
        th = float(t.stages["tanh"].reshape(-1)[0])
        return (
            rf"f({n(x)}) = \tfrac{{{at}}}{{2}}\,(1 + {n(th, True)}) = {n(y)},\quad \tanh u = {n(th)}",
            rf"f'({n(x)}) = {n(g)}",
        )
    if kind == "maxout":
        pieces = t.stages["pieces"].reshape(-1)
        winner = int(t.stages["winner"].reshape(-1)[0])
        terms = ",\\; ".join(rf"{n(w)}\cdot {at} + {n(b, True)}" for w, b in req.pieces)
        values = ", ".join(n(p) for p in pieces)
        return (
            rf"f({n(x)}) = \max({terms}) = \max({values}) = {n(y)}",
            rf"f'({n(x)}) = w_{{{winner + 1}}} = {n(g)}\quad(\text{{piece {winner + 1} wins}})",
        )
    side = "x > 0" if x > 0 else r"x \le 0"
    if kind == "relu":
        return rf"f({n(x)}) = \max(0, {n(x)}) = {n(y)}", rf"f'({n(x)}) = {n(g)}\quad({side})"
    if x > 0:
        return rf"f({n(x)}) = {n(x)}", rf"f'({n(x)}) = 1\quad({side})"
    if kind == "elu":
        a = n(req.alpha, True)
        return (
            rf"f({n(x)}) = {a}\cdot(e^{{{n(x)}}} - 1) = {n(y)}",
            rf"f'({n(x)}) = {a}\cdot e^{{{n(x)}}} = {n(g)}\quad({side})",
        )
    return rf"f({n(x)}) = {n(g, True)}\cdot {at} = {n(y)}", rf"f'({n(x)}) = {n(g)}\quad({side})"


def point(req: ActivationParams, t: Trace) -> dict[str, str]:
    """MathML of f and f' at the one x of t, and whether the gradient there counts as saturated."""
    f, grad = _point_latex(req, t)
    g = abs(float(t.stages["grad"].reshape(-1)[0]))
    verdict = (
        rf"|f'(x)| = {n(g)} < {n(req.threshold)}:\ \text{{saturated, almost no gradient passes}}"
        if g < req.threshold
        else rf"|f'(x)| = {n(g)} \ge {n(req.threshold)}:\ \text{{the gradient passes}}"
    )
    return {"f": str(tex(f)), "grad": str(tex(grad)), "verdict": str(tex(verdict))}


def torch_line(req: ActivationParams) -> str:
    kind = req.kind
    if kind == "leaky_relu":
        return f"F.leaky_relu(x, negative_slope={req.negative_slope!r})"
    if kind == "prelu":
        return f"F.prelu(x, torch.tensor([{req.weight!r}]))"
    if kind == "elu":
        return f"F.elu(x, alpha={req.alpha!r})"
    if kind == "gelu":
        return "F.gelu(x)" if req.approximate == "none" else "F.gelu(x, approximate='tanh')"
    if kind == "maxout":
        pieces = ", ".join(f"({w!r}, {b!r})" for w, b in req.pieces)
        return f"torch.stack([w * x + b for w, b in [{pieces}]]).amax(0)  # maxout is not a built-in"
    return f"F.{kind}(x)"


def softmax_text(z: list[float], temperature: float, t: Trace) -> dict:
    """softmax(z / T) written out: the scaling, the shift by the max, the sum and every entry."""
    scaled, shifted, e = t.stages["input"], t.stages["shifted"], t.stages["exp"]
    total = float(t.stages["sum"].reshape(-1)[0])
    m = float(np.max(scaled))
    vector = ", ".join(n(v) for v in scaled)
    exps = " + ".join(rf"e^{{{n(s)}}}" for s in shifted)
    values = " + ".join(n(v) for v in e)
    d = n(total)
    entries = [
        str(tex(rf"y_{{{i + 1}}} = \frac{{e^{{{n(s)}}}}}{{{d}}} = \frac{{{n(v)}}}{{{d}}} = {n(y)}"))
        for i, (s, v, y) in enumerate(zip(shifted, e, t.output, strict=True))
    ]
    return {
        "scaled": str(tex(rf"z / T = ({vector}),\quad T = {n(temperature)},\quad m = {n(m)}")),
        "sum": str(tex(rf"\sum_j e^{{z_j / T - m}} = {exps} = {values} = {n(total)}")),
        "entries": entries,
        "check": str(tex(rf"\sum_i y_i = {n(float(np.sum(t.output)))}")),
        "torch": f"F.softmax(torch.tensor({[float(v) for v in z]}) / {temperature!r}, dim=0)",
        "overflow": bool(np.max(np.abs(scaled)) > math.log(np.finfo(np.float64).max)),
    }
