"""What the normalization page steps through beyond a norm's own trace: each element's group, the
per-group sums its equations write out, lrn's channel windows, and histograms on shared bins."""

from __future__ import annotations

import numpy as np


def axis_ids(shape: tuple[int, ...], axis: int) -> np.ndarray:
    """(shape) int64: each element's index along `axis` (the group of a per-channel step)."""
    ids = np.arange(shape[axis]).reshape((1,) * axis + (-1,) + (1,) * (len(shape) - axis - 1))
    return np.broadcast_to(ids, shape).astype(np.int64)


def group_sums(x: np.ndarray, ids: np.ndarray, groups: int, mean: np.ndarray | None) -> dict[str, np.ndarray]:
    """Per group g: Σ x over the elements with ids == g and Σ (x - mean[g])² (about 0 when mean is None).

    x, ids : ndarrays of one shape; mean : (groups,) or None. Returns "sum" and "square_sum", (groups,) each.
    """
    flat = ids.ravel()
    deviation = x.ravel() - (0 if mean is None else mean[flat])
    return {
        "sum": np.bincount(flat, weights=x.ravel(), minlength=groups),
        "square_sum": np.bincount(flat, weights=deviation * deviation, minlength=groups),
    }


def channel_window(first: np.ndarray, last: np.ndarray, channels: int) -> np.ndarray:
    """(S, C) bool, True where channel c is in step s's window first[s]..last[s] (local_response_norm)."""
    c = np.arange(channels)
    return (c >= first[:, None]) & (c <= last[:, None])


def histogram_edges(values: np.ndarray, bins: int) -> np.ndarray:
    """`bins` equal bins over the values' range, (bins + 1,) edges.

    A range too narrow to split into that many representable steps (a tensor scaled by a subnormal
    gamma, or one value repeated) gets a single wider range centred on it, as NumPy does for equal
    values, instead of NumPy's error.
    """
    lo, hi = float(values.min()), float(values.max())
    edges = np.linspace(lo, hi, bins + 1)
    if np.all(edges[1:] > edges[:-1]):
        return edges
    mid = lo / 2 + hi / 2
    half = max(0.5, abs(mid) * 2.0**-20)  # past 2**20 a step of 0.5 is no longer representable
    return np.linspace(mid - half, mid + half, bins + 1)


def bin_layout(edges: np.ndarray) -> dict[str, np.ndarray | float]:
    """The edges (B + 1,), and for drawing the bars their centres (B,) and common width."""
    return {"edges": edges, "centers": (edges[:-1] + edges[1:]) / 2, "width": float(edges[1] - edges[0])}


def series_histogram(values: np.ndarray, series: np.ndarray, count: int, bins: int) -> dict:
    """Counts of `values` per series s in 0..count-1 (count, B) and in total (B,), on shared edges."""
    edges = histogram_edges(values, bins)
    counts = np.stack([np.histogram(values[series == s], bins=edges)[0] for s in range(count)])
    return {**bin_layout(edges), "counts": counts, "total": np.histogram(values, bins=edges)[0]}


def probe_errors(
    probe: np.ndarray, others: list[np.ndarray], offsets: np.ndarray, scales: np.ndarray, eps: float
) -> dict[str, float | np.ndarray]:
    """How well batches estimate the statistics, seen from one probe sample (seed 003).

    Each trial normalizes the probe (1, C, H, W) inside a batch with others[t] (n - 1, C, H, W),
    as batch_norm in training does; the population has mean offsets (C,) and std scales (C,).
    Returns "error" (T, C, H, W), the probe's x_hat minus the x_hat the population statistics
    give; "mean_error", the batch means' mean distance from the population's in standard
    deviations; "var_error", the batch variances' mean relative error; "spread" and "worst",
    the error's standard deviation and largest size.
    """
    offsets, scales = np.asarray(offsets, dtype=np.float64), np.asarray(scales, dtype=np.float64)
    ideal = (probe[0] - offsets[:, None, None]) / np.sqrt(scales[:, None, None] ** 2 + eps)  # (C, H, W)
    mean_error, var_error, error = [], [], []
    for batch in others:
        x = np.concatenate([probe, batch])  # (n, C, H, W)
        mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))  # (C,): biased, as batch_norm normalizes
        mean_error.append(np.abs(mean - offsets) / scales)
        # as a ratio of standard deviations first, since scales**2 underflows for tiny scales
        var_error.append(np.abs((np.sqrt(var) / scales) ** 2 - 1))
        error.append((probe[0] - mean[:, None, None]) / np.sqrt(var[:, None, None] + eps) - ideal)
    errors = np.stack(error)
    return {
        "error": errors,
        "mean_error": float(np.mean(mean_error)),
        "var_error": float(np.mean(var_error)),
        "spread": float(np.std(errors)),
        "worst": float(np.abs(errors).max()),
    }


def seeded_input(
    seed: int,
    key: tuple[int, ...],
    shape: tuple[int, int, int, int],
    offsets: np.ndarray,
    scales: np.ndarray,
    sample_share: float,
    decimals: int = 2,
) -> np.ndarray:
    """(N, C, H, W): offsets[c] + scales[c] * (sqrt(share) * plane draw + sqrt(1 - share) * pixel draw),
    rounded to `decimals`, from a generator seeded by (seed, *key).

    The plane draw is one per (sample, channel), the pixel draw one per element; both are unit
    normal, so the noise has unit variance and channel c's population mean and variance are
    offsets[c] and scales[c]**2 whatever the share. The same seed and key give the same numbers.
    """
    rng = np.random.default_rng([seed, *key])
    n, c, h, w = shape
    plane = rng.standard_normal((n, c, 1, 1))
    pixel = rng.standard_normal((n, c, h, w))
    noise = np.sqrt(sample_share) * plane + np.sqrt(1 - sample_share) * pixel
    offsets, scales = (np.asarray(v, dtype=np.float64)[:, None, None] for v in (offsets, scales))
    return np.round(offsets + scales * noise, decimals)
