"""Shape, parameter and cost calculator for a graph of layers: calculator.py's `analyse` with joins.

`analyse_graph(inputs, layers)` does what `analyse` does, for a graph: each GraphLayer names the graph
inputs or earlier layers it reads, so a residual block's skip (Add) and a concatenation (Concat) can
be written (ResNet-18's 11,689,512 parameters, tests/engine/test_calculator_graph.py). Add takes
inputs of exactly one shape (no broadcasting: a model's joins add feature maps of one shape, and a
mismatch is the bug to report); Concat joins along `dim`, counted as torch counts it on a batched
tensor (1, the channels, by default).

Every layer but a join goes through calculator.py's rules (the same shapes, counts, torch lines and
receptive fields as in a stack). A join's receptive field: per axis the smallest field holding every
input's field (the larger one when they share a centre, as a residual block's branches do); None when
an input has no field or their jumps differ (their positions no longer line up), and after a Concat
along a spatial axis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from layerlab.engine.calculator import (
    _SIGNATURES,
    Fields,
    LayerReport,
    Shape,
    StackError,
    _input_fields,
    _input_shape,
    _is_int,
    _Problem,
    _step,
)
from layerlab.engine.receptive import AxisField, pairs


@dataclass(frozen=True)
class GraphLayer:
    """One node of a graph: a name, a Layer's kind and arguments, and the values it reads."""

    name: str  # unique among inputs and layers, e.g. torch's module name "layer1.0.conv1"
    kind: str  # a key of calculator._SIGNATURES; "Add" and "Concat" read two or more inputs
    args: dict = field(default_factory=dict)
    inputs: tuple[str, ...] = ()  # graph inputs or earlier layers, by name; () reads the entry just before


@dataclass(frozen=True)
class GraphLayerReport(LayerReport):
    """A layer's report in a graph; input_shape is its first input's."""

    name: str
    inputs: tuple[str, ...]  # what it reads, by name
    input_shapes: tuple[Shape, ...]


@dataclass(frozen=True)
class GraphReport:
    """Every layer's report in the order given, the totals and the shapes of the graph's outputs."""

    layers: list[GraphLayerReport]
    total_parameters: int
    total_macs: int
    output_shape: Shape  # the last layer's (the last input's when there are no layers)
    outputs: dict[str, Shape]  # every value no layer reads, by name: the graph's outputs


def analyse_graph(inputs: Mapping[str, Sequence[int]], layers: Sequence[GraphLayer]) -> GraphReport:
    """analyse for a graph: each layer reads the named inputs or earlier layers, in the order given.

    inputs maps each graph input's name to its shape, as analyse's input_shape. Receptive fields are
    on the inputs' pixel grid (several inputs are taken to share one). A layer whose inputs are () reads
    the entry just before it, so a chain needs no wiring.
    """
    if not isinstance(inputs, Mapping) or not inputs:
        raise StackError(None, "inputs: give at least one input, as {name: shape}")
    shapes = {name: _input_shape(shape, f"input {name!r}", name) for name, shape in inputs.items()}
    fields = {name: _input_fields(shape) for name, shape in shapes.items()}
    unread, previous, reports = dict.fromkeys(shapes), list(shapes)[-1], []
    for index, layer in enumerate(layers):
        label = f"layer {index} {layer.name!r} ({layer.kind})"
        sources = layer.inputs if layer.inputs else (previous,)
        wrong = _wiring(layer.name, sources, shapes)
        if wrong:
            raise StackError(index, f"{label}: {wrong}", layer.name if isinstance(layer.name, str) else None)
        given = [shapes[s] for s in sources]
        out, params, macs, out_fields, torch = _step(
            index, label, layer.name, layer, given, [fields[s] for s in sources], sources, _SIGNATURES, JOINS
        )
        row = (index, layer.kind, torch, given[0], out, params, macs, *pairs(out_fields))
        reports.append(GraphLayerReport(*row, layer.name, tuple(sources), tuple(given)))
        shapes[layer.name], fields[layer.name], previous = out, out_fields, layer.name
        for source in sources:
            unread.pop(source, None)
        unread[layer.name] = None
    totals = sum(r.parameters for r in reports), sum(r.macs for r in reports)
    return GraphReport(reports, *totals, shapes[previous], {name: shapes[name] for name in unread})


def _wiring(name: object, sources: object, known: Mapping[str, Shape]) -> str | None:
    """What is wrong with a graph layer's name or inputs, if anything."""
    if not isinstance(name, str) or not name:
        return f"name must be a non-empty string, got {name!r}"
    if name in known:
        return f"the name {name!r} is already taken by an input or an earlier layer"
    if not isinstance(sources, tuple | list) or not all(isinstance(s, str) for s in sources):
        return f"inputs must be a tuple of names, got {sources!r}"
    missing = [s for s in sources if s not in known]
    if missing:
        return f"reads {missing[0]!r}, which is neither an input nor an earlier layer"
    return None


def _add(shapes: list[Shape], fields: list[Fields], args: dict, names: tuple[str, ...]) -> tuple:
    """Add: the element-wise sum of inputs of exactly one shape (no broadcasting)."""
    for shape, name in zip(shapes[1:], names[1:], strict=True):
        if shape != shapes[0]:
            raise _Problem(
                f"adds inputs of one shape, but {names[0]!r} is {shapes[0]} and {name!r} is {shape}"
            )
    return shapes[0], _hull(fields), " + ".join(names)


def _concat(shapes: list[Shape], fields: list[Fields], args: dict, names: tuple[str, ...]) -> tuple:
    """Concat: torch.cat along dim of the batched tensor (1: channels), every other size equal."""
    dim, rank = args["dim"], len(shapes[0])
    if not (_is_int(dim) and dim != 0 and -rank <= dim <= rank):
        raise _Problem(
            f"dim must be 1 to {rank} (or -{rank} to -1) of the batched tensor, not the batch; got {dim!r}"
        )
    axis = dim - 1 if dim > 0 else rank + dim
    for shape, name in zip(shapes[1:], names[1:], strict=True):
        if len(shape) != rank or any(shape[i] != shapes[0][i] for i in range(rank) if i != axis):
            raise _Problem(
                f"concatenates along dim {dim}, so every other size must match, "
                f"but {names[0]!r} is {shapes[0]} and {name!r} is {shape}"
            )
    out = tuple(sum(s[axis] for s in shapes) if i == axis else size for i, size in enumerate(shapes[0]))
    return out, _hull(fields) if axis == 0 else None, f"torch.cat([{', '.join(names)}], dim={dim})"


def _hull(fields: list[Fields]) -> Fields:
    """A join's field per axis: the smallest holding every input's; None if one has none or jumps differ."""
    if any(f is None for f in fields):
        return None
    joined = []
    for axis in zip(*fields, strict=True):
        if len({a.jump for a in axis}) > 1:
            return None
        low = min(a.start - (a.size - 1) / 2 for a in axis)
        high = max(a.start + (a.size - 1) / 2 for a in axis)
        joined.append(AxisField(high - low + 1, axis[0].jump, (low + high) / 2))
    return tuple(joined)


JOINS = {"Add": _add, "Concat": _concat}
