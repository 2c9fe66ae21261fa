"""Trace cost: peak memory of a large default call, and "output plus one chunk of steps" per family.

(a) The ResNet-conv1-sized conv2d (1x3x224x224 input, 64x3x7x7 weight, stride 2, padding 3) with
default arguments, in a fresh subprocess: peak resident memory (ru_maxrss) minus the baseline after
the imports and inputs. Steps are recorded on demand, so the call holds the output and stages only.
(b) For every step-recording family at the sizes the other engine benches use: the time of the call
with its default (lazy) record plus one chunk of steps as the chunked routes read it (chunk_length:
settings.trace_chunk_steps steps, fewer when they would carry over settings.trace_chunk_values
numbers), over the fastest bare vectorized NumPy computation of the same output (the baselines of
engine_bench.py, family_bench.py and families_bench.py; adaptive pooling, linear and the LSTM have
their own here).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bench import engine_bench, families_bench, family_bench
from bench.common import Section, Target, measure, ms, ratio
from layerlab.app.config import settings
from layerlab.engine.attention import scaled_dot_product_attention
from layerlab.engine.conv import conv2d
from layerlab.engine.grouped import conv1d
from layerlab.engine.linear import linear
from layerlab.engine.norm import batch_norm, group_norm, layer_norm
from layerlab.engine.pool import avg_pool2d, max_pool2d
from layerlab.engine.pool_fractional import fractional_max_pool2d, fractional_starts
from layerlab.engine.pool_regions import adaptive_avg_pool2d, adaptive_max_pool2d
from layerlab.engine.recurrent import init_params, lstm
from layerlab.engine.trace import chunk_length
from layerlab.engine.transposed import conv_transpose2d

MEMORY_TARGET_MB = 500.0
RATIO_TARGET = 2.0
CONV_SHAPE = engine_bench.SHAPES[-1]  # (1, 3, 224, 224), 3x3 kernel, padding 1
FAMILY_SIZE = family_bench.SIZES[-1]  # 224: 1x4x224x224 grouped and transposed
LINEAR_SHAPE = (64, 512, 256)  # (batch, in_features, out_features)
LSTM_SHAPE = (24, 4, 8, 8)  # (T, N, input_size, hidden_size): the recurrent page's largest T and H

_MEMORY_SCRIPT = """
import json, resource, sys, tracemalloc
import numpy as np
from layerlab.engine.conv import conv2d
from layerlab.engine.trace import chunk_length
rng = np.random.default_rng(0)
x, w = rng.random((1, 3, 224, 224)), rng.standard_normal((64, 3, 7, 7))
conv2d(x[..., :16, :16], w, stride=2, padding=3)  # first use: code paths and small buffers
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()
t = conv2d(x, w, stride=2, padding=3)
traced = tracemalloc.get_traced_memory()[1]
after_call = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
chunk = t.steps_between(0, chunk_length(t, int(sys.argv[1]), int(sys.argv[2])))
after_chunk = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.stop()
one_step = sum(column.nbytes for column in t.steps_between(0, 1).values())
print(json.dumps({"base_kb": base, "call_kb": after_call - base, "chunk_kb": after_chunk - base,
                  "traced_peak_bytes": traced, "eager_bytes": one_step * t.num_steps,
                  "num_steps": t.num_steps, "output_bytes": t.output.nbytes,
                  "stage_bytes": sum(s.nbytes for s in t.stages.values()), "repr": repr(t)}))
"""


def peak_memory() -> dict:
    """The ResNet-conv1-sized default conv2d call in a fresh interpreter (ru_maxrss, Linux KB)."""
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            _MEMORY_SCRIPT,
            str(settings.trace_chunk_steps),
            str(settings.trace_chunk_values),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def bare_conv1d(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """x (N, C_in, L), w (C_out, C_in, k), padding k//2 -> (N, C_out, L): one matmul per tap."""
    k, pad = w.shape[2], w.shape[2] // 2
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad)))
    length = x.shape[2]
    out = np.zeros((x.shape[0], w.shape[0], length))
    for u in range(k):
        out += np.einsum("oc,ncl->nol", w[:, :, u], padded[:, :, u : u + length])
    return out


def bare_adaptive_max(x: np.ndarray, out: int) -> np.ndarray:
    """torch's adaptive max bins, bin by bin: floor(i*H/out) .. ceil((i+1)*H/out) on each axis."""
    h, w = x.shape[2:]
    rows = [(i * h // out, -(-(i + 1) * h // out)) for i in range(out)]
    cols = [(j * w // out, -(-(j + 1) * w // out)) for j in range(out)]
    pooled = np.empty((*x.shape[:2], out, out))
    for i, (r0, r1) in enumerate(rows):
        for j, (c0, c1) in enumerate(cols):
            pooled[:, :, i, j] = x[:, :, r0:r1, c0:c1].max(axis=(2, 3))
    return pooled


def bare_fractional_max(x: np.ndarray, samples: np.ndarray, kernel: int, out: int) -> np.ndarray:
    """torch's fractional max pooling with the windows `samples` (N, C, 2) start: a running maximum
    over the kernel's rows at every window row, then over its columns at every window column."""
    height, width = x.shape[2:]
    rows = fractional_starts(samples[..., 1], height, out, kernel)[..., None]  # (N, C, OH, 1)
    cols = fractional_starts(samples[..., 0], width, out, kernel)[..., None, :]  # (N, C, 1, OW)
    by_rows = np.take_along_axis(x, rows, axis=2)
    for a in range(1, kernel):
        np.maximum(by_rows, np.take_along_axis(x, rows + a, axis=2), out=by_rows)  # (N, C, OH, W)
    pooled = np.take_along_axis(by_rows, cols, axis=3)
    for b in range(1, kernel):
        np.maximum(pooled, np.take_along_axis(by_rows, cols + b, axis=3), out=pooled)
    return pooled


def bare_lstm(x: np.ndarray, p: dict[str, np.ndarray]) -> np.ndarray:
    """One LSTM layer, x (T, N, I) -> (T, N, H): the input's share of every gate in one matmul."""
    hidden = p["weight_hh_l0"].shape[1]
    gates_in = x @ p["weight_ih_l0"].T + (p["bias_ih_l0"] + p["bias_hh_l0"])  # (T, N, 4H)
    h, c = np.zeros((x.shape[1], hidden)), np.zeros((x.shape[1], hidden))
    out = np.empty((x.shape[0], x.shape[1], hidden))
    for t in range(x.shape[0]):
        g = gates_in[t] + h @ p["weight_hh_l0"].T
        i, f, o = (1.0 / (1.0 + np.exp(-g[:, k * hidden : (k + 1) * hidden])) for k in (0, 1, 3))
        c = f * c + i * np.tanh(g[:, 2 * hidden : 3 * hidden])
        h = out[t] = o * np.tanh(c)
    return out


@dataclass(frozen=True)
class Case:
    label: str
    shape: tuple[int, ...]
    lazy: Callable[[], object]  # the default call; returns its trace
    bare: dict[str, Callable[[], np.ndarray]]  # candidates for the same output; the fastest counts


def chunk_steps(trace) -> int:
    """The steps in a chunk of `trace`, as the chunked routes size it."""
    return chunk_length(trace, settings.trace_chunk_steps, settings.trace_chunk_values)


def _chunk(make: Callable[[], object]) -> Callable[[], np.ndarray]:
    """The default call, then one chunk of steps as a chunked route reads it; returns the output."""

    def run() -> np.ndarray:
        trace = make()
        trace.steps_between(0, chunk_steps(trace))
        return trace.output

    return run


def cases() -> list[Case]:
    rng = np.random.default_rng(0)
    x, w = engine_bench._inputs(CONV_SHAPE)
    conv_bare = {name: (lambda f=f: f(x, w)) for name, f in engine_bench.BARE.items()}
    c = family_bench.CHANNELS
    xf = rng.random((1, c, FAMILY_SIZE, FAMILY_SIZE))
    wt, wg = rng.standard_normal((c, c, 3, 3)), rng.standard_normal((c, c // 2, 3, 3))
    s, p = family_bench.STRIDE, family_bench.PADDING
    x1, w1 = rng.random((1, c, FAMILY_SIZE * FAMILY_SIZE)), rng.standard_normal((c, c, 3))
    img = rng.standard_normal(families_bench.POOL_SHAPE)
    xn = rng.standard_normal(families_bench.NORM_SHAPE)
    gamma, beta = rng.standard_normal(xn.shape[1]), rng.standard_normal(xn.shape[1])
    g_chw, b_chw = rng.standard_normal(xn.shape[1:]), rng.standard_normal(xn.shape[1:])
    q, k, v = (rng.standard_normal(families_bench.ATTENTION_SHAPE) for _ in range(3))
    batch, n_in, n_out = LINEAR_SHAPE
    xl, wl, bl = (
        rng.standard_normal((batch, n_in)),
        rng.standard_normal((n_out, n_in)),
        rng.standard_normal(n_out),
    )
    samples = rng.random((*img.shape[:2], 2))
    steps, batch_r, n_in_r, hidden = LSTM_SHAPE
    xr, pr = rng.standard_normal((steps, batch_r, n_in_r)), init_params("lstm", n_in_r, hidden, seed=1)
    fb = families_bench
    return [
        Case("conv2d 3x3 p1", CONV_SHAPE, lambda: conv2d(x, w, padding=1), conv_bare),
        Case(
            "conv2d groups=2",
            xf.shape,
            lambda: conv2d(xf, wg, padding=1, groups=2),
            {"shift-add": lambda: family_bench.bare_grouped_conv(xf, wg, 2)},
        ),
        Case(
            "conv1d k3 p1",
            x1.shape,
            lambda: conv1d(x1, w1, padding=1),
            {"taps": lambda: bare_conv1d(x1, w1)},
        ),
        Case(
            "conv_transpose2d s2 p1",
            xf.shape,
            lambda: conv_transpose2d(xf, wt, stride=s, padding=p),
            {"scatter": lambda: family_bench.bare_conv_transpose(xf, wt, s, p)},
        ),
        Case(
            "max_pool2d k3 s2 p1",
            img.shape,
            lambda: max_pool2d(img, 3, 2, 1),
            {
                "view": lambda: fb.bare_max_pool(img, 3, 2, 1),
                "taps": lambda: fb.bare_max_pool_taps(img, 3, 2, 1),
            },
        ),
        Case(
            "avg_pool2d k2 s2",
            img.shape,
            lambda: avg_pool2d(img, 2),
            {"view": lambda: fb.bare_avg_pool(img, 2, 2), "taps": lambda: fb.bare_avg_pool_taps(img, 2, 2)},
        ),
        Case(
            "adaptive_avg_pool2d 7x7",
            img.shape,
            lambda: adaptive_avg_pool2d(img, 7),
            {"reshape": lambda: img.reshape(*img.shape[:2], 7, 32, 7, 32).mean(axis=(3, 5))},
        ),
        Case(
            "adaptive_max_pool2d 6x6",
            img.shape,
            lambda: adaptive_max_pool2d(img, 6),
            {"bins": lambda: bare_adaptive_max(img, 6)},
        ),
        Case(
            "fractional_max_pool2d k3 112x112",
            img.shape,
            lambda: fractional_max_pool2d(img, 3, 112, _random_samples=samples),
            {"taps": lambda: bare_fractional_max(img, samples, 3, 112)},
        ),
        Case(
            "batch_norm training",
            xn.shape,
            lambda: batch_norm(xn, None, None, gamma, beta, training=True),
            {"numpy": lambda: fb.bare_norm(xn, (0, 2, 3), gamma.reshape(-1, 1, 1), beta.reshape(-1, 1, 1))},
        ),
        Case(
            "layer_norm (C, H, W)",
            xn.shape,
            lambda: layer_norm(xn, xn.shape[1:], g_chw, b_chw),
            {"numpy": lambda: fb.bare_norm(xn, (1, 2, 3), g_chw, b_chw)},
        ),
        Case(
            "group_norm 8 groups",
            xn.shape,
            lambda: group_norm(xn, 8, gamma, beta),
            {"numpy": lambda: fb.bare_group_norm(xn, 8, gamma, beta)},
        ),
        Case(
            "scaled_dot_product_attention",
            q.shape,
            lambda: scaled_dot_product_attention(q, k, v),
            {"einsum": lambda: fb.bare_sdpa_einsum(q, k, v), "matmul": lambda: fb.bare_sdpa_matmul(q, k, v)},
        ),
        Case(
            "linear",
            (batch, n_in),
            lambda: linear(xl, wl, bl),
            {"matmul": lambda: xl @ wl.T + bl},
        ),
        Case("lstm", xr.shape, lambda: lstm(xr, None, pr), {"loop": lambda: bare_lstm(xr, pr)}),
    ]


def _time(case: Case, repeats: int) -> dict:
    timed = _chunk(case.lazy)
    expected = timed()
    steps = chunk_steps(case.lazy())
    for name, bare in case.bare.items():
        if not np.allclose(bare(), expected, rtol=1e-9, atol=1e-9):
            raise AssertionError(f"bare {case.label} ({name}) disagrees with the engine at {case.shape}")
    bare_times = {name: measure(bare, repeats) for name, bare in case.bare.items()}
    fastest = min(bare_times, key=lambda name: bare_times[name].median_ms)
    chunk = measure(timed, repeats)
    base = bare_times[fastest]
    return {
        "label": case.label,
        "shape": case.shape,
        "bare": {name: t.__dict__ for name, t in bare_times.items()},
        "bare_fastest": fastest,
        "chunk_steps": steps,
        "chunk": chunk.__dict__,
        "chunk_over_bare": chunk.median_ms / base.median_ms,
        "chunk_over_bare_p95": chunk.p95_ms / base.p95_ms,
    }


def run(quick: bool) -> Section:
    repeats = 3 if quick else 15
    memory = peak_memory()
    results = [_time(case, repeats) for case in cases()]
    chunk, values = settings.trace_chunk_steps, settings.trace_chunk_values
    section = Section(
        title=f"Trace: default call plus one chunk (at most {chunk} steps and {values} numbers) vs the "
        f"fastest bare NumPy (median of {repeats})",
        headers=[
            "operation",
            "input",
            "bare ms",
            "bare p95",
            "method",
            "steps",
            "chunk ms",
            "chunk p95",
            "ratio",
            "p95 ratio",
        ],
        data={
            "repeats": repeats,
            "chunk_steps": chunk,
            "chunk_values": values,
            "memory": memory,
            "cases": results,
        },
    )
    for r in results:
        b = r["bare"][r["bare_fastest"]]
        section.rows.append(
            [
                r["label"],
                "x".join(map(str, r["shape"])),
                ms(b["median_ms"]),
                ms(b["p95_ms"]),
                r["bare_fastest"],
                str(r["chunk_steps"]),
                ms(r["chunk"]["median_ms"]),
                ms(r["chunk"]["p95_ms"]),
                ratio(r["chunk_over_bare"]),
                ratio(r["chunk_over_bare_p95"]),
            ]
        )
        section.targets.append(
            Target(f"default call + chunk / bare, {r['label']}", r["chunk_over_bare"], RATIO_TARGET, "x")
        )
    call_mb, chunk_mb = memory["call_kb"] / 1024, memory["chunk_kb"] / 1024
    section.notes.append(
        f"ResNet conv1 (1x3x224x224, 64x3x7x7, stride 2, padding 3), default call: peak RSS "
        f"+{call_mb:.0f} MB over the baseline ({memory['num_steps']} steps on demand; output "
        f"{memory['output_bytes'] / 2**20:.1f} MB, stages {memory['stage_bytes'] / 2**20:.1f} MB); "
        f"+{chunk_mb:.0f} MB after reading one chunk"
    )
    section.notes.append(
        f"  that call's peak NumPy allocations (tracemalloc): {memory['traced_peak_bytes'] / 2**20:.0f} MB; "
        f"every step recorded eagerly would hold {memory['eager_bytes'] / 2**30:.2f} GB"
    )
    section.notes.append(f"  {memory['repr']}")
    section.targets.append(
        Target("ResNet conv1 default call, peak RSS over baseline", call_mb, MEMORY_TARGET_MB, "MB")
    )
    return section
