"""Convolution: a chunked step trace for one filter, and a light live path for all maps (POST, WebSocket)."""

from __future__ import annotations

from typing import Any

import anyio.from_thread
import numpy as np
import orjson
from fastapi import APIRouter, Request, Response, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from layerlab.app.config import in_effect as S
from layerlab.app.deps import Uploads
from layerlab.app.errors import ApiError, engine_errors, error_body, validation_body
from layerlab.app.examples import CONV_EXAMPLES
from layerlab.app.formulas import CONV as CONV_FORMULAS
from layerlab.app.inputs import UploadStore
from layerlab.app.jobs import run_job
from layerlab.app.pages.conv.request import (
    engine_args,
    live_frame,
    live_maps,
    live_work,
    map_ranges,
    parameter_formula,
    size_formulas,
    torch_line,
)
from layerlab.app.pages.conv.schemas import ConvParams, ConvTraceRequest
from layerlab.app.routes.kernels import kernel_infos
from layerlab.app.serialize import NumpyJSONResponse, body_model, chunk_of, trace_body
from layerlab.engine.activations import relu
from layerlab.engine.conv import conv2d, filter_inputs
from layerlab.engine.images import FIXED_SIZE, SAMPLES

router = APIRouter(tags=["conv"])


ConvTraceAnswer = body_model(
    "ConvTraceAnswer",
    "One filter's conv2d trace: its output, a chunk of steps, the stages asked for.",
    "op",
    "params",
    "output",
    "stages?",
    "steps",
    "num_steps",
    "filter",
    "activation",
    "chunk",
    "chunk_steps",
    "step_offset",
    "formulas",
    "torch",
)

TRACE_DOC = {200: {"description": "The trace of one filter: output, stages, a chunk of steps, formulas."}}
LIVE_DOC = {
    200: {
        "description": "float32 little-endian maps of shape X-Shape (layers, filters, OH, OW); "
        "layer 0 is the convolution, layer 1 its ReLU when asked.",
        "content": {"application/octet-stream": {}},
    }
}
CLIENT_GONE = 499  # the client closed the connection before its answer was ready (as nginx logs it)


@router.post(
    "/api/conv/trace", response_model=ConvTraceAnswer, response_class=NumpyJSONResponse, responses=TRACE_DOC
)
async def trace(req: ConvTraceRequest, request: Request, uploads: Uploads) -> Response:
    """Step trace of output channel `filter`, in chunks of `trace_chunk_steps` (fewer for wide kernels:
    `trace_chunk_values`)."""
    # the page cancels a trace whose settings it has moved past: no work for a client that left
    if await request.is_disconnected():
        return Response(status_code=CLIENT_GONE)
    return await run_job(request, _trace_response, req, uploads, request)


def _trace_response(req: ConvTraceRequest, uploads: UploadStore, request: Request) -> Response:
    """The trace, computed and serialized in a worker thread (serialized only while the client is there)."""
    x, w, b, kwargs = engine_args(req, uploads)
    with engine_errors():  # the engine names the argument at fault; the request fields share its names
        t = conv2d(
            *filter_inputs(x, w, b, 1, req.filter), **kwargs
        )  # steps on demand: a chunk is built below
    chunk, steps = chunk_of(t, req.chunk, req.step)
    stages = {"input": x, "padded": t.stages["padded"], "weight": t.stages["weight"][0]}
    names = stages if req.stages is True else req.stages or ()
    # each step's window is the padded stage at its rows and columns: the page looks it up there, which
    # keeps a whole 28x28 trace under 40 KB compressed (the windows were a fifth of it)
    body = trace_body(
        t,
        steps=steps,
        stages={name: stages[name] for name in names} if names else False,
        drop=("window",),
    )
    body |= {
        "filter": req.filter,
        "output": t.output[0],
        "activation": relu(t.output[0]).output if req.relu else None,
        "chunk": chunk,
        "chunk_steps": steps.stop - steps.start,
        "step_offset": steps.start,
        "formulas": size_formulas(t) | {"parameters": parameter_formula(w.shape, b is not None)},
        "torch": torch_line(req, x.shape),
    }
    if anyio.from_thread.run(request.is_disconnected):
        return Response(status_code=CLIENT_GONE)
    return NumpyJSONResponse(body)


async def _live(where: Request | WebSocket, req: ConvParams, uploads: UploadStore) -> np.ndarray:
    """The live maps: on the event loop when small (cheaper than a thread hand-off), else as a job."""
    if live_work(req) <= S.live_inline_work:
        return live_maps(req, uploads)
    return await run_job(where, live_maps, req, uploads)


@router.post("/api/conv/live", response_class=Response, responses=LIVE_DOC)
async def live(req: ConvParams, request: Request, uploads: Uploads) -> Response:
    """Every filter's output map (and its ReLU), nothing else: the fast path for live edits."""
    layers = await _live(request, req, uploads)
    lo, hi = map_ranges(layers)
    headers = {
        "X-Shape": ",".join(map(str, layers.shape)),
        "X-Min": ",".join(f"{v:.6g}" for v in lo),
        "X-Max": ",".join(f"{v:.6g}" for v in hi),
        "Cache-Control": "no-store",
    }
    return Response(layers.tobytes(), media_type="application/octet-stream", headers=headers)


@router.websocket("/api/conv/live/ws")
async def live_socket(ws: WebSocket) -> None:
    """Live edits over one connection. Each text message is a POST /live body plus `seq` (a whole number the
    answer carries back); each answer is one binary message (conv_request.live_frame), or for a refused edit a
    text message with the app's error body plus `seq` and `status`. One edit computes at a time per socket."""
    await ws.accept()
    uploads = ws.app.state.uploads
    limit = S.max_socket_message_bytes
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None or len(text) > limit or len(text.encode()) > limit:
                why = f"over the {limit:,} byte limit" if text else "send each edit as a JSON text message"
                detail = [{"loc": ["body"], "msg": why, "type": "limit"}]
                await _refuse(ws, None, 413, {"message": f"body: {why}", "detail": detail})
                await ws.close(1009 if text is not None else 1003)
                return
            seq, status, answer = await _live_answer(ws, text, uploads)
            if status == 200:
                await ws.send_bytes(answer)
            else:
                await _refuse(ws, seq, status, answer)
    except WebSocketDisconnect:
        return


async def _live_answer(ws: WebSocket, text: str, uploads: UploadStore) -> tuple[int | None, int, Any]:
    """(seq, status, answer) for one live message: the binary maps, or an error body."""
    seq = None
    try:
        body = orjson.loads(text)
        if not isinstance(body, dict):
            raise ApiError(422, "body", "expected a JSON object: the fields of POST /api/conv/live, and seq")
        seq = body.pop("seq", None)
        if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq < 2**32:
            seq = None
            raise ApiError(422, "seq", "must be a whole number from 0 to 4294967295, echoed in the answer")
        req = ConvParams.model_validate(body)
        return seq, 200, live_frame(seq, await _live(ws, req, uploads))
    except orjson.JSONDecodeError as exc:
        return None, 422, error_body(ApiError(422, "body", f"not valid JSON ({exc})"))
    except ValidationError as exc:
        detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        return seq, 422, validation_body(detail)
    except ApiError as exc:
        return seq, exc.status, error_body(exc)


async def _refuse(ws: WebSocket, seq: int | None, status: int, body: dict) -> None:
    await ws.send_text(orjson.dumps({**body, "seq": seq, "status": status}).decode())


@router.get("/conv", response_class=HTMLResponse, include_in_schema=False)
def conv_page(request: Request) -> HTMLResponse:
    """The convolution explainer."""
    data = {
        "kernels": [k.model_dump() for k in kernel_infos()],
        "samples": [{"name": k, "description": v, "sized": k not in FIXED_SIZE} for k, v in SAMPLES.items()],
        "sizes": list(S.image_sizes),
        "examples": CONV_EXAMPLES,
        "limits": {
            "max_kernel_side": S.max_kernel_side,
            "max_filters": S.max_filters,
            "max_stride": S.max_stride,
            "max_dilation": S.max_dilation,
            "max_padding": S.max_padding,
            "max_upload_bytes": S.max_upload_bytes,
            "max_image_side": S.max_image_side,
        },
    }
    return request.app.state.templates.TemplateResponse(
        request, "conv/page.html", {"page_data": data, "formulas": CONV_FORMULAS}
    )
