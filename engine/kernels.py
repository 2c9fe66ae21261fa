"""Kernel presets: small named weight matrices a learner can slide over an image.

All presets use the deep-learning convention (cross-correlation, the kernel is
not flipped), so a kernel gives a large positive response where the image
looks like the kernel. Seed 004's kernel table gives identity ("Original"),
Gaussian blur, sharpen and edge detection; seed 002 gives the 1-D derivative
[-1, 1] and the 3x3 Prewitt filter, and names Sobel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class KernelPreset:
    name: str  # url-safe id, e.g. "sobel_x"
    label: str  # shown in the UI, e.g. "Sobel x"
    weights: np.ndarray  # (kH, kW) float64, read-only
    description: str  # what pattern it responds to and why, in plain words
    source: str  # where the learner meets it, e.g. "seed 004 kernel table"


def _frozen(rows: list[list[float]] | np.ndarray) -> np.ndarray:
    """A read-only float64 copy, so a shared preset cannot be edited in place."""
    weights = np.array(rows, dtype=np.float64)
    weights.flags.writeable = False
    return weights


_BINOMIAL_5 = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0
_PREWITT_X = [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]
_SOBEL_X = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]

_PRESET_LIST = [
    KernelPreset(
        "identity",
        "Identity",
        _frozen([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
        "Copies each pixel unchanged: only the centre weight is non-zero, so every "
        "window's sum is just the pixel under the centre.",
        'seed 004 kernel table ("Original")',
    ),
    KernelPreset(
        "box_blur",
        "Box blur",
        _frozen(np.ones((3, 3)) / 9.0),
        "Replaces each pixel by the plain average of its 3x3 neighbourhood, which "
        "smooths noise and softens edges.",
        "not in the seeds: the simplest averaging kernel, for comparison with the Gaussian",
    ),
    KernelPreset(
        "gaussian_blur",
        "Gaussian blur",
        _frozen(np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16.0),
        "A weighted average that trusts the centre most and the corners least, so it "
        "smooths more gently than a box blur. The weights sum to 1, keeping brightness.",
        "seed 004 kernel table",
    ),
    KernelPreset(
        "gaussian_5x5",
        "Gaussian blur 5x5",
        _frozen(np.outer(_BINOMIAL_5, _BINOMIAL_5)),
        "The same bell-shaped average over a wider 5x5 window (the outer product of "
        "[1 4 6 4 1]/16 with itself), so the image gets blurrier.",
        "not in the seeds: the 5x5 version of seed 004's Gaussian blur",
    ),
    KernelPreset(
        "sharpen",
        "Sharpen",
        _frozen([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
        "Boosts a pixel by how much it differs from its four neighbours; flat areas "
        "stay the same (the weights sum to 1) while edges get more contrast.",
        "seed 004 kernel table",
    ),
    KernelPreset(
        "edge",
        "Edge detection",
        _frozen([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
        "Compares a pixel with all eight neighbours: flat areas give 0 (the weights sum "
        "to 0) and any outline, in any direction, gives a strong response.",
        'seed 004 kernel table ("Edge Detection")',
    ),
    KernelPreset(
        "prewitt_x",
        "Prewitt x",
        _frozen(_PREWITT_X),
        "Right column minus left column: responds to brightness changing from left to "
        "right, so it lights up vertical edges.",
        "seed 002",
    ),
    KernelPreset(
        "prewitt_y",
        "Prewitt y",
        _frozen(np.transpose(_PREWITT_X)),
        "Bottom row minus top row: responds to brightness changing from top to bottom, "
        "so it lights up horizontal edges.",
        "seed 002 (the flipped Prewitt filter)",
    ),
    KernelPreset(
        "sobel_x",
        "Sobel x",
        _frozen(_SOBEL_X),
        "Like Prewitt x but the middle row counts double, so it finds vertical edges "
        "while being a little less sensitive to noise.",
        "seed 002 (named)",
    ),
    KernelPreset(
        "sobel_y",
        "Sobel y",
        _frozen(np.transpose(_SOBEL_X)),
        "Like Prewitt y but the middle column counts double, so it finds horizontal "
        "edges while being a little less sensitive to noise.",
        "seed 002 (named)",
    ),
    KernelPreset(
        "emboss",
        "Emboss",
        _frozen([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
        "Bottom-right neighbours minus top-left ones, plus the pixel itself: edges "
        "facing one diagonal turn bright and the other dark, like raised relief.",
        "not in the seeds: a classic image-editing effect",
    ),
    KernelPreset(
        "derivative",
        "Derivative [-1, 1]",
        _frozen([[-1, 1]]),
        "Each value minus the one before it: positive where the signal rises, negative "
        "where it falls and 0 where it is flat, a discrete derivative.",
        "seed 002 (1-D example)",
    ),
]

PRESETS: dict[str, KernelPreset] = {p.name: p for p in _PRESET_LIST}


def preset(name: str) -> KernelPreset:
    """The preset called `name`; KeyError listing the valid names otherwise."""
    try:
        return PRESETS[name]
    except KeyError:
        raise KeyError(f"unknown kernel preset {name!r}; choose one of: {', '.join(PRESETS)}") from None
