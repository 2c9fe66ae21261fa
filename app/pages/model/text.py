"""The "Your model" page's words: what a graph of layers is, why shapes change, what a parameter count
counts (with the opened model's numbers), and the notes beside links that show part of a layer."""

from __future__ import annotations

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


def explain(name: str, input_shape: tuple[int, ...], rows: list[dict], total: int) -> list[str]:
    """Three short paragraphs with this model's numbers."""
    n = len(rows)
    ops = sorted({r["op"] for r in rows})
    first_change = next((r for r in rows if r["output_shape"][1:] != [*input_shape]), None)
    biggest = max(rows, key=lambda r: r["parameters"]) if rows else None
    paragraphs = [
        f"A model is a graph of layers: each node reads values (the image, or what earlier nodes wrote) "
        f"and writes a new one. {name} has {n} nodes of {len(ops)} kinds ({', '.join(ops)}). Most read the "
        f"node just above them; an Add or a Concat reads two, which is how a skip connection joins a path "
        f"back in.",
        f"Shapes are (N, C, H, W): one image of C channels, H rows and W columns. The input here is "
        f"{_shape((1, *input_shape))}. A convolution sets C to its number of filters and shrinks H and W "
        f"unless it pads; a pooling layer divides H and W by its stride; Flatten lays every number in one "
        f"row, so a Gemm (a Linear layer) can weigh all of them.",
    ]
    if first_change is not None:
        paragraphs[1] += (
            f" The first change here is {first_change['name']} ({first_change['op']}), which writes "
            f"{_shape(first_change['output_shape'])}."
        )
    count = (
        f"A parameter is a number training changes: every weight and bias a layer owns. {name} has "
        f"{total:,} of them"
    )
    if biggest is not None and biggest["parameters"]:
        share = 100 * biggest["parameters"] / total
        count += f"; {biggest['name']} ({biggest['op']}) alone has {biggest['parameters']:,} ({share:.0f}%)"
    paragraphs.append(
        count + ". Activations, pooling and reshapes have none. A BatchNormalization's running mean and "
        "variance are not counted: they are measured, not trained (torch calls them buffers), so the total "
        "is what sum(p.numel() for p in model.parameters()) gives."
    )
    return paragraphs
