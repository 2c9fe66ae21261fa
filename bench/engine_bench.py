"""Engine: what recording a trace costs over a bare NumPy convolution of the same shape.

Also the size of the JSON the page downloads for a full 28x28 trace.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import orjson
from numpy.lib.stride_tricks import sliding_window_view

from bench.common import Section, Target, Timing, measure, ms, ratio
from layerlab.engine.conv import conv2d

SHAPES = [(1, 1, 28, 28), (1, 1, 128, 128), (1, 3, 224, 224)]  # (N, C, H, W), 3x3 kernel, padding 1
TRACE_RATIO_TARGET = 2.0
TRACE_JSON_TARGET_KB = 40.0
EDGE = [[-1.0, -1.0, -1.0], [-1.0, 8.0, -1.0], [-1.0, -1.0, -1.0]]  # the page's default kernel


def _windows(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(N, C, H, W) zero-padded by 1, viewed as (N, C, OH, OW, kH, kW) windows (no copy)."""
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    return sliding_window_view(padded, w.shape[2:], axis=(2, 3))


def bare_einsum(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """x (N, C, H, W), w (F, C, kH, kW) -> (N, F, OH, OW) with one einsum over the window view."""
    return np.einsum("nchwij,fcij->nfhw", _windows(x, w), w)


def bare_tensordot(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Same as bare_einsum through tensordot (which copies the windows into a matrix)."""
    out = np.tensordot(_windows(x, w), w, axes=((1, 4, 5), (1, 2, 3)))  # (N, OH, OW, F)
    return out.transpose(0, 3, 1, 2)


def bare_shift_add(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Same result as a sum of shifted, weighted slices of the padded input: no window copy at all."""
    n, c, h, width = x.shape
    f, _, kh, kw = w.shape
    padded = np.zeros((n, c, h + 2, width + 2))  # as fast a zero padding as NumPy has (np.pad: ~40 us more)
    padded[:, :, 1:-1, 1:-1] = x
    oh, ow = h + 2 - kh + 1, width + 2 - kw + 1
    out = np.zeros((n, f, oh, ow))
    for o in range(f):
        for ch in range(c):
            for i in range(kh):
                for j in range(kw):
                    out[:, o] += w[o, ch, i, j] * padded[:, ch, i : i + oh, j : j + ow]  # (N, OH, OW)
    return out


BARE: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "einsum": bare_einsum,
    "tensordot": bare_tensordot,
    "shift-add": bare_shift_add,
}


def _inputs(shape: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.random(shape), rng.standard_normal((1, shape[1], 3, 3))


def _time_shape(shape: tuple[int, int, int, int], repeats: int) -> dict:
    x, w = _inputs(shape)
    reference = conv2d(x, w, padding=1, record_steps=False).output
    for name, bare in BARE.items():
        if not np.allclose(bare(x, w), reference):
            raise AssertionError(f"bare conv {name} disagrees with engine.conv2d at {shape}")
    bare_times = {name: measure(lambda f=f: f(x, w), repeats) for name, f in BARE.items()}
    fastest = min(bare_times, key=lambda k: bare_times[k].median_ms)
    trace = measure(lambda: conv2d(x, w, padding=1, record_steps=True), repeats)
    live = measure(lambda: conv2d(x, w, padding=1, record_steps=False), repeats)
    bare = bare_times[fastest]
    return {
        "shape": shape,
        "bare": {name: t.__dict__ for name, t in bare_times.items()},
        "bare_fastest": fastest,
        "trace": trace.__dict__,
        "live": live.__dict__,
        "trace_over_bare": trace.median_ms / bare.median_ms,
        "live_over_bare": live.median_ms / bare.median_ms,
        "trace_over_einsum": trace.median_ms / bare_times["einsum"].median_ms,
    }


def trace_json_size(size: int = 28) -> dict:
    """Bytes of the page's first /api/conv/trace response (all steps, with stages), raw and gzipped.

    Served in-process by the real app; "gzip" is what the app's own middleware sends.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

        from layerlab.app.main import create_app

    body = {
        "image": "scene",
        "size": size,
        "color": "gray",
        "weight": [[EDGE]],
        "bias": [0],
        "padding": [1, 1],
        "filter": 0,
        "step": 0,
        "stages": True,
    }
    with TestClient(create_app()) as client:
        plain = client.post("/api/conv/trace", json=body, headers={"Accept-Encoding": "identity"})
        zipped = client.post("/api/conv/trace", json=body, headers={"Accept-Encoding": "gzip"})
    for r in (plain, zipped):
        r.raise_for_status()
    data = plain.json()
    if data["num_steps"] != size * size or len(data["steps"]["result"]) != size * size:
        raise AssertionError("the 28x28 trace response does not hold every step")
    return {
        "size": size,
        "steps": data["num_steps"],
        "field_bytes": _field_bytes(data),
        "raw_bytes": len(plain.content),
        "gzip_bytes": zipped.num_bytes_downloaded,
        "content_encoding": zipped.headers.get("content-encoding", "identity"),
    }


def _field_bytes(data: dict) -> dict[str, int]:
    """Raw JSON bytes per top-level field, steps and stages split by field, largest first."""
    sizes = {}
    for key, value in data.items():
        if key in ("steps", "stages") and isinstance(value, dict):
            sizes.update({f"{key}.{k}": len(orjson.dumps(v)) for k, v in value.items()})
        else:
            sizes[key] = len(orjson.dumps(value))
    return dict(sorted(sizes.items(), key=lambda kv: -kv[1]))


def _shape_name(shape: tuple[int, int, int, int]) -> str:
    return "x".join(map(str, shape))


def run(quick: bool) -> Section:
    repeats = 5 if quick else 30
    results = [_time_shape(shape, repeats) for shape in SHAPES]
    size = trace_json_size()
    section = Section(
        title=f"Engine: conv2d trace and live path vs the fastest bare NumPy conv (median of {repeats})",
        headers=["input", "bare ms", "bare method", "trace ms", "trace/bare", "live ms", "live/bare"],
        data={"repeats": repeats, "shapes": results, "trace_json_28": size},
    )
    for r in results:
        b = r["bare"][r["bare_fastest"]]
        section.rows.append(
            [
                _shape_name(r["shape"]),
                ms(b["median_ms"]),
                r["bare_fastest"],
                ms(r["trace"]["median_ms"]),
                ratio(r["trace_over_bare"]),
                ms(r["live"]["median_ms"]),
                ratio(r["live_over_bare"]),
            ]
        )
        section.targets.append(
            Target(f"trace/bare at {_shape_name(r['shape'])}", r["trace_over_bare"], TRACE_RATIO_TARGET, "x")
        )
    for r in results:
        cands = ", ".join(f"{k} {ms(Timing(**v).median_ms)}" for k, v in r["bare"].items())
        section.notes.append(
            f"bare candidates at {_shape_name(r['shape'])} (ms): {cands}; "
            f"trace/einsum {ratio(r['trace_over_einsum'])}"
        )
    kb_raw, kb_gzip = size["raw_bytes"] / 1000, size["gzip_bytes"] / 1000
    section.notes.append(
        f"28x28 trace response ({size['steps']} steps, stages included): {kb_raw:.1f} KB raw, "
        f"{kb_gzip:.1f} KB {size['content_encoding']} (target <= {TRACE_JSON_TARGET_KB:.0f} KB compressed)"
    )
    largest = ", ".join(f"{k} {v / 1000:.0f}" for k, v in list(size["field_bytes"].items())[:5])
    section.notes.append(f"largest fields of that response (KB raw): {largest}")
    section.targets.append(Target("28x28 trace JSON, compressed", kb_gzip, TRACE_JSON_TARGET_KB, "KB"))
    return section
