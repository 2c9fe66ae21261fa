"""The "Your model" page's words: what a graph of layers is, why shapes change, what a parameter count
counts (with the opened model's numbers), and the notes beside links that show part of a layer."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from layerlab.app.mathml import tex
from layerlab.app.pages.model.schemas import BUILTINS

BUILTIN_NAMES = BUILTINS
LINK_PAGES = {
    "Conv": "conv",
    "MaxPool": "pool",
    "AveragePool": "pool",
    "GlobalAveragePool": "pool",
    "GlobalMaxPool": "pool",
    "BatchNormalization": "norm",
    "LayerNormalization": "norm",
    "InstanceNormalization": "norm",
}

NORM_NOTE = (
    "The norm page draws every plane of a small batch it generates (at most 8 channels of 8x8), so it "
    "shows this layer's normalization with this layer's eps on that batch, not on this image's maps. "
    "In evaluation a BatchNormalization node uses the running mean and variance stored in the file."
)
GLOBAL_NOTE = (
    "A global pooling is the window pooling whose window is the whole map, moved by its own size: "
    "the link pools the map so, one window, one number."
)


def link_page(op: str) -> str | None:
    """The page that opens a layer of this operator on its own, or None."""
    return LINK_PAGES.get(op)


def too_big(what: str, size: str, limit: int) -> str:
    return f"The {what} is {size}, over the page's limit of {limit}, so this layer cannot open there."


def partial_sum(reads: int, has: int) -> str:
    return (
        f"The conv page reads 1 or 3 input channels and this filter reads {has}: the link runs it over the "
        f"first {reads}, so its map there is part of the sum the layer adds up, not the layer's map."
    )


def one_filter(channel: int, c_out: int, max_filters: int, groups: int) -> str:
    why = f"groups={groups}" if groups > 1 else f"{c_out} filters, over the page's {max_filters}"
    return f"The layer has {why}: the link carries filter {channel} alone (filter 0 there)."


def _shape(shape: list[int] | tuple[int, ...]) -> str:
    return "(" + ", ".join(str(v) for v in shape) + ")"


def _int_arg(line: str, name: str, default: int) -> int | None:
    """A square constructor argument of a torch line (kernel_size=3), its default when absent, None when
    it is a tuple or a string (padding='same')."""
    found = re.search(rf"\b{name}=([^,)]+)", line)
    value = found.group(1) if found else str(default)
    return int(value) if value.isdigit() else None


def _size_formula(row: dict, before: list[int]) -> Markup | None:
    """torch's output-size formula for a square Conv2d with this row's numbers, when they give its shape."""
    line = row["torch"]
    if not line.startswith("nn.Conv2d(") or len(before) != 4 or "dilation=" in line:
        return None
    k, s, p = (_int_arg(line, n, d) for n, d in (("kernel_size", 0), ("stride", 1), ("padding", 0)))
    if not (k and s) or p is None or (before[2] + 2 * p - k) // s + 1 != row["output_shape"][2]:
        return None
    return tex(
        rf"H_{{\text{{out}}}} = \left\lfloor \dfrac{{H + 2p - k}}{{s}} \right\rfloor + 1"
        rf" = \left\lfloor \dfrac{{{before[2]} + 2 \cdot {p} - {k}}}{{{s}}} \right\rfloor + 1"
        rf" = {row['output_shape'][2]}"
    )


def _count_formula(row: dict) -> Markup | None:
    """A Linear's or a Conv2d's parameters as weights plus biases, when the numbers give the row's count."""
    line, has_bias = row["torch"], "bias=False" not in row["torch"]
    sizes = re.match(r"nn\.(Linear|Conv2d)\((\d+), (\d+)", line)
    if sizes is None or "groups=" in line:
        return None
    c_in, c_out = int(sizes.group(2)), int(sizes.group(3))
    k = _int_arg(line, "kernel_size", 1) if sizes.group(1) == "Conv2d" else 1
    if k is None or c_out * c_in * k * k + has_bias * c_out != row["parameters"]:
        return None
    weights = rf"{c_out} \cdot {c_in}" + (rf" \cdot {k} \cdot {k}" if sizes.group(1) == "Conv2d" else "")
    return tex(weights + (f" + {c_out}" if has_bias else "") + rf" = \text{{{row['parameters']:,}}}")


def explain(name: str, input_shape: tuple[int, ...], rows: list[dict], total: int) -> list[str]:
    """Three short paragraphs with this model's numbers, as HTML: names escaped, formulas in MathML."""
    name = escape(name)
    ops = sorted({r["op"] for r in rows})
    joins = [r for r in rows if r["op"] in ("Add", "Concat", "Sum") and len(r["inputs"]) > 1]
    how = (
        f"{len(joins)} of them ({', '.join(sorted({r['op'] for r in joins}))}) read two values: that is how "
        "a skip connection joins a path back in."
        if joins
        else "Each reads the one before it: the graph is a chain."
    )
    kinds = f"{len(ops)} kind" if len(ops) == 1 else f"{len(ops)} kinds"
    first = (
        "Each node reads values (the image, or what earlier nodes wrote) and writes a new one. "
        f"The open model, {name}, has {len(rows)} nodes of {kinds} "
        f"({escape(', '.join(ops))}). {how}"
    )
    shapes = (
        f"Shapes are (N, C, H, W): N images of C channels, H rows and W columns; the input here is "
        f"{_shape((1, *input_shape))}. A convolution sets C to its number of filters and shrinks H and W "
        f"unless it pads; a pooling layer divides them by its stride; Flatten lays every number in one row, "
        f"so a Linear layer (ONNX's Gemm) can weigh all of them."
    )
    before = {r["name"]: r["output_shape"] for r in rows}
    for row in rows:
        formula = _size_formula(row, before.get(row["inputs"][0], [1, *input_shape]) if row["inputs"] else [])
        if formula is not None:
            shapes += f" For {escape(row['name'])}: {formula}."
            break
    count = (
        f"A parameter is a number training changes: every weight and bias a layer owns. This model has "
        f"{total:,}"
    )
    biggest = max(rows, key=lambda r: r["parameters"]) if rows else None
    if biggest is not None and biggest["parameters"]:
        share = 100 * biggest["parameters"] / total
        formula = _count_formula(biggest)  # weights plus biases, ending in the count
        alone = formula if formula is not None else f"{biggest['parameters']:,}"
        count += f"; {escape(biggest['name'])} alone has {alone} ({share:.0f}%)"
    count += (
        ". Activations, pooling and reshapes have none. A BatchNormalization's running mean and variance "
        "are measured, not trained (torch calls them buffers): they are left out, so the total is what "
        "<code>sum(p.numel() for p in model.parameters())</code> gives."
    )
    return [first, shapes, count]
