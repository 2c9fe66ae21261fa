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
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from layerlab.engine.pool import _batched
from layerlab.engine.trace import Trace

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


def adaptive_edges(size: int, out: int) -> np.ndarray:
    """torch's adaptive bins: (out, 2) of [floor(i*size/out), ceil((i+1)*size/out))."""
    i = np.arange(out)
    return np.stack([i * size // out, ((i + 1) * size + out - 1) // out], axis=1)


def _gather(
    x: np.ndarray, batch: np.ndarray, row_bins: np.ndarray, col_bins: np.ndarray
) -> dict[str, np.ndarray]:
    """Every bin's cells, vectorized over bins with fancy indexing (no loop).

    x : (N, C, H, W); batch : (B,) the image each region reads; row_bins : (B, OH, 2) and
    col_bins : (B, OW, 2) half-open edges, inside the input.
    Returns index, box, window and valid in C order (b, c, row, col).
    """
    b, c, oh, ow = len(batch), x.shape[1], row_bins.shape[1], col_bins.shape[1]
    bh = max(1, int(np.ptp(row_bins, axis=2).max()))
    bw = max(1, int(np.ptp(col_bins, axis=2).max()))
    rows = row_bins[:, :, :1] + np.arange(bh)  # (B, OH, bH)
    cols = col_bins[:, :, :1] + np.arange(bw)  # (B, OW, bW)
    in_rows, in_cols = rows < row_bins[:, :, 1:], cols < col_bins[:, :, 1:]
    rows, cols = np.clip(rows, 0, x.shape[2] - 1), np.clip(cols, 0, x.shape[3] - 1)
    cells = x[
        batch[:, None, None, None, None, None],
        np.arange(c)[None, :, None, None, None, None],
        rows[:, None, :, :, None, None],
        cols[:, None, None, None, :, :],
    ]  # (B, C, OH, bH, OW, bW)
    valid = np.broadcast_to(
        in_rows[:, None, :, :, None, None] & in_cols[:, None, None, None, :, :], cells.shape
    )
    index = np.indices((b, c, oh, ow), dtype=np.int32).reshape(4, -1).T
    box = np.concatenate([row_bins[index[:, 0], index[:, 2]], col_bins[index[:, 0], index[:, 3]]], axis=1)
    return {
        "index": index,
        "box": box.astype(np.int32),
        "window": cells.transpose(0, 1, 2, 4, 3, 5).reshape(-1, bh, bw),
        "valid": valid.transpose(0, 1, 2, 4, 3, 5).reshape(-1, bh, bw),
    }


def _reduce(steps: dict[str, np.ndarray], mode: str) -> dict[str, np.ndarray]:
    """Pool each bin, max (first largest cell wins; an empty bin gives 0) or avg; adds result and more."""
    valid = steps["valid"].reshape(len(steps["index"]), -1)
    if mode == "avg":
        window = np.where(steps["valid"], steps["window"], 0.0)
        count = valid.sum(axis=1)
        return {**steps, "window": window, "count": count, "result": window.sum(axis=(1, 2)) / count}
    window = np.where(steps["valid"], steps["window"], -np.inf)
    values = window.reshape(valid.shape)
    best = values.max(axis=1)
    hit = (values == best[:, None]) & valid
    first, found = hit.argmax(axis=1), hit.any(axis=1)
    bw = window.shape[2]
    winner = np.stack([steps["box"][:, 0] + first // bw, steps["box"][:, 2] + first % bw], axis=1)
    return {
        **steps,
        "window": window,
        "winner": np.where(found[:, None], winner, -1).astype(np.int32),
        "result": np.where(found, best, 0.0),
    }


def _adaptive(op: str, input: np.ndarray, output_size: OutputSize, mode: str, return_indices: bool) -> Trace:
    x, unbatched = _batched(input)
    n, c, height, width = x.shape
    oh, ow = _output_size(output_size, (height, width))
    rows, cols = adaptive_edges(height, oh), adaptive_edges(width, ow)
    steps = _reduce(
        _gather(x, np.arange(n), np.broadcast_to(rows, (n, oh, 2)), np.broadcast_to(cols, (n, ow, 2))), mode
    )
    out = steps["result"].reshape(n, c, oh, ow)
    stages = {"row_bins": rows, "col_bins": cols}
    if return_indices:
        flat = steps["winner"][:, 0] * width + steps["winner"][:, 1]
        stages["indices"] = flat.reshape(n, c, oh, ow)[0] if unbatched else flat.reshape(n, c, oh, ow)
    params = {"output_size": (oh, ow), "input_size": (height, width), "return_indices": return_indices}
    return Trace(op, params, out[0] if unbatched else out, stages, steps)


def adaptive_avg_pool2d(input: np.ndarray, output_size: OutputSize) -> Trace:
    """torch.nn.functional.adaptive_avg_pool2d: input (N, C, H, W) or (C, H, W) -> (N, C, OH, OW).

    output_size : int or pair, an entry None keeping that input size. Stages "row_bins" (OH, 2) and
    "col_bins" (OW, 2), the bin edges.
    """
    return _adaptive("adaptive_avg_pool2d", input, output_size, "avg", False)


def adaptive_max_pool2d(input: np.ndarray, output_size: OutputSize, return_indices: bool = False) -> Trace:
    """torch.nn.functional.adaptive_max_pool2d; with return_indices, stage "indices" (N, C, OH, OW) holds
    torch's second return value, the winner's flat row*W + col."""
    return _adaptive("adaptive_max_pool2d", input, output_size, "max", return_indices)


def global_avg_pool2d(input: np.ndarray) -> Trace:
    """Mean over each whole channel: adaptive_avg_pool2d(input, 1), output (N, C, 1, 1)."""
    return _adaptive("global_avg_pool2d", input, 1, "avg", False)


def global_max_pool2d(input: np.ndarray, return_indices: bool = False) -> Trace:
    """Max over each whole channel: adaptive_max_pool2d(input, 1), output (N, C, 1, 1)."""
    return _adaptive("global_max_pool2d", input, 1, "max", return_indices)


def spatial_pyramid_pool2d(input: np.ndarray, levels: Sequence[int] = (1, 2, 4), mode: str = "max") -> Trace:
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
    outputs, stages, parts, offset = [], {}, [], 0
    for level in levels:
        trace = _adaptive("", x, int(level), mode, False)
        outputs.append(trace.output.reshape(n, -1))
        stages[f"level_{level}"] = trace.output[0] if unbatched else trace.output
        steps = {k: v for k, v in trace.steps.items() if k not in ("window", "valid")}
        i = steps["index"]
        steps["feature"] = offset + (i[:, 1] * level + i[:, 2]) * level + i[:, 3]
        steps["level"] = np.full(len(i), level, dtype=np.int32)
        parts.append(steps)
        offset += c * level * level
    out = np.concatenate(outputs, axis=1)
    steps = {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}
    params = {
        "levels": tuple(int(level) for level in levels),
        "mode": mode,
        "input_size": x.shape[2:],
        "output_length": offset,
    }
    return Trace("spatial_pyramid_pool2d", params, out[0] if unbatched else out, stages, steps)


def _round_half_away(values: np.ndarray) -> np.ndarray:
    """C's round(): halves go away from zero (NumPy's round goes to even)."""
    return (np.sign(values) * np.floor(np.abs(values) + 0.5)).astype(np.int64)


def roi_pool2d(
    input: np.ndarray, boxes: np.ndarray, output_size: int | tuple[int, int], spatial_scale: float = 1.0
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
    steps = _reduce(
        _gather(x, batch, bins(y1, bin_h, oh, x.shape[2]), bins(x1, bin_w, ow, x.shape[3])), "max"
    )
    steps["batch"] = batch[steps["index"][:, 0]].astype(np.int32)
    stages = {
        "rois": np.stack([y1, y1 + heights, x1, x1 + widths], axis=1),
        "bin_size": np.stack([bin_h, bin_w], axis=1),
    }
    params = {"output_size": (oh, ow), "spatial_scale": float(spatial_scale), "input_size": x.shape[2:]}
    return Trace("roi_pool2d", params, steps["result"].reshape(len(b), x.shape[1], oh, ow), stages, steps)
