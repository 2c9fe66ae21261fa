"""From a validated pooling request to the map it pools, one engine call, and the chunk of steps sent."""

from __future__ import annotations

import numpy as np

from layerlab.app.config import in_effect as S
from layerlab.app.errors import ApiError, engine_errors
from layerlab.app.inputs import UploadStore, load_image
from layerlab.app.pages.conv.request import engine_args, torch_line
from layerlab.app.pages.pool.kinds import BY_NAME, Kind
from layerlab.app.pages.pool.schemas import PoolCompareRequest, PoolParams, PoolSource, as_pair
from layerlab.engine.activations import relu
from layerlab.engine.conv import conv2d, filter_inputs
from layerlab.engine.trace import Trace

PAIRS = ("kernel_size", "stride", "padding", "dilation", "output_size")  # an int means (n, n)
NEUTRAL = {"padding": (0, 0), "dilation": (1, 1), "ceil_mode": False}  # for a kind that takes none


def load_map(req: PoolSource, uploads: UploadStore) -> tuple[np.ndarray, dict | None]:
    """The map to pool, (H, W), and for a conv source the conv output it came from."""
    if req.source == "matrix":
        return np.asarray(req.matrix, dtype=np.float64), None
    if req.source == "image":
        return load_image(req.image, req.size, "gray", uploads)[0], None
    conv = req.conv
    try:
        x, w, b, kwargs = engine_args(conv, uploads)
        shape = x.shape
        x, w, b = filter_inputs(x, w, b, 1, req.conv_filter)
        with engine_errors():  # the engine's geometry check first, so a refusal names its field
            out = conv2d(x, w, b, **kwargs, record_steps=False).output[0]  # (OH, OW)
        line = torch_line(conv, shape)
    except ApiError as exc:  # name the field inside "conv", not the pooling's own padding
        field = "conv" if exc.field == "request" else f"conv.{exc.field}"
        raise ApiError(exc.status, field, exc.message) from exc
    pooled = relu(out).output if conv.relu else out
    return pooled, {"conv_output": out, "relu": conv.relu, "filter": req.conv_filter, "torch": line}


def field_value(req: PoolParams, name: str) -> object:
    """A request field as the engine takes it: pairs as tuples, a stride of None as the kernel size."""
    value = getattr(req, name)
    if name == "stride" and value is None:
        value = req.kernel_size
    return as_pair(value) if name in PAIRS else value


def window_args(req: PoolParams) -> dict:
    """kernel_size, stride, padding, dilation and ceil_mode as pairs, neutral where the kind takes none."""
    reads = BY_NAME[req.kind].controls
    window = {name: field_value(req, name) for name in ("kernel_size", "stride")}
    return window | {name: field_value(req, name) if name in reads else v for name, v in NEUTRAL.items()}


def compared(req: PoolCompareRequest, kind: str) -> PoolParams:
    """One of the side-by-side poolings as a one-pooling request: the shared window, no padding."""
    shared = ("kernel_size", "stride", "ceil_mode", "norm_type")
    return PoolParams.model_construct(kind=kind, **{key: getattr(req, key) for key in shared})


def check_windows(size: tuple[int, int], args: dict) -> None:
    """Every window fits the padded input, and all windows together stay within max_pool_cells."""
    (kh, kw), (sh, sw) = args["kernel_size"], args["stride"]
    (ph, pw), (dh, dw) = args["padding"], args["dilation"]
    spans = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    padded = (size[0] + 2 * ph, size[1] + 2 * pw)
    if spans[0] > padded[0] or spans[1] > padded[1]:
        raise ApiError(
            422,
            "kernel_size",
            f"the window covers {spans[0]}x{spans[1]} pixels (dilation included), more than the "
            f"padded input {padded[0]}x{padded[1]}",
        )
    rounding = (sh - 1, sw - 1) if args["ceil_mode"] else (0, 0)
    out = [(p - span + r) // s + 1 for p, span, r, s in zip(padded, spans, rounding, (sh, sw), strict=True)]
    cells = out[0] * out[1] * kh * kw
    if cells > S.max_pool_cells:
        raise ApiError(
            422,
            "kernel_size",
            f"{out[0]}x{out[1]} windows of {kh}x{kw} cells read {cells:,} cells, over the limit of "
            f"{S.max_pool_cells:,}: take a larger stride, a smaller window or a smaller input",
        )


def check_box(size: tuple[int, int], box: tuple[int, int, int, int]) -> None:
    x1, y1, x2, y2 = box
    height, width = size
    if not (0 <= x1 <= x2 < width and 0 <= y1 <= y2 < height):
        raise ApiError(
            422,
            "box",
            f"corners (x1, y1, x2, y2) = {box} must satisfy 0 <= x1 <= x2 < {width} and "
            f"0 <= y1 <= y2 < {height} (the input is {height}x{width})",
        )


def pool(req: PoolParams, x: np.ndarray) -> Trace:
    """The engine's trace of req.kind on the map x (H, W), taken as one channel."""
    kind = BY_NAME[req.kind]
    args = {name: field_value(req, name) for name in kind.controls}
    field = "request"
    if kind.windowed:
        check_windows(x.shape, window_args(req))
        field = "kernel_size"
    if "box" in args:
        check_box(x.shape, req.box)
    with engine_errors(field), np.errstate(over="ignore"):
        trace = kind.call(x[None], args)  # (1, H, W)
    refuse_overflow(kind, trace, args)
    return trace


def refuse_overflow(kind: Kind, trace: Trace, args: dict) -> None:
    """A 422 naming the kind's field when its output overflows (Lp with a tiny p): torch gives inf
    there, which no JSON number can carry."""
    if kind.overflow and not np.isfinite(trace.output).all():
        field, message = kind.overflow
        raise ApiError(422, field, message.format(**args))


def output_map(trace: Trace) -> np.ndarray:
    """The pooled map of the one channel: (OH, OW), or (L,) for the spatial pyramid's vector."""
    out = trace.output
    return out.reshape(-1) if trace.op == "spatial_pyramid_pool2d" else out.reshape(out.shape[-2:])


def step_fields(trace: Trace, steps: slice) -> dict[str, np.ndarray]:
    """The chunk's step columns; index keeps (row, col) only: one image, one channel."""
    fields = {name: column[steps] for name, column in trace.steps.items() if name != "batch"}
    fields["index"] = fields["index"][:, 2:]
    return fields


def bins(trace: Trace) -> dict[str, np.ndarray] | None:
    """Every bin of a bin pooling as (row0, row1, col0, col1), half-open, to draw on the input."""
    if "box" not in trace.steps:
        return None
    drawn = {"boxes": trace.steps["box"]}
    if "level" in trace.steps:
        drawn["level"] = trace.steps["level"]
    if "rois" in trace.stages:
        drawn["box"] = trace.stages["rois"][0]  # the ROI box, rounded, before clipping
    return drawn


def shift_map(x: np.ndarray, down: int, right: int) -> np.ndarray:
    """x moved `down` rows and `right` columns (negative: up, left); what moves in from outside is 0."""
    height, width = x.shape
    out = np.zeros_like(x)
    rows, cols = slice(max(down, 0), height + min(down, 0)), slice(max(right, 0), width + min(right, 0))
    out[rows, cols] = x[max(-down, 0) : height - max(down, 0), max(-right, 0) : width - max(right, 0)]
    return out


def changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Where two maps of one shape differ (beyond rounding; NaN equals NaN)."""
    return ~np.isclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True)
