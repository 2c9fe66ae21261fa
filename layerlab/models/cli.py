"""`layerlab model FILE`: print a model file's layer table (name, op, torch line, output shape,
parameters, the total at the bottom); a file Layerlab will not open exits with status 2 and why."""

from __future__ import annotations

import argparse
import sys

from layerlab.engine.errors import ArgumentError
from layerlab.models import load
from layerlab.models.errors import ModelFileError

HEADINGS = ("name", "op", "torch", "output", "parameters")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="layerlab model",
        description="Print the layer table of a model file: ONNX, or a safetensors / .npz state_dict "
        "beside its layer list. Nothing is unpickled.",
    )
    parser.add_argument(
        "file", metavar="FILE", help="model.onnx, weights.safetensors, weights.npz or a built-in name"
    )
    parser.add_argument(
        "--layers", metavar="LAYERS.json", help="the layer list of a state_dict (the calculator's JSON)"
    )
    parser.add_argument(
        "--input-shape", metavar="C,H,W", help="the input shape a state_dict's layer list starts from"
    )
    args = parser.parse_args(argv)
    try:
        model = load(args.file, args.layers, args.input_shape)
        rows = model.table()
    except ModelFileError as e:
        print(f"layerlab model: {e.field}: {e}", file=sys.stderr)
        return 2
    except ArgumentError as e:  # the graph itself does not run (an unsupported operator, ...)
        print(f"layerlab model: {getattr(e, 'argument', 'file')}: {e}", file=sys.stderr)
        return 2
    print(f"{model!r}")
    print(format_table(rows))
    return 0


def format_table(rows: list) -> str:
    """Rows as aligned text columns, the parameters thousands-separated and totalled."""
    body = [
        (r.name, r.op, r.torch, "(" + ", ".join(map(str, r.output_shape)) + ")", f"{r.parameters:,}")
        for r in rows
    ]
    total = ("total", "", "", "", f"{sum(r.parameters for r in rows):,}")
    widths = [max(len(line[i]) for line in (HEADINGS, *body, total)) for i in range(len(HEADINGS))]

    def line(cells: tuple[str, ...]) -> str:
        text = "  ".join(c.ljust(w) for c, w in zip(cells[:-1], widths, strict=False))
        return f"{text}  {cells[-1].rjust(widths[-1])}"

    rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
    return "\n".join([line(HEADINGS), rule, *map(line, body), rule, line(total)])


if __name__ == "__main__":
    raise SystemExit(main())
