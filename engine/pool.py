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

from dataclasses import dataclass

import numpy as np

from layerlab.engine.conv import _pair
from layerlab.engine.trace import Trace

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
    height, width = x.shape[2:]
    unpadded = not any(grid.pads)  # then every tap is a real cell
    if unpadded:
        padded = x.copy()
    else:
        padded = np.full((n, c, top + height + bottom, left + width + right), fill)  # np.pad, less overhead
        padded[:, :, top : top + height, left : left + width] = x
        inside = np.zeros(padded.shape[2:], dtype=bool)
        inside[top : top + height, left : left + width] = True
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = grid.kernel, grid.stride, grid.dilation, grid.output_size
    window = np.empty((kh, kw, n, c, oh, ow))
    valid = None if unpadded else np.empty((kh, kw, oh, ow), dtype=bool)
    for u in range(kh):
        for v in range(kw):
            rows = slice(u * dh, u * dh + sh * (oh - 1) + 1, sh)
            cols = slice(v * dw, v * dw + sw * (ow - 1) + 1, sw)
            window[u, v] = padded[:, :, rows, cols]
            if valid is not None:
                valid[u, v] = inside[rows, cols]
    # field-major in memory (long inner axis, fast), step-major in shape: (S, ...) transposed views
    index = np.indices((n, c, oh, ow), dtype=np.int32).reshape(4, -1)
    origin = index[2:] * np.array([[sh], [sw]], dtype=np.int32)  # (2, S)
    return padded, {
        "index": index.T,
        "origin": origin.T,
        "rows": (origin[0] + np.arange(0, kh * dh, dh, dtype=np.int32)[:, None]).T,
        "cols": (origin[1] + np.arange(0, kw * dw, dw, dtype=np.int32)[:, None]).T,
        "window": window.reshape(kh * kw, -1).T.reshape(-1, kh, kw),
        "valid": (
            np.ones((kh * kw, n * c * oh * ow), dtype=bool)
            if unpadded
            else np.tile(valid.reshape(kh * kw, -1), (1, n * c))
        ).T.reshape(-1, kh, kw),
    }


def _tap_major(field: np.ndarray) -> np.ndarray:
    """A (S, kH, kW) step field as (kH*kW, S): a view of how `_windows` lays it out, one row per tap."""
    return field.reshape(len(field), -1).T


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

    def signed(a: np.ndarray) -> np.ndarray:
        return a if sign == 1 else sign * a  # 1 * a is a, bit for bit: no copy for max

    padded, steps = _windows(signed(x), grid, -np.inf)
    best, winner = _largest(steps, grid.dilation)
    stages = {"padded": signed(padded)}
    if return_indices:
        flat = (winner[:, 0] - grid.pads[0]) * x.shape[3] + winner[:, 1] - grid.pads[2]
        flat = np.where(winner[:, 0] >= 0, flat, -1).astype(np.int64)
        stages["indices"] = flat.reshape(*x.shape[:2], *grid.output_size)
    steps.update(window=signed(steps["window"]), winner=winner)
    params = grid.params(ceil_mode=ceil_mode, return_indices=return_indices)
    return _trace(op, params, signed(best), stages, steps, unbatched)


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
        return _tap_major(steps["valid"]).sum(axis=0).astype(np.float64)
    ends = np.array(grid.input_size) + 2 * np.array(grid.padding)  # the ceil_mode overhang starts here
    origin = steps["origin"].T  # (2, S)
    inside = np.minimum(origin + np.array(grid.kernel)[:, None], ends[:, None]) - origin
    return (inside[0] * inside[1]).astype(np.float64)


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
    steps.update(sum=_tap_major(steps["window"]).sum(axis=0), divisor=divisor)
    params = grid.params(
        ceil_mode=ceil_mode, count_include_pad=count_include_pad, divisor_override=divisor_override
    )
    return _trace("avg_pool2d", params, steps["sum"] / divisor, {"padded": padded}, steps, unbatched)
