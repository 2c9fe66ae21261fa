"""Check a Graph, run it node by node on the engine, and tabulate its layers as torchinfo would.

`check` refuses, before anything runs, a graph naming an operator Layerlab does not run or reading a
value no earlier node, input or initializer provides. `run` keeps every value and every node's
Trace, so each layer can be opened and stepped through. `layer_table` gives one row per node with
its output shape and the parameters torch would count (BatchNormalization's running mean and
variance are buffers, not parameters), computed from shapes alone: no convolution is run for it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from layerlab.engine.calculator import torch_line
from layerlab.engine.graph.ir import Graph, GraphError, Node
from layerlab.engine.graph.ops import OPS, apply
from layerlab.engine.trace import Trace

SUPPORTED: frozenset[str] = frozenset(OPS)

Shape = tuple[int, ...]


@dataclass(frozen=True)
class NodeRun:
    """One node as it ran: the shapes it read (None for an optional input left out) and wrote, and
    its engine Trace (None for a plain NumPy operator such as Reshape or Add)."""

    node: Node
    input_shapes: tuple[Shape | None, ...]
    output_shapes: tuple[Shape, ...]
    trace: Trace | None


@dataclass
class GraphRun:
    """Every value a run computed (the feeds too), by name, and every node's run in order."""

    values: dict[str, np.ndarray]
    nodes: list[NodeRun]
    outputs: tuple[str, ...] = ()

    def output(self, index: int = 0) -> np.ndarray:
        """The graph's index-th output value."""
        return self.values[self.outputs[index]]


@dataclass(frozen=True)
class LayerRow:
    """One row of the layer table: the node, torch's name for what it does, the values it reads
    (initializers left out), its first output's shape and the parameters torch counts in it."""

    name: str
    op: str
    torch: str
    inputs: tuple[str, ...]
    output_shape: Shape
    parameters: int


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

# the inputs (by position) of each operator that torch holds as parameters
_PARAMETER_INPUTS: dict[str, tuple[int, ...]] = {
    "Conv": (1, 2),
    "ConvTranspose": (1, 2),
    "BatchNormalization": (1, 2),  # scale and B; mean and var are buffers
    "LayerNormalization": (1, 2),
    "Gemm": (1, 2),
    "MatMul": (0, 1),
}


def check(graph: Graph, limits: Any = None) -> None:
    """Raise GraphError if the graph cannot run: every unsupported node named at once (the first as
    `.argument`), then the first value read before anything writes it, a value written twice, an
    output never written. limits (the Settings) bounds the node count by its max_model_nodes."""
    most = getattr(limits, "max_model_nodes", None)
    if most is not None and len(graph.nodes) > most:
        raise GraphError("nodes", f"the graph has {len(graph.nodes)} nodes, more than the limit {most}")
    unsupported = [n for n in graph.nodes if n.op not in SUPPORTED]
    if unsupported:
        named = "; ".join(f"node {n.name!r} uses {n.op!r}, which Layerlab does not run" for n in unsupported)
        raise GraphError(unsupported[0].name, named)
    known = {t.name for t in graph.inputs} | set(graph.initializers)
    for node in graph.nodes:
        for value in node.inputs:
            if value and value not in known:
                raise GraphError(
                    node.name,
                    f"node {node.name!r} reads {value!r}, which no earlier node, graph input or "
                    "initializer provides",
                )
        for value in node.outputs:
            if value and value in known:
                raise GraphError(node.name, f"node {node.name!r} writes {value!r}, which is already written")
            known.add(value)
    for value in graph.outputs:
        if value not in known:
            raise GraphError(value, f"the graph's output {value!r} is never computed")


def _feeds(graph: Graph, feeds: Mapping[str, Any], max_elements: int | None) -> dict[str, np.ndarray]:
    values: dict[str, np.ndarray] = {}
    for tensor in graph.inputs:
        if tensor.name in graph.initializers:
            continue
        if tensor.name not in feeds:
            raise GraphError(tensor.name, f"the graph's input {tensor.name!r} is not given")
        value = np.asarray(feeds[tensor.name], dtype=tensor.dtype)
        fits = len(value.shape) == len(tensor.shape) and all(
            want is None or want == got for want, got in zip(tensor.shape, value.shape, strict=True)
        )
        if not fits:
            wanted = tuple("?" if d is None else d for d in tensor.shape)
            raise GraphError(
                tensor.name, f"input {tensor.name!r} must have shape {wanted}, got {value.shape}"
            )
        if max_elements is not None and value.size > max_elements:
            raise GraphError(tensor.name, f"input {tensor.name!r} holds more than {max_elements:,} elements")
        values[tensor.name] = value
    return values


def _fixed(graph: Graph) -> set[str]:
    """The values written in the file: initializers and Constant nodes' outputs."""
    return set(graph.initializers) | {v for n in graph.nodes if n.op == "Constant" for v in n.outputs}


def _execute(
    graph: Graph,
    feeds: Mapping[str, Any],
    max_elements: int | None,
    max_products: int | None,
    shapes_only: bool,
) -> GraphRun:
    check(graph)
    values = _feeds(graph, feeds, max_elements)
    known = {**graph.initializers, **values}
    fixed = _fixed(graph)
    runs: list[NodeRun] = []
    for node in graph.nodes:
        inputs = [known[v] if v else None for v in node.inputs]
        while inputs and inputs[-1] is None:  # trailing optional inputs left out: the defaults
            inputs.pop()
        outputs, trace = apply(
            node,
            inputs,
            max_elements=max_elements,
            shapes_only=shapes_only,
            constants=[v in fixed for v in node.inputs],
            max_products=max_products,
        )
        named = [v for v in node.outputs if v]
        if len(outputs) < len(node.outputs):
            raise GraphError(
                node.name,
                f"node {node.name!r} ({node.op}) gives {len(outputs)} outputs, not {len(node.outputs)}",
            )
        for value, array in zip(node.outputs, outputs, strict=False):
            if not value:
                continue
            if max_elements is not None and array.size > max_elements:
                raise GraphError(
                    node.name,
                    f"node {node.name!r} ({node.op}) computed {array.size:,} elements, "
                    f"more than the limit {max_elements:,}",
                )
            known[value] = values[value] = array
        shapes = tuple(None if a is None else tuple(np.shape(a)) for a in inputs)
        out_shapes = tuple(tuple(np.shape(known[v])) for v in named)
        runs.append(NodeRun(node, shapes, out_shapes, trace))
    return GraphRun(values, runs, graph.outputs)


def run(
    graph: Graph,
    feeds: Mapping[str, Any],
    *,
    max_elements: int | None = None,
    max_products: int | None = None,
) -> GraphRun:
    """Run every node in order on the engine; feeds maps each graph input (not an initializer) to
    its array, of its declared shape (None dimensions free) and cast to its declared dtype.

    max_elements bounds every value: a node whose output (or padded input) would hold more raises
    GraphError naming it before the value is made. max_products bounds the multiply-adds (window
    cells for a pool) of one Conv, ConvTranspose, pool, MatMul or Gemm, so its time: ResNet-18's
    largest layer does 118 million.
    """
    return _execute(graph, feeds, max_elements, max_products, shapes_only=False)


def _torch_name(node: Node, shapes: Sequence[Shape | None], graph: Graph) -> str:
    rank = len(shapes[0]) if shapes and shapes[0] is not None else 4
    if node.op in ("BatchNormalization", "Conv") and rank < 4:  # (N, C) or (N, C, L)
        return {"BatchNormalization": "BatchNorm1d", "Conv": "Conv1d"}[node.op]
    if node.op == "MatMul" and len(node.inputs) > 1 and node.inputs[1] in _fixed(graph):  # by a weight
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


def _torch_code(node: Node, shapes: Sequence[Shape | None], out: Shape, graph: Graph) -> str:
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


def _parameter_values(node: Node, graph: Graph, producers: Mapping[str, Node]) -> list[str]:
    """The initializers this node reads that torch holds as parameters."""
    picked = [node.inputs[i] for i in _PARAMETER_INPUTS.get(node.op, ()) if i < len(node.inputs)]
    if node.op == "Add":  # a bias after MatMul by a weight: how torch exports Linear on (B, T, D)
        matmul = [producers.get(v) for v in node.inputs]
        if any(p is not None and p.op == "MatMul" for p in matmul):
            picked = list(node.inputs)
    return [
        v for v in picked if v in graph.initializers and np.asarray(graph.initializers[v]).dtype.kind == "f"
    ]


def layer_table(
    graph: Graph, input_shape: Sequence[int], *, max_elements: int | None = None
) -> list[LayerRow]:
    """One row per node for an input of input_shape (the graph input's full shape, or without its
    batch dimension, then the declared batch or 1). Shapes come from a run on zeros in which the
    heavy operators compute only their output shapes; each initializer's parameters are counted once
    (at its first reader), so the total equals torch's `sum(p.numel() for p in model.parameters())`.
    """
    inputs = [t for t in graph.inputs if t.name not in graph.initializers]
    if len(inputs) != 1:
        raise GraphError("inputs", f"the layer table needs one graph input, the graph has {len(inputs)}")
    shape = tuple(int(d) for d in input_shape)
    if len(shape) == len(inputs[0].shape) - 1:  # without the batch: the declared one, else 1
        shape = (inputs[0].shape[0] or 1, *shape)
    zeros = np.zeros(shape, dtype=inputs[0].dtype)
    ran = _execute(graph, {inputs[0].name: zeros}, max_elements, None, shapes_only=True)
    producers = {v: n for n in graph.nodes for v in n.outputs if v}
    counted: set[str] = set()
    rows = []
    for node_run in ran.nodes:
        node = node_run.node
        owned = [v for v in _parameter_values(node, graph, producers) if v not in counted]
        counted.update(owned)
        rows.append(
            LayerRow(
                name=node.name,
                op=node.op,
                torch=_torch_code(node, node_run.input_shapes, (node_run.output_shapes or ((),))[0], graph),
                inputs=tuple(v for v in node.inputs if v and v not in graph.initializers),
                output_shape=node_run.output_shapes[0] if node_run.output_shapes else (),
                parameters=sum(math.prod(np.shape(graph.initializers[v])) for v in owned),
            )
        )
    return rows
