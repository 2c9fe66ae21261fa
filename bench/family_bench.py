"""Convolution family: what recording a transposed or grouped trace costs over bare NumPy.

Transposed: engine.transposed.conv_transpose2d (output plus one scatter step per input value)
against a bare scatter written here (one strided add per kernel tap). Grouped: engine.conv.conv2d
with groups and every window recorded, against a bare grouped shift-add.
"""

from __future__ import annotations

import numpy as np

from bench.common import Section, Target, measure, ms, ratio
from layerlab.engine.conv import conv2d
from layerlab.engine.transposed import conv_transpose2d

SIZES = (128, 224)
CHANNELS = 4  # C_in = C_out; grouped runs with 2 groups
STRIDE, PADDING = 2, 1  # transposed: 3x3 kernel, stride 2, padding 1 (upsampling by about 2)
RATIO_TARGET = 2.0


def bare_conv_transpose(x: np.ndarray, w: np.ndarray, s: int, p: int) -> np.ndarray:
    """x (N, C_in, H, W), w (C_in, C_out, k, k) -> (N, C_out, OH, OW): scatter one tap at a time."""
    n, _, h, width = x.shape
    k = w.shape[2]
    full = np.zeros((n, w.shape[1], (h - 1) * s + k, (width - 1) * s + k))
    for u in range(k):
        for v in range(k):
            full[:, :, u : u + (h - 1) * s + 1 : s, v : v + (width - 1) * s + 1 : s] += np.einsum(
                "nchw,co->nohw", x, w[:, :, u, v]
            )
    return full[:, :, p : full.shape[2] - p, p : full.shape[3] - p]


def bare_grouped_conv(x: np.ndarray, w: np.ndarray, groups: int) -> np.ndarray:
    """x (N, C_in, H, W), w (C_out, C_in/groups, k, k), padding k//2 -> (N, C_out, H, W): shift-add."""
    n, c_in, h, width = x.shape
    c_out, c_group, k, _ = w.shape
    pad = k // 2
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((n, c_out, h, width))
    per_group = c_out // groups
    for o in range(c_out):
        first = (o // per_group) * c_group
        for c in range(c_group):
            for u in range(k):
                for v in range(k):
                    out[:, o] += w[o, c, u, v] * padded[:, first + c, u : u + h, v : v + width]
    return out


def _case(size: int, repeats: int) -> dict:
    rng = np.random.default_rng(size)
    x = rng.random((1, CHANNELS, size, size))
    wt = rng.standard_normal((CHANNELS, CHANNELS, 3, 3))
    wg = rng.standard_normal((CHANNELS, CHANNELS // 2, 3, 3))
    transposed = conv_transpose2d(x, wt, stride=STRIDE, padding=PADDING).output
    if not np.allclose(transposed, bare_conv_transpose(x, wt, STRIDE, PADDING)):
        raise AssertionError(f"bare transposed conv disagrees with the engine at {size}")
    if not np.allclose(conv2d(x, wg, padding=1, groups=2).output, bare_grouped_conv(x, wg, 2)):
        raise AssertionError(f"bare grouped conv disagrees with the engine at {size}")
    timings = {
        "transposed_trace": measure(
            lambda: conv_transpose2d(x, wt, stride=STRIDE, padding=PADDING, record_steps=True), repeats
        ),
        "transposed_bare": measure(lambda: bare_conv_transpose(x, wt, STRIDE, PADDING), repeats),
        "grouped_trace": measure(lambda: conv2d(x, wg, padding=1, groups=2, record_steps=True), repeats),
        "grouped_bare": measure(lambda: bare_grouped_conv(x, wg, 2), repeats),
    }
    return {"size": size, **{k: v.__dict__ for k, v in timings.items()}}


def run(quick: bool) -> Section:
    repeats = 3 if quick else 15
    results = [_case(size, repeats) for size in SIZES]
    section = Section(
        title=f"Convolution family: traces vs bare NumPy, {CHANNELS} channels, 3x3 (median of {repeats})",
        headers=["operation", "input", "bare ms", "trace ms", "trace/bare"],
        data={"repeats": repeats, "cases": results},
    )
    for r in results:
        for op, label in (
            ("transposed", f"conv_transpose2d s={STRIDE} p={PADDING}"),
            ("grouped", "conv2d groups=2"),
        ):
            bare, trace = r[f"{op}_bare"]["median_ms"], r[f"{op}_trace"]["median_ms"]
            name = f"1x{CHANNELS}x{r['size']}x{r['size']}"
            section.rows.append([label, name, ms(bare), ms(trace), ratio(trace / bare)])
            section.targets.append(Target(f"{op} trace/bare at {name}", trace / bare, RATIO_TARGET, "x"))
    section.notes.append(
        "trace: the engine call with its full step record (scatter steps for transposed, every window "
        "for grouped); bare: the same output with plain NumPy written here, no record"
    )
    return section
