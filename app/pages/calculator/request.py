"""From a validated calculator request to engine layers, and from a StackReport to the page's JSON.

The engine does the arithmetic (engine.calculator.analyse). Here: the arguments the page offers
per kind, the limits that keep every number exact in a browser, the receptive-field box of one
output position on the input, and the selected layer's formulas with its numbers plugged in.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

from layerlab.app.config import in_effect as S
from layerlab.app.errors import ApiError
from layerlab.app.mathml import num, tex
from layerlab.engine.calculator import PRESETS, Layer, LayerReport, StackReport
from layerlab.engine.calculator_graph import GraphReport

MAX_EXACT = 2**53 - 1  # JavaScript numbers hold integers exactly up to here
WORDS = ("same", "valid", "zeros", "reflect", "replicate", "circular")  # the only string arguments
WINDOW_ARGS = ("kernel_size", "stride", "padding", "dilation", "output_padding")
SIZE_ARGS = ("out_channels", "out_features", "groups")

_CONV = [
    ("out_channels", "int", 8, True),
    ("kernel_size", "size", 3, True),
    ("stride", "size", 1, False),
    ("padding", "pad", 0, False),
    ("dilation", "size", 1, False),
    ("groups", "int", 1, False),
    ("bias", "flag", True, False),
]
_POOL = [("kernel_size", "size", 2, True), ("stride", "size", None, False), ("padding", "size", 0, False)]
# The arguments the page edits per kind, in torch's order: (name, widget, default, required).
# widget: "int", "size" (an int or an (H, W) pair), "pad" (a size, 'same' or 'valid'), "flag",
# "prob". default: torch's, or for a required argument the value a new layer starts with.
KINDS: dict[str, list[tuple[str, str, Any, bool]]] = {
    "Conv2d": _CONV,
    "Conv1d": _CONV,
    "ConvTranspose2d": [
        *_CONV[:3],
        ("padding", "size", 0, False),
        ("output_padding", "size", 0, False),
        *_CONV[5:],
        ("dilation", "size", 1, False),
    ],
    "MaxPool2d": [*_POOL, ("dilation", "size", 1, False), ("ceil_mode", "flag", False, False)],
    "AvgPool2d": [*_POOL, ("ceil_mode", "flag", False, False)],
    "AdaptiveAvgPool2d": [("output_size", "size", 1, True)],
    "BatchNorm2d": [("affine", "flag", True, False)],
    "BatchNorm1d": [("affine", "flag", True, False)],
    "Flatten": [],
    "Linear": [("out_features", "int", 10, True), ("bias", "flag", True, False)],
    "Dropout": [("p", "prob", 0.5, False)],
    **dict.fromkeys(("ReLU", "Sigmoid", "Tanh", "Softmax", "Identity"), []),
}


def kind_table() -> list[dict[str, Any]]:
    """KINDS for the page, in order (a list: Jinja's tojson sorts the keys of a dict)."""
    keys = ("name", "widget", "default", "required")
    return [
        {"kind": kind, "args": [dict(zip(keys, arg, strict=True)) for arg in args]}
        for kind, args in KINDS.items()
    ]


def preset_list() -> list[dict[str, Any]]:
    """engine.calculator.PRESETS as JSON: name, label, note, input_shape, layers as {kind, args}."""
    return [
        {
            "name": name,
            "label": p["label"],
            "note": p["note"],
            "input_shape": list(p["input_shape"]),
            "layers": [{"kind": layer.kind, "args": dict(layer.args)} for layer in p["layers"]],
        }
        for name, p in PRESETS.items()
    ]


def check_arg(name: str, value: Any) -> Any:
    """A JSON argument value the engine can take safely: a bool, a finite number, a pair, a word, null.

    Numbers are capped by kind of argument (window sizes, channel counts) so no stack makes
    unbounded work or a number JavaScript cannot hold; the engine checks the rest.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        if value in WORDS:
            return value
        raise ValueError(
            f"{name} must be a number, true or false, or one of {', '.join(WORDS)}, not {_short(value)}"
        )
    if isinstance(value, list) and len(value) != 2:
        raise ValueError(f"{name} must be a number or a pair (height, width), not a list of {len(value)}")
    items = value if isinstance(value, list) else [value]
    limit = S.max_window_arg if name in WINDOW_ARGS else S.max_layer_size if name in SIZE_ARGS else MAX_EXACT
    for v in items:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise ValueError(f"{name} must be a number or a pair of numbers, not {_short(value)}")
        if abs(v) > limit:
            raise ValueError(f"{name} {_short(value)} is over the calculator's limit of {limit:,}")
    return tuple(value) if isinstance(value, list) else value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_input_shape(shape: list[int]) -> list[int]:
    """(F,), (C, L) or (C, H, W) within the channel and side limits."""
    if len(shape) == 1 and shape[0] > S.max_layer_size:
        raise ValueError(f"{shape[0]:,} features is over the calculator's limit of {S.max_layer_size:,}")
    if len(shape) > 1 and shape[0] > S.max_layer_size:
        raise ValueError(f"{shape[0]:,} channels is over the calculator's limit of {S.max_layer_size:,}")
    if any(side > S.max_stack_side for side in shape[1:]):
        raise ValueError(f"sides {tuple(shape[1:])} go over the calculator's limit of {S.max_stack_side}")
    return shape


def check_report(report: StackReport | GraphReport) -> None:
    """Refuse a stack whose maps outgrow the page or whose counts a browser cannot hold exactly."""
    params = macs = 0
    for r in report.layers:
        params, macs = params + r.parameters, macs + r.macs
        where, who = f"layers[{r.index}]", f"layer {r.index} ({r.kind})"
        if any(side > S.max_stack_side for side in r.output_shape[1:]):
            raise ApiError(
                422, where, f"{who}: its output {r.output_shape} is over {S.max_stack_side} per side"
            )
        numbers = [math.prod(r.output_shape), params, macs, *(r.receptive_field or ()), *(r.jump or ())]
        numbers += [abs(v) for v in r.start or ()]
        if max(numbers) > MAX_EXACT:
            raise ApiError(
                422,
                where,
                f"{who}: a count reaches {max(numbers):.3g}, more than a browser holds exactly (2^53)",
            )


def field_box(r: LayerReport, input_shape: tuple[int, ...], position: tuple[int, int] | None) -> dict | None:
    """The input pixels that can influence output `position` (the centre when None), per axis.

    rows/cols: [first, last] pixel index, inclusive, clipped to the input (None when the
    field lies wholly on padding); extent: the same before clipping; centre: in input
    coordinates. A (C, L) stack has a height of 1. None when the layer has mixed every position.
    """
    if r.receptive_field is None:
        return None
    out, sides = r.output_shape[1:], input_shape[1:]
    if len(out) == 1:
        out, sides = (1, *out), (1, *sides)
    position = position or tuple((n - 1) // 2 for n in out)
    centre = [s + p * j for s, p, j in zip(r.start, position, r.jump, strict=True)]
    extent, clipped = [], []
    for c, size, side in zip(centre, r.receptive_field, sides, strict=True):
        # 1e-9: fields after a strided ConvTranspose2d are thirds and such, held as floats
        lo, hi = math.ceil(c - (size - 1) / 2 - 1e-9), math.floor(c + (size - 1) / 2 + 1e-9)
        extent.append([lo, hi])
        clipped.append([max(lo, 0), min(hi, side - 1)] if lo <= side - 1 and hi >= 0 else None)
    return {
        "position": list(position),
        "centre": centre,
        "rows": clipped[0],
        "cols": clipped[1],
        "extent": extent,
        "clipped": clipped != extent,
    }


def report_json(
    report: StackReport | GraphReport, input_shape: tuple[int, ...], focus: tuple[int, tuple] | None
) -> dict:
    """The report with a field box per spatial layer: the focused (layer, position) or the centre."""
    layers = []
    for r in report.layers:
        position = focus[1] if focus and focus[0] == r.index else None
        layers.append({**asdict(r), "box": field_box(r, input_shape, position)})
    body = {
        "input_shape": list(input_shape),
        "layers": layers,
        "total_parameters": report.total_parameters,
        "total_macs": report.total_macs,
        "output_shape": report.output_shape,
    }
    outputs = getattr(report, "outputs", None)  # a GraphReport's: every value no layer reads
    return body if outputs is None else {**body, "outputs": outputs}


# ---- formulas -----------------------------------------------------------------------------------

GENERAL = {
    "size": r"H_{out} = \left\lfloor \frac{H + 2p - d\,(k-1) - 1}{s} \right\rfloor + 1",
    "conv_parameters": r"\text{parameters} = C_{out}\cdot \frac{C_{in}}{g}\cdot k_H\, k_W + C_{out}",
    "linear_parameters": r"\text{parameters} = F_{in}\cdot F_{out} + F_{out}",
    "macs": r"\text{MACs} = C_{out}\cdot H_{out}\, W_{out}\cdot \frac{C_{in}}{g}\cdot k_H\, k_W",
    "field": r"r_{out} = r_{in} + d\,(k - 1)\cdot j_{in}",
    "jump": r"j_{out} = j_{in}\cdot s",
}
_WINDOWS = {"Conv2d", "Conv1d", "MaxPool2d", "AvgPool2d"}
_NO_COPY = {"ConvTranspose2d", "AdaptiveAvgPool2d", "Add", "Concat"}  # their field is not their input's


def _n(value: float) -> str:
    """A number as LaTeX: 18\\,496 (a thin space between thousands) for ints, at most 3 decimals otherwise."""
    return f"{value:,}".replace(",", r"\,") if isinstance(value, int) else num(value)


def _axes(value: Any, n: int) -> tuple:
    return tuple(value) if isinstance(value, tuple | list) else (value,) * n


def _geometry(layer: Layer, r: LayerReport) -> list[dict]:
    """Per spatial axis: kernel k, stride s, padding before/after, dilation d, output padding op."""
    args, n = layer.args, len(r.input_shape) - 1
    k = _axes(args["kernel_size"], n)
    stride = args.get("stride", None if "Pool" in layer.kind else 1)
    s = k if stride is None else _axes(stride, n)  # a pool's stride defaults to its kernel size
    d, op = _axes(args.get("dilation", 1), n), _axes(args.get("output_padding", 0), n)
    pad = args.get("padding", 0)
    if pad in ("same", "valid"):
        totals = [di * (ki - 1) if pad == "same" else 0 for ki, di in zip(k, d, strict=True)]
        pads = [(t // 2, t - t // 2) for t in totals]
    else:
        pads = [(p, p) for p in _axes(pad, n)]
    names = ("H", "W") if n == 2 else ("L",)
    return [
        {"X": names[a], "k": k[a], "s": s[a], "lo": pads[a][0], "hi": pads[a][1], "d": d[a], "op": op[a]}
        for a in range(n)
    ]


def _size(kind: str, g: dict, size: int, out: int, ceil: bool) -> str:
    X, k, s, d = g["X"], g["k"], g["s"], g["d"]
    if kind == "ConvTranspose2d":
        return (
            rf"{X}_{{out}} = ({size} - 1)\cdot {s} - 2\cdot {g['lo']} + {d}\cdot({k} - 1)"
            rf" + {g['op']} + 1 = {_n(out)}"
        )
    pad = rf"2\cdot {g['lo']}" if g["lo"] == g["hi"] else f"{g['lo']} + {g['hi']}"
    left, right = (r"\left\lceil", r"\right\rceil") if ceil else (r"\left\lfloor", r"\right\rfloor")
    top = size + g["lo"] + g["hi"] - d * (k - 1) - 1
    raw = (-(-top // s) if ceil else top // s) + 1
    dropped = r" - 1\;(\text{a last window may not start in the padding})" if raw != out else ""
    return (
        rf"{X}_{{out}} = {left} \frac{{{size} + {pad} - {d}\cdot({k} - 1) - 1}}{{{s}}} {right} + 1"
        rf"{dropped} = {_n(out)}"
    )


def _field(kind: str, geometry: list[dict], r: LayerReport, before: LayerReport | None) -> list[str]:
    """r_out and j_out per axis (once when the axes agree), from the previous layer's field."""
    axes = (0, 1) if len(geometry) == 2 else (1,)  # a (C, L) stack keeps its length as W
    r_in = before.receptive_field if before else (1, 1)
    j_in = before.jump if before else (1, 1)
    rows = [
        (g["X"], g["k"], g["s"], g["d"], r_in[a], j_in[a], r.receptive_field[a], r.jump[a])
        for a, g in zip(axes, geometry, strict=True)
    ]
    if len(rows) == 2 and rows[0][1:] == rows[1][1:]:
        rows = [("", *rows[0][1:])]
    found = []
    for X, k, s, d, ri, ji, r_out, j_out in rows:
        tag = f"^{{{X}}}" if len(rows) == 2 else ""
        dk = f"({k} - 1)" if d == 1 else rf"{d}\cdot({k} - 1)"
        sym = "(k - 1)" if d == 1 else r"d\,(k - 1)"
        over, by = ("/s", f"/{s}") if kind == "ConvTranspose2d" else (r"\cdot s", rf"\cdot {s}")
        step = "/s" if kind == "ConvTranspose2d" else ""
        found.append(
            rf"r{tag}_{{out}} = r_{{in}} + {sym}\cdot j_{{in}}{step} = {_n(ri)} + {dk}\cdot {_n(ji)}"
            rf"{by if step else ''} = {_n(r_out)}"
        )
        found.append(rf"j{tag}_{{out}} = j_{{in}}{over} = {_n(ji)}{by} = {_n(j_out)}")
    return found


def _conv_counts(kind: str, geometry: list[dict], args: dict, r: LayerReport) -> list[tuple[str, str]]:
    """Parameters and MACs of a convolution: one weight per tap per (input, output) channel pair."""
    shape, out = r.input_shape, r.output_shape
    groups, transposed = args.get("groups", 1), kind == "ConvTranspose2d"
    taps = r"\cdot ".join(str(g["k"]) for g in geometry)
    k_sym = r"k_H\, k_W" if len(geometry) == 2 else "k"
    # a transposed convolution scatters every input element through C_out/g kernels
    first, second = ("in", "out") if transposed else ("out", "in")
    c_first, c_second = (shape[0], out[0]) if transposed else (out[0], shape[0])
    per = rf"C_{{{first}}}\cdot \frac{{C_{{{second}}}}}{{g}}\cdot {k_sym}"
    nums = rf"{_n(c_first)}\cdot {_n(c_second // groups)}\cdot {taps}"
    bias = (r" + C_{out}", f" + {_n(out[0])}") if args.get("bias", True) else ("", "")
    grid = shape[1:] if transposed else out[1:]
    where = "in" if transposed else "out"
    dims = rf"H_{{{where}}}\, W_{{{where}}}" if len(geometry) == 2 else rf"L_{{{where}}}"
    positions = r"\cdot ".join(_n(v) for v in grid)
    return [
        ("parameters", rf"\text{{parameters}} = {per}{bias[0]} = {nums}{bias[1]} = {_n(r.parameters)}"),
        (
            "macs",
            rf"\text{{MACs}} = C_{{{first}}}\cdot {dims}\cdot \frac{{C_{{{second}}}}}{{g}}\cdot {k_sym}"
            rf" = {_n(c_first)}\cdot {positions}\cdot {_n(c_second // groups)}\cdot {taps} = {_n(r.macs)}",
        ),
    ]


def _linear_counts(args: dict, r: LayerReport) -> list[tuple[str, str]]:
    f_in, f_out = _n(r.input_shape[0]), _n(r.output_shape[0])
    bias = (r" + F_{out}", f" + {f_out}") if args.get("bias", True) else ("", "")
    return [
        (
            "parameters",
            rf"\text{{parameters}} = F_{{in}}\cdot F_{{out}}{bias[0]} = {f_in}\cdot {f_out}{bias[1]}"
            rf" = {_n(r.parameters)}",
        ),
        ("macs", rf"\text{{MACs}} = F_{{in}}\cdot F_{{out}} = {f_in}\cdot {f_out} = {_n(r.macs)}"),
    ]


def formulas(layer: Layer, r: LayerReport, before: LayerReport | None) -> list[dict[str, str]]:
    """[{name, mathml}]: the layer's output size, parameters, MACs and receptive field, its numbers in."""
    kind, args, shape = layer.kind, layer.args, r.input_shape
    found: list[tuple[str, str]] = []
    if kind in _WINDOWS or kind == "ConvTranspose2d":
        geometry = _geometry(layer, r)
        ceil = bool(args.get("ceil_mode", False))
        sizes = zip(geometry, shape[1:], r.output_shape[1:], strict=True)
        found += [("size", _size(kind, g, size, out, ceil)) for g, size, out in sizes]
        if "Pool" not in kind:
            found += _conv_counts(kind, geometry, args, r)
        found += [("field", f) for f in _field(kind, geometry, r, before)]
    elif kind == "Linear":
        found += _linear_counts(args, r)
    elif kind == "Flatten":
        names = {3: r"C\cdot H\cdot W", 2: r"C\cdot L", 1: "F"}[len(shape)]
        values = r"\cdot ".join(_n(v) for v in shape)
        found.append(("size", rf"F = {names} = {values} = {_n(r.output_shape[0])}"))
    elif kind.startswith("BatchNorm") and args.get("affine", True):  # a scale and a shift per channel
        found.append(
            ("parameters", rf"\text{{parameters}} = 2\cdot C = 2\cdot {_n(shape[0])} = {_n(r.parameters)}")
        )
    if r.receptive_field is not None and kind not in {*_WINDOWS, *_NO_COPY}:
        a = 1 if len(shape) == 2 else 0
        rf_, j = _n(r.receptive_field[a]), _n(r.jump[a])
        found.append(("field", rf"r_{{out}} = r_{{in}} = {rf_},\quad j_{{out}} = j_{{in}} = {j}"))
    return [{"name": name, "mathml": str(tex(latex, True))} for name, latex in found]
