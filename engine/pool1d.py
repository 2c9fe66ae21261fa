"""1-D pooling (torch.nn.functional's max_pool1d, avg_pool1d, lp_pool1d): the 2-D pooling of one row.

Input (N, C, L) or (C, L); output and stages lose the row axis as in torch, steps stay the 2-D ones.
"""

from __future__ import annotations

import numpy as np

from layerlab.engine.errors import ArgumentError
from layerlab.engine.pool import avg_pool2d, max_pool2d
from layerlab.engine.pool_variants import lp_pool2d
from layerlab.engine.trace import RecordSteps, Trace


def _one_row(input: np.ndarray) -> np.ndarray:
    """(N, C, L) or (C, L) as (N, C, 1, L) or (C, 1, L)."""
    x = np.asarray(input, dtype=np.float64)
    if x.ndim not in (2, 3):
        raise ArgumentError("input", f"input must have shape (N, C, L) or (C, L), got {x.shape}")
    return x[..., None, :]


def _row_args(kernel_size: int, stride: int | None, padding: int = 0, dilation: int = 1) -> tuple:
    """1-D kernel_size, stride, padding and dilation as those of the one-row 2-D pooling."""

    def single(value: int | tuple[int], name: str) -> int:
        items = (value,) if isinstance(value, int | np.integer) else tuple(value)
        if len(items) != 1:
            raise ArgumentError(name, f"{name} must be an int or a one-element tuple, got {value!r}")
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
    return trace.derive(op, params, trace.output[..., 0, :], stages)


def max_pool1d(
    input: np.ndarray,
    kernel_size: int,
    stride: int | None = None,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
    *,
    record_steps: RecordSteps = "lazy",
) -> Trace:
    """torch.nn.functional.max_pool1d, input (N, C, L) or (C, L): max_pool2d of one row, see _as_1d."""
    kernel, strides, pads, dilations = _row_args(kernel_size, stride, padding, dilation)
    trace = max_pool2d(
        _one_row(input),
        kernel,
        strides,
        pads,
        dilations,
        ceil_mode,
        return_indices,
        record_steps=record_steps,
    )
    return _as_1d("max_pool1d", trace)


def avg_pool1d(
    input: np.ndarray,
    kernel_size: int,
    stride: int | None = None,
    padding: int = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    *,
    record_steps: RecordSteps = "lazy",
) -> Trace:
    """torch.nn.functional.avg_pool1d, input (N, C, L) or (C, L): avg_pool2d of one row, see _as_1d."""
    kernel, strides, pads, _ = _row_args(kernel_size, stride, padding)
    trace = avg_pool2d(
        _one_row(input), kernel, strides, pads, ceil_mode, count_include_pad, record_steps=record_steps
    )
    return _as_1d("avg_pool1d", trace)


def lp_pool1d(
    input: np.ndarray,
    norm_type: float,
    kernel_size: int,
    stride: int | None = None,
    ceil_mode: bool = False,
    *,
    record_steps: RecordSteps = "lazy",
) -> Trace:
    """torch.nn.functional.lp_pool1d, input (N, C, L) or (C, L): lp_pool2d of one row, see _as_1d."""
    kernel, strides, _, _ = _row_args(kernel_size, stride)
    trace = lp_pool2d(_one_row(input), norm_type, kernel, strides, ceil_mode, record_steps=record_steps)
    return _as_1d("lp_pool1d", trace)
