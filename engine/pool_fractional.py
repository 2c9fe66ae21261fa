"""Fractional max pooling (Graham 2014, "Fractional Max-Pooling", arXiv:1412.6071), as
torch.nn.functional.fractional_max_pool2d: k x k windows whose starts follow a pseudo-random sequence,
so the output size need not divide the input size.

Each plane draws a sample u in [0, 1) per axis; with alpha = (H - k) / (OH - 1) window i starts at
floor((i + u) * alpha) - floor(u * alpha), and the last window ends at the input's edge (torch's
`generate_intervals`). torch computes alpha in the input's dtype; here it is float64.
"""

from __future__ import annotations

import numpy as np

from layerlab.engine.errors import ArgumentError
from layerlab.engine.trace import RecordSteps, Trace, recorded_trace

Pair = int | tuple[int, int]


def _pair(value: Pair | None, name: str) -> tuple[int, int] | None:
    if value is None:
        return None
    pair = (value, value) if isinstance(value, int | np.integer) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int | np.integer) and v >= 1 for v in pair):
        raise ArgumentError(name, f"{name} must be a positive int or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def fractional_starts(sample: np.ndarray, size: int, out: int, kernel: int) -> np.ndarray:
    """Window starts (..., out) for samples (...,) in [0, 1): torch's generate_intervals."""
    if out == 1:
        return np.full((*sample.shape, 1), size - kernel, dtype=np.int64)
    alpha = (size - kernel) / (out - 1)
    i = np.arange(out - 1)
    starts = np.floor((i + sample[..., None]) * alpha) - np.floor(sample[..., None] * alpha)
    last = np.full((*sample.shape, 1), size - kernel)
    return np.concatenate([starts, last], axis=-1).astype(np.int64)


class _Windows:
    """The steps of fractional max pooling for a range of flat step indices, in C order (plane, i, j):
    index (n, c, i, j), box (row0, row1, col0, col1) half-open, window (kH, kW), valid (all true: every
    window lies inside), winner (row, col) of the first largest, result. Holds the planes (P, H, W)
    and the window starts rows (P, OH), cols (P, OW)."""

    def __init__(
        self, planes: np.ndarray, rows: np.ndarray, cols: np.ndarray, kernel: tuple[int, int], c: int
    ):
        self.planes, self.rows, self.cols, self.kernel, self.channels = planes, rows, cols, kernel, c
        self.shape = (len(planes), rows.shape[1], cols.shape[1])
        self.total = int(np.prod(self.shape))

    def __call__(self, steps: range) -> dict[str, np.ndarray]:
        (kh, kw), c = self.kernel, self.channels
        p, i, j = np.unravel_index(np.arange(steps.start, steps.stop), self.shape)
        top, left = self.rows[p, i], self.cols[p, j]
        r, q = top[:, None] + np.arange(kh), left[:, None] + np.arange(kw)
        window = self.planes[p[:, None, None], r[:, :, None], q[:, None, :]]  # (S, kH, kW)
        flat = window.reshape(len(window), kh * kw)
        first = flat.argmax(axis=1)  # argmax keeps the first largest, as torch
        return {
            "index": np.stack([p // c, p % c, i, j], axis=1).astype(np.int32),
            "box": np.stack([top, top + kh, left, left + kw], axis=1).astype(np.int32),
            "window": window,
            "valid": np.ones(window.shape, dtype=bool),
            "winner": np.stack([top + first // kw, left + first % kw], axis=1).astype(np.int32),
            "result": flat.max(axis=1),
        }

    def output(self) -> np.ndarray:
        """Every window's max (P, OH, OW): a running maximum over the kernel's rows at each window row
        (P, OH, W), then over its columns at each window column (exact, and NaN wins, as max)."""
        (kh, kw), rows, cols = self.kernel, self.rows[:, :, None], self.cols[:, None, :]
        by_rows = np.take_along_axis(self.planes, rows, axis=1)
        for a in range(1, kh):
            np.maximum(by_rows, np.take_along_axis(self.planes, rows + a, axis=1), out=by_rows)
        pooled = np.take_along_axis(by_rows, cols, axis=2)
        for b in range(1, kw):
            np.maximum(pooled, np.take_along_axis(by_rows, cols + b, axis=2), out=pooled)
        return pooled

    def winners(self, out: np.ndarray) -> np.ndarray:
        """Each window's first largest cell (P, OH, OW) as row * W + col, tap by tap in C order (a NaN
        wins where there is one, as argmax and torch's max find it)."""
        (kh, kw), width = self.kernel, self.planes.shape[2]
        p = np.arange(len(self.planes))[:, None, None]
        found = np.full(out.shape, -1, dtype=np.int32)
        for a in range(kh):
            for b in range(kw):
                row, col = self.rows[:, :, None] + a, self.cols[:, None, :] + b
                cell = self.planes[p, row, col]
                new = (found < 0) & ((cell == out) | np.isnan(cell))
                found[new] = (row * width + col)[new]  # (P, OH, 1) + (P, 1, OW)
        return found


def fractional_max_pool2d(
    input: np.ndarray,
    kernel_size: Pair,
    output_size: Pair | None = None,
    output_ratio: float | tuple[float, float] | None = None,
    return_indices: bool = False,
    _random_samples: np.ndarray | None = None,
    seed: int = 0,
    *,
    record_steps: RecordSteps = "lazy",
) -> Trace:
    """torch.nn.functional.fractional_max_pool2d: input (N, C, H, W) or (C, H, W) -> (N, C, OH, OW).

    output_size, or output_ratio (OH = int(H * ratio)); _random_samples (N, C, 2) holds each plane's
    (u_width, u_height) as in torch, drawn from `seed` when not given. Steps as adaptive pooling's:
    index, box (row0, row1, col0, col1), window, valid, winner, result, recorded as `record_steps` asks
    (see conv2d; on demand by default). Stage "samples" (N, C, 2), and "indices" (N, C, OH, OW) when
    return_indices.
    """
    x = np.asarray(input, dtype=np.float64)
    unbatched = x.ndim == 3
    x = x[None] if unbatched else x
    if x.ndim != 4 or 0 in x.shape:
        raise ArgumentError(
            "input", f"input must be a non-empty (N, C, H, W) or (C, H, W) array, got {x.shape}"
        )
    n, c, height, width = x.shape
    kh, kw = _pair(kernel_size, "kernel_size")
    if output_size is None:
        if output_ratio is None:
            raise ArgumentError("output_size", "give output_size or output_ratio")
        rh, rw = output_ratio if isinstance(output_ratio, tuple | list) else (output_ratio, output_ratio)
        if not (0 < rh < 1 and 0 < rw < 1):
            raise ArgumentError("output_ratio", f"output_ratio must be in (0, 1), got {output_ratio!r}")
        output_size = (int(height * rh), int(width * rw))
    oh, ow = _pair(output_size, "output_size")
    if oh + kh - 1 > height or ow + kw - 1 > width:
        raise ArgumentError(
            "kernel_size",
            f"output_size {(oh, ow)} with kernel_size {(kh, kw)} needs an input of at least "
            f"{(oh + kh - 1, ow + kw - 1)}, got {(height, width)}",
        )
    samples = (
        np.random.default_rng(seed).random((n, c, 2))
        if _random_samples is None
        else np.asarray(_random_samples, dtype=np.float64).reshape(n, c, 2)
    )
    rows = fractional_starts(samples[..., 1], height, oh, kh).reshape(n * c, oh)  # window starts per plane
    cols = fractional_starts(samples[..., 0], width, ow, kw).reshape(n * c, ow)
    windows = _Windows(x.reshape(n * c, height, width), rows, cols, (kh, kw), c)
    pooled = windows.output()
    out = pooled.reshape(n, c, oh, ow)
    stages = {"samples": samples[0] if unbatched else samples}
    if return_indices:
        flat = windows.winners(pooled).reshape(n, c, oh, ow)
        stages["indices"] = flat[0] if unbatched else flat
    params = {
        "kernel_size": (kh, kw),
        "output_size": (oh, ow),
        "input_size": (height, width),
        "alpha": tuple((s - k) / max(o - 1, 1) for s, k, o in ((height, kh, oh), (width, kw, ow))),
        "return_indices": return_indices,
    }
    output = out[0] if unbatched else out
    return recorded_trace(
        "fractional_max_pool2d", params, output, stages, record_steps, windows, windows.total
    )
