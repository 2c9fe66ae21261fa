"""Convolution: a chunked step trace for one filter, and a light live endpoint for all maps."""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter, Response

from app.config import settings as S
from app.conv_request import engine_args, parameter_formula, size_formulas, torch_line, trace_output_size
from app.deps import Uploads
from app.errors import ApiError, engine_errors
from app.schemas import ConvParams, ConvTraceRequest
from app.serialize import NumpyJSONResponse
from engine.activations import relu
from engine.conv import conv2d, filter_inputs

router = APIRouter(prefix="/api/conv", tags=["conv"])

TRACE_DOC = {200: {"description": "The trace of one filter: output, stages, a chunk of steps, formulas."}}
LIVE_DOC = {
    200: {
        "description": "float32 little-endian maps of shape X-Shape (layers, filters, OH, OW); "
        "layer 0 is the convolution, layer 1 its ReLU when asked.",
        "content": {"application/octet-stream": {}},
    }
}


@router.post("/trace", response_class=NumpyJSONResponse, responses=TRACE_DOC)
def trace(req: ConvTraceRequest, uploads: Uploads) -> NumpyJSONResponse:
    """Step trace of output channel `filter`, steps in chunks of `trace_chunk_steps`."""
    x, w, b, kwargs = engine_args(req, uploads)
    formulas = {"parameters": parameter_formula(w.shape, b is not None)}
    line = torch_line(req, x.shape)
    x, w, b = filter_inputs(x, w, b, 1, req.filter)
    chunk = req.chunk
    if req.step is not None:
        rows, cols = trace_output_size(x, w, kwargs)
        chunk = min(req.step, rows * cols - 1) // S.trace_chunk_steps
    start = chunk * S.trace_chunk_steps
    with engine_errors():
        t = conv2d(x, w, b, **kwargs, record_steps=slice(start, start + S.trace_chunk_steps))
    total = t.output.size
    if start >= total:
        raise ApiError(
            422,
            "chunk",
            f"chunk {chunk} starts past the last step ({total} steps, {S.trace_chunk_steps} per chunk)",
        )
    body = {
        "op": t.op,
        "params": t.params,
        "filter": req.filter,
        "output": t.output[0],
        "activation": relu(t.output[0]).output if req.relu else None,
        "num_steps": total,
        "chunk": chunk,
        "chunk_steps": S.trace_chunk_steps,
        "step_offset": start,
        # each step's window is the padded stage at its rows and columns: the page looks it up there, which
        # keeps a whole 28x28 trace under 40 KB compressed (the windows were a fifth of it)
        "steps": {k: v for k, v in t.steps.items() if k != "window"},
        "formulas": size_formulas(t) | formulas,
        "torch": line,
    }
    if req.stages:
        body["stages"] = {"input": x, "padded": t.stages["padded"], "weight": t.stages["weight"][0]}
    return NumpyJSONResponse(body)


@router.post("/live", response_class=Response, responses=LIVE_DOC)
async def live(req: ConvParams, uploads: Uploads) -> Response:
    """Every filter's output map (and its ReLU), nothing else: the fast path for live edits."""
    # async, so it runs on the event loop: the work is well under a millisecond at 64x64 (a few at the
    # largest request), less than the thread pool's hand-off costs under a classroom's load
    x, w, b, kwargs = engine_args(req, uploads)
    with engine_errors():
        maps = conv2d(x, w, b, **kwargs, record_steps=False).output  # (F, OH, OW)
    layers = np.stack([maps, relu(maps).output] if req.relu else [maps]).astype("<f4")
    lo, hi = layers.min(axis=(2, 3)).ravel(), layers.max(axis=(2, 3)).ravel()
    headers = {
        "X-Shape": ",".join(map(str, layers.shape)),
        "X-Min": ",".join(f"{v:.6g}" for v in lo),
        "X-Max": ",".join(f"{v:.6g}" for v in hi),
        "Cache-Control": "no-store",
    }
    return Response(layers.tobytes(), media_type="application/octet-stream", headers=headers)
