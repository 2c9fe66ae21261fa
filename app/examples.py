"""The seeds' worked examples as one-click states of the conv page."""

from __future__ import annotations

from typing import Any

from layerlab.engine.kernels import PRESETS


def _filters(*names: str) -> list[list[list[list[float]]]]:
    return [[PRESETS[n].weights.tolist()] for n in names]


CONV_EXAMPLES: list[dict[str, Any]] = [
    {
        "id": "seed002_derivative",
        "label": "Seed 002: [-1, 1] is a derivative",
        "note": (
            "The 1-D signal from seed 002 with the kernel [-1, 1]. Each output is the next value minus the "
            "one before it: where the signal climbs the map is positive, where it falls it is negative. "
            "The seed pads one zero on the left only; PyTorch's conv2d pads both sides equally, so padding "
            "(0, 1) gives the seed's ten values plus one extra at the right end."
        ),
        "state": {
            "image": "seed002_signal",
            "size": 32,
            "color": "gray",
            "weight": _filters("derivative"),
            "bias": [0],
            "stride": [1, 1],
            "padding": [0, 1],
            "dilation": [1, 1],
            "padding_mode": "zeros",
            "relu": False,
        },
    },
    {
        "id": "seed002_prewitt",
        "label": "Seed 002: Prewitt edges",
        "note": (
            "A small matrix with a vertical edge (seed 002 shows its matrix as a picture; this one is in its "
            "spirit) and the Prewitt kernel [-1 0 1] in each row. 'same' padding keeps the map 5x5, so the "
            "kernel's centre visits every pixel. The 3s mark the edge; the 2s on the top and bottom rows are "
            "the edge seen through the zero padding, and the negative column on the right is the padding "
            "itself looking like an edge."
        ),
        "state": {
            "image": "seed002_matrix",
            "size": 32,
            "color": "gray",
            "weight": _filters("prewitt_x"),
            "bias": [0],
            "stride": [1, 1],
            "padding": "same",
            "dilation": [1, 1],
            "padding_mode": "zeros",
            "relu": False,
        },
    },
    {
        "id": "seed004_table",
        "label": "Seed 004: kernel table",
        "note": (
            "Seed 004's four kernels on one picture: identity copies it, the Gaussian blur averages each "
            "pixel with its neighbours (weights 1/16 to 4/16), sharpen adds the difference from the "
            "neighbours back in, and the edge kernel answers only where a pixel differs from its "
            "surroundings. Four filters, four feature maps."
        ),
        "state": {
            "image": "scene",
            "size": 64,
            "color": "gray",
            "weight": _filters("identity", "gaussian_blur", "sharpen", "edge"),
            "bias": [0, 0, 0, 0],
            "stride": [1, 1],
            "padding": "same",
            "dilation": [1, 1],
            "padding_mode": "zeros",
            "relu": False,
        },
    },
]
