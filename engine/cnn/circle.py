"""Seed 000's two-layer circle detector with hand-made kernels, run with the engine's conv2d.

Seed 000 takes a 1x5x5 circle and five 1x3x3 kernels, each matching a part of the circle, then one
second-layer kernel that adds up the parts found in their places. The seed says the first map is
4x2x2; five kernels make five channels, so with stride 2 ((5 - 3) // 2 + 1 = 2) it is 5x2x2, and the
second-layer kernel is 5x2x2 too (our layer calculator's "seed000_circle" preset does the same).

At stride 2 the four 3x3 windows sit on the circle's four corners, so four kernels are its quarter
arcs (top-left, top-right, bottom-left, bottom-right). The seed never says what the fifth part is;
here it is a straight vertical stroke, a part of a 1 or a 7 and not of a circle, and the second layer
gives it weight 0: it shows what a fifth kernel adds to the map, while the four arcs decide.
Kernels are +1 where the part has ink and -1 where it must be empty, so a match scores its ink
count and ink in the wrong place scores below it (the seed's red and blue). No activations, as in
the seed: the detector's single number is compared with 0 (the bias sets the bar).
"""

from __future__ import annotations

import numpy as np

from layerlab.engine.conv import conv2d
from layerlab.engine.images import sample_image
from layerlab.engine.trace import Trace


def _part(pattern: list[list[int]]) -> np.ndarray:
    """+1 where the pattern has ink, -1 where it must be empty."""
    return 2 * np.array(pattern, dtype=np.float64) - 1


PARTS: list[tuple[str, np.ndarray]] = [
    ("top-left arc", _part([[0, 1, 1], [1, 0, 0], [1, 0, 0]])),
    ("top-right arc", _part([[1, 1, 0], [0, 0, 1], [0, 0, 1]])),
    ("bottom-left arc", _part([[1, 0, 0], [1, 0, 0], [0, 1, 1]])),
    ("bottom-right arc", _part([[0, 0, 1], [0, 0, 1], [1, 1, 0]])),
    ("straight stroke", _part([[0, 1, 0], [0, 1, 0], [0, 1, 0]])),
]
STRIDE = 2
BIAS = -14.0  # a perfect circle scores 4 x 4 = 16; a square's corners score 4 x 3 = 12


def kernels() -> np.ndarray:
    """The five part kernels, (5, 1, 3, 3)."""
    return np.stack([k for _, k in PARTS])[:, None]


def detector() -> np.ndarray:
    """The second layer's kernel (1, 5, 2, 2): each arc counted where it belongs, the stroke not at all."""
    w = np.zeros((1, len(PARTS), 2, 2))
    for channel, (r, c) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        w[0, channel, r, c] = 1.0
    return w


SHAPES: dict[str, np.ndarray] = {
    "circle": sample_image("circle", 5, "gray")[0],  # seed 000's 5x5 circle
    "square": np.pad(np.zeros((3, 3)), 1, constant_values=1.0),
    "plus": np.maximum(np.tile([0.0, 0, 1, 0, 0], (5, 1)), np.tile([0.0, 0, 1, 0, 0], (5, 1)).T),
    "cross": np.maximum(np.eye(5), np.eye(5)[::-1]),
    "filled": np.ones((5, 5)),
    "blank": np.zeros((5, 5)),
}


def detect(image: np.ndarray) -> Trace:
    """Both layers on a 1x5x5 image (or (5, 5)).

    Returns a Trace whose output is the detector's number (1, 1, 1); stages "input" (1, 5, 5),
    "kernels" (5, 1, 3, 3), "parts" (5, 2, 2) the first layer's map, "detector" (1, 5, 2, 2),
    "contributions" (5, 2, 2) = detector * parts (what each part adds); params hold the first layer's
    trace params, the part names and "fires" (output > 0).
    """
    x = np.asarray(image, dtype=np.float64).reshape(1, 5, 5)
    first = conv2d(x, kernels(), stride=STRIDE)
    parts = first.output  # (5, 2, 2)
    w2 = detector()
    second = conv2d(parts, w2, np.array([BIAS]))
    stages = {
        "input": x,
        "kernels": kernels(),
        "parts": parts,
        "detector": w2,
        "contributions": w2[0] * parts,
    }
    params = {
        "stride": STRIDE,
        "bias": BIAS,
        "part_names": [name for name, _ in PARTS],
        "first": first.params,
        "fires": bool(second.output.item() > 0),
    }
    return Trace("circle_detector", params, second.output, stages)
