"""Windowed pooling (max, min, average), traced window by window.

Seed 002 introduces pooling as keeping the most important value of each window; seed 004 max-pools
[[1, 0, 2], [3, 1, 2], [1, 2, 3]] with a 2x2 window and stride 1 into [[3, 2], [3, 3]]; seed 003 lists
max, min, average, mixed, Lp and stochastic pooling (the last three live in engine/pool_variants.py,
spatial pyramid and ROI pooling in engine/pool_regions.py, the 1-D versions in engine/pool1d.py).
Names, defaults and rules follow torch.nn.functional, NCHW (or CHW):

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

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from layerlab.engine.conv import _pair
from layerlab.engine.errors import ArgumentError
from layerlab.engine.trace import Recorder, RecordSteps, Trace, recorded_trace

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
        raise ArgumentError(name, f"{name} must be positive, got {value!r}")
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
        raise ArgumentError("padding", f"padding must be non-negative, got {padding!r}")
    if pads[0] > kernel[0] // 2 or pads[1] > kernel[1] // 2:
        raise ArgumentError(
            "padding",
            f"pad should be at most half of kernel size: padding {pads} with kernel_size {kernel}",
        )
    spans = tuple(d * (k - 1) + 1 for d, k in zip(dilations, kernel, strict=True))
    out, extra = [], []
    for h, span, s, p in zip(size, spans, strides, pads, strict=True):
        o = (h + 2 * p - span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (o - 1) * s >= h + p:
            o -= 1  # that window would start in the right padding: torch drops it
        if o < 1:
            raise ArgumentError(
                "kernel_size",
                f"pooling window {spans[0]}x{spans[1]} (dilation included) is larger than the padded "
                f"input {size[0] + 2 * pads[0]}x{size[1] + 2 * pads[1]}",
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
        raise ArgumentError(
            "input",
            f"input must be a non-empty (N, C, H, W) or (C, H, W) array, got shape {np.shape(input)}",
        )
    return x, unbatched


def _pad(x: np.ndarray, grid: _Grid, fill: float) -> np.ndarray:
    """The input padded as the grid says, (N, C, Hp, Wp), `fill` in the padding (np.pad, less overhead).

    Without padding, a read-only view of the input itself: no copy (a trace holds its inputs as given).
    """
    if not any(grid.pads):
        view = x.view()
        view.flags.writeable = False
        return view
    top, bottom, left, right = grid.pads
    height, width = x.shape[2:]
    padded = np.full((*x.shape[:2], top + height + bottom, left + width + right), fill)
    padded[:, :, top : top + height, left : left + width] = x
    return padded


def _tap_slices(grid: _Grid) -> list[tuple[slice, slice]]:
    """The (rows, cols) strided slice of the padded input each kernel tap reads, taps in row-major order."""
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = grid.kernel, grid.stride, grid.dilation, grid.output_size
    return [
        (slice(u * dh, u * dh + sh * (oh - 1) + 1, sh), slice(v * dw, v * dw + sw * (ow - 1) + 1, sw))
        for u in range(kh)
        for v in range(kw)
    ]


def _windows(padded: np.ndarray, grid: _Grid, steps: range) -> dict[str, np.ndarray]:
    """The fields every windowed pooling shares, for output elements steps.start..steps.stop (C order).

    Gathered tap by tap: each tap is one strided slice of the (N*C) planes the chunk touches.
    """
    n, c, hp, wp = padded.shape
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = grid.kernel, grid.stride, grid.dilation, grid.output_size
    plane, count = oh * ow, len(steps)
    first, last = steps.start // plane, (steps.stop - 1) // plane + 1 if count else steps.start // plane
    planes = padded.reshape(n * c, hp, wp)[first:last]
    # within one plane, only the band of output rows the chunk reaches is gathered
    r0, r1 = (steps.start - first * plane) // ow, oh
    if last - first == 1 and count:
        r1 = (steps.stop - 1 - first * plane) // ow + 1
    else:
        r0 = 0
    band = (r1 - r0) * ow
    cut = slice(steps.start - first * plane - r0 * ow, steps.stop - first * plane - r0 * ow)
    top, bottom, left, right = grid.pads
    padding = any(grid.pads)  # without it every cell of every window is real: no mask to gather
    if padding:
        inside = np.zeros((hp, wp), dtype=bool)
        inside[top : hp - bottom, left : wp - right] = True
    # field-major in memory (long inner axis, fast), step-major in shape: (S, ...) transposed views
    window = np.empty((kh * kw, count))
    valid = np.empty((kh * kw, band if padding else count), dtype=bool)  # one plane's band when padded
    for t, (rows, cols) in enumerate(_tap_slices(grid)):
        rows = slice(rows.start + r0 * sh, rows.start + (r1 - 1) * sh + 1, sh)
        window[t] = planes[:, rows, cols].reshape(-1)[cut]
        if padding:
            valid[t] = inside[rows, cols].reshape(-1)
    flat = np.arange(steps.start, steps.stop)
    index = np.array(np.unravel_index(flat, (n, c, oh, ow)), dtype=np.int32).reshape(4, -1)
    origin = index[2:] * np.array([[sh], [sw]], dtype=np.int32)  # (2, S)
    if not padding:
        valid.fill(True)
    elif steps.start % plane == 0 and count % plane == 0:  # whole planes: the one plane's mask repeated
        valid = np.tile(valid, (1, count // plane))
    else:
        valid = valid[:, flat % plane - r0 * ow]
    return {
        "index": index.T,
        "origin": origin.T,
        "rows": (origin[0] + np.arange(0, kh * dh, dh, dtype=np.int32)[:, None]).T,
        "cols": (origin[1] + np.arange(0, kw * dw, dw, dtype=np.int32)[:, None]).T,
        "window": window.T.reshape(-1, kh, kw),
        "valid": valid.T.reshape(-1, kh, kw),
    }


def _plane_fields(grid: _Grid) -> dict[str, np.ndarray]:
    """origin and valid of one (n, c) plane's windows: what `_divisor` reads."""
    (kh, kw), (sh, sw), (oh, ow) = grid.kernel, grid.stride, grid.output_size
    top, bottom, left, right = grid.pads
    inside = np.zeros((grid.input_size[0] + top + bottom, grid.input_size[1] + left + right), dtype=bool)
    inside[top : top + grid.input_size[0], left : left + grid.input_size[1]] = True
    valid = np.array([inside[rows, cols].reshape(-1) for rows, cols in _tap_slices(grid)])  # (T, plane)
    origin = np.indices((oh, ow), dtype=np.int32).reshape(2, -1) * np.array([[sh], [sw]], dtype=np.int32)
    return {"origin": origin.T, "valid": valid.T.reshape(-1, kh, kw)}


def _tap_major(field: np.ndarray) -> np.ndarray:
    """A (S, kH, kW) step field as (kH*kW, S): a view of how `_windows` lays it out, one row per tap."""
    return field.reshape(len(field), field.shape[1] * field.shape[2]).T  # an empty chunk too


def _largest(steps: dict[str, np.ndarray], dilation: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Each window's largest real value and its first cell in row-major order (torch's tie rule).

    Returns best (S,) and winner (S, 2) in padded coordinates; a window without a real cell
    (possible only with dilation) gets -inf and winner (-1, -1).
    """
    valid, window = _tap_major(steps["valid"]), _tap_major(steps["window"])  # (kH*kW, S)
    everywhere = valid.all()  # no padding inside any window: nothing to mask
    values = window if everywhere else np.where(valid, window, -np.inf)
    best = values.max(axis=0)
    hit = values == best if everywhere else (values == best) & valid
    taps = len(hit)
    # the lowest tap that hits: tap t ranks taps - t, take the top rank (argmax along taps is slow)
    top = (hit * np.arange(taps, 0, -1, dtype=np.int32)[:, None]).max(axis=0)  # (S,), 0: no hit
    first = (taps - top).astype(np.intp)  # taps where none hit: the zero column of `offset` below
    u, v = np.divmod(np.arange(taps), steps["cols"].shape[1])
    offset = np.zeros((2, taps + 1), dtype=np.int32)  # (row, col) of each tap from the window's origin
    offset[0, :taps], offset[1, :taps] = u * dilation[0], v * dilation[1]
    return best, np.where(top > 0, steps["origin"].T + np.take(offset, first, axis=1), -1).T


class _Recorder:
    """A pooling's steps for any range of output elements: the shared fields, then the op's own.

    Holds only the padded input, the grid and `finish` (fields, steps range -> fields with "result"),
    which adds `own` numbers per step: `values_per_step` counts them without building a step.
    """

    def __init__(
        self, padded: np.ndarray, grid: _Grid, finish: Callable[..., dict[str, np.ndarray]], own: int
    ):
        self.padded, self.grid, self.finish, self.own = padded, grid, finish, own

    @property
    def values_per_step(self) -> int:
        """index 4, origin 2, rows kH, cols kW, window and valid kH*kW each, then the op's own."""
        kh, kw = self.grid.kernel
        return 6 + kh + kw + 2 * kh * kw + self.own

    def __call__(self, steps: range) -> dict[str, np.ndarray]:
        return self.finish(_windows(self.padded, self.grid, steps), steps)


_CHUNK = 1 << 15  # output elements recorded at a time when an output is gathered from step records


def _collect(recorder: Recorder, total: int, names: tuple[str, ...] = ("result",)) -> dict[str, np.ndarray]:
    """Fields of every step, recorded a chunk at a time so the whole record never exists at once."""
    chunks = [recorder(range(i, min(i + _CHUNK, total))) for i in range(0, total, _CHUNK)]
    return {name: np.concatenate([chunk[name] for chunk in chunks]) for name in names}


def _trace(
    op: str,
    params: dict,
    stages: dict,
    recorder: _Recorder,
    unbatched: bool,
    record_steps: RecordSteps,
    result: np.ndarray | None = None,
) -> Trace:
    """Assemble the trace: output (N, C, OH, OW) from `result` (gathered from the steps when None);
    drop N for an unbatched input."""
    n, c = recorder.padded.shape[:2]
    total = n * c * params["output_size"][0] * params["output_size"][1]
    steps = recorder(range(total)) if record_steps is True else None
    if result is None:
        result = steps["result"] if steps is not None else _collect(recorder, total)["result"]
    out = result.reshape(n, c, *params["output_size"])
    if unbatched:
        out, stages = out[0], {name: stage[0] for name, stage in stages.items()}
    if steps is not None:
        return Trace(op, params, out, stages, steps)
    return recorded_trace(op, params, out, stages, record_steps, recorder, total)


def _reduce_taps(padded: np.ndarray, grid: _Grid, ufunc: np.ufunc) -> np.ndarray:
    """ufunc over the kernel taps, tap after tap in row-major order, as the step record folds them:
    (N*C*OH*OW,) flat, without any per-window record."""
    slices = [padded[:, :, rows, cols] for rows, cols in _tap_slices(grid)]
    out = ufunc(slices[0], slices[1]) if len(slices) > 1 else slices[0].copy()  # no copy of the first tap
    for tap in slices[2:]:
        ufunc(out, tap, out=out)
    return out.reshape(-1)


def _extreme_steps(sign: float, dilation: tuple[int, int], fields: dict, steps: range) -> dict:
    """max (sign 1) or min (sign -1) pooling's own fields: winner and result."""
    signed = fields if sign == 1 else {**fields, "window": -fields["window"]}
    best, winner = _largest(signed, dilation)
    return {**fields, "winner": winner, "result": best if sign == 1 else -best}


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
    record_steps: RecordSteps,
) -> Trace:
    """max_pool2d (sign 1) or min_pool2d (sign -1, the max of -x negated)."""
    x, unbatched = _batched(input)
    grid = _grid(x.shape[2:], kernel_size, stride, padding, dilation, ceil_mode)
    padded = _pad(x, grid, -np.inf * sign)
    finish = functools.partial(_extreme_steps, sign, grid.dilation)
    recorder = _Recorder(padded, grid, finish, 3)  # winner (2) and result
    stages = {"padded": padded}
    total = x.shape[0] * x.shape[1] * grid.output_size[0] * grid.output_size[1]
    if return_indices:
        picked = _collect(recorder, total, ("winner", "result"))
        winner, result = picked["winner"], picked["result"]
        flat = (winner[:, 0] - grid.pads[0]) * x.shape[3] + winner[:, 1] - grid.pads[2]
        flat = np.where(winner[:, 0] >= 0, flat, -1).astype(np.int64)
        stages["indices"] = flat.reshape(*x.shape[:2], *grid.output_size)
    else:  # the max of -x negated for min, as the steps compute it: the same bits
        result = _reduce_taps(padded if sign == 1 else -padded, grid, np.maximum)
        result = result if sign == 1 else -result
    params = grid.params(ceil_mode=ceil_mode, return_indices=return_indices)
    return _trace(op, params, stages, recorder, unbatched, record_steps, result)


def max_pool2d(
    input: np.ndarray,
    kernel_size: Size,
    stride: Size | None = None,
    padding: Size = 0,
    dilation: Size = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
    *,
    record_steps: RecordSteps = "lazy",
) -> Trace:
    """Largest value of each window (seeds 002, 004), as torch.nn.functional.max_pool2d.

    input : ndarray of shape (N, C, H, W) or (C, H, W)
    Returns a Trace with output (N, C, OH, OW); stage "padded" (-inf padding); with return_indices,
    stage "indices" (N, C, OH, OW), torch's second return value: the winner's flat row*W + col in the
    unpadded input (-1 for a window that holds only padding, whose result is -inf as in torch).
    Steps add winner (S, 2): the (row, col) in padded coordinates of the first largest cell.
    record_steps as conv2d's: "lazy" (the default) records windows when the steps are read.
    """
    return _extreme(
        "max_pool2d",
        input,
        kernel_size,
        stride,
        padding,
        dilation,
        ceil_mode,
        return_indices,
        1.0,
        record_steps,
    )


def min_pool2d(
    input: np.ndarray,
    kernel_size: Size,
    stride: Size | None = None,
    padding: Size = 0,
    dilation: Size = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
    *,
    record_steps: RecordSteps = "lazy",
) -> Trace:
    """Smallest value of each window (seed 003): -max_pool2d(-input); +inf padding, first minimum wins."""
    return _extreme(
        "min_pool2d",
        input,
        kernel_size,
        stride,
        padding,
        dilation,
        ceil_mode,
        return_indices,
        -1.0,
        record_steps,
    )


def _divisor(steps: dict[str, np.ndarray], grid: _Grid, count_include_pad: bool) -> np.ndarray:
    """torch's avg_pool2d divisor: the window clipped to the padded input, or its real cells only."""
    if not count_include_pad:
        return _tap_major(steps["valid"]).sum(axis=0).astype(np.float64)
    ends = np.array(grid.input_size) + 2 * np.array(grid.padding)  # the ceil_mode overhang starts here
    origin = steps["origin"].T  # (2, S)
    inside = np.minimum(origin + np.array(grid.kernel)[:, None], ends[:, None]) - origin
    return (inside[0] * inside[1]).astype(np.float64)


def _avg_steps(
    grid: _Grid, count_include_pad: bool, divisor_override: int | None, fields: dict, steps: range
) -> dict:
    """avg pooling's own fields: sum, divisor and result."""
    divisor = _divisor(fields, grid, count_include_pad)
    if divisor_override is not None:
        divisor = np.full(len(divisor), float(divisor_override))
    taps = _tap_major(fields["window"])
    total = taps[0].copy()
    for tap in taps[1:]:  # tap after tap, as the output's `_reduce_taps` adds them: the same bits
        total += tap
    return {**fields, "sum": total, "divisor": divisor, "result": total / divisor}


def avg_pool2d(
    input: np.ndarray,
    kernel_size: Size,
    stride: Size | None = None,
    padding: Size = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
    *,
    record_steps: RecordSteps = "lazy",
) -> Trace:
    """Mean of each window (seed 003), as torch.nn.functional.avg_pool2d.

    The sum runs over the real cells; the divisor is divisor_override if given, else the window's cells
    inside the zero-padded input (count_include_pad; a ceil_mode overhang never counts), else its real cells.
    Returns a Trace with output (N, C, OH, OW), stage "padded" (zeros); steps add sum and divisor (S,).
    record_steps as conv2d's.
    """
    if divisor_override is not None and (
        not isinstance(divisor_override, int | np.integer) or divisor_override == 0
    ):
        raise ArgumentError(
            "divisor_override", f"divisor_override must be a non-zero int or None, got {divisor_override!r}"
        )
    x, unbatched = _batched(input)
    grid = _grid(x.shape[2:], kernel_size, stride, padding, 1, ceil_mode)
    padded = _pad(x, grid, 0.0)
    finish = functools.partial(_avg_steps, grid, count_include_pad, divisor_override)
    recorder = _Recorder(padded, grid, finish, 3)  # sum, divisor, result
    plane = grid.output_size[0] * grid.output_size[1]
    top, bottom, left, right = grid.pads
    overhang = bottom != top or right != left  # ceil_mode windows reaching past the padding
    if divisor_override is not None:
        divisor = float(divisor_override)
    elif not overhang and (count_include_pad or not any(grid.pads)):  # every window whole: k*k
        divisor = float(grid.kernel[0] * grid.kernel[1])
    else:  # the same on every (n, c) plane
        divisor = _divisor(_plane_fields(grid), grid, count_include_pad)
    result = _reduce_taps(padded, grid, np.add).reshape(-1, plane)
    result = np.divide(result, divisor, out=result).reshape(-1)  # in place: the sums are ours
    params = grid.params(
        ceil_mode=ceil_mode, count_include_pad=count_include_pad, divisor_override=divisor_override
    )
    return _trace("avg_pool2d", params, {"padded": padded}, recorder, unbatched, record_steps, result)
