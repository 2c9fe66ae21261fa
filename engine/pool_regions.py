"""Pooling over bins instead of sliding windows: adaptive, global, spatial pyramid and ROI pooling.

Seed 003 lists spatial pyramid and region-of-interest pooling among the pooling layers.
- Adaptive pooling (torch.nn.functional.adaptive_avg_pool2d / adaptive_max_pool2d) cuts H into `out`
  bins, bin i covering rows floor(i*H/out) up to ceil((i+1)*H/out) (exclusive): neighbouring bins may
  share a row, and every bin holds at least one. Global pooling is adaptive pooling to 1x1.
- Spatial pyramid pooling (He et al. 2014, SPP-net) pools each level l on an l x l adaptive grid and
  concatenates the flattened levels: C * sum(l*l) numbers whatever the input size. (The paper's
  window ceil(H/l) with stride floor(H/l) can produce fewer bins; torch's adaptive bins never do.)
- ROI pooling (Girshick 2015, Fast R-CNN) as torchvision.ops.roi_pool: box corners scaled and rounded
  half away from zero, the box (inclusive corners) cut into bins floor(i*h/out)..ceil((i+1)*h/out),
  clipped to the input; max in each bin, 0 for an empty bin. Computed in float64.

Steps, one per output bin in C order: index (S, 4); box (S, 4) the bin as (row0, row1, col0, col1),
half-open, in input coordinates; window (S, bH, bW) its cells top-left aligned in a block as large as the
largest bin, valid (S, bH, bW) True on the bin's cells (the rest is -inf for max, 0 for avg); result (S,);
for max, winner (S, 2) the (row, col) of the first largest cell ((-1, -1) if the bin is empty); for avg,
count (S,).

Each takes record_steps (keyword) as conv2d does, "lazy" by default: the trace keeps the input and
the bin edges, and a chunk of steps gathers only its bins' cells. Adaptive and pyramid outputs are
reduced straight from the input (a reshape when the bins are equal, else rows then columns), so an
avg step's result may differ from its output element in the last bits (~1e-16); max ones agree
exactly. ROI pooling and adaptive max with return_indices gather their outputs from the steps, a
chunk at a time.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np

from layerlab.engine.pool import _batched
from layerlab.engine.trace import RecordSteps, Trace, recorded_trace

OutputSize = int | None | tuple[int | None, int | None]


def _output_size(output_size: OutputSize, size: tuple[int, int] | None) -> tuple[int, int]:
    """output_size as a pair of positive ints; None keeps the input size (torch), when size is given."""
    pair = tuple(output_size) if isinstance(output_size, tuple | list) else (output_size, output_size)
    if len(pair) != 2:
        raise ValueError(f"output_size must be an int or a pair, got {output_size!r}")
    if size is not None:
        pair = tuple(s if o is None else o for o, s in zip(pair, size, strict=True))
    if not all(isinstance(o, int | np.integer) and o >= 1 for o in pair):
        raise ValueError(f"output_size must hold positive ints, got {output_size!r}")
    return int(pair[0]), int(pair[1])


def _edges(size: int, out: int) -> list[tuple[int, int]]:
    """torch's adaptive bins as Python pairs [floor(i*size/out), ceil((i+1)*size/out))."""
    return [(i * size // out, ((i + 1) * size + out - 1) // out) for i in range(out)]


def adaptive_edges(size: int, out: int) -> np.ndarray:
    """torch's adaptive bins: (out, 2) of [floor(i*size/out), ceil((i+1)*size/out))."""
    return np.array(_edges(size, out), dtype=np.int64).reshape(out, 2)


class _Bins:
    """The steps of bins steps.start..steps.stop (flat over (B, C, OH, OW), C order), for any range.

    x : (N, C, H, W); batch : (B,) the image each region reads; row_bins : (B, OH, 2) and
    col_bins : (B, OW, 2) half-open edges, inside the input, or (OH, 2) and (OW, 2) shared by every
    image (adaptive bins); mode "max" or "avg". Every chunk's windows are (bH, bW), the largest bin's
    extent (`block`, measured when not given), so chunks read as rows of one record.
    Holds only the input and the bin edges.
    """

    def __init__(self, x, batch, row_bins, col_bins, mode: str, roi: bool = False, block=None):
        self.x, self.batch, self.row_bins, self.col_bins = np.ascontiguousarray(x), batch, row_bins, col_bins
        self.mode = mode
        self.roi = roi  # the steps also name the image each region reads: batch (S,)
        self.shared = row_bins.ndim == 2  # the same bins on every image
        self.shape = (len(batch), x.shape[1], row_bins.shape[-2], col_bins.shape[-2])
        if block is None:
            block = tuple(max(1, int(np.ptp(bins, axis=-1).max())) for bins in (row_bins, col_bins))
        self.block = block
        self.total = math.prod(self.shape)
        # adaptive bins that tile the input (H % OH == W % OW == 0): every bin a block of one reshape
        (_, _, height, width), (_, _, oh, ow) = x.shape, self.shape
        self.tiled = (
            not roi and height % oh == 0 and width % ow == 0 and self.block == (height // oh, width // ow)
        )

    @property
    def values_per_step(self) -> int:
        """index and box 4 each, window and valid bH*bW each, result, and winner (2) or count, and batch."""
        return 9 + 2 * self.block[0] * self.block[1] + (2 if self.mode == "max" else 1) + self.roi

    def __call__(self, steps: range) -> dict[str, np.ndarray]:
        bh, bw = self.block
        index = np.stack(np.unravel_index(np.arange(steps.start, steps.stop), self.shape), axis=1)
        k, c, i, j = index.T
        if self.shared:
            row, col = self.row_bins[i], self.col_bins[j]  # (S, 2) each
        else:
            row, col = self.row_bins[k, i], self.col_bins[k, j]
        rows, cols = row[:, :1] + np.arange(bh), col[:, :1] + np.arange(bw)  # (S, bH), (S, bW)
        if self.tiled:  # every bin fills its block
            valid = np.ones((len(index), bh, bw), dtype=bool)
        else:
            valid = (rows < row[:, 1:])[:, :, None] & (cols < col[:, 1:])[:, None, :]  # (S, bH, bW)
        filled = True  # the cells outside each bin already hold _reduce's fill
        if self.tiled:
            window = self._tiles(steps)
        elif not self.roi and self.shape[2] * self.shape[3] <= 256:  # a few bins: slice them
            window = self._binwise(steps)
        else:
            window, filled = self._take(k, c, rows, cols), False
        steps = {"index": index.astype(np.int32), "box": np.concatenate([row, col], axis=1).astype(np.int32)}
        steps = _reduce(steps | {"window": window, "valid": valid}, self.mode, filled)
        if self.roi:
            steps["batch"] = self.batch[k].astype(np.int32)
        return steps

    def _take(self, k: np.ndarray, c: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """The (S, bH, bW) cells at rows (S, bH) and cols (S, bW) of image batch[k], channel c (S,)."""
        _, channels, height, width = self.x.shape
        rows, cols = np.clip(rows, 0, height - 1), np.clip(cols, 0, width - 1)
        plane = (self.batch[k] * channels + c) * (height * width)  # flat offsets: one take, not 4-D indexing
        return np.take(self.x.reshape(-1), plane[:, None, None] + rows[:, :, None] * width + cols[:, None, :])

    def _tiles(self, steps: range) -> np.ndarray:
        """The same cells when the bins tile the input: the rows of bins the chunk reaches, reshaped."""
        (bh, bw), ow = self.block, self.shape[3]
        first, last = steps.start // ow, -(-steps.stop // ow)  # rows of bins over every (n, c) plane
        band = self.x.reshape(-1, bh, ow, bw)[first:last]
        blocks = band.transpose(0, 2, 1, 3).reshape(-1, bh, bw)  # one copy, (rows * OW, bH, bW)
        return blocks[steps.start - first * ow : steps.stop - first * ow]

    def _binwise(self, steps: range) -> np.ndarray:
        """The same cells, bin by bin (adaptive bins are the same on every plane): each bin the chunk
        reaches copied from the planes it reaches; cells outside a bin hold `_reduce`'s fill."""
        (bh, bw), (_, _, oh, ow) = self.block, self.shape
        plane, count = oh * ow, len(steps)
        planes = self.x.reshape(-1, *self.x.shape[2:])  # (N*C, H, W)
        rows, cols = self.row_bins.tolist(), self.col_bins.tolist()  # Python ints: cheap to slice with
        window = np.full((count, bh, bw), _FILL[self.mode])
        for s in range(min(plane, count)):  # the chunk's steps s, s + plane, ... share one bin
            p, b = divmod(steps.start + s, plane)
            (r0, r1), (c0, c1) = rows[b // ow], cols[b % ow]
            window[s::plane, : r1 - r0, : c1 - c0] = planes[
                p : p + (count - s - 1) // plane + 1, r0:r1, c0:c1
            ]
        return window

    def fields(self, names: tuple[str, ...]) -> dict[str, np.ndarray]:
        """Fields of every step, gathered a chunk at a time so the whole record never exists at once."""
        chunk = max(1, (1 << 18) // (self.block[0] * self.block[1]))
        parts = [self(range(a, min(a + chunk, self.total))) for a in range(0, self.total, chunk)]
        return {name: np.concatenate([part[name] for part in parts]) for name in names}


_FILL = {"avg": 0.0, "max": -np.inf}  # a window's cells outside its bin


def _reduce(steps: dict[str, np.ndarray], mode: str, filled: bool = False) -> dict[str, np.ndarray]:
    """Pool each bin, max (first largest cell wins; an empty bin gives 0) or avg; adds result and more.

    filled: the window's cells outside each bin already hold the fill (else they are filled here)."""
    valid = steps["valid"].reshape(len(steps["index"]), math.prod(steps["valid"].shape[1:]))
    window = steps["window"]  # freshly gathered: the cells outside the bin are filled in place
    if not filled and not valid.all():
        np.copyto(window, _FILL[mode], where=~steps["valid"])
    if mode == "avg":  # adaptive bins lie inside the input: a bin's cells are its box's area
        box = steps["box"].astype(np.int64)
        count = (box[:, 1] - box[:, 0]) * (box[:, 3] - box[:, 2])
        return {**steps, "count": count, "result": window.sum(axis=(1, 2)) / count}
    values = window.reshape(valid.shape)
    # the first largest cell: the rest of the block is -inf and a bin's first cell is its top-left one
    first = values.argmax(axis=1)
    best = values[np.arange(len(values)), first]
    found = valid[:, 0] & ~np.isnan(best)  # an empty bin, or a NaN in it (max propagates it): no winner
    bw = window.shape[2]
    winner = np.stack([steps["box"][:, 0] + first // bw, steps["box"][:, 2] + first % bw], axis=1)
    return {
        **steps,
        "window": window,
        "winner": np.where(found[:, None], winner, -1).astype(np.int32),
        "result": np.where(found, best, 0.0),
    }


def _max_over_columns(x: np.ndarray, edges: list[tuple[int, int]]) -> np.ndarray | None:
    """x's maximum over each bin of its last axis in one reduceat (start, end, start, ... of every bin,
    the even results; along a contiguous axis, unlike the rows); None when a bin before the last ends
    at the edge (reduceat cannot be given that end)."""
    if any(end >= x.shape[-1] for _, end in edges[:-1]):
        return None
    bounds = [edge for pair in edges for edge in pair][:-1]  # the last bin runs to the end
    return np.ascontiguousarray(np.maximum.reduceat(x, bounds, axis=-1)[..., ::2])


def _pooled(x: np.ndarray, rows: list[tuple[int, int]], cols: list[tuple[int, int]], mode: str) -> np.ndarray:
    """Adaptive pooling's output without its steps: (N, C, OH, OW), bins reduced along rows, then columns.

    max is exact; avg sums a bin's cells in another order than its step does (within ~1e-16).
    """
    n, c, height, width = x.shape
    oh, ow = len(rows), len(cols)
    if height % oh == 0 and width % ow == 0:  # equal, disjoint bins: one reshape
        blocks = x.reshape(n, c, oh, height // oh, ow, width // ow)
        return blocks.max(axis=(3, 5)) if mode == "max" else blocks.mean(axis=(3, 5))
    reduce = np.maximum.reduce if mode == "max" else np.sum  # np.max without its argument handling
    by_rows = np.stack([reduce(x[:, :, a:b], axis=2) for a, b in rows], axis=2)  # (N, C, OH, W)
    out = _max_over_columns(by_rows, cols) if mode == "max" else None
    if out is None:
        out = np.stack([reduce(by_rows[..., a:b], axis=3) for a, b in cols], axis=3)
    return out if mode == "max" else out / np.outer(np.ptp(rows, axis=1), np.ptp(cols, axis=1))


def _adaptive_bins(
    x: np.ndarray, oh: int, ow: int, mode: str
) -> tuple[list[tuple[int, int]], list[tuple[int, int]], _Bins]:
    """torch's adaptive bin edges of x (N, C, H, W) for an (oh, ow) output, as Python pairs, and
    their step recorder (which holds them as arrays, `row_bins` (OH, 2) and `col_bins` (OW, 2))."""
    rows, cols = _edges(x.shape[2], oh), _edges(x.shape[3], ow)
    block = (max(b - a for a, b in rows), max(b - a for a, b in cols))
    as_array = functools.partial(np.array, dtype=np.int64)
    bins = _Bins(x, np.arange(x.shape[0]), as_array(rows), as_array(cols), mode, block=block)
    return rows, cols, bins


def _adaptive(
    op: str,
    input: np.ndarray,
    output_size: OutputSize,
    mode: str,
    return_indices: bool,
    record_steps: RecordSteps,
) -> Trace:
    x, unbatched = _batched(input)
    n, c, height, width = x.shape
    oh, ow = _output_size(output_size, (height, width))
    rows, cols, bins = _adaptive_bins(x, oh, ow, mode)
    stages = {"row_bins": bins.row_bins, "col_bins": bins.col_bins}
    if return_indices:  # the winners come from the steps, gathered a chunk at a time
        fields = bins.fields(("result", "winner"))
        out = fields["result"].reshape(n, c, oh, ow)
        flat = (fields["winner"][:, 0] * width + fields["winner"][:, 1]).reshape(n, c, oh, ow)
        stages["indices"] = flat[0] if unbatched else flat
    else:
        out = _pooled(x, rows, cols, mode)
    params = {"output_size": (oh, ow), "input_size": (height, width), "return_indices": return_indices}
    return recorded_trace(op, params, out[0] if unbatched else out, stages, record_steps, bins, bins.total)


def adaptive_avg_pool2d(
    input: np.ndarray, output_size: OutputSize, *, record_steps: RecordSteps = "lazy"
) -> Trace:
    """torch.nn.functional.adaptive_avg_pool2d: input (N, C, H, W) or (C, H, W) -> (N, C, OH, OW).

    output_size : int or pair, an entry None keeping that input size. Stages "row_bins" (OH, 2) and
    "col_bins" (OW, 2), the bin edges.
    """
    return _adaptive("adaptive_avg_pool2d", input, output_size, "avg", False, record_steps)


def adaptive_max_pool2d(
    input: np.ndarray,
    output_size: OutputSize,
    return_indices: bool = False,
    *,
    record_steps: RecordSteps = "lazy",
) -> Trace:
    """torch.nn.functional.adaptive_max_pool2d; with return_indices, stage "indices" (N, C, OH, OW) holds
    torch's second return value, the winner's flat row*W + col."""
    return _adaptive("adaptive_max_pool2d", input, output_size, "max", return_indices, record_steps)


def global_avg_pool2d(input: np.ndarray, *, record_steps: RecordSteps = "lazy") -> Trace:
    """Mean over each whole channel: adaptive_avg_pool2d(input, 1), output (N, C, 1, 1)."""
    return _adaptive("global_avg_pool2d", input, 1, "avg", False, record_steps)


def global_max_pool2d(
    input: np.ndarray, return_indices: bool = False, *, record_steps: RecordSteps = "lazy"
) -> Trace:
    """Max over each whole channel: adaptive_max_pool2d(input, 1), output (N, C, 1, 1)."""
    return _adaptive("global_max_pool2d", input, 1, "max", return_indices, record_steps)


class _Levels:
    """spatial_pyramid_pool2d's steps: each level's bins in turn, without window and valid, with
    feature (the position in the output vector) and level."""

    def __init__(self, levels: list[tuple[int, int, _Bins]]):  # (level, feature offset, its bins)
        self.levels = levels

    @property
    def values_per_step(self) -> int:
        """index and box 4 each, feature, level, result, and winner (2) or count."""
        return 11 + (2 if self.levels[0][2].mode == "max" else 1)

    def __call__(self, steps: range) -> dict[str, np.ndarray]:
        parts, start = [], 0
        for level, offset, bins in self.levels:
            lo, hi = max(steps.start - start, 0), min(steps.stop - start, bins.total)
            if lo < hi:
                parts.append(self._part(level, offset, bins, range(lo, hi)))
            start += bins.total
        if not parts:  # an empty range: empty fields of the right dtypes
            parts.append(self._part(*self.levels[0], range(0)))
        return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}

    @staticmethod
    def _part(level: int, offset: int, bins: _Bins, steps: range) -> dict[str, np.ndarray]:
        part = {k: v for k, v in bins(steps).items() if k not in ("window", "valid")}
        i = part["index"]
        part["feature"] = offset + (i[:, 1] * level + i[:, 2]) * level + i[:, 3]
        part["level"] = np.full(len(i), level, dtype=np.int32)
        return part


def spatial_pyramid_pool2d(
    input: np.ndarray,
    levels: Sequence[int] = (1, 2, 4),
    mode: str = "max",
    *,
    record_steps: RecordSteps = "lazy",
) -> Trace:
    """Spatial pyramid pooling (seed 003; He et al. 2014): a fixed-length vector from any input size.

    input : (N, C, H, W) or (C, H, W); levels : distinct positive ints; mode : "max" or "avg".
    Returns a Trace with output (N, C * sum(l*l)) (or (C * sum(l*l),)): for each level in order, the
    (C, l, l) adaptive pooling flattened. Stages "level_<l>" (N, C, l, l). Steps, level after level:
    level (S,), index (n, c, row, col) within the level, box, feature (S,) the position in the output
    vector, result, and winner (max) or count (avg); no window (bins differ in size across levels).
    """
    levels = tuple(levels)
    if (
        not levels
        or len(set(levels)) != len(levels)
        or not all(isinstance(level, int | np.integer) and level >= 1 for level in levels)
    ):
        raise ValueError(f"levels must be distinct positive ints, got {levels!r}")
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    x, unbatched = _batched(input)
    n, c = x.shape[:2]
    outputs, stages, recorders, offset = [], {}, [], 0
    for level in levels:
        rows, cols, bins = _adaptive_bins(x, int(level), int(level), mode)
        pooled = _pooled(x, rows, cols, mode)
        outputs.append(pooled.reshape(n, -1))
        stages[f"level_{level}"] = pooled[0] if unbatched else pooled
        recorders.append((int(level), offset, bins))
        offset += c * level * level
    out = np.concatenate(outputs, axis=1)
    params = {
        "levels": tuple(int(level) for level in levels),
        "mode": mode,
        "input_size": x.shape[2:],
        "output_length": offset,
    }
    total = sum(bins.total for *_, bins in recorders)
    out = out[0] if unbatched else out
    return recorded_trace(
        "spatial_pyramid_pool2d", params, out, stages, record_steps, _Levels(recorders), total
    )


def _round_half_away(values: np.ndarray) -> np.ndarray:
    """C's round(): halves go away from zero (NumPy's round goes to even)."""
    return (np.sign(values) * np.floor(np.abs(values) + 0.5)).astype(np.int64)


def roi_pool2d(
    input: np.ndarray,
    boxes: np.ndarray,
    output_size: int | tuple[int, int],
    spatial_scale: float = 1.0,
    *,
    record_steps: RecordSteps = "lazy",
) -> Trace:
    """Region-of-interest max pooling (seed 003), as torchvision.ops.roi_pool.

    input : (N, C, H, W); boxes : (K, 5) rows [batch_index, x1, y1, x2, y2] in input pixels before
    spatial_scale. A box with x2 < x1 (or y2 < y1) is one cell wide, as in torchvision.
    Returns a Trace with output (K, C, OH, OW); stages "rois" (K, 4) the rounded box as half-open
    (row0, row1, col0, col1) before clipping, and "bin_size" (K, 2) (height, width); steps index
    (k, c, row, col), batch (S,) the image read, box, window, valid, result, winner.
    """
    x = np.asarray(input, dtype=np.float64)
    if x.ndim != 4 or 0 in x.shape:
        raise ValueError(f"input must be a non-empty (N, C, H, W) array, got shape {x.shape}")
    b = np.asarray(boxes, dtype=np.float64)
    if b.ndim != 2 or b.shape[1] != 5 or len(b) == 0:
        raise ValueError(
            f"boxes must have shape (K, 5) with K >= 1: [batch_index, x1, y1, x2, y2], got {b.shape}"
        )
    if not np.isfinite(b).all():
        raise ValueError("boxes must be finite")
    if (b[:, 0] != np.round(b[:, 0])).any() or b[:, 0].min() < 0 or b[:, 0].max() >= x.shape[0]:
        raise ValueError(f"box batch indices must be ints in [0, {x.shape[0]}), got {b[:, 0].tolist()}")
    if not (np.isfinite(spatial_scale) and spatial_scale > 0):
        raise ValueError(f"spatial_scale must be a finite positive number, got {spatial_scale!r}")
    oh, ow = _output_size(output_size, None)
    x1, y1, x2, y2 = _round_half_away(b[:, 1:] * spatial_scale).T
    heights, widths = np.maximum(y2 - y1 + 1, 1), np.maximum(x2 - x1 + 1, 1)
    bin_h, bin_w = heights / oh, widths / ow  # (K,)

    def bins(start: np.ndarray, bin_size: np.ndarray, out: int, size: int) -> np.ndarray:
        i = np.arange(out)
        lo = np.floor(i * bin_size[:, None]).astype(np.int64) + start[:, None]
        hi = np.ceil((i + 1) * bin_size[:, None]).astype(np.int64) + start[:, None]
        return np.clip(np.stack([lo, hi], axis=2), 0, size)  # (K, out, 2)

    batch = b[:, 0].astype(np.int64)
    regions = _Bins(
        x, batch, bins(y1, bin_h, oh, x.shape[2]), bins(x1, bin_w, ow, x.shape[3]), "max", roi=True
    )
    out = regions.fields(("result",))["result"].reshape(len(b), x.shape[1], oh, ow)
    stages = {
        "rois": np.stack([y1, y1 + heights, x1, x1 + widths], axis=1),
        "bin_size": np.stack([bin_h, bin_w], axis=1),
    }
    params = {"output_size": (oh, ow), "spatial_scale": float(spatial_scale), "input_size": x.shape[2:]}
    return recorded_trace("roi_pool2d", params, out, stages, record_steps, regions, regions.total)
