"""A state_dict (safetensors or .npz) beside a layer list, as an engine Graph of ONNX-named nodes.

The layer list is the calculator's (`engine.calculator.Layer(kind, args)`, in_channels left out), in
`nn.Sequential` order; the keys are torch's for that Sequential: "{i}.weight", "{i}.bias",
"{i}.running_mean", "{i}.running_var" ("{i}.num_batches_tracked" is read and ignored). Every key
the layer list implies must be there with the shape it implies, and no other: the calculator's
`analyse` gives each layer's input shape first, so a refusal names the key and the shape wanted.

Each layer becomes the nodes `torch.onnx.export` would write for it, named as it names them
("/0/Conv", output "/0/Conv_output_0"; the last one "output"), its weights initializers named by
their state_dict keys, held as float64 (the engine's precision; the input is declared float64 too):
Conv2d and Conv1d -> Conv (a Pad node first for a padding_mode other than "zeros"), ConvTranspose2d
-> ConvTranspose, BatchNorm -> BatchNormalization (epsilon 1e-5), Linear -> Gemm (transB=1),
MaxPool2d -> MaxPool, AvgPool2d -> AveragePool (count_include_pad=1), AdaptiveAvgPool2d to 1x1 ->
GlobalAveragePool, ReLU -> Relu, Sigmoid, Tanh, Softmax (axis=1), Flatten (axis=1), Dropout (the
identity when run).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from layerlab.app.config import Settings, settings
from layerlab.engine.calculator import Layer, LayerReport, StackError, analyse
from layerlab.engine.graph.ir import Graph, Node, Tensor
from layerlab.models import sniff
from layerlab.models.errors import ModelFileError

INPUT, OUTPUT = "input", "output"
BN_EPSILON = 1e-5  # torch's BatchNorm default
IGNORED = ("num_batches_tracked",)  # a BatchNorm buffer that does not change what the layer computes
_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}  # torch -> ONNX Pad mode
_SIMPLE = {"ReLU": "Relu", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "Dropout": "Dropout", "Identity": "Identity"}
MAX_LAYER_TEXT = 1 << 20  # bytes of a layer list's JSON


# ---- the layer list ------------------------------------------------------------------------------


def parse_layers(text: str | bytes, config: Settings | None = None) -> list[Layer]:
    """The calculator's layer list from JSON: `[{"kind": "Conv2d", "args": {...}}, ...]`, or an object
    with that list as "layers" (and "input_shape", read by `parse_layer_file`)."""
    return parse_layer_file(text, config)[0]


def parse_layer_file(
    text: str | bytes, config: Settings | None = None
) -> tuple[list[Layer], tuple[int, ...] | None]:
    """(layers, input_shape or None) from the calculator's JSON, bounded by max_model_layer_list."""
    config = config or settings
    if len(text) > MAX_LAYER_TEXT:
        raise ModelFileError(
            "layers", f"the layer list is {len(text):,} bytes; the limit is {MAX_LAYER_TEXT:,}"
        )
    try:
        value = json.loads(text)
    except (UnicodeDecodeError, ValueError) as e:
        raise ModelFileError("layers", f"the layer list is not JSON: {e}") from None
    shape = None
    if isinstance(value, dict):
        shape = parse_input_shape(value["input_shape"]) if "input_shape" in value else None
        value = value.get("layers")
    return as_layers(value, config), shape


def as_layers(value: object, config: Settings | None = None) -> list[Layer]:
    """Layers from Layer objects or {"kind", "args"} dicts, at most max_model_layer_list of them."""
    config = config or settings
    if not isinstance(value, Sequence) or isinstance(value, str | bytes):
        raise ModelFileError("layers", 'the layer list must be a list of {"kind": ..., "args": {...}}')
    if len(value) > config.max_model_layer_list:
        raise ModelFileError(
            "layers",
            f"the layer list has {len(value):,} layers; the limit is {config.max_model_layer_list} "
            "(max_model_layer_list)",
        )
    if not value:
        raise ModelFileError("layers", "the layer list is empty")
    layers = []
    for i, item in enumerate(value):
        if isinstance(item, Layer):
            layers.append(item)
            continue
        ok = isinstance(item, Mapping) and isinstance(item.get("kind"), str) and set(item) <= {"kind", "args"}
        if not (ok and isinstance(item.get("args", {}), Mapping)):
            raise ModelFileError(
                f"layers[{i}]", f'layer {i} must be {{"kind": "...", "args": {{...}}}}, got {item!r:.80}'
            )
        layers.append(Layer(item["kind"], dict(item.get("args", {}))))
    return layers


def parse_input_shape(value: object) -> tuple[int, ...]:
    """(C, H, W), (C, L) or (F,) from "1,28,28", "(1, 28, 28)" or a sequence of ints."""
    items = value.strip("()[] ").split(",") if isinstance(value, str) else value
    try:
        shape = tuple(int(str(v).strip()) if isinstance(v, str) else v for v in items)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        shape = ()
    if not (
        1 <= len(shape) <= 3 and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in shape)
    ):
        raise ModelFileError(
            "input_shape", f"the input shape must be C,H,W (or C,L or F) of sizes > 0, not {value!r}"
        )
    return shape


# ---- the state_dict ------------------------------------------------------------------------------


def read_state_dict(
    data: bytes | Mapping[str, np.ndarray],
    layers: Sequence[Layer | Mapping],
    input_shape: Sequence[int] | str,
    config: Settings | None = None,
    *,
    name: str = "state_dict",
) -> Graph:
    """The Graph of a Sequential given as its layer list and its state_dict (safetensors or .npz bytes,
    or the tensors themselves); ModelFileError naming the key, layer or limit at fault."""
    config = config or settings
    layers = as_layers(layers, config)
    shape = parse_input_shape(input_shape)
    try:
        report = analyse(shape, layers)
    except StackError as e:
        field = "input_shape" if e.index is None else f"layers[{e.index}]"
        raise ModelFileError(field, str(e)) from None
    if isinstance(data, Mapping):
        tensors = dict(data)
    else:
        kind = sniff.kind_of(data, config=config)
        if kind == "onnx":
            raise ModelFileError("file", "an ONNX file carries its own graph: open it without a layer list")
        tensors = sniff.tensors(data, kind, config)
    tensors = _strip_prefix(tensors)
    wanted = {
        key: (i, want) for i, r in enumerate(report.layers) for key, want in _keys(layers[i], r).items()
    }
    _check_keys(tensors, wanted, report)
    builder = _Builder(tensors)
    for i, (layer, r) in enumerate(zip(layers, report.layers, strict=True)):
        builder.layer(i, layer, r, last=i == len(layers) - 1)
    return Graph(
        nodes=tuple(builder.nodes),
        inputs=(Tensor(INPUT, (None, *shape), "float64"),),  # the engine's precision, as the weights
        outputs=(OUTPUT,),
        initializers=builder.initializers,
        name=name,
    )


def _strip_prefix(tensors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A Sequential kept as an attribute ("features.0.weight") read as the Sequential itself ("0.weight")."""
    firsts = {key.split(".", 1)[0] for key in tensors}
    if len(firsts) == 1 and not next(iter(firsts)).isdigit() and all("." in key for key in tensors):
        return {key.split(".", 1)[1]: value for key, value in tensors.items()}
    return tensors


def _keys(layer: Layer, r: LayerReport) -> dict[str, tuple[int, ...]]:
    """Every state_dict key a layer implies, with its shape (ignored buffers left out)."""
    i, args, c_in, c_out = r.index, dict(layer.args), r.input_shape[0], r.output_shape[0]
    keys: dict[str, tuple[int, ...]] = {}
    if layer.kind in ("Conv1d", "Conv2d", "ConvTranspose2d"):
        rank = 1 if layer.kind == "Conv1d" else 2
        kernel, groups = _tuple(args["kernel_size"], rank), args.get("groups", 1)
        if layer.kind == "ConvTranspose2d":
            keys[f"{i}.weight"] = (c_in, c_out // groups, *kernel)
        else:
            keys[f"{i}.weight"] = (c_out, c_in // groups, *kernel)
        if args.get("bias", True):
            keys[f"{i}.bias"] = (c_out,)
    elif layer.kind == "Linear":
        keys[f"{i}.weight"] = (c_out, c_in)
        if args.get("bias", True):
            keys[f"{i}.bias"] = (c_out,)
    elif layer.kind in ("BatchNorm1d", "BatchNorm2d"):
        names = ("weight", "bias", "running_mean", "running_var")
        keys |= {f"{i}.{n}": (c_in,) for n in names[0 if args.get("affine", True) else 2 :]}
    return keys


def _check_keys(tensors: dict[str, np.ndarray], wanted: dict[str, tuple[int, tuple]], report) -> None:
    def who(i: int) -> str:
        r = report.layers[i]
        return f"layer {i} ({r.torch}) on input {r.input_shape}"

    for key, (i, want) in wanted.items():
        if key not in tensors:
            raise ModelFileError(key, f"the state_dict has no {key!r}: {who(i)} needs it, of shape {want}")
        got = tuple(np.shape(tensors[key]))
        if got != want:
            raise ModelFileError(key, f"{key!r} has shape {got}, but {who(i)} needs {want}")
        if np.asarray(tensors[key]).dtype.kind not in "fiu":
            raise ModelFileError(key, f"{key!r} has dtype {np.asarray(tensors[key]).dtype}: not numbers")
    for key in tensors:
        if key in wanted or key.rsplit(".", 1)[-1] in IGNORED:
            continue
        head = key.split(".", 1)[0]
        if head.isdigit() and int(head) < len(report.layers):
            own = ", ".join(k for k in wanted if k.startswith(head + ".")) or "no parameters"
            where = f"{who(int(head))} has {own}"
        else:
            where = f"the layer list has {len(report.layers)} layers, 0 to {len(report.layers) - 1}"
        raise ModelFileError(
            key, f"the state_dict has {key!r}, which the layer list has no place for: {where}"
        )


def _tuple(value: object, n: int) -> tuple[int, ...]:
    """An int or a sequence of ints (already checked by analyse) as an n-tuple of plain ints."""
    return tuple(int(v) for v in value) if isinstance(value, Sequence) else (int(value),) * n  # type: ignore


class _Builder:
    """Appends each layer's nodes and initializers, chaining every output into the next layer."""

    def __init__(self, tensors: dict[str, np.ndarray]) -> None:
        self.tensors = tensors
        self.nodes: list[Node] = []
        self.initializers: dict[str, np.ndarray] = {}
        self.value = INPUT

    def weight(self, key: str) -> str:
        self.initializers[key] = np.asarray(self.tensors[key], dtype=np.float64)
        return key

    def constant(self, name: str, value: np.ndarray) -> str:
        self.initializers[name] = value
        return name

    def node(self, i: int, op: str, inputs: Sequence[str], last: bool, **attrs: Any) -> None:
        out = OUTPUT if last else f"/{i}/{op}_output_0"
        self.nodes.append(Node(f"/{i}/{op}", op, (self.value, *inputs), (out,), attrs))
        self.value = out

    def layer(self, i: int, layer: Layer, r: LayerReport, last: bool) -> None:
        args, kind = dict(layer.args), layer.kind
        if kind in _SIMPLE:
            self.node(i, _SIMPLE[kind], (), last)
        elif kind in ("Softmax", "Flatten"):
            self.node(i, kind, (), last, axis=1)
        elif kind == "Linear":
            bias = (self.weight(f"{i}.bias"),) if args.get("bias", True) else ()
            self.node(i, "Gemm", (self.weight(f"{i}.weight"), *bias), last, alpha=1.0, beta=1.0, transB=1)
        elif kind in ("BatchNorm1d", "BatchNorm2d"):
            self.batch_norm(i, args, r, last)
        elif kind in ("Conv1d", "Conv2d", "ConvTranspose2d"):
            self.conv(i, kind, args, r, last)
        elif kind in ("MaxPool2d", "AvgPool2d"):
            self.pool(i, kind, args, last)
        elif kind == "AdaptiveAvgPool2d":
            self.adaptive(i, r, last)
        else:
            raise ModelFileError(f"layers[{i}]", f"layer {i} ({kind}) has no ONNX form in Layerlab yet")

    def adaptive(self, i: int, r: LayerReport, last: bool) -> None:
        """AdaptiveAvgPool2d as torch exports it: GlobalAveragePool to 1x1, AveragePool when the output
        divides the input (equal windows); other sizes have windows of two sizes, which ONNX cannot say."""
        (height, width), (out_h, out_w) = r.input_shape[1:], r.output_shape[1:]
        if out_h == out_w == 1:
            self.node(i, "GlobalAveragePool", (), last)
        elif height % out_h == 0 and width % out_w == 0:
            kernel = (height // out_h, width // out_w)
            self.node(i, "AveragePool", (), last, kernel_shape=kernel, strides=kernel, pads=(0, 0, 0, 0))
        else:
            raise ModelFileError(
                f"layers[{i}]",
                f"layer {i} (AdaptiveAvgPool2d) maps {height}x{width} to {out_h}x{out_w}: windows of unequal "
                "sizes, no ONNX operator Layerlab runs computes (use an output size dividing the input)",
            )

    def batch_norm(self, i: int, args: dict, r: LayerReport, last: bool) -> None:
        c = r.input_shape[0]
        if args.get("affine", True):
            scale, shift = self.weight(f"{i}.weight"), self.weight(f"{i}.bias")
        else:  # torch.onnx.export writes the identity affine as constants
            scale = self.constant(f"/{i}/Constant_output_0", np.ones(c))
            shift = self.constant(f"/{i}/Constant_1_output_0", np.zeros(c))
        stats = (self.weight(f"{i}.running_mean"), self.weight(f"{i}.running_var"))
        self.node(i, "BatchNormalization", (scale, shift, *stats), last, epsilon=BN_EPSILON, momentum=0.9)

    def conv(self, i: int, kind: str, args: dict, r: LayerReport, last: bool) -> None:
        rank = len(r.input_shape) - 1
        kernel = _tuple(args["kernel_size"], rank)
        stride, dilation = _tuple(args.get("stride", 1), rank), _tuple(args.get("dilation", 1), rank)
        lo, hi = _pads(args.get("padding", 0), kernel, dilation, rank)
        attrs: dict[str, Any] = {"kernel_shape": kernel, "strides": stride, "dilations": dilation}
        attrs["group"] = int(args.get("groups", 1))
        mode = args.get("padding_mode", "zeros")
        if mode != "zeros":  # torch pads first, then convolves unpadded: a Pad node, as torch exports it
            pads = np.array([0, 0, *lo, 0, 0, *hi], dtype=np.int64)
            self.node(
                i, "Pad", (self.constant(f"/{i}/Constant_output_0", pads),), False, mode=_PAD_MODES[mode]
            )
            lo = hi = (0,) * rank
        attrs["pads"] = (*lo, *hi)
        op = "ConvTranspose" if kind == "ConvTranspose2d" else "Conv"
        if op == "ConvTranspose":
            attrs["output_padding"] = _tuple(args.get("output_padding", 0), rank)
        bias = (self.weight(f"{i}.bias"),) if args.get("bias", True) else ()
        self.node(i, op, (self.weight(f"{i}.weight"), *bias), last, **attrs)

    def pool(self, i: int, kind: str, args: dict, last: bool) -> None:
        kernel = _tuple(args["kernel_size"], 2)
        stride = kernel if args.get("stride") is None else _tuple(args["stride"], 2)
        pad = _tuple(args.get("padding", 0), 2)
        attrs: dict[str, Any] = {"kernel_shape": kernel, "strides": stride, "pads": (*pad, *pad)}
        attrs["ceil_mode"] = int(bool(args.get("ceil_mode", False)))
        if kind == "MaxPool2d":
            self.node(i, "MaxPool", (), last, **attrs, dilations=_tuple(args.get("dilation", 1), 2))
        else:
            self.node(i, "AveragePool", (), last, **attrs, count_include_pad=1)


def _pads(padding: object, kernel: tuple, dilation: tuple, rank: int) -> tuple[tuple, tuple]:
    """(begins, ends) of a torch padding: an int or ints, "valid", or "same" (the smaller half first)."""
    if padding == "valid":
        return (0,) * rank, (0,) * rank
    if padding == "same":
        totals = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
        return tuple(t // 2 for t in totals), tuple(t - t // 2 for t in totals)
    pads = _tuple(padding, rank)
    return pads, pads
