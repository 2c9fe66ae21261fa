"""The pooling page's words in code: the PyTorch line for a request and formulas with its numbers.

`torch_line` returns code that computes what the engine computed (x is the (N, C, H, W) input);
where PyTorch has no such layer it gives the short expression, or says so in a comment.
Every `*_formula` returns a MathML string.
"""

from __future__ import annotations

from layerlab.app.mathml import num, tex
from layerlab.app.pages.pool.request import window_args
from layerlab.app.pages.pool.schemas import PoolCompareRequest, PoolParams, as_pair
from layerlab.engine.trace import Trace

# fixed formulas, rendered in the template
DEFINITIONS = {
    "max": r"y_{i,j} = \max_{u,v}\; x_{s i + d u,\; s j + d v}",
    "avg": r"y_{i,j} = \frac{1}{\text{divisor}} \sum_{u,v} x_{s i + u,\; s j + v}",
    "lp": r"y_{i,j} = \Big(\sum_{u,v} x_{s i + u,\; s j + v}^{\,p}\Big)^{1/p}",
    "size": r"H_{out} = \left\lfloor \frac{H + 2p - d\,(k-1) - 1}{s} \right\rfloor + 1",
}


def _value(v: object) -> str:
    return repr(v[0] if isinstance(v, tuple) and v[0] == v[1] else v)


def _args(*positional: object, **named: object) -> str:
    """'a, b, k=v' with the named arguments that are not None."""
    parts = [str(p) for p in positional] + [f"{k}={_value(v)}" for k, v in named.items() if v is not None]
    return ", ".join(parts)


def _unless(value: object, default: object) -> object | None:
    return None if value == default else value


def _window(req: PoolParams, *takes: str) -> dict[str, object]:
    """The window arguments torch would be given: those of `takes` that differ from its defaults."""
    a = window_args(req)
    named = {"kernel_size": a["kernel_size"], "stride": _unless(a["stride"], a["kernel_size"])}
    defaults = {"padding": (0, 0), "dilation": (1, 1), "ceil_mode": False}
    named.update({k: _unless(a[k], defaults[k]) for k in takes})
    return named


def torch_line(req: PoolParams) -> str:
    kind = req.kind
    if kind == "max":
        return f"nn.MaxPool2d({_args(**_window(req, 'padding', 'dilation', 'ceil_mode'))})"
    if kind == "min":
        window = _args("-x", **_window(req, "padding", "dilation", "ceil_mode"))
        return f"-F.max_pool2d({window})  # min pooling is not a built-in: the max of -x, negated"
    if kind == "avg":
        extra = {
            "count_include_pad": _unless(req.count_include_pad, True),
            "divisor_override": req.divisor_override,
        }
        return f"nn.AvgPool2d({_args(**_window(req, 'padding', 'ceil_mode'), **extra)})"
    if kind == "lp":
        return f"nn.LPPool2d({_args(num(req.norm_type), **_window(req, 'ceil_mode'))})"
    if kind == "mixed":
        window = _args("x", **_window(req, "padding"))
        lam = num(req.mix)
        return (
            f"{lam} * F.max_pool2d({window}) + (1 - {lam}) * F.avg_pool2d({window})"
            "  # mixed pooling is not a built-in"
        )
    if kind == "stochastic":
        window = _args(**_window(req))
        if not req.training:
            return f"a = x.clamp(min=0); F.avg_pool2d(a * a, {window}) / F.avg_pool2d(a, {window})"
        return (
            "# stochastic pooling is not a built-in: in each window draw a cell with probability a / a.sum()"
        )
    if kind in ("adaptive_avg", "adaptive_max"):
        name = "AdaptiveAvgPool2d" if kind == "adaptive_avg" else "AdaptiveMaxPool2d"
        return f"nn.{name}({_value(as_pair(req.output_size))})"
    if kind in ("global_avg", "global_max"):
        return f"nn.{'AdaptiveAvgPool2d' if kind == 'global_avg' else 'AdaptiveMaxPool2d'}(1)"
    if kind == "spp":
        levels = ", ".join(map(str, req.levels)) + ("," if len(req.levels) == 1 else "")
        return (
            f"torch.cat([F.adaptive_{req.pyramid_mode}_pool2d(x, l).flatten(1) for l in ({levels})], dim=1)"
            "  # spatial pyramid pooling"
        )
    box = ", ".join(f"{v}." for v in req.box)
    size = _value(as_pair(req.output_size))
    return f"torchvision.ops.roi_pool(x, [torch.tensor([[{box}]])], output_size={size})"


def compare_lines(req: PoolCompareRequest) -> dict[str, str]:
    """The PyTorch line of each of the four side-by-side poolings."""
    kernel = as_pair(req.kernel_size)
    stride = kernel if req.stride is None else as_pair(req.stride)
    named = {
        "kernel_size": kernel,
        "stride": _unless(stride, kernel),
        "ceil_mode": _unless(req.ceil_mode, False),
    }
    return {
        "max": f"nn.MaxPool2d({_args(**named)})",
        "avg": f"nn.AvgPool2d({_args(**named)})",
        "min": f"-F.max_pool2d({_args('-x', **named)})",
        "lp": f"nn.LPPool2d({_args(num(req.norm_type), **named)})",
    }


def size_formulas(params: dict) -> dict[str, str]:
    """The output-size formula per axis with the window's numbers, floor or (ceil_mode) ceiling."""
    formulas = {}
    ceil = params.get("ceil_mode", False)
    left, right = (r"\left\lceil", r"\right\rceil") if ceil else (r"\left\lfloor", r"\right\rfloor")
    for axis, (name, letter) in enumerate((("height", "H"), ("width", "W"))):
        h, k = params["input_size"][axis], params["kernel_size"][axis]
        s, d, p = params["stride"][axis], params["dilation"][axis], params["padding"][axis]
        out = params["output_size"][axis]
        inner = h + 2 * p - d * (k - 1) - 1
        raw = (-(-inner // s) if ceil else inner // s) + 1
        dropped = r" - 1\ \text{(the last window would start in the padding)}" if raw != out else ""
        formulas[name] = str(
            tex(
                rf"{letter}_{{out}} = {left} \frac{{{h} + 2\cdot {p} - {d}\cdot({k} - 1) - 1}}{{{s}}}"
                rf" {right} + 1{dropped} = {out}"
            )
        )
    return formulas


def statistic_formula(req: PoolParams, trace: Trace) -> str:
    """What each window or bin computes, with the request's numbers (MathML)."""
    kind, params = req.kind, trace.params
    if kind == "avg":
        kh, kw = params["kernel_size"]
        if req.divisor_override is not None:
            latex = rf"\text{{divisor}} = {req.divisor_override}\quad(\text{{divisor\_override}})"
        elif req.count_include_pad:
            latex = (
                rf"\text{{divisor}} = k_H\,k_W = {kh}\cdot {kw} = {kh * kw}\ \text{{(padding cells count)}}"
            )
        else:
            latex = r"\text{divisor} = \text{the window's cells inside the input}"
        return str(tex(latex))
    if kind == "lp":
        p = num(req.norm_type)
        return str(tex(rf"y = \Big(\sum x^{{{p}}}\Big)^{{1/{p}}}"))
    if kind == "mixed":
        lam = num(req.mix)
        return str(tex(rf"y = {lam}\cdot \max + (1 - {lam})\cdot \operatorname{{avg}}"))
    if kind == "stochastic":
        rule = r"y = x_{k},\ k \sim p" if req.training else r"y = \sum_i p_i\, x_i"
        return str(tex(rf"p_i = \frac{{a_i}}{{\sum_j a_j}},\ a = \max(x, 0);\quad {rule}"))
    if kind in ("adaptive_avg", "adaptive_max", "global_avg", "global_max"):
        (h, w), (oh, ow) = params["input_size"], params["output_size"]
        return str(
            tex(
                rf"\text{{bin }} i \text{{ covers rows }}"
                rf" \left\lfloor \frac{{i\cdot {h}}}{{{oh}}} \right\rfloor"
                rf" \ldots \left\lceil \frac{{(i+1)\cdot {h}}}{{{oh}}} \right\rceil - 1,\ \text{{columns}}"
                rf" \left\lfloor \frac{{j\cdot {w}}}{{{ow}}} \right\rfloor \ldots"
                rf" \left\lceil \frac{{(j+1)\cdot {w}}}{{{ow}}} \right\rceil - 1"
            )
        )
    if kind == "spp":
        squares = " + ".join(f"{level}^2" for level in req.levels)
        total = params["output_length"]
        return str(tex(rf"\text{{length}} = C\sum_l l^2 = 1\cdot({squares}) = {total}"))
    if kind == "roi":
        (bh, bw), (oh, ow) = trace.stages["bin_size"][0], params["output_size"]
        x1, y1, x2, y2 = req.box
        return str(
            tex(
                rf"\text{{bin}} = \frac{{{y2} - {y1} + 1}}{{{oh}}} \times \frac{{{x2} - {x1} + 1}}{{{ow}}}"
                rf" = {num(bh)} \times {num(bw)}\ \text{{pixels}}"
            )
        )
    return str(tex(r"y = \max" if kind == "max" else r"y = \min"))
