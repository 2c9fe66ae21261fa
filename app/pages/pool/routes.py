"""Pooling (seeds 002, 003, 004): one pooling stepped window by window, four side by side, and the
shift-robustness demo, on a typed matrix, a sample or upload, or a feature map from the conv page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from layerlab.app.config import in_effect as S
from layerlab.app.deps import Uploads
from layerlab.app.examples import CONV_EXAMPLES
from layerlab.app.jobs import heavy
from layerlab.app.mathml import tex
from layerlab.app.pages.pool import request as pr
from layerlab.app.pages.pool import text as pt
from layerlab.app.pages.pool.kinds import BY_NAME, COMPARED, KINDS, PYRAMID_MODES
from layerlab.app.pages.pool.schemas import (
    SEED004_MATRIX,
    PoolCompareRequest,
    PoolShiftRequest,
    PoolTraceRequest,
)
from layerlab.app.serialize import NumpyJSONResponse, body_model, chunk_of
from layerlab.engine.images import SAMPLES

router = APIRouter(tags=["pool"])


PoolTraceAnswer = body_model(
    "PoolTraceAnswer",
    "One pooling kind's trace: a chunk of steps; with stages, the input, its padding and the output.",
    "op",
    "kind",
    "params",
    "num_steps",
    "chunk",
    "chunk_steps",
    "step_offset",
    "steps",
    "input?",
    "padded?",
    "output?",
    "bins?",
    "source?",
    "formulas?",
    "torch?",
)
PoolCompareAnswer = body_model(
    "PoolCompareAnswer",
    "Several pooling kinds over one input, side by side.",
    "op",
    "params",
    "num_steps",
    "chunk",
    "chunk_steps",
    "step_offset",
    "steps",
    "input?",
    "source?",
    "outputs?",
    "formulas?",
    "torch?",
)
PoolShiftAnswer = body_model(
    "PoolShiftAnswer",
    "How much pooling absorbs a shift of its input.",
    "shift",
    "input",
    "shifted",
    "pooled",
    "pooled_shifted",
    "changed_input",
    "changed_pooled",
    "fraction",
    "count",
)

PAGE_LIMITS = (
    "max_pool_kernel",
    "max_pool_matrix_side",
    "max_stride",
    "max_dilation",
    "max_divisor",
    "max_lp_norm_type",
    "max_pool_seed",
    "max_pool_output",
    "max_pyramid_level",
    "max_pyramid_levels",
    "max_shift",
    "max_image_side",
)
PRESETS = [
    {
        "id": "seed004",
        "label": "Seed 004: 2×2 max pool, stride 1",
        "note": "Seed 004's example: [[1, 0, 2], [3, 1, 2], [1, 2, 3]] with a 2×2 window moved one cell at a "
        "time. Each window keeps its largest number, giving [[3, 2], [3, 3]].",
        "state": {"source": "matrix", "matrix": SEED004_MATRIX, "kind": "max", "kernel_size": [2, 2],
                  "stride": [1, 1], "padding": [0, 0], "dilation": [1, 1], "ceil_mode": False},
    },
    {
        "id": "seed002",
        "label": "Seed 002: edges, ReLU, 2×2 max pool",
        "note": "Seed 002's Prewitt edges on its 5×5 matrix, negatives cut by ReLU, then a 2×2 max pool with "
        "stride 2: each 3 of the edge survives once. Knowing there is an edge in a region is enough; "
        "its exact column is given up for four times fewer numbers.",
        "state": {"source": "conv", "conv": {**CONV_EXAMPLES[1]["state"], "relu": True}, "conv_filter": 0,
                  "kind": "max", "kernel_size": [2, 2], "stride": [2, 2], "padding": [0, 0],
                  "dilation": [1, 1], "ceil_mode": False},
    },
]  # fmt: skip
DOC = {200: {"description": "Output, a chunk of steps, and with `stages` the input, formulas and PyTorch."}}


@router.get("/pool", response_class=HTMLResponse, include_in_schema=False)
def pool_page(request: Request) -> HTMLResponse:
    """The pooling explainer."""
    data = {
        "defaults": PoolShiftRequest().model_dump(),
        "kinds": [kind.page() for kind in KINDS],
        # the side by side mode's controls: those of its request that a compared kind reads
        "compare_controls": [
            name for name in PoolCompareRequest.model_fields if any(name in k.controls for k in COMPARED)
        ],
        "pyramid_modes": list(PYRAMID_MODES.items()),
        "presets": PRESETS,
        "samples": [{"name": k, "description": v} for k, v in SAMPLES.items()],
        "sizes": list(S.image_sizes),
        "limits": {name: getattr(S, name) for name in PAGE_LIMITS},
    }
    formulas = {key: tex(latex, True) for key, latex in pt.DEFINITIONS.items()}
    return request.app.state.templates.TemplateResponse(
        request, "pool/page.html", {"page_data": data, "formulas": formulas}
    )


@router.post(
    "/api/pool/trace", response_model=PoolTraceAnswer, response_class=NumpyJSONResponse, responses=DOC
)
@heavy
def trace(req: PoolTraceRequest, uploads: Uploads) -> NumpyJSONResponse:
    """One pooling's steps (windows or bins) in chunks (`serialize.chunk_of`)."""
    x, source = pr.load_map(req, uploads)
    t = pr.pool(req, x)
    chunk, steps = chunk_of(t, req.chunk, req.step)
    body = {
        "op": t.op,
        "kind": req.kind,
        "params": t.params,
        "num_steps": t.num_steps,
        "chunk": chunk,
        "chunk_steps": steps.stop - steps.start,
        "step_offset": steps.start,
        "steps": pr.step_fields(t, steps),
    }
    if req.stages:
        windowed = BY_NAME[req.kind].windowed
        formulas = pt.size_formulas(t.params) if windowed else {}
        body |= {
            "input": x,  # (H, W)
            "padded": t.stages["padded"][0] if windowed else None,  # (Hp, Wp); +-inf is null in JSON
            "output": pr.output_map(t),  # (OH, OW), or (L,) for the pyramid
            "bins": pr.bins(t),
            "source": source,
            "formulas": formulas | {"statistic": pt.statistic_formula(req, t)},
            "torch": pt.torch_line(req, t),
        }
    return NumpyJSONResponse(body)


@router.post(
    "/api/pool/compare", response_model=PoolCompareAnswer, response_class=NumpyJSONResponse, responses=DOC
)
@heavy
def compare(req: PoolCompareRequest, uploads: Uploads) -> NumpyJSONResponse:
    """Max, average, min and Lp pooling with the same windows: their outputs, one chunk of shared steps."""
    x, source = pr.load_map(req, uploads)
    traces = {kind.name: pr.pool(pr.compared(req, kind.name), x) for kind in COMPARED}
    first = next(iter(traces.values()))
    chunk, steps = chunk_of(first, req.chunk, req.step)
    shared = pr.step_fields(first, steps)
    divisor = next(t for t in traces.values() if "divisor" in t.steps)
    body = {
        "op": "compare",
        "params": first.params | {"norm_type": req.norm_type},
        "num_steps": first.num_steps,
        "chunk": chunk,
        "chunk_steps": steps.stop - steps.start,
        "step_offset": steps.start,
        "steps": {
            **{key: shared[key] for key in ("index", "rows", "cols", "window", "valid")},
            # the cell each extreme kind keeps: winner_max, winner_min
            **{f"winner_{k}": t.steps["winner"][steps] for k, t in traces.items() if "winner" in t.steps},
            "divisor": divisor.steps["divisor"][steps],
            "results": {kind: t.steps["result"][steps] for kind, t in traces.items()},
        },
    }
    if req.stages:
        body |= {
            "input": x,
            "source": source,
            "outputs": {kind: pr.output_map(t) for kind, t in traces.items()},
            "formulas": pt.size_formulas(first.params),
            "torch": pt.compare_lines(req),
        }
    return NumpyJSONResponse(body)


@router.post(
    "/api/pool/shift", response_model=PoolShiftAnswer, response_class=NumpyJSONResponse, responses=DOC
)
@heavy
def shift(req: PoolShiftRequest, uploads: Uploads) -> NumpyJSONResponse:
    """The map and its pooling before and after moving the map by `shift`: which numbers changed."""
    x, _ = pr.load_map(req, uploads)
    moved = pr.shift_map(x, *req.shift)
    pooled, pooled_moved = pr.output_map(pr.pool(req, x)), pr.output_map(pr.pool(req, moved))
    changed_map, changed_pooled = pr.changed(x, moved), pr.changed(pooled, pooled_moved)
    return NumpyJSONResponse(
        {
            "shift": req.shift,
            "input": x,  # (H, W)
            "shifted": moved,
            "pooled": pooled,  # (OH, OW), or (L,) for the pyramid
            "pooled_shifted": pooled_moved,
            "changed_input": changed_map.astype(int),  # 1 where the number changed
            "changed_pooled": changed_pooled.astype(int),
            "fraction": {"input": float(changed_map.mean()), "pooled": float(changed_pooled.mean())},
            "count": {
                "input": [int(changed_map.sum()), changed_map.size],
                "pooled": [int(changed_pooled.sum()), changed_pooled.size],
            },
        }
    )
