"""Normalization (seeds 000 and 003): which numbers of an (N, C, H, W) tensor share a mean and a
variance under BN, LN, IN, GN and RMS norm, local response norm, the weight normalizations, batch
norm's running statistics in training and evaluation, and why small batches hurt it."""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from layerlab.app.config import in_effect as S
from layerlab.app.errors import engine_errors
from layerlab.app.jobs import heavy
from layerlab.app.mathml import tex
from layerlab.app.pages.norm import request as nr
from layerlab.app.pages.norm import text as nt
from layerlab.app.pages.norm.schemas import NORM_OFFSETS, NORM_SCALES, NormParams, NormStreamRequest
from layerlab.app.serialize import NumpyJSONResponse, body_model, trace_body
from layerlab.engine.norm import batch_norm_stream

router = APIRouter(tags=["norm"])


NormAnswer = body_model(
    "NormAnswer",
    "One normalization of the generated tensor: every group's statistics and one group's equation.",
    "kind",
    "op",
    "params",
    "output",
    "shape",
    "views",
    "tensors",
    "ranges",
    "group_of",
    "window",
    "steps",
    "num_steps",
    "labels",
    "running",
    "histograms",
    "dependence",
    "equation",
    "torch",
)
NormEquationAnswer = body_model(
    "NormEquationAnswer",
    "One group's transform written out with its numbers.",
    "group",
    "lines",
)
NormStreamAnswer = body_model(
    "NormStreamAnswer",
    "Batch norm in training over several batches: the running statistics and the small-batch study.",
    "params",
    "population",
    "running_mean",
    "running_var",
    "batch_mean",
    "batch_var",
    "formula",
    "small_batch",
    "torch",
)

PAGE_LIMITS = (
    "max_norm_batch",
    "max_norm_channels",
    "max_norm_side",
    "max_norm_abs",
    "max_norm_eps",
    "max_norm_seed",
    "max_norm_batches",
    "max_norm_large_batch",
    "max_norm_trials",
    "max_lrn_size",
    "max_lrn_beta",
)
VIEWS = {  # kind -> the tensors the grid can show: (key, label)
    "lrn": [("input", "input a"), ("denominator", "denominator"), ("output", "output b")],
    "weight_norm": [("input", "v"), ("normalized", "v / ‖v‖"), ("output", "w = g v / ‖v‖")],
    "weight_std": [("input", "weight"), ("normalized", "standardized weight")],
}
DEFAULT_VIEWS = [("input", "input x"), ("normalized", "x̂ (before γ, β)"), ("output", "output y")]
DOC = {200: {"description": "The tensor before and after, every group's statistics, histograms, PyTorch."}}


@router.get("/norm", response_class=HTMLResponse, include_in_schema=False)
def norm_page(request: Request) -> HTMLResponse:
    """The normalization explainer."""
    data = {
        "kinds": [{"id": kind, "label": label} for kind, label in nt.LABELS.items()],
        "defaults": NormParams().model_dump() | NormStreamRequest().model_dump(),
        "apply_keys": list(NormParams.model_fields),
        "stream_keys": list(NormStreamRequest.model_fields),
        "offsets": NORM_OFFSETS,
        "scales": NORM_SCALES,
        "limits": {name: getattr(S, name) for name in PAGE_LIMITS},
    }
    formulas = {key: tex(latex, True) for key, latex in nt.DEFINITIONS.items()}
    return request.app.state.templates.TemplateResponse(
        request, "norm/page.html", {"page_data": data, "formulas": formulas}
    )


def _compute(req: NormParams) -> dict:
    """The drawn tensor (with the demo's change), the engine's trace and the page's step columns."""
    base = nr.generate(req)
    x = base.copy()
    if req.perturb and req.kind not in nr.WEIGHTS:
        x[req.change] += req.change_by
    with engine_errors():
        t, stream = nr.run(req, x)
    ids = nr.group_of(req, t, x.shape)
    tensors = {"input": x, "output": t.output}
    if "normalized" in t.stages or "direction" in t.stages:
        tensors["normalized"] = t.stages.get("normalized", t.stages.get("direction"))
    if "denominator" in t.stages:
        tensors["denominator"] = t.stages["denominator"]
    body = trace_body(t, stages=False)  # the page's steps add the sums its equations print
    body["steps"] = nr.steps(req, x, body["steps"], ids)
    return {"base": base, "x": x, "trace": t, "stream": stream, "ids": ids, "tensors": tensors,
            "body": body, "steps": body["steps"]}  # fmt: skip


def _equation(req: NormParams, c: dict) -> dict:
    g = min(req.group, len(c["steps"]["group"]) - 1)
    out = {"normalized": c["tensors"].get("normalized"), "output": c["trace"].output, "steps": c["steps"]}
    return {"group": g, "lines": nt.equation(req, c["x"], out, c["ids"], g, req.batches)}


def _running(req: NormParams, c: dict) -> dict | None:
    """Batch norm's running statistics: updated by this batch in training, used as they are in eval."""
    if req.kind != "batch":
        return None
    t, channels = c["trace"], c["x"].shape[1]
    if req.training:
        return {"before_mean": np.zeros(channels), "before_var": np.ones(channels),
                "mean": t.stages["running_mean"], "var": t.stages["running_var"], "batches": 0}  # fmt: skip
    stages = c["stream"].stages
    return {"mean": stages["running_mean"], "var": stages["running_var"], "batches": req.batches}


@router.post("/api/norm/apply", response_model=NormAnswer, response_class=NumpyJSONResponse, responses=DOC)
@heavy
def apply(req: NormParams) -> NumpyJSONResponse:
    """One normalization of the generated tensor: every group's statistics and one group's equation."""
    c = _compute(req)
    x, t, ids, steps = c["x"], c["trace"], c["ids"], c["steps"]
    by_group = req.histogram == "group"
    series = ids if by_group else np.broadcast_to(np.arange(x.shape[1])[:, None, None], x.shape)
    labels = nt.group_labels(req, x.shape, steps)
    channel = "input channel" if req.kind in nr.WEIGHTS else "channel"
    dependence = None
    if req.perturb and req.kind not in nr.WEIGHTS:
        with engine_errors():
            dependence = nr.dependence(req, c["base"], x, t.output)
    return NumpyJSONResponse(
        c["body"]
        | {
            "kind": req.kind,
            "shape": x.shape,
            "views": [[key, label] for key, label in VIEWS.get(req.kind, DEFAULT_VIEWS)],
            "tensors": c["tensors"],  # key -> (N, C, H, W)
            "ranges": {key: nr.extent(value) for key, value in c["tensors"].items()},
            "group_of": ids,  # (N, C, H, W) the group (step) of each element
            "window": nr.window(req, t),  # lrn: (S, C) the channels in each step's window
            "labels": labels,
            "running": _running(req, c),
            "histograms": {
                "by": req.histogram,
                "labels": labels if by_group else [f"{channel} {k}" for k in range(x.shape[1])],
                **nr.histograms(x, t.output, series, len(labels) if by_group else x.shape[1]),
            },
            "dependence": dependence,
            "equation": _equation(req, c),
            "torch": nt.torch_code(req, x.shape),
        }
    )


@router.post("/api/norm/equation", response_model=NormEquationAnswer, response_class=NumpyJSONResponse)
@heavy
def equation(req: NormParams) -> NumpyJSONResponse:
    """Group `group`'s transform written out with its numbers (MathML), for stepping."""
    return NumpyJSONResponse(_equation(req, _compute(req)))


@router.post("/api/norm/stream", response_model=NormStreamAnswer, response_class=NumpyJSONResponse)
@heavy
def stream(req: NormStreamRequest) -> NumpyJSONResponse:
    """Batch norm in training over `batches` batches: the running statistics converging to the
    population's, and the same sample normalized in small and large batches."""
    with engine_errors():
        t = batch_norm_stream(nr.stream_batches(req, req.batches), momentum=req.momentum, eps=req.eps)
        small = nr.small_batch(req)
    s, stages = t.steps, t.stages
    last = len(s["batch"]) - 1
    before = stages["initial_running_mean"] if last == 0 else s["running_mean"][last - 1]
    update = (req.momentum, before[0], s["mean"][last][0], s["running_mean"][last][0])  # of channel 0
    shape = (req.batch, req.channels, req.size, req.size)
    return NumpyJSONResponse(
        {
            "params": t.params,
            "population": {"mean": np.asarray(req.offsets), "var": np.asarray(req.scales) ** 2},
            # (K + 1, C): before the first batch, then after each
            "running_mean": np.vstack([stages["initial_running_mean"], s["running_mean"]]),
            "running_var": np.vstack([stages["initial_running_var"], s["running_var"]]),
            "batch_mean": s["mean"],  # (K, C)
            "batch_var": s["unbiased_var"],  # (K, C), the variance the running one averages
            "formula": nt.running_formula(*update),
            "small_batch": small,
            "torch": "\n".join(
                [
                    f"bn = nn.BatchNorm2d({req.channels}, eps={req.eps!r}, momentum={req.momentum!r})",
                    f"bn.train()\nfor x in batches:  # {req.batches} batches, each {shape}",
                    "    y = bn(x)  # updates bn.running_mean and bn.running_var",
                    "bn.eval()  # from here on bn(x) uses the running statistics",
                ]
            ),  # fmt: skip
        }
    )
