"""A deterministic digit dataset in pure NumPy: hand-defined stroke skeletons drawn like a mouse would.

Each digit 0-9 is one or more strokes (polylines and elliptic arcs) in a unit box, x to the right and
y down. A sample picks one of the digit's variants, jitters its points, applies a random scale,
rotation, shear and shift, and rasterizes it at 28x28 as thick anti-aliased strokes (each pixel's
distance to the nearest segment). Then it goes through `fit_digit`, the same step a drawing on the
page goes through: crop to the ink, scale the longer side to 20 pixels, centre the ink's mass in 28x28
(how MNIST was prepared). Values are in [0, 1], ink 1 on background 0.
"""

from __future__ import annotations

import numpy as np

SIDE = 28  # the network's input side
BOX = 20  # the longer side of the ink after fitting, as in MNIST
INK_THRESHOLD = 0.1  # a pixel at least this dark (times the darkest) counts as ink when cropping


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, stop: float, n: int = 16) -> np.ndarray:
    """Points on an ellipse from `start` to `stop` degrees (0 = right, 90 = down, as y is down)."""
    t = np.radians(np.linspace(start, stop, n))
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def _line(*points: tuple[float, float]) -> np.ndarray:
    return np.array(points, dtype=np.float64)


# digit -> variants -> strokes, each an (P, 2) array of (x, y) in the unit box
SKELETONS: dict[int, list[list[np.ndarray]]] = {
    0: [[_arc(0.5, 0.5, 0.32, 0.46, -90, 270, 24)], [_arc(0.5, 0.5, 0.38, 0.46, -100, 250, 24)]],
    1: [
        [_line((0.5, 0.05), (0.5, 0.95))],
        [_line((0.3, 0.22), (0.55, 0.05), (0.55, 0.95))],
        [_line((0.3, 0.22), (0.55, 0.05), (0.55, 0.95)), _line((0.3, 0.95), (0.8, 0.95))],
    ],
    2: [
        [np.concatenate([_arc(0.5, 0.3, 0.32, 0.25, 195, 380), _line((0.2, 0.95), (0.88, 0.95))])],
        [np.concatenate([_arc(0.5, 0.3, 0.3, 0.25, 180, 400, 18), _line((0.15, 0.92), (0.9, 0.96))])],
    ],
    3: [
        [_arc(0.5, 0.28, 0.28, 0.23, 200, 450), _arc(0.5, 0.74, 0.32, 0.23, 270, 520)],
        [
            np.concatenate(
                [_line((0.2, 0.05), (0.8, 0.05), (0.4, 0.45)), _arc(0.5, 0.7, 0.32, 0.25, 270, 520)]
            )
        ],
    ],
    4: [
        [_line((0.62, 0.05), (0.1, 0.68), (0.9, 0.68)), _line((0.65, 0.35), (0.65, 0.95))],
        [_line((0.2, 0.05), (0.15, 0.6), (0.85, 0.6)), _line((0.7, 0.05), (0.7, 0.95))],
    ],
    5: [
        [_line((0.82, 0.05), (0.25, 0.05), (0.2, 0.45)), _arc(0.5, 0.68, 0.32, 0.27, 235, 520)],
        [
            np.concatenate(
                [_line((0.8, 0.05), (0.25, 0.05), (0.22, 0.45)), _arc(0.5, 0.7, 0.3, 0.26, 225, 510)]
            )
        ],
    ],
    6: [
        [np.concatenate([_arc(0.62, 0.55, 0.42, 0.5, 250, 180), _arc(0.5, 0.7, 0.3, 0.26, 180, -180, 24)])],
        [_arc(0.6, 0.6, 0.45, 0.55, 260, 170), _arc(0.48, 0.72, 0.28, 0.24, 0, 360, 20)],
    ],
    7: [
        [_line((0.12, 0.05), (0.88, 0.05), (0.38, 0.95))],
        [_line((0.12, 0.12), (0.12, 0.05), (0.88, 0.05), (0.4, 0.95)), _line((0.35, 0.5), (0.8, 0.5))],
    ],
    8: [
        [_arc(0.5, 0.27, 0.25, 0.22, 0, 360, 20), _arc(0.5, 0.72, 0.3, 0.24, 0, 360, 20)],
        [
            np.concatenate(
                [_arc(0.5, 0.27, 0.26, 0.22, 90, 450, 20), _arc(0.5, 0.72, 0.3, 0.24, 270, -90, 20)]
            )
        ],
    ],
    9: [
        [_arc(0.48, 0.3, 0.3, 0.26, 0, 360, 20), _line((0.78, 0.3), (0.72, 0.95))],
        [np.concatenate([_arc(0.5, 0.3, 0.3, 0.26, 0, -360, 20), _line((0.8, 0.3), (0.78, 0.95))])],
    ],
}


def _segments(strokes: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(starts (S, 2), ends (S, 2)) of every segment of every stroke."""
    starts = np.concatenate([s[:-1] for s in strokes])
    ends = np.concatenate([s[1:] for s in strokes])
    return starts, ends


def rasterize(strokes: list[np.ndarray], width: float, side: int = SIDE) -> np.ndarray:
    """Strokes in pixel coordinates (x, y) drawn `width` pixels thick, anti-aliased: (side, side) in [0, 1].

    A pixel's ink is its centre's distance d to the nearest segment turned into coverage:
    clip(width / 2 - d + 0.5, 0, 1), a one-pixel soft edge.
    """
    a, b = _segments(strokes)
    ys, xs = np.mgrid[0:side, 0:side].astype(np.float64) + 0.5
    dx, dy = xs.reshape(-1, 1) - a[:, 0], ys.reshape(-1, 1) - a[:, 1]  # (P, S): pixel centre - start
    abx, aby = b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]
    t = np.clip((dx * abx + dy * aby) / np.maximum(abx**2 + aby**2, 1e-12), 0.0, 1.0)
    d = np.sqrt(((dx - t * abx) ** 2 + (dy - t * aby) ** 2).min(axis=1))
    return np.clip(width / 2 - d + 0.5, 0.0, 1.0).reshape(side, side)


def _resample_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) weights taking a row of n_in pixels to n_out: box averages when shrinking,
    linear interpolation when enlarging."""
    scale = n_in / n_out
    m = np.zeros((n_out, n_in))
    if scale >= 1:
        for i in range(n_out):
            lo, hi = i * scale, (i + 1) * scale
            for j in range(int(np.floor(lo)), min(n_in, int(np.ceil(hi)))):
                m[i, j] = min(hi, j + 1) - max(lo, j)
        return m / scale
    centres = np.clip((np.arange(n_out) + 0.5) * scale - 0.5, 0, n_in - 1)
    left = np.floor(centres).astype(int)
    right = np.minimum(left + 1, n_in - 1)
    frac = centres - left
    m[np.arange(n_out), left] += 1 - frac
    m[np.arange(n_out), right] += frac
    return m


def _shift(x: np.ndarray, down: int, right: int) -> np.ndarray:
    """x moved by whole pixels, zeros moving in."""
    h, w = x.shape
    out = np.zeros_like(x)
    rows, cols = slice(max(down, 0), h + min(down, 0)), slice(max(right, 0), w + min(right, 0))
    out[rows, cols] = x[max(-down, 0) : h - max(down, 0), max(-right, 0) : w - max(right, 0)]
    return out


def fit_digit(image: np.ndarray) -> np.ndarray:
    """Any (H, W) drawing in [0, 1] (ink 1) as the network sees it: (28, 28).

    Crop to the ink's bounding box, scale its longer side to 20 pixels (aspect kept), place it in the
    middle of 28x28, then move it by whole pixels so the ink's centre of mass sits at the centre.
    A drawing without ink gives zeros.
    """
    x = np.clip(np.asarray(image, dtype=np.float64), 0.0, 1.0)
    if x.ndim != 2:
        raise ValueError(f"image must have shape (H, W), got {x.shape}")
    top = x.max()
    if top <= 0:
        return np.zeros((SIDE, SIDE))
    rows = np.flatnonzero((x >= INK_THRESHOLD * top).any(axis=1))
    cols = np.flatnonzero((x >= INK_THRESHOLD * top).any(axis=0))
    crop = x[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = crop.shape
    scale = BOX / max(h, w)
    oh, ow = max(1, round(h * scale)), max(1, round(w * scale))
    small = _resample_matrix(h, oh) @ crop @ _resample_matrix(w, ow).T
    out = np.zeros((SIDE, SIDE))
    r0, c0 = (SIDE - oh) // 2, (SIDE - ow) // 2
    out[r0 : r0 + oh, c0 : c0 + ow] = small
    mass = out.sum()
    ys, xs = np.mgrid[0:SIDE, 0:SIDE] + 0.5
    down = round(SIDE / 2 - (ys * out).sum() / mass)
    right = round(SIDE / 2 - (xs * out).sum() / mass)
    return np.clip(_shift(out, down, right), 0.0, 1.0)


def draw_digit(digit: int, rng: np.random.Generator) -> np.ndarray:
    """One random drawing of `digit` at 28x28, before fitting: (28, 28) in [0, 1]."""
    variants = SKELETONS[digit]
    strokes = [s + rng.normal(0, 0.035, s.shape) for s in variants[rng.integers(len(variants))]]
    angle = np.radians(rng.uniform(-18, 18))
    shear = rng.uniform(-0.35, 0.35)
    sx, sy = rng.uniform(0.6, 1.25), rng.uniform(0.85, 1.15)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    affine = rot @ np.array([[1.0, shear], [0.0, 1.0]]) @ np.diag([sx, sy])
    height = rng.uniform(14, 24)  # pixels the unit box spans
    centre = np.array([SIDE / 2, SIDE / 2]) + rng.uniform(-3, 3, 2)
    placed = [(s - 0.5) @ affine.T * height + centre for s in strokes]
    width = rng.uniform(0.07, 0.16) * height  # after fitting to 20 pixels: 1.4 to 3.2 pixels
    return rasterize(placed, width)


def make_dataset(count: int, seed: int, noise: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """(images (count, 1, 28, 28) float32, labels (count,) int64): classes in turn, fitted, with noise.

    Deterministic: the same count and seed give the same arrays. Noise is Gaussian with standard
    deviation `noise`, added after fitting and clipped back into [0, 1].
    """
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % 10
    images = np.empty((count, 1, SIDE, SIDE), dtype=np.float32)
    for i, digit in enumerate(labels):
        fitted = fit_digit(draw_digit(int(digit), rng))
        images[i, 0] = np.clip(fitted + rng.normal(0, noise, fitted.shape) * (noise > 0), 0.0, 1.0)
    return images, labels.astype(np.int64)


def sample_digit(digit: int, seed: int) -> np.ndarray:
    """The page's sample: `digit` drawn with generator seed `seed`, fitted, without noise (28, 28)."""
    if not 0 <= digit <= 9:
        raise ValueError(f"digit must be 0-9, got {digit}")
    return fit_digit(draw_digit(digit, np.random.default_rng([seed, digit])))
