"""The pooling page's words in code: the PyTorch line for a request and formulas with its numbers.

`torch_line` returns code that computes what the engine computed (x is the (N, C, H, W) input);
where PyTorch has no such layer it gives the short expression, or says so in a comment.
Every `*_formula` returns a MathML string.
"""

from __future__ import annotations

from layerlab.app.mathml import num, tex
from layerlab.app.pages.pool.kinds import BY_NAME, COMPARED
from layerlab.app.pages.pool.request import compared, window_args
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


def _unless(value: object, default: object) -> object | None:
    return None if value == default else value


# torch's defaults of the arguments a torch line writes out only when they differ
TORCH_DEFAULTS = {
    "padding": (0, 0),
    "dilation": (1, 1),
    "ceil_mode": False,
    "count_include_pad": True,
    "divisor_override": None,
}


def _window(req: PoolParams) -> str:
    """The window arguments torch would be given: kernel_size, then those that differ from its defaults."""
    a = window_args(req) | {key: getattr(req, key) for key in ("count_include_pad", "divisor_override")}
    reads = BY_NAME[req.kind].controls
    named = {"kernel_size": a["kernel_size"], "stride": _unless(a["stride"], a["kernel_size"])}
    named |= {key: _unless(a[key], default) for key, default in TORCH_DEFAULTS.items() if key in reads}
    return ", ".join(f"{key}={_value(v)}" for key, v in named.items() if v is not None)


class _Fields(dict):
    """A request's fields as a torch line writes them, looked up by a Kind's template (a name that is
    no field is a stage of the trace, e.g. the samples a draw used)."""

    def __init__(self, req: PoolParams, trace: Trace | None) -> None:
        super().__init__()
        self.req, self.trace = req, trace

    def __missing__(self, key: str) -> str:
        req = self.req
        if key == "window":
            return _window(req)
        if key not in PoolParams.model_fields:
            return str(self.trace.stages[key].tolist())
        value = getattr(req, key)
        if key in ("norm_type", "mix"):
            return num(value)
        if key in ("kernel_size", "output_size"):
            return _value(as_pair(value))
        if key == "levels":
            return ", ".join(map(str, value)) + ("," if len(value) == 1 else "")
        if key == "box":
            return ", ".join(f"{v}." for v in value)
        return str(value)


def torch_line(req: PoolParams, trace: Trace | None = None) -> str:
    """The kind's PyTorch line (kinds.py) with the request's numbers (and the trace's, if it names any)."""
    kind = BY_NAME[req.kind]
    template = kind.torch_eval if kind.torch_eval and not req.training else kind.torch
    return template.format_map(_Fields(req, trace))


def compare_lines(req: PoolCompareRequest) -> dict[str, str]:
    """The PyTorch line of each of the side-by-side poolings, without its comment (they share a box)."""
    return {kind.name: torch_line(compared(req, kind.name)).split("  #")[0] for kind in COMPARED}


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


def _divisor(req: PoolParams, params: dict) -> str:
    kh, kw = params["kernel_size"]
    if req.divisor_override is not None:
        return rf"\text{{divisor}} = {req.divisor_override}\quad(\text{{divisor\_override}})"
    if req.count_include_pad:
        return rf"\text{{divisor}} = k_H\,k_W = {kh}\cdot {kw} = {kh * kw}\ \text{{(padding cells count)}}"
    return r"\text{divisor} = \text{the window's cells inside the input}"


def _power(req: PoolParams, params: dict) -> str:
    p = num(req.norm_type)
    return rf"y = \Big(\sum x^{{{p}}}\Big)^{{1/{p}}}"


def _blend(req: PoolParams, params: dict) -> str:
    lam = num(req.mix)
    return rf"y = {lam}\cdot \max + (1 - {lam})\cdot \operatorname{{avg}}"


def _draw(req: PoolParams, params: dict) -> str:
    rule = r"y = x_{k},\ k \sim p" if req.training else r"y = \sum_i p_i\, x_i"
    return rf"p_i = \frac{{a_i}}{{\sum_j a_j}},\ a = \max(x, 0);\quad {rule}"


def _bins(req: PoolParams, params: dict) -> str:
    (h, w), (oh, ow) = params["input_size"], params["output_size"]
    return (
        rf"\text{{bin }} i \text{{ covers rows }}"
        rf" \left\lfloor \frac{{i\cdot {h}}}{{{oh}}} \right\rfloor"
        rf" \ldots \left\lceil \frac{{(i+1)\cdot {h}}}{{{oh}}} \right\rceil - 1,\ \text{{columns}}"
        rf" \left\lfloor \frac{{j\cdot {w}}}{{{ow}}} \right\rfloor \ldots"
        rf" \left\lceil \frac{{(j+1)\cdot {w}}}{{{ow}}} \right\rceil - 1"
    )


def _pyramid(req: PoolParams, params: dict) -> str:
    squares = " + ".join(f"{level}^2" for level in req.levels)
    return rf"\text{{length}} = C\sum_l l^2 = 1\cdot({squares}) = {params['output_length']}"


def _roi(req: PoolParams, params: dict) -> str:
    (bh, bw), (oh, ow) = params["bin_size"], params["output_size"]
    x1, y1, x2, y2 = req.box
    return (
        rf"\text{{bin}} = \frac{{{y2} - {y1} + 1}}{{{oh}}} \times \frac{{{x2} - {x1} + 1}}{{{ow}}}"
        rf" = {num(bh)} \times {num(bw)}\ \text{{pixels}}"
    )


def _extreme(req: PoolParams, params: dict) -> str:
    return rf"y = \{req.kind}"


def _fractional(req: PoolParams, params: dict) -> str:
    (h, _), (kh, _), (oh, _) = params["input_size"], params["kernel_size"], params["output_size"]
    u = params["samples"][1]  # (u_width, u_height)
    return (
        r"\text{row window } i \text{ starts at }"
        r" \lfloor (i + u)\,\alpha \rfloor - \lfloor u\,\alpha \rfloor,"
        rf"\ \alpha = \frac{{{h} - {kh}}}{{{oh} - 1}} = {num(params['alpha'][0])},\ u = {num(u)}"
        r"\ \text{(columns alike; the last window ends at the edge)}"
    )


# what one window or bin computes, by a Kind's `formula` (LaTeX with the request's numbers)
STATISTICS = {
    "extreme": _extreme,
    "divisor": _divisor,
    "power": _power,
    "blend": _blend,
    "draw": _draw,
    "bins": _bins,
    "pyramid": _pyramid,
    "roi": _roi,
    "fractional": _fractional,
}


def statistic_formula(req: PoolParams, trace: Trace) -> str:
    """What each window or bin computes, with the request's numbers (MathML)."""
    # the first region's or plane's bin size and samples (the page pools one)
    params = trace.params | {k: trace.stages[k][0] for k in ("bin_size", "samples") if k in trace.stages}
    return str(tex(STATISTICS[BY_NAME[req.kind].formula](req, params)))
