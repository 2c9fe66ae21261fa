"""Operation families at the issue's sizes: what a pool, norm or attention trace costs over bare NumPy.

Each case times the engine call with its full record (every window, every group, every query row)
against the same output computed here with plain vectorized NumPy and no record, after checking the
two agree. The conv case at 224x224x3 is in engine_bench.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from bench.common import Section, Target, measure, ms, ratio
from layerlab.engine.attention import scaled_dot_product_attention
from layerlab.engine.norm import batch_norm, group_norm, layer_norm
from layerlab.engine.pool import avg_pool2d, max_pool2d

RATIO_TARGET = 2.0
POOL_SHAPE = (1, 3, 224, 224)  # (N, C, H, W)
NORM_SHAPE = (32, 64, 28, 28)
ATTENTION_SHAPE = (1, 8, 128, 64)  # (N, heads, tokens, head_dim)
EPS = 1e-5


def bare_max_pool(x: np.ndarray, k: int, s: int, p: int) -> np.ndarray:
    """x (N, C, H, W) -> (N, C, OH, OW): the max over a strided window view of the -inf-padded input."""
    padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-np.inf)
    return sliding_window_view(padded, (k, k), axis=(2, 3))[:, :, ::s, ::s].max(axis=(4, 5))


def bare_max_pool_taps(x: np.ndarray, k: int, s: int, p: int) -> np.ndarray:
    """The same as a running np.maximum over the k*k strided slices of the padded input."""
    padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-np.inf)
    oh, ow = (padded.shape[2] - k) // s + 1, (padded.shape[3] - k) // s + 1
    taps = [
        padded[:, :, u : u + s * (oh - 1) + 1 : s, v : v + s * (ow - 1) + 1 : s]
        for u in range(k)
        for v in range(k)
    ]
    out = taps[0].copy()
    for tap in taps[1:]:
        np.maximum(out, tap, out=out)
    return out


def bare_avg_pool(x: np.ndarray, k: int, s: int) -> np.ndarray:
    """x (N, C, H, W) -> (N, C, OH, OW), no padding: the mean over a strided window view."""
    return sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::s, ::s].mean(axis=(4, 5))


def bare_avg_pool_taps(x: np.ndarray, k: int, s: int) -> np.ndarray:
    """The same as a running sum of the k*k strided slices, divided by k*k."""
    oh, ow = (x.shape[2] - k) // s + 1, (x.shape[3] - k) // s + 1
    out = np.zeros((*x.shape[:2], oh, ow))
    for u in range(k):
        for v in range(k):
            out += x[:, :, u : u + s * (oh - 1) + 1 : s, v : v + s * (ow - 1) + 1 : s]
    return out / (k * k)


def bare_norm(x: np.ndarray, axes: tuple[int, ...], gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """(x - mean) / sqrt(var + eps) * gamma + beta, statistics over `axes`, scaled and shifted in place."""
    deviation = x - x.mean(axis=axes, keepdims=True)
    var = np.square(deviation).mean(axis=axes, keepdims=True)
    deviation *= gamma / np.sqrt(var + EPS)
    deviation += beta
    return deviation


def bare_group_norm(x: np.ndarray, groups: int, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """group_norm: channels split into `groups` runs, each (n, run) normalized, then a per channel affine."""
    grouped = x.reshape(x.shape[0], groups, -1)
    deviation = grouped - grouped.mean(axis=2, keepdims=True)
    deviation /= np.sqrt(np.square(deviation).mean(axis=2, keepdims=True) + EPS)
    out = deviation.reshape(x.shape)
    out *= gamma[:, None, None]
    out += beta[:, None, None]
    return out


def bare_sdpa_einsum(q: np.ndarray, k: np.ndarray, v: np.ndarray) -> np.ndarray:
    """softmax(q kᵀ / sqrt(E)) v with einsum, (..., L, E) -> (..., L, Ev)."""
    scores = np.einsum("...le,...se->...ls", q, k) / math.sqrt(q.shape[-1])
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return np.einsum("...ls,...sv->...lv", e / e.sum(axis=-1, keepdims=True), v)


def bare_sdpa_matmul(q: np.ndarray, k: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The same with matmul (BLAS) and an in-place softmax."""
    scores = q @ np.swapaxes(k, -1, -2)
    scores *= 1 / math.sqrt(q.shape[-1])
    scores -= scores.max(axis=-1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(axis=-1, keepdims=True)
    return scores @ v


@dataclass(frozen=True)
class Case:
    family: str
    label: str
    shape: tuple[int, ...]
    trace: Callable[[], np.ndarray]  # the engine call with its full record; returns its output
    bare: dict[str, Callable[[], np.ndarray]]  # candidates for the same output; the fastest is the baseline


def cases() -> list[Case]:
    rng = np.random.default_rng(0)
    img = rng.standard_normal(POOL_SHAPE)
    x = rng.standard_normal(NORM_SHAPE)
    gamma, beta = rng.standard_normal(NORM_SHAPE[1]), rng.standard_normal(NORM_SHAPE[1])
    g_chw, b_chw = rng.standard_normal(NORM_SHAPE[1:]), rng.standard_normal(NORM_SHAPE[1:])
    g_c, b_c = gamma.reshape(-1, 1, 1), beta.reshape(-1, 1, 1)
    q, k, v = (rng.standard_normal(ATTENTION_SHAPE) for _ in range(3))
    sdpa = {"einsum": lambda: bare_sdpa_einsum(q, k, v), "matmul": lambda: bare_sdpa_matmul(q, k, v)}
    return [
        Case(
            "pool",
            "max_pool2d k2 s2",
            POOL_SHAPE,
            lambda: max_pool2d(img, 2, record_steps=True).output,
            {"view": lambda: bare_max_pool(img, 2, 2, 0), "taps": lambda: bare_max_pool_taps(img, 2, 2, 0)},
        ),
        Case(
            "pool",
            "max_pool2d k3 s2 p1",
            POOL_SHAPE,
            lambda: max_pool2d(img, 3, 2, 1, record_steps=True).output,
            {"view": lambda: bare_max_pool(img, 3, 2, 1), "taps": lambda: bare_max_pool_taps(img, 3, 2, 1)},
        ),
        Case(
            "pool",
            "avg_pool2d k2 s2",
            POOL_SHAPE,
            lambda: avg_pool2d(img, 2, record_steps=True).output,
            {"view": lambda: bare_avg_pool(img, 2, 2), "taps": lambda: bare_avg_pool_taps(img, 2, 2)},
        ),
        Case(
            "norm",
            "batch_norm training",
            NORM_SHAPE,
            lambda: batch_norm(x, None, None, gamma, beta, training=True).output,
            {"numpy": lambda: bare_norm(x, (0, 2, 3), g_c, b_c)},
        ),
        Case(
            "norm",
            "layer_norm (C, H, W)",
            NORM_SHAPE,
            lambda: layer_norm(x, NORM_SHAPE[1:], g_chw, b_chw).output,
            {"numpy": lambda: bare_norm(x, (1, 2, 3), g_chw, b_chw)},
        ),
        Case(
            "norm",
            "group_norm 8 groups",
            NORM_SHAPE,
            lambda: group_norm(x, 8, gamma, beta).output,
            {"numpy": lambda: bare_group_norm(x, 8, gamma, beta)},
        ),
        Case(
            "attention",
            "scaled_dot_product_attention",
            ATTENTION_SHAPE,
            lambda: scaled_dot_product_attention(q, k, v, record_steps=True).output,
            sdpa,
        ),
    ]


def _time(case: Case, repeats: int) -> dict:
    expected = case.trace()
    for name, bare in case.bare.items():
        if not np.allclose(bare(), expected, rtol=1e-10, atol=1e-10):
            raise AssertionError(f"bare {case.label} ({name}) disagrees with the engine at {case.shape}")
    bare_times = {name: measure(bare, repeats) for name, bare in case.bare.items()}
    fastest = min(bare_times, key=lambda name: bare_times[name].median_ms)
    trace = measure(case.trace, repeats)
    return {
        "family": case.family,
        "label": case.label,
        "shape": case.shape,
        "bare": {name: t.__dict__ for name, t in bare_times.items()},
        "bare_fastest": fastest,
        "trace": trace.__dict__,
        "trace_over_bare": trace.median_ms / bare_times[fastest].median_ms,
    }


def run(quick: bool) -> Section:
    repeats = 3 if quick else 15
    results = [_time(case, repeats) for case in cases()]
    section = Section(
        title=f"Families: pool, norm and attention traces vs the fastest bare NumPy (median of {repeats})",
        headers=["operation", "input", "bare ms", "bare method", "trace ms", "trace/bare"],
        data={"repeats": repeats, "cases": results},
    )
    for r in results:
        name = "x".join(map(str, r["shape"]))
        bare = r["bare"][r["bare_fastest"]]["median_ms"]
        trace, over = r["trace"]["median_ms"], r["trace_over_bare"]
        section.rows.append([r["label"], name, ms(bare), r["bare_fastest"], ms(trace), ratio(over)])
        section.targets.append(Target(f"{r['label']} trace/bare at {name}", over, RATIO_TARGET, "x"))
    section.notes.append(
        "trace: the engine call with its full record (every window, every group's statistics, every "
        "query row); bare: the same output in plain vectorized NumPy written here, checked equal; "
        "the fastest candidate is the baseline"
    )
    return section
