"""Shape, parameter and cost calculator for a stack of layers, in torch vocabulary.

`analyse(input_shape, layers)` walks a stack the way `nn.Sequential` runs it on one
sample: shapes have no batch axis and put channels first, (C, H, W), (C, L) or (F,).
Per layer it reports the equivalent torch constructor line (in_channels filled in,
defaults left out), the output shape, the parameters, the multiply-accumulates and the
receptive field on the input. Output sizes follow the formulas in the torch docs of
Conv1d, Conv2d, ConvTranspose2d, MaxPool2d, AvgPool2d and AdaptiveAvgPool2d, ceil_mode included;
a stack torch would reject raises StackError naming the layer and the reason. The rules torch checks
are the engine's own, shared rather than copied: padding modes (engine.conv.check_padding_mode: reflect
padding below the input size, circular at most the input size) and pooling windows (engine.pool's grid:
padding at most kernel_size // 2, undilated; a ceil_mode window kept when it starts inside the input).

The graph form (`analyse_graph`, a residual block's Add, a Concat) is in engine/calculator_graph.py;
it runs each layer through this module's rules.

Counting conventions:
- parameters: what ``sum(p.numel() for p in model.parameters())`` counts. BatchNorm's
  running mean and variance are buffers, so BatchNorm adds 2*C (0 with affine=False).
- macs: multiply-accumulates with a weight, per sample. Conv: C_out*OH*OW*(C_in/groups)*kH*kW;
  ConvTranspose2d: C_in*H*W*(C_out/groups)*kH*kW (every input element is scattered through
  its group's kernels); Linear: in*out. Bias additions, pooling, BatchNorm, activations and
  dropout are element-wise and count 0, the usual convention of MAC counts.
- receptive_field, jump, start: per axis (H, W), pixel centres at integer coordinates from 0,
  see engine/receptive.py. A (C, L) stack reports its length as W beside a height of 1.
  Whole numbers except after a strided ConvTranspose2d; None once Flatten or Linear has
  mixed every position, after an AdaptiveAvgPool2d whose windows differ in width (an output size
  that does not divide the input's). Joins (Add, Concat): see engine/calculator_graph.py.

Seeds: 002 (the MNIST convnet and its summary), 001 (26 and 41 parameters), 000 (the circle).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any

from layerlab.engine.conv import check_padding_mode, output_size
from layerlab.engine.errors import ArgumentError
from layerlab.engine.pool import _grid
from layerlab.engine.receptive import AxisField, pairs, transposed_length

if TYPE_CHECKING:  # calculator_graph imports this module's rules
    from layerlab.engine.calculator_graph import GraphLayer

Shape = tuple[int, ...]
Fields = tuple[AxisField, ...] | None  # one per spatial axis; None for a flat (F,) shape
_REQUIRED = object()
_CONV = {"out_channels": _REQUIRED, "kernel_size": _REQUIRED, "stride": 1, "padding": 0}
# the constructor arguments not taken from the incoming shape, in torch's order, with their defaults
_SIGNATURES: dict[str, dict[str, Any]] = {
    "Conv1d": {**_CONV, "dilation": 1, "groups": 1, "bias": True, "padding_mode": "zeros"},
    "Conv2d": {**_CONV, "dilation": 1, "groups": 1, "bias": True, "padding_mode": "zeros"},
    "ConvTranspose2d": {**_CONV, "output_padding": 0, "groups": 1, "bias": True, "dilation": 1},
    "MaxPool2d": {"kernel_size": _REQUIRED, "stride": None, "padding": 0, "dilation": 1, "ceil_mode": False},
    "AvgPool2d": {"kernel_size": _REQUIRED, "stride": None, "padding": 0, "ceil_mode": False},
    "Dropout": {"p": 0.5},
    "Linear": {"out_features": _REQUIRED, "bias": True},
    **dict.fromkeys(("BatchNorm1d", "BatchNorm2d"), {"affine": True}),
    **dict.fromkeys(("Flatten", "ReLU", "Sigmoid", "Tanh", "Softmax", "Identity"), {}),
    "AdaptiveAvgPool2d": {"output_size": _REQUIRED},
    "Add": {},  # joins, analyse_graph only: two or more inputs
    "Concat": {"dim": 1},
}
_EXPECTS = {1: "(F,)", 2: "(C, L)", 3: "(C, H, W)"}


@dataclass(frozen=True)
class Layer:
    """One entry of a stack: a torch layer name and its constructor arguments, in_channels left out."""

    kind: str  # a key of _SIGNATURES, e.g. "Conv2d"
    args: dict = field(default_factory=dict)  # e.g. {"out_channels": 32, "kernel_size": 3}


@dataclass(frozen=True)
class LayerReport:
    """What one layer does to one sample."""

    index: int  # position in the stack, from 0
    kind: str
    torch: str  # the equivalent constructor line, e.g. "nn.Conv2d(1, 32, kernel_size=3)"
    input_shape: Shape  # channels first, no batch axis
    output_shape: Shape
    parameters: int
    macs: int  # multiply-accumulates per sample
    receptive_field: tuple[float, float] | None  # (size_h, size_w) in input pixels
    jump: tuple[float, float] | None  # input distance between adjacent output positions
    start: tuple[float, float] | None  # input coordinate of the centre of output position 0's field


@dataclass(frozen=True)
class StackReport:
    """Every layer's report and the totals."""

    layers: list[LayerReport]
    total_parameters: int
    total_macs: int
    output_shape: Shape


class StackError(ValueError):
    """A stack or graph torch would reject; index is the layer at fault (None for an input), name its name."""

    def __init__(self, index: int | None, message: str, name: str | None = None) -> None:
        super().__init__(message)
        self.index, self.name = index, name


class _Problem(Exception):
    """What is wrong with one layer; analyse and analyse_graph prefix the layer."""


def analyse(input_shape: Sequence[int], layers: Sequence[Layer]) -> StackReport:
    """Shapes, parameters, MACs and receptive fields of layers applied to one sample of input_shape."""
    shape = _input_shape(input_shape, "input")
    fields = _input_fields(shape)
    reports = []
    for index, layer in enumerate(layers):
        label = f"layer {index} ({layer.kind})"
        out, params, macs, out_fields, torch = _step(
            index, label, None, layer, [shape], [fields], ("x",), _HANDLERS, {}
        )
        reports.append(LayerReport(index, layer.kind, torch, shape, out, params, macs, *pairs(out_fields)))
        shape, fields = out, out_fields
    return StackReport(reports, sum(r.parameters for r in reports), sum(r.macs for r in reports), shape)


def _input_shape(value: object, label: str, name: str | None = None) -> Shape:
    rank = len(value) if isinstance(value, Sequence) else 0
    if not (1 <= rank <= 3 and all(_is_int(v) and v > 0 for v in value)):
        raise StackError(
            None, f"{label}: shape must be (F,), (C, L) or (C, H, W) of sizes > 0, not {value}", name
        )
    return tuple(int(v) for v in value)


def _input_fields(shape: Shape) -> Fields:
    return None if len(shape) == 1 else (AxisField(),) * (len(shape) - 1)


def _step(
    index: int,
    label: str,
    name: str | None,
    layer: Layer | GraphLayer,
    shapes: list[Shape],
    fields: list[Fields],
    names: Sequence[str],
    kinds: Mapping[str, Any],
    joins: Mapping[str, Callable[..., tuple]],
) -> tuple[Shape, int, int, Fields, str]:
    """_apply one layer; its problem as a StackError prefixed by label. kinds: those it may use; joins:
    the functions of the join kinds among them (calculator_graph.JOINS for a graph, none for a stack)."""
    try:
        return _apply(layer.kind, layer.args, shapes, fields, tuple(names), kinds, joins)
    except _Problem as problem:
        raise StackError(index, f"{label}: {problem}", name) from None


def _apply(
    kind: str,
    given: Mapping,
    shapes: list[Shape],
    fields: list[Fields],
    names: tuple[str, ...],
    kinds: Mapping[str, Any],
    joins: Mapping[str, Callable[..., tuple]],
) -> tuple[Shape, int, int, Fields, str]:
    if isinstance(kind, str) and kind in _JOIN_KINDS and kind not in kinds:
        raise _Problem("joins 2 or more inputs, and a stack has one before each layer: use analyse_graph")
    signature = _SIGNATURES.get(kind) if isinstance(kind, str) and kind in kinds else None
    if signature is None:
        raise _Problem(f"unknown kind; expected one of {', '.join(kinds)}")
    if not isinstance(given, Mapping):
        raise _Problem(f"args must be a dict of constructor arguments, got {given!r}")
    for name in given:
        if name not in signature:
            raise _Problem(f"unexpected argument {name!r} (takes {', '.join(signature) or 'none'})")
    for name, default in signature.items():
        if default is _REQUIRED and name not in given:
            raise _Problem(f"missing required argument {name!r}")
    args = {**signature, **given}
    if kind in _JOIN_KINDS:
        if len(shapes) < 2:
            raise _Problem(f"joins 2 or more inputs, got {len(shapes)} (a graph's join: use analyse_graph)")
        out, out_fields, line = joins[kind](shapes, fields, args, names)
        return out, 0, 0, out_fields, line
    if len(shapes) != 1:
        raise _Problem(f"takes one input, got {len(shapes)}: {', '.join(names)}")
    out, params, macs, out_fields, leading = _HANDLERS[kind](shapes[0], fields[0], args)
    return out, params, macs, out_fields, _torch_line(kind, signature, given, leading)


def _conv_args(rank: int, other: str, shape: Shape, args: dict) -> tuple:
    """The arguments every convolution checks: (c_in, dims, c_out, groups, kernel, stride, dilation)."""
    _need(shape, (rank,), other)
    c_in, *dims = shape
    c_out, groups = _ints(args["out_channels"], "out_channels")[0], _ints(args["groups"], "groups")[0]
    if c_in % groups or c_out % groups:
        raise _Problem(f"groups={groups} must divide both in_channels={c_in} and out_channels={c_out}")
    names = ("kernel_size", "stride", "dilation")
    return (c_in, tuple(dims), c_out, groups, *(_ints(args[name], name, rank - 1) for name in names))


def _conv(rank: int, other: str, shape: Shape, fields: Fields, args: dict) -> tuple:
    """Conv1d (rank 2) and Conv2d (rank 3); torch's output size via engine.conv.output_size."""
    c_in, dims, c_out, groups, kernel, stride, dilation = _conv_args(rank, other, shape, args)
    padding = args["padding"]
    if padding == "same" and set(stride) != {1}:
        raise _Problem("padding='same' needs stride 1 (torch rejects it for strided convolutions)")
    if padding in ("same", "valid"):  # "same" pads d*(k-1) in all, the smaller half first, as torch does
        totals = [d * (k - 1) if padding == "same" else 0 for k, d in zip(kernel, dilation, strict=True)]
        pads, label = tuple((t // 2, t - t // 2) for t in totals), repr(padding)
    else:
        symmetric = _ints(padding, "padding", rank - 1, 0)
        pads, label = tuple((p, p) for p in symmetric), _fmt(symmetric)
    _fit(dims, kernel, pads, dilation, label)
    mode = args["padding_mode"]
    if not isinstance(mode, str):
        raise _Problem(f"padding_mode must be one of zeros, reflect, replicate, circular, got {mode!r}")
    _engine_rule(check_padding_mode, mode, pads, dims)  # reflect: pad < size; circular: pad <= size
    out_dims = tuple(map(output_size, dims, (lo + hi for lo, hi in pads), kernel, stride, dilation))
    taps = c_in // groups * math.prod(kernel)  # weights per output element
    params, macs = c_out * taps + _bias(args, c_out), c_out * math.prod(out_dims) * taps
    out_fields = _windows(fields, kernel, stride, tuple(lo for lo, _ in pads), dilation)
    return (c_out, *out_dims), params, macs, out_fields, (c_in, c_out)


def _conv_transpose(shape: Shape, fields: Fields, args: dict) -> tuple:
    """ConvTranspose2d; torch's output size via engine.receptive.transposed_length."""
    c_in, dims, c_out, groups, kernel, stride, dilation = _conv_args(3, "", shape, args)
    pad = _ints(args["padding"], "padding", 2, 0)
    extra = _ints(args["output_padding"], "output_padding", 2, 0)
    if any(e >= max(s, d) for e, s, d in zip(extra, stride, dilation, strict=True)):
        raise _Problem(f"output_padding {_fmt(extra)} must be smaller than either the stride or the dilation")
    out_dims = tuple(map(transposed_length, dims, kernel, stride, pad, dilation, extra))
    if min(out_dims) < 1:
        raise _Problem(
            f"output size {_fmt(out_dims, False)} is not positive: padding {_fmt(pad)} is too large"
        )
    taps = c_out // groups * math.prod(kernel)  # weights each input element is scattered through
    params, macs = c_in * taps + _bias(args, c_out), c_in * math.prod(dims) * taps
    out_fields = (
        None if fields is None else tuple(map(AxisField.transposed, fields, kernel, stride, pad, dilation))
    )
    return (c_out, *out_dims), params, macs, out_fields, (c_in, c_out)


def _pool(shape: Shape, fields: Fields, args: dict) -> tuple:
    """MaxPool2d and AvgPool2d (no dilation); the stride defaults to the kernel size.

    The rules and output size are engine.pool's (torch's pool2d_shape_check): padding at most
    kernel_size // 2, the kernel not dilated; with ceil_mode a last window may run past the input
    as long as it starts inside it or the left padding; at least one window per axis.
    """
    _need(shape, (3,))
    kernel = _ints(args["kernel_size"], "kernel_size", 2)
    stride = kernel if args["stride"] is None else _ints(args["stride"], "stride", 2)
    pad, dilation = _ints(args["padding"], "padding", 2, 0), _ints(args.get("dilation", 1), "dilation", 2)
    grid = _engine_rule(_grid, shape[1:], kernel, stride, pad, dilation, _flag(args, "ceil_mode"))
    out_dims = grid.output_size
    return (shape[0], *out_dims), 0, 0, _windows(fields, kernel, stride, pad, dilation), ()


def _windows(fields: Fields, kernel: Shape, stride: Shape, before: Shape, dilation: Shape) -> Fields:
    """Each axis's field after a window layer; None stays None (a field lost earlier in a graph)."""
    return None if fields is None else tuple(map(AxisField.window, fields, kernel, stride, before, dilation))


def _adaptive_avg_pool(shape: Shape, fields: Fields, args: dict) -> tuple:
    """AdaptiveAvgPool2d: output_size an int or a pair whose None keeps that side; no parameters, no MACs.

    On an axis of n cells, output i averages cells floor(i*n/m) to ceil((i+1)*n/m) - 1: when m divides
    n that is a plain pool of kernel and stride n/m (its receptive field follows), else the windows
    differ in width and the field is None.
    """
    _need(shape, (3,))
    value = args["output_size"]
    pair = tuple(value) if isinstance(value, Sequence) and not isinstance(value, str) else (value, value)
    if len(pair) != 2 or not all(v is None or (_is_int(v) and v >= 1) for v in pair):
        raise _Problem(f"output_size must be an int or 2 ints >= 1 (None keeps that side), got {value!r}")
    out = tuple(n if m is None else int(m) for n, m in zip(shape[1:], pair, strict=True))
    steps = tuple(n // m for n, m in zip(shape[1:], out, strict=True))
    even = all(n % m == 0 for n, m in zip(shape[1:], out, strict=True))
    return (shape[0], *out), 0, 0, _windows(fields, steps, steps, (0, 0), (1, 1)) if even else None, ()


def _engine_rule(rule: Any, *args: Any) -> Any:
    """Apply one of the engine's own argument rules, its ArgumentError as this layer's problem."""
    try:
        return rule(*args)
    except ArgumentError as error:
        raise _Problem(str(error)) from None


def _flatten(shape: Shape, fields: Fields, args: dict) -> tuple:
    return (math.prod(shape),), 0, 0, None, ()


def _linear(shape: Shape, fields: Fields, args: dict) -> tuple:
    _need(shape, (1,))
    out = _ints(args["out_features"], "out_features")[0]
    return (out,), shape[0] * out + _bias(args, out), shape[0] * out, None, (shape[0], out)


def _batch_norm(ranks: tuple[int, ...], other: str, shape: Shape, fields: Fields, args: dict) -> tuple:
    """BatchNorm1d on (C,) or (C, L), BatchNorm2d on (C, H, W): a scale and a shift per channel."""
    _need(shape, ranks, other)
    return shape, 2 * shape[0] if _flag(args, "affine") else 0, 0, fields, (shape[0],)


def _elementwise(shape: Shape, fields: Fields, args: dict) -> tuple:
    p = args.get("p", 0)  # only Dropout has one
    if not (isinstance(p, Real) and not isinstance(p, bool) and 0 <= p <= 1):
        raise _Problem(f"p must be a probability between 0 and 1, got {p!r}")
    return shape, 0, 0, fields, ()


_HANDLERS = {
    "Conv1d": partial(_conv, 2, "Conv2d"),
    "Conv2d": partial(_conv, 3, "Conv1d"),
    "ConvTranspose2d": _conv_transpose,
    "MaxPool2d": _pool,
    "AvgPool2d": _pool,
    "Flatten": _flatten,
    "Linear": _linear,
    "BatchNorm1d": partial(_batch_norm, (1, 2), "BatchNorm2d"),
    "BatchNorm2d": partial(_batch_norm, (3,), "BatchNorm1d"),
    **dict.fromkeys(("Dropout", "ReLU", "Sigmoid", "Tanh", "Softmax", "Identity"), _elementwise),
    "AdaptiveAvgPool2d": _adaptive_avg_pool,
}
_JOIN_KINDS = ("Add", "Concat")  # read two or more inputs: calculator_graph.JOINS


def _need(shape: Shape, ranks: tuple[int, ...], other: str = "") -> None:
    """Check the rank of the incoming shape; other names the layer that would take it."""
    if len(shape) not in ranks:
        flat = "; a flat shape has no spatial axes" if len(shape) == 1 else f"; use {other}" if other else ""
        hint = "; add Flatten before it" if ranks == (1,) else flat
        raise _Problem(f"expects a {' or '.join(_EXPECTS[r] for r in ranks)} input, got {shape}{hint}")


def _fit(dims: Shape, kernel: Shape, pads: tuple, dilation: Shape, label: str) -> None:
    """The kernel footprint, dilation included, must fit in the padded input."""
    spans = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True))
    if any(span > size + lo + hi for span, size, (lo, hi) in zip(spans, dims, pads, strict=True)):
        dilated = "" if spans == kernel else f" (dilated to {_fmt(spans)})"
        raise _Problem(
            f"kernel {_fmt(kernel)}{dilated} is larger than the input {_fmt(dims, False)} (padding {label})"
        )


def _is_int(value: object) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _ints(value: object, name: str, n: int = 1, low: int = 1) -> Shape:
    """An int or a sequence of n ints, each >= low, as an n-tuple."""
    values = (value,) * n if _is_int(value) else value
    if isinstance(values, Sequence) and len(values) == n and all(_is_int(v) and v >= low for v in values):
        return tuple(int(v) for v in values)
    raise _Problem(f"{name} must be an int{'' if n == 1 else f' or {n} ints'} >= {low}, got {value!r}")


def _bias(args: dict, count: int) -> int:
    return count if _flag(args, "bias") else 0


def _flag(args: dict, name: str) -> bool:
    if not isinstance(args[name], bool):
        raise _Problem(f"{name} must be True or False, got {args[name]!r}")
    return args[name]


def _fmt(values: Shape, collapse: bool = True) -> str:
    """3 for (3, 3) (unless collapse is False), 3x5 for (3, 5)."""
    return str(values[0]) if collapse and len(set(values)) == 1 else "x".join(map(str, values))


def _plain(value: Any) -> Any:
    """An argument as torch would print it: plain ints, (3, 3) as 3."""
    if _is_int(value):
        return int(value)
    if isinstance(value, Sequence) and not isinstance(value, str):
        items = tuple(_plain(v) for v in value)
        return items[0] if len(set(items)) == 1 else items
    return value


def _torch_line(kind: str, signature: dict, args: Mapping, leading: tuple[int, ...]) -> str:
    parts = [str(v) for v in leading]
    for name, default in signature.items():
        if name not in ("out_channels", "out_features") and name in args and _plain(args[name]) != default:
            parts.append(f"{name}={_plain(args[name])!r}")
    if kind == "Softmax" and "dim" not in args:
        parts.append("dim=1")  # over the features (or channels) of a batched tensor
    return f"nn.{kind}({', '.join(parts)})"


def torch_line(kind: str, args: Mapping, leading: Sequence[object] = ()) -> str:
    """The constructor line of a torch module as the calculator writes it: the sizes read from the input
    (leading), then each argument that differs from torch's default; an argument the calculator's
    signature for kind does not list is always written. torch_line("Conv2d", {"kernel_size": 3}, (1, 8))
    is "nn.Conv2d(1, 8, kernel_size=3)"."""
    signature = _SIGNATURES.get(kind, {})
    extra = dict.fromkeys((name for name in args if name not in signature), _REQUIRED)
    return _torch_line(kind, {**signature, **extra}, args, tuple(leading))


_RELU, _SIGMOID = Layer("ReLU"), Layer("Sigmoid")


def _mlp(*widths: int) -> list[Layer]:
    """Linear layers, each followed by seed 001's sigmoid f."""
    return [layer for width in widths for layer in (Layer("Linear", {"out_features": width}), _SIGMOID)]


def _conv2d(out_channels: int, kernel_size: int, **more: Any) -> Layer:
    return Layer("Conv2d", {"out_channels": out_channels, "kernel_size": kernel_size, **more})


PRESETS: dict[str, dict] = {
    "seed002_mnist": {
        "label": "MNIST convnet (seed 002)",
        "note": "The convnet of seed 002 with channels first: its summary's (26, 26, 32) is (32, 26, 26) "
        "here, its Dense(10) is Linear(1600, 10) and each activation is a layer of its own. The "
        "parameter counts match the seed: 320, 18,496 and 16,010, 34,826 in total.",
        "input_shape": (1, 28, 28),
        "layers": [_conv2d(32, 3), _RELU, Layer("MaxPool2d", {"kernel_size": 2}), _conv2d(64, 3), _RELU]
        + [Layer("MaxPool2d", {"kernel_size": 2}), Layer("Flatten"), Layer("Dropout", {"p": 0.5})]
        + [Layer("Linear", {"out_features": 10}), Layer("Softmax")],
    },
    "seed001_mlp_3_4_2": {
        "label": "3-4-2 network (seed 001)",
        "note": "Seed 001's two-layer network: 4 + 2 neurons, 3*4 + 4*2 = 20 weights and 4 + 2 = 6 biases, "
        "26 parameters. The seed applies its sigmoid f after every layer, the output included.",
        "input_shape": (3,),
        "layers": _mlp(4, 2),
    },
    "seed001_mlp_3_4_4_1": {
        "label": "3-4-4-1 network (seed 001)",
        "note": "Seed 001's three-layer network: 4 + 4 + 1 neurons, 3*4 + 4*4 + 4*1 = 32 weights and "
        "9 biases, 41 parameters, with the seed's sigmoid after every layer.",
        "input_shape": (3,),
        "layers": _mlp(4, 4, 1),
    },
    "seed000_circle": {
        "label": "Circle detector (seed 000)",
        "note": "Seed 000 slides five 1x3x3 part kernels over a 1x5x5 circle and says the feature map is "
        "4x2x2. Five kernels make five channels, and a 3x3 kernel at stride 1 on 5x5 gives 3x3, not 2x2. "
        "This preset keeps all five kernels and uses stride 2, (5 - 3) // 2 + 1 = 2, so the map is 5x2x2 "
        "and the detector kernel is 5x2x2: the seed's 4 should be 5. Like the seed it has no activations. "
        "The single output sees the whole 5x5 image (receptive field 5).",
        "input_shape": (1, 5, 5),
        "layers": [_conv2d(5, 3, stride=2), _conv2d(1, 2)],
    },
}
