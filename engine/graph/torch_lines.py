"""How a graph's node reads in torch: the module's constructor line as the calculator writes it
(`nn.Conv2d(1, 8, kernel_size=3)`), with a padding module first where ONNX pads the two ends unequally,
or the torch code of an operator that has no module (`x + y`, `torch.cat(dim=1)`). The layer table's
torch column (`run.layer_table`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from layerlab.engine.calculator import torch_line
from layerlab.engine.graph.ir import Graph, Node, fixed_values

Shape = tuple[int, ...]

# torch's module (or function) for each operator, as torchinfo's table names layers
TORCH_NAMES: dict[str, str] = {
    "Conv": "Conv2d",
    "ConvTranspose": "ConvTranspose2d",
    "MaxPool": "MaxPool2d",
    "AveragePool": "AvgPool2d",
    "GlobalAveragePool": "AdaptiveAvgPool2d",
    "GlobalMaxPool": "AdaptiveMaxPool2d",
    "BatchNormalization": "BatchNorm2d",
    "LayerNormalization": "LayerNorm",
    "Relu": "ReLU",
    "LeakyRelu": "LeakyReLU",
    "Sigmoid": "Sigmoid",
    "Tanh": "Tanh",
    "Gelu": "GELU",
    "Softmax": "Softmax",
    "Gemm": "Linear",
    "Flatten": "Flatten",
    "Dropout": "Dropout",
    "Identity": "Identity",
    "Pad": "pad",
    "Concat": "cat",
    "Add": "add",
    "Sub": "sub",
    "Mul": "mul",
    "Div": "div",
    "MatMul": "matmul",
    "Reshape": "reshape",
    "Transpose": "permute",
}


def _torch_name(node: Node, shapes: Sequence[Shape | None], graph: Graph) -> str:
    rank = len(shapes[0]) if shapes and shapes[0] is not None else 4
    if node.op in ("BatchNormalization", "Conv") and rank < 4:  # (N, C) or (N, C, L)
        return {"BatchNormalization": "BatchNorm1d", "Conv": "Conv1d"}[node.op]
    if node.op == "MatMul" and len(node.inputs) > 1 and node.inputs[1] in fixed_values(graph):  # by a weight
        return "Linear"
    return TORCH_NAMES.get(node.op, node.op)


# what an operator without a torch module does, as torch code ({...} filled from its attributes and shapes)
_TORCH_CODE: dict[str, str] = {
    "Add": "x + y", "Sub": "x - y", "Mul": "x * y", "Div": "x / y", "Pow": "x ** y", "MatMul": "x @ y",
    "Max": "torch.maximum(x, y)", "Min": "torch.minimum(x, y)", "Equal": "x == y", "Less": "x < y",
    "Greater": "x > y", "LessOrEqual": "x <= y", "GreaterOrEqual": "x >= y", "Neg": "-x", "Not": "~x",
    "Reciprocal": "1 / x", "Abs": "x.abs()", "Where": "torch.where(cond, x, y)", "Clip": "torch.clamp(x)",
    "Cast": "x.to(dtype)", "Constant": "torch.tensor(...)", "Shape": "x.shape",
    "Split": "torch.split(dim={axis})", "Concat": "torch.cat(dim={axis})", "Slice": "x[a:b]",
    "Gather": "x.index_select({axis}, index)",
    "Unsqueeze": "x.unsqueeze()", "Squeeze": "x.squeeze()", "Reshape": "x.reshape{out}",
    "Expand": "x.expand{out}", "Tile": "x.repeat()", "ConstantOfShape": "torch.full{out}",
    "Range": "torch.arange()", "Transpose": "x.permute{perm}", "Pad": "F.pad(x, pad, mode={mode!r})",
    "ReduceMean": "x.mean()", "ReduceSum": "x.sum()", "ReduceMax": "x.amax()",
    "HardSigmoid": "torch.clamp({alpha} * x + {beta}, 0, 1)",
}  # fmt: skip
_FUNCTIONS = ("Sqrt", "Erf", "Exp", "Log", "Floor", "Ceil")  # torch.sqrt(x), ...


def _float(value: float) -> float:
    """An attribute read from float32 as it was written: 1e-05, not 9.999999747378752e-06."""
    return float(str(np.float32(value)))


def _window(node: Node, sizes: Shape, kernel: Shape, pad_value: str = "0") -> tuple[dict[str, Any], str]:
    """A Conv's or pool's stride, padding and dilation (on inputs of spatial sizes) as torch's arguments,
    and the padding module that must come first when the ONNX pads differ at the two ends."""
    a, rank = node.attrs, len(kernel)
    args: dict[str, Any] = {"kernel_size": tuple(kernel)}
    strides = args["stride"] = tuple(int(v) for v in a.get("strides", (1,) * rank))
    dilations = tuple(int(v) for v in a.get("dilations", (1,) * rank))
    auto = a.get("auto_pad", "NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    pads = tuple(int(v) for v in a.get("pads", (0,) * 2 * rank)) if auto == "NOTSET" else (0,) * 2 * rank
    begin, end, before = pads[:rank], pads[rank:], ""
    if auto.startswith("SAME"):  # resolved as the runner does: the odd cell at the end (UPPER) or start
        totals = [
            max(0, (-(-n // s) - 1) * s + (k - 1) * d + 1 - n)
            for n, k, s, d in zip(sizes, kernel, strides, dilations, strict=False)
        ]
        small, large = tuple(t // 2 for t in totals), tuple(t - t // 2 for t in totals)
        begin, end = (small, large) if auto == "SAME_UPPER" else (large, small)
    args["padding"] = begin
    if begin != end:  # torch pads both ends alike: the input padded first (F.pad's order, last axis first)
        sides = tuple(v for b, e in zip(begin[::-1], end[::-1], strict=True) for v in (b, e))
        fill = (
            f"nn.ConstantPad{rank}d({sides}, {pad_value})"
            if pad_value != "0"
            else f"nn.ZeroPad{rank}d({sides})"
        )
        before, args["padding"] = f"{fill}, ", 0
    if set(dilations) != {1}:
        args["dilation"] = dilations
    return args, before


def torch_code(node: Node, shapes: Sequence[Shape | None], out: Shape, graph: Graph) -> str:
    """The torch module (its constructor line, as the calculator writes it) or the torch code that does
    what this node does."""
    kind, a = _torch_name(node, shapes, graph), node.attrs
    x = shapes[0] if shapes and shapes[0] is not None else ()
    w = shapes[1] if len(shapes) > 1 and shapes[1] is not None else ()
    rank = max(len(x) - 2, 1)
    bias = {} if len(shapes) > 2 and shapes[2] is not None else {"bias": False}
    line = ""
    if node.op in ("Conv", "ConvTranspose") and len(w) >= 3:
        args, before = _window(node, x[2:], w[2:])
        groups = int(a.get("group", 1))
        sizes = (w[1] * groups, w[0]) if node.op == "Conv" else (w[0], w[1] * groups)
        if node.op == "ConvTranspose" and "output_padding" in a:
            args["output_padding"] = tuple(int(v) for v in a["output_padding"])
        args |= ({"groups": groups} if groups != 1 else {}) | bias
        line = before + torch_line(kind, args, sizes)
    elif node.op in ("MaxPool", "AveragePool"):
        kernel = tuple(int(v) for v in a.get("kernel_shape", ()))
        args, before = _window(node, x[2:], kernel, "float('-inf')" if node.op == "MaxPool" else "0")
        if args["stride"] == kernel:
            del args["stride"]  # torch's default: the kernel
        if a.get("ceil_mode"):
            args["ceil_mode"] = True
        if (
            node.op == "AveragePool"
            and args["padding"] not in (0, (0,) * rank)
            and not a.get("count_include_pad")
        ):
            args["count_include_pad"] = False
        line = before + torch_line(kind, args)
    elif node.op in ("GlobalAveragePool", "GlobalMaxPool"):
        line = torch_line(kind, {"output_size": 1})
    elif node.op in ("BatchNormalization", "InstanceNormalization", "LayerNormalization"):
        kind = {"InstanceNormalization": f"InstanceNorm{rank}d"}.get(node.op, kind)
        eps = _float(a.get("epsilon", 1e-5))
        args = {"eps": eps} if eps != 1e-5 else {}
        if node.op == "BatchNormalization" and _float(a.get("momentum", 0.9)) != 0.9:
            args["momentum"] = round(
                1 - _float(a["momentum"]), 6
            )  # ONNX keeps m of the old mean, torch 1 - m
        if node.op == "InstanceNormalization":
            args["affine"] = True
        if node.op == "LayerNormalization":
            args |= {} if len(shapes) > 2 and shapes[2] is not None else {"bias": False}
        size = w if node.op == "LayerNormalization" else x[1:2]
        line = torch_line(kind, args, (size[0] if len(size) == 1 else list(size),))
    elif node.op == "Gemm" or kind == "Linear":  # MatMul by a weight: its bias, if any, is the Add after it
        sizes = w[::-1] if node.op == "Gemm" and a.get("transB") else w
        line = torch_line("Linear", {} if node.op == "Gemm" and bias == {} else {"bias": False}, sizes[-2:])
    elif node.op in ("Softmax", "LogSoftmax"):
        line = torch_line(node.op, {"dim": int(a.get("axis", -1)) % max(len(x), 1)})
    elif node.op in ("LeakyRelu", "Elu", "Gelu"):
        name, default = {
            "LeakyRelu": ("negative_slope", 0.01),
            "Elu": ("alpha", 1.0),
            "Gelu": ("approximate", "none"),
        }[node.op]
        value = a.get("approximate" if node.op == "Gelu" else "alpha", default)
        value = (
            value.decode() if isinstance(value, bytes) else value if isinstance(value, str) else _float(value)
        )
        line = torch_line({"Elu": "ELU"}.get(node.op, kind), {name: value} if value != default else {})
    elif node.op == "Flatten" and int(a.get("axis", 1)) != 1:
        line = f"x.reshape{out}"
    elif node.op == "Trilu":
        line = "torch.triu(x)" if a.get("upper", 1) else "torch.tril(x)"
    elif node.op in _FUNCTIONS:
        line = f"torch.{node.op.lower()}(x)"
    elif node.op in _TORCH_CODE:
        mode = a.get("mode", "constant")
        fills = {
            "axis": int(a.get("axis", 0 if node.op != "Concat" else 1)),
            "out": tuple(out),
            "perm": tuple(int(v) for v in a.get("perm", range(len(x) - 1, -1, -1))),
            "mode": mode.decode() if isinstance(mode, bytes) else mode,
            "alpha": _float(a.get("alpha", 0.2)),
            "beta": _float(a.get("beta", 0.5)),
        }
        line = _TORCH_CODE[node.op].format(**fills)
    return line or torch_line({"HardSwish": "Hardswish", "PRelu": "PReLU"}.get(node.op, kind), {})
