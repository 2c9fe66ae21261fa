"""Windowed pooling (max, min, average, Lp, mixed, stochastic), traced window by window.

Seed 002 introduces pooling as keeping the most important value of each window; seed 004 max-pools
[[1, 0, 2], [3, 1, 2], [1, 2, 3]] with a 2x2 window and stride 1 into [[3, 2], [3, 3]]; seed 003 lists
max, min, average, mixed, Lp and stochastic pooling (spatial pyramid and ROI pooling live in
engine/pool_regions.py). Names, defaults and rules follow torch.nn.functional, NCHW (or CHW):

- stride defaults to kernel_size; padding is at most kernel_size // 2 per axis (torch's
  pool2d_shape_check; its second check, against the dilated kernel, is weaker);
- output size floor((H + 2p - d(k-1) - 1) / s) + 1, ceil instead of floor with ceil_mode, after which
  a last window starting in the bottom/right padding is dropped;
- max pooling pads with -inf (min with +inf), the others with zeros. A ceil_mode window may run past
  the padding: the "padded" stage is extended to hold it (params["pads"] is what was applied) and
  those overhang cells count for nothing, not even in count_include_pad's divisor.

Every trace has one step per output element in C order (n, c, row, col): index (S, 4); origin (S, 2)
the window's top-left in padded coordinates; rows (S, kH) and cols (S, kW) the padded rows/columns its
taps read (dilation included); window (S, kH, kW) the values as the op sees them (padding included);
valid (S, kH, kW) True on cells of the real input; result (S,); and the fields each function lists.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.conv import _pair
from engine.trace import Trace

Size = int | tuple[int, int]


@dataclass(frozen=True)
class _Grid:
    """Where one pooling's windows lie; every pair is (height, width)."""

    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    input_size: tuple[int, int]
    output_size: tuple[int, int]
    pads: tuple[int, int, int, int]  # (top, bottom, left, right) applied, ceil_mode overhang included

    def params(self, **extra: object) -> dict[str, object]:
        fields = ("kernel_size", "stride", "padding", "dilation", "input_size", "output_size", "pads")
        values = (self.kernel, self.stride, self.padding, self.dilation, self.input_size)
        top, bottom, left, right = self.pads
        padded = (self.input_size[0] + top + bottom, self.input_size[1] + left + right)
        return dict(
            zip(fields, (*values, self.output_size, self.pads), strict=True), padded_size=padded, **extra
        )


def _positive(value: Size, name: str) -> tuple[int, int]:
    pair = _pair(value, name)
    if min(pair) < 1:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return pair


def _grid(
    size: tuple[int, int],
    kernel_size: Size,
    stride: Size | None,
    padding: Size,
    dilation: Size,
    ceil_mode: bool,
) -> _Grid:
    """Validate the arguments as torch does and place the windows."""
    kernel = _positive(kernel_size, "kernel_size")
    strides = kernel if stride is None else _positive(stride, "stride")
    dilations = _positive(dilation, "dilation")
    pads = _pair(padding, "padding")
    if min(pads) < 0:
        raise ValueError(f"padding must be non-negative, got {padding!r}")
    if pads[0] > kernel[0] // 2 or pads[1] > kernel[1] // 2:
        raise ValueError(
            f"pad should be at most half of kernel size: padding {pads} with kernel_size {kernel}"
        )
    spans = tuple(d * (k - 1) + 1 for d, k in zip(dilations, kernel, strict=True))
    out, extra = [], []
    for h, span, s, p in zip(size, spans, strides, pads, strict=True):
        o = (h + 2 * p - span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (o - 1) * s >= h + p:
            o -= 1  # that window would start in the right padding: torch drops it
        if o < 1:
            raise ValueError(
                f"pooling window {spans[0]}x{spans[1]} (dilation included) is larger than the padded "
                f"input {size[0] + 2 * pads[0]}x{size[1] + 2 * pads[1]}"
            )
        out.append(o)
        extra.append(max(0, (o - 1) * s + span - (h + 2 * p)))
    applied = (pads[0], pads[0] + extra[0], pads[1], pads[1] + extra[1])
    return _Grid(kernel, strides, pads, dilations, size, (out[0], out[1]), applied)


def _batched(input: np.ndarray) -> tuple[np.ndarray, bool]:
    """input as float64 (N, C, H, W), and whether it came without the batch axis."""
    x = np.asarray(input, dtype=np.float64)
    unbatched = x.ndim == 3
    x = x[None] if unbatched else x
    if x.ndim != 4 or 0 in x.shape:
        raise ValueError(
            f"input must be a non-empty (N, C, H, W) or (C, H, W) array, got shape {np.shape(input)}"
        )
    return x, unbatched


def _windows(x: np.ndarray, grid: _Grid, fill: float) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The padded input (N, C, Hp, Wp) and the steps every windowed pooling shares.

    Gathered tap by tap: each of the kH*kW taps is one strided slice of the padded input.
    """
    n, c = x.shape[:2]
    top, bottom, left, right = grid.pads
    padded = np.pad(x, [(0, 0), (0, 0), (top, bottom), (left, right)], constant_values=fill)
    inside = np.zeros(padded.shape[2:], dtype=bool)
    inside[top : top + x.shape[2], left : left + x.shape[3]] = True
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = grid.kernel, grid.stride, grid.dilation, grid.output_size
    window = np.empty((kh, kw, n, c, oh, ow))
    valid = np.empty((kh, kw, oh, ow), dtype=bool)
    for u in range(kh):
        for v in range(kw):
            rows = slice(u * dh, u * dh + sh * (oh - 1) + 1, sh)
            cols = slice(v * dw, v * dw + sw * (ow - 1) + 1, sw)
            window[u, v] = padded[:, :, rows, cols]
            valid[u, v] = inside[rows, cols]
    index = np.indices((n, c, oh, ow), dtype=np.int32).reshape(4, -1).T
    origin = index[:, 2:] * np.array([sh, sw], dtype=np.int32)
    return padded, {
        "index": index,
        "origin": origin,
        "rows": origin[:, :1] + np.arange(kh, dtype=np.int32) * dh,
        "cols": origin[:, 1:] + np.arange(kw, dtype=np.int32) * dw,
        "window": window.reshape(kh * kw, -1).T.reshape(-1, kh, kw),
        "valid": np.tile(valid.reshape(kh * kw, -1), (1, n * c)).T.reshape(-1, kh, kw),
    }


def _largest(steps: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Each window's largest real value and its first cell in row-major order (torch's tie rule).

    Returns best (S,) and winner (S, 2) in padded coordinates; a window without a real cell
    (possible only with dilation) gets -inf and winner (-1, -1).
    """
    valid = steps["valid"].reshape(len(steps["index"]), -1)
    values = np.where(valid, steps["window"].reshape(valid.shape), -np.inf)
    best = values.max(axis=1)
    hit = (values == best[:, None]) & valid
    first, found = hit.argmax(axis=1), hit.any(axis=1)
    s = np.arange(len(first))
    kw = steps["cols"].shape[1]
    winner = np.stack([steps["rows"][s, first // kw], steps["cols"][s, first % kw]], axis=1)
    return best, np.where(found[:, None], winner, -1)


def _trace(op: str, params: dict, result: np.ndarray, stages: dict, steps: dict, unbatched: bool) -> Trace:
    """Assemble the trace: output (N, C, OH, OW) from the results; drop N for an unbatched input."""
    out = result.reshape(*stages["padded"].shape[:2], *params["output_size"])
    if unbatched:
        out, stages = out[0], {name: stage[0] for name, stage in stages.items()}
    return Trace(op, params, out, stages, {**steps, "result": result})


def _extreme(
    op: str,
    input: np.ndarray,
    kernel_size: Size,
    stride: Size | None,
    padding: Size,
    dilation: Size,
    ceil_mode: bool,
    return_indices: bool,
    sign: float,
) -> Trace:
    """max_pool2d (sign 1) or min_pool2d (sign -1, the max of -x negated)."""
    x, unbatched = _batched(input)
    grid = _grid(x.shape[2:], kernel_size, stride, padding, dilation, ceil_mode)
    padded, steps = _windows(sign * x, grid, -np.inf)
    best, winner = _largest(steps)
    stages = {"padded": sign * padded}
    if return_indices:
        flat = (winner[:, 0] - grid.pads[0]) * x.shape[3] + winner[:, 1] - grid.pads[2]
        flat = np.where(winner[:, 0] >= 0, flat, -1).astype(np.int64)
        stages["indices"] = flat.reshape(*x.shape[:2], *grid.output_size)
    steps.update(window=sign * steps["window"], winner=winner)
    params = grid.params(ceil_mode=ceil_mode, return_indices=return_indices)
    return _trace(op, params, sign * best, stages, steps, unbatched)


def max_pool2d(
    input: np.ndarray,
    kernel_size: Size,
    stride: Size | None = None,
    padding: Size = 0,
    dilation: Size = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Trace:
    """Largest value of each window (seeds 002, 004), as torch.nn.functional.max_pool2d.

    input : ndarray of shape (N, C, H, W) or (C, H, W)
    Returns a Trace with output (N, C, OH, OW); stage "padded" (-inf padding); with return_indices,
    stage "indices" (N, C, OH, OW), torch's second return value: the winner's flat row*W + col in the
    unpadded input (-1 for a window that holds only padding, whose result is -inf as in torch).
    Steps add winner (S, 2): the (row, col) in padded coordinates of the first largest cell.
    """
    return _extreme(
        "max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1.0
    )


def min_pool2d(
    input: np.ndarray,
    kernel_size: Size,
    stride: Size | None = None,
    padding: Size = 0,
    dilation: Size = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Trace:
    """Smallest value of each window (seed 003): -max_pool2d(-input); +inf padding, first minimum wins."""
    return _extreme(
        "min_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, -1.0
    )


def _divisor(steps: dict[str, np.ndarray], grid: _Grid, count_include_pad: bool) -> np.ndarray:
    """torch's avg_pool2d divisor: the window clipped to the padded input, or its real cells only."""
    if not count_include_pad:
        return steps["valid"].sum(axis=(1, 2)).astype(np.float64)
    ends = np.array(grid.input_size) + 2 * np.array(grid.padding)  # the ceil_mode overhang starts here
    inside = np.minimum(steps["origin"] + np.array(grid.kernel), ends) - steps["origin"]
    return inside.prod(axis=1).astype(np.float64)


def avg_pool2d(
    input: np.ndarray,
    kernel_size: Size,
    stride: Size | None = None,
    padding: Size = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Trace:
    """Mean of each window (seed 003), as torch.nn.functional.avg_pool2d.

    The sum runs over the real cells; the divisor is divisor_override if given, else the window's cells
    inside the zero-padded input (count_include_pad; a ceil_mode overhang never counts), else its real cells.
    Returns a Trace with output (N, C, OH, OW), stage "padded" (zeros); steps add sum and divisor (S,).
    """
    if divisor_override is not None and (
        not isinstance(divisor_override, int | np.integer) or divisor_override == 0
    ):
        raise ValueError(f"divisor_override must be a non-zero int or None, got {divisor_override!r}")
    x, unbatched = _batched(input)
    grid = _grid(x.shape[2:], kernel_size, stride, padding, 1, ceil_mode)
    padded, steps = _windows(x, grid, 0.0)
    divisor = _divisor(steps, grid, count_include_pad)
    if divisor_override is not None:
        divisor = np.full(len(divisor), float(divisor_override))
    steps.update(sum=steps["window"].sum(axis=(1, 2)), divisor=divisor)
    params = grid.params(
        ceil_mode=ceil_mode, count_include_pad=count_include_pad, divisor_override=divisor_override
    )
    return _trace("avg_pool2d", params, steps["sum"] / divisor, {"padded": padded}, steps, unbatched)


def lp_pool2d(
    input: np.ndarray,
    norm_type: float,
    kernel_size: Size,
    stride: Size | None = None,
    ceil_mode: bool = False,
) -> Trace:
    """Power-average pooling (seed 003): (sum of x^p over the window)^(1/p), as torch.nn.functional.lp_pool2d.

    torch computes it as (avg_pool2d(x^p, padding 0) * kH*kW)^(1/p), which is the plain sum except for a
    ceil_mode window cut by the edge: its sum is scaled by kH*kW / (cells inside). torch's
    sign(out) * relu(|out|) changes no number, so negative x with a fractional p, or a negative sum with
    p != 1, give NaN exactly as in torch. p = 1 is the sum; p -> infinity tends to the max.
    norm_type : finite p > 0.
    Steps add powered (S, kH, kW) = window^p, powered_sum (S,), and divisor (S,) the cells avg_pool2d
    divides by; result = (powered_sum / divisor * kH*kW)^(1/p).
    """
    p = float(norm_type)
    if not (np.isfinite(p) and p > 0):
        raise ValueError(f"norm_type must be a finite positive number, got {norm_type!r}")
    x, unbatched = _batched(input)
    grid = _grid(x.shape[2:], kernel_size, stride, 0, 1, ceil_mode)
    padded, steps = _windows(x, grid, 0.0)
    with np.errstate(invalid="ignore"):
        powered = np.power(steps["window"], p)
        steps.update(
            powered=powered, powered_sum=powered.sum(axis=(1, 2)), divisor=_divisor(steps, grid, True)
        )
        result = np.power(
            steps["powered_sum"] / steps["divisor"] * (grid.kernel[0] * grid.kernel[1]), 1.0 / p
        )
    params = grid.params(ceil_mode=ceil_mode, norm_type=p)
    return _trace("lp_pool2d", params, result, {"padded": padded}, steps, unbatched)


def mixed_pool2d(
    input: np.ndarray, kernel_size: Size, stride: Size | None = None, padding: Size = 0, mix: float = 0.5
) -> Trace:
    """Mixed pooling (seed 003): mix * max + (1 - mix) * average, mix (the papers' lambda) in [0, 1].

    The max ignores padding (as max_pool2d), the average counts it (avg_pool2d's default). Returns a Trace
    with stage "padded" (zeros, so window shows zeros there); steps add max, avg (S,) and winner (S, 2).
    """
    if not 0.0 <= mix <= 1.0:
        raise ValueError(f"mix must be in [0, 1], got {mix!r}")
    x, unbatched = _batched(input)
    grid = _grid(x.shape[2:], kernel_size, stride, padding, 1, False)
    padded, steps = _windows(x, grid, 0.0)
    best, winner = _largest(steps)
    avg = steps["window"].sum(axis=(1, 2)) / (grid.kernel[0] * grid.kernel[1])
    steps.update(max=best, avg=avg, winner=winner)
    params = grid.params(mix=float(mix))
    return _trace("mixed_pool2d", params, mix * best + (1 - mix) * avg, {"padded": padded}, steps, unbatched)


def stochastic_pool2d(
    input: np.ndarray, kernel_size: Size, stride: Size | None = None, training: bool = True, seed: int = 0
) -> Trace:
    """Stochastic pooling (seed 003; Zeiler & Fergus 2013), no padding.

    Cell i of a window has probability p_i = a_i / sum(a) with a = max(x, 0): the method assumes ReLU
    outputs, so negative cells get probability 0; a window with no positive cell gives 0 (probabilities 0).
    training: one u ~ U[0, 1) per window from np.random.default_rng(seed), windows in C order, and the
    drawn cell is the first whose cumulative weight exceeds u * sum(a); the result is its value.
    The same seed always draws the same cells. Evaluation: the probability-weighted average sum(p_i x_i).
    Steps add probabilities (S, kH, kW) and, in training, draw (S, 2) (row, col), (-1, -1) if none.
    """
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    x, unbatched = _batched(input)
    grid = _grid(x.shape[2:], kernel_size, stride, 0, 1, False)
    padded, steps = _windows(x, grid, 0.0)
    values = steps["window"].reshape(len(steps["index"]), -1)
    cumulative = np.cumsum(np.maximum(values, 0.0), axis=1)
    total = cumulative[:, -1:]
    probabilities = np.divide(np.maximum(values, 0.0), total, out=np.zeros_like(values), where=total > 0)
    steps["probabilities"] = probabilities.reshape(steps["window"].shape)
    if training:
        u = np.random.default_rng(seed).random(len(values))
        # u * total can round up to total: never pick past the last cell that has weight
        last_positive = values.shape[1] - 1 - np.argmax(values[:, ::-1] > 0, axis=1)
        pick = np.minimum((cumulative <= u[:, None] * total).sum(axis=1), last_positive)
        drawn = total[:, 0] > 0
        s, kw = np.arange(len(pick)), grid.kernel[1]
        draw = np.stack([steps["rows"][s, pick // kw], steps["cols"][s, pick % kw]], axis=1)
        steps["draw"] = np.where(drawn[:, None], draw, -1)
        result = np.where(drawn, values[s, pick], 0.0)
    else:
        result = (probabilities * values).sum(axis=1)
    params = grid.params(training=training, seed=int(seed))
    return _trace("stochastic_pool2d", params, result, {"padded": padded}, steps, unbatched)


def _one_row(input: np.ndarray) -> np.ndarray:
    """(N, C, L) or (C, L) as (N, C, 1, L) or (C, 1, L)."""
    x = np.asarray(input, dtype=np.float64)
    if x.ndim not in (2, 3):
        raise ValueError(f"input must have shape (N, C, L) or (C, L), got {x.shape}")
    return x[..., None, :]


def _row_args(kernel_size: int, stride: int | None, padding: int = 0, dilation: int = 1) -> tuple:
    """1-D kernel_size, stride, padding and dilation as those of the one-row 2-D pooling."""

    def single(value: int | tuple[int], name: str) -> int:
        items = (value,) if isinstance(value, int | np.integer) else tuple(value)
        if len(items) != 1:
            raise ValueError(f"{name} must be an int or a one-element tuple, got {value!r}")
        return int(items[0])

    strides = None if stride is None else (1, single(stride, "stride"))
    return (
        (1, single(kernel_size, "kernel_size")),
        strides,
        (0, single(padding, "padding")),
        (1, single(dilation, "dilation")),
    )


def _as_1d(op: str, trace: Trace) -> Trace:
    """The one-row 2-D pooling as the 1-D op: output and stages lose the row axis (torch's shapes) and
    params keep the width entries; steps stay those of the 2-D pooling (every row 0)."""
    pairs = {"kernel_size", "stride", "padding", "dilation", "input_size", "output_size", "padded_size"}
    params = {k: v[1] if k in pairs else v for k, v in trace.params.items()} | {
        "pads": trace.params["pads"][2:]
    }
    stages = {name: stage[..., 0, :] for name, stage in trace.stages.items()}
    return Trace(op, params, trace.output[..., 0, :], stages, trace.steps)


def max_pool1d(
    input: np.ndarray,
    kernel_size: int,
    stride: int | None = None,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Trace:
    """torch.nn.functional.max_pool1d, input (N, C, L) or (C, L): max_pool2d of one row, see _as_1d."""
    kernel, strides, pads, dilations = _row_args(kernel_size, stride, padding, dilation)
    trace = max_pool2d(_one_row(input), kernel, strides, pads, dilations, ceil_mode, return_indices)
    return _as_1d("max_pool1d", trace)


def avg_pool1d(
    input: np.ndarray,
    kernel_size: int,
    stride: int | None = None,
    padding: int = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Trace:
    """torch.nn.functional.avg_pool1d, input (N, C, L) or (C, L): avg_pool2d of one row, see _as_1d."""
    kernel, strides, pads, _ = _row_args(kernel_size, stride, padding)
    trace = avg_pool2d(_one_row(input), kernel, strides, pads, ceil_mode, count_include_pad)
    return _as_1d("avg_pool1d", trace)


def lp_pool1d(
    input: np.ndarray, norm_type: float, kernel_size: int, stride: int | None = None, ceil_mode: bool = False
) -> Trace:
    """torch.nn.functional.lp_pool1d, input (N, C, L) or (C, L): lp_pool2d of one row, see _as_1d."""
    kernel, strides, _, _ = _row_args(kernel_size, stride)
    return _as_1d("lp_pool1d", lp_pool2d(_one_row(input), norm_type, kernel, strides, ceil_mode))
