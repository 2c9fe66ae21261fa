"""Input images: built-in samples drawn in code (Pillow draws the text and the shapes), and colour.

Every image is (C, H, W) float64 with C = 1 ("gray") or 3 ("rgb"), the layout
the engine's operations take. The circle is seed 000's 1x5x5 example; the two
"seed002_" samples are the numbers of seed 002's convolution examples.
"""

from __future__ import annotations

import operator

import numpy as np
from PIL import Image, ImageDraw, ImageFont

SAMPLES: dict[str, str] = {
    "circle": "A ring; at size 5 it is exactly the 5x5 circle of seed 000.",
    "checkerboard": "Black and white squares of side size // 8 (at least one pixel), about 8 across.",
    "gradient": "A smooth diagonal ramp from 0 to 1; in colour each channel ramps another way.",
    "digit": "A slanted, hand-drawn-looking digit 3, white on black.",
    "scene": "A small landscape (sky, sun, hills, a house, a tree) with edges in many directions.",
    "seed002_signal": "Seed 002's 1-D signal [0, 0, 1, 2, 4, 4, 4, 3, 1, 0] as a 1x10 row (size is ignored).",
    "seed002_matrix": (
        "Seed 002 shows its 2-D matrix only as a picture, so this 5x5 matrix is in its "
        "spirit: columns of 0s then 1s, a vertical edge (size is ignored)."
    ),
}
FIXED_SIZE = frozenset({"seed002_signal", "seed002_matrix"})  # samples with their own shape: size is ignored
COLORS = ("gray", "rgb")
MIN_SIZE, MAX_SIZE = 4, 512
LUMA = np.array([0.299, 0.587, 0.114])  # ITU-R BT.601, the weights Pillow's "L" conversion uses
_SEED = 2024  # fixed, so the scene's noise is the same on every call


def _check_color(color: str) -> None:
    """Raise ValueError unless color is "gray" or "rgb"."""
    if color not in COLORS:
        raise ValueError(f"color must be one of {COLORS}, got {color!r}")


def to_color(image: np.ndarray, color: str) -> np.ndarray:
    """(C, H, W) with C in {1, 3} -> (1, H, W) luma for "gray" or (3, H, W) for "rgb"."""
    _check_color(color)
    x = np.asarray(image, dtype=np.float64)
    if x.ndim != 3 or x.shape[0] not in (1, 3):
        raise ValueError(f"image must have shape (1, H, W) or (3, H, W), got {x.shape}")
    if color == "gray":
        return x.copy() if x.shape[0] == 1 else np.tensordot(LUMA, x, axes=1)[None]
    return np.repeat(x, 3, axis=0) if x.shape[0] == 1 else x.copy()


def _grid(size: int) -> np.ndarray:
    """(2, size, size): the row and the column index of every pixel."""
    return np.mgrid[0:size, 0:size].astype(np.float64)


def _circle(size: int) -> np.ndarray:
    """(1, size, size) soft-edged ring through the pixel centres, seed 000's at size 5."""
    rows, cols = _grid(size)
    centre = (size - 1) / 2
    distance = np.hypot(rows - centre, cols - centre)
    radius, half_width = 0.42 * size, 0.075 * size
    # A full-pixel soft edge would blur the tiny 5x5 ring into greys, so small sizes get a crisper one.
    softness = min(1.0, size / 20)
    return np.clip(0.5 + (half_width - np.abs(distance - radius)) / softness, 0.0, 1.0)[None]


def _checkerboard(size: int) -> np.ndarray:
    """(1, size, size) squares of side max(1, size // 8), top-left black."""
    rows, cols = _grid(size)
    side = max(1, size // 8)
    return ((rows // side + cols // side) % 2)[None]


def _gradient(size: int, color: str) -> np.ndarray:
    """Diagonal ramp (1, H, W); in rgb red ramps right, green down, blue along the other diagonal."""
    rows, cols = _grid(size) / (size - 1)
    if color == "gray":
        return ((rows + cols) / 2)[None]
    return np.stack([cols, rows, 1 - (rows + cols) / 2])


def _digit(size: int) -> np.ndarray:
    """(1, size, size) a slanted "3" from Pillow's bundled font, filling about 70% of the height."""
    big = int(np.clip(4 * size, 64, 1024))  # draw large, then shrink: the shrink anti-aliases
    try:
        font = ImageFont.load_default(size=big)
    except TypeError:  # Pillow < 10.1 has only its small bitmap font, which the resize below scales up
        font = ImageFont.load_default()
    # A thick stroke looks like pen on paper; the bitmap font cannot stroke.
    stroke = big // 40 if isinstance(font, ImageFont.FreeTypeFont) else 0
    canvas = Image.new("L", (2 * big, 2 * big), 0)
    draw = ImageDraw.Draw(canvas)
    draw.text((big // 2, big // 4), "3", fill=255, font=font, stroke_width=stroke, stroke_fill=255)
    glyph = canvas.crop(canvas.getbbox())
    width, height = glyph.size
    lean = 0.2  # output pixel (x, y) samples input (x + lean*y - lean*height, y): the top leans right
    glyph = glyph.transform(
        (width + round(lean * height), height),
        Image.Transform.AFFINE,
        (1, lean, -lean * height, 0, 1, 0),
        resample=Image.Resampling.BICUBIC,
    )
    scale = 0.7 * size / max(glyph.size)
    glyph = glyph.resize(tuple(max(1, round(s * scale)) for s in glyph.size), Image.Resampling.LANCZOS)
    out = Image.new("L", (size, size), 0)
    out.paste(glyph, ((size - glyph.width) // 2, (size - glyph.height) // 2))
    return (np.asarray(out, dtype=np.float64) / 255)[None]


def _scene(size: int) -> np.ndarray:
    """(3, size, size) RGB landscape, drawn up to 4x larger and box-averaged down for smooth edges."""
    scale = max(1, min(4, 2048 // size))
    side = size * scale
    depth = np.linspace(0.0, 1.0, side)[:, None, None]  # (side, 1, 1): 0 at the top
    sky = np.array([40.0, 110.0, 200.0]) + depth * np.array([150.0, 110.0, 45.0])  # deep blue to pale
    img = Image.fromarray(np.broadcast_to(sky, (side, side, 3)).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)

    def at(*fractions: float) -> list[int]:
        """Canvas pixel coordinates from fractions of the side."""
        return [round(f * side) for f in fractions]

    line = max(1, side // 128)
    draw.ellipse(at(0.72, 0.08, 0.90, 0.26), fill=(255, 220, 80))  # sun
    draw.ellipse(at(-0.30, 0.55, 0.70, 1.40), fill=(95, 165, 75))  # far hill
    draw.ellipse(at(0.30, 0.62, 1.40, 1.50), fill=(60, 130, 50))  # near hill
    draw.rectangle(at(0.18, 0.50, 0.48, 0.80), fill=(225, 200, 160))  # walls
    draw.polygon(at(0.14, 0.50, 0.33, 0.31, 0.52, 0.50), fill=(165, 50, 40))  # roof
    draw.rectangle(at(0.22, 0.56, 0.32, 0.67), fill=(130, 185, 230), outline=(70, 50, 40), width=line)
    draw.line(at(0.27, 0.56, 0.27, 0.67), fill=(70, 50, 40), width=line)  # window bars
    draw.line(at(0.22, 0.615, 0.32, 0.615), fill=(70, 50, 40), width=line)
    draw.rectangle(at(0.37, 0.63, 0.44, 0.80), fill=(110, 70, 40))  # door
    draw.rectangle(at(0.69, 0.58, 0.73, 0.82), fill=(100, 65, 35))  # trunk
    draw.ellipse(at(0.59, 0.36, 0.83, 0.64), fill=(40, 110, 45))  # crown
    rgb = np.asarray(img.reduce(scale), dtype=np.float64) / 255  # (H, W, 3)
    noise = np.random.default_rng(_SEED).normal(0.0, 0.015, rgb.shape)  # a little sensor grain
    return np.clip(rgb + noise, 0.0, 1.0).transpose(2, 0, 1)


def _seed002(name: str) -> np.ndarray:
    """Seed 002's numbers, unscaled: the 1-D signal (1, 1, 10) or the edge matrix (1, 5, 5)."""
    if name == "seed002_signal":
        return np.array([[[0, 0, 1, 2, 4, 4, 4, 3, 1, 0]]], dtype=np.float64)
    return np.tile(np.array([0, 0, 1, 1, 1], dtype=np.float64), (1, 5, 1))


_DRAWN = {"circle": _circle, "checkerboard": _checkerboard, "digit": _digit, "scene": _scene}


def sample_image(name: str, size: int = 32, color: str = "gray") -> np.ndarray:
    """A built-in image, (C, size, size) float64 in [0, 1]; seed 002's keep their own shape and values.

    Parameters
    ----------
    name : a key of SAMPLES
    size : side length H = W, from 4 to 512
    color : "gray" (C = 1) or "rgb" (C = 3)
    """
    if name not in SAMPLES:
        raise ValueError(f"unknown sample {name!r}; choose one of: {', '.join(SAMPLES)}")
    _check_color(color)
    size = operator.index(size)
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"size must be between {MIN_SIZE} and {MAX_SIZE}, got {size}")
    if name in FIXED_SIZE:
        image = _seed002(name)
    elif name == "gradient":
        image = _gradient(size, color)
    else:
        image = _DRAWN[name](size)
    return to_color(image, color)
