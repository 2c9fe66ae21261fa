"""Fully connected layers (seeds 000, 001, 003): neurons as lines folded over the plane, layers
combining them into convex and non-convex regions, F.linear stepped neuron by neuron, parameter
counts, and why weights start random."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from layerlab.app.config import in_effect as S
from layerlab.app.errors import engine_errors
from layerlab.app.jobs import heavy
from layerlab.app.mathml import tex
from layerlab.app.pages.dense import request as dr
from layerlab.app.pages.dense import text as dt
from layerlab.app.pages.dense.schemas import (
    CountRequest,
    DensePointRequest,
    InitRequest,
    LinearRequest,
    PlaneRequest,
)
from layerlab.app.serialize import NumpyJSONResponse, body_model
from layerlab.engine.init_demo import TOY_SETS
from layerlab.engine.linear import parameter_count

router = APIRouter(tags=["dense"])


PlaneAnswer = body_model(
    "PlaneAnswer",
    "A small MLP's lines, normals and regions over the plane.",
    "sizes",
    "axis",
    "layers",
    "lines",
    "normals",
    "weights",
    "biases",
    "region",
)
DensePointAnswer = body_model(
    "DensePointAnswer",
    "One point through the MLP, step by step.",
    "layer",
    "point",
    "input",
    "output",
    "activation",
    "activated",
    "num_steps",
    "steps",
    "path",
)
LinearAnswer = body_model(
    "LinearAnswer",
    "linear's trace: the output and one step per output element.",
    "op",
    "params",
    "output",
    "num_steps",
    "steps",
    "torch",
)
ParametersAnswer = body_model(
    "ParametersAnswer",
    "The parameter count of each layer of an MLP.",
    "sizes",
    "total",
    "weights",
    "biases",
    "parameters",
    "neurons",
    "torch",
    "formula",
)
InitAnswer = body_model(
    "InitAnswer",
    "Training from an initialisation: the loss and activations by step.",
    "op",
    "params",
    "output",
    "stages",
    "steps",
    "num_steps",
    "summary",
)

PAGE_LIMITS = (
    "max_dense_layers",
    "max_dense_neurons",
    "max_dense_weight",
    "max_count_layers",
    "max_count_size",
    "max_init_hidden",
    "max_init_points",
    "max_init_epochs",
    "max_init_lr",
    "max_init_constant",
)


@router.get("/dense", response_class=HTMLResponse, include_in_schema=False)
def dense_page(request: Request) -> HTMLResponse:
    """The dense-layers explainer."""
    data = {
        "defaults": {
            **PlaneRequest().model_dump(),
            **DensePointRequest().model_dump(include={"point", "layer"}),
            "sizes": CountRequest().sizes,
            "init": InitRequest().model_dump(),
        },
        "presets": dt.PRESETS,
        "count_presets": dt.COUNT_PRESETS,
        "activations": list(dt.ACTIVATION_FORMULAS),
        "toy_sets": TOY_SETS,
        "limits": {name: getattr(S, name) for name in PAGE_LIMITS},
    }
    formulas = {key: tex(latex, True) for key, latex in dt.DEFINITIONS.items()}
    return request.app.state.templates.TemplateResponse(
        request, "dense/page.html", {"page_data": data, "formulas": formulas}
    )


@router.post("/api/dense/plane", response_model=PlaneAnswer, response_class=NumpyJSONResponse)
@heavy
def plane(req: PlaneRequest) -> NumpyJSONResponse:
    """Every layer's pre-activation and activation over the plane, the lines and the output's region."""
    return NumpyJSONResponse(dr.plane(req))


@router.post("/api/dense/point", response_model=DensePointAnswer, response_class=NumpyJSONResponse)
def point(req: DensePointRequest) -> NumpyJSONResponse:
    """One layer's weighted sums at one point, neuron by neuron (the linear trace's steps)."""
    return NumpyJSONResponse(dr.point(req))


@router.post("/api/dense/linear", response_model=LinearAnswer, response_class=NumpyJSONResponse)
@heavy
def linear(req: LinearRequest) -> NumpyJSONResponse:
    """torch.nn.functional.linear: output and one step per (sample, neuron)."""
    return NumpyJSONResponse(dr.linear_call(req))


@router.post("/api/dense/parameters", response_model=ParametersAnswer, response_class=NumpyJSONResponse)
def parameters(req: CountRequest) -> NumpyJSONResponse:
    """Weights and biases per layer and in total, with the formula's numbers plugged in."""
    with engine_errors("sizes"):
        t = parameter_count(req.sizes, req.bias)
    per_layer = t.stages["parameters"].tolist()
    return NumpyJSONResponse(
        {
            "sizes": req.sizes,
            "total": int(t.output),
            # lists, not arrays: the wire narrows integer arrays to int32 and a count may pass 2**31
            "weights": t.stages["weights"].tolist(),
            "biases": t.stages["biases"].tolist(),
            "parameters": per_layer,
            "neurons": sum(req.sizes[1:]),
            "torch": t.params["torch"],
            "formula": dt.count_formula(req.sizes, req.bias, per_layer, int(t.output)),
        }
    )


@router.post("/api/dense/init", response_model=InitAnswer, response_class=NumpyJSONResponse)
@heavy
def init(req: InitRequest) -> NumpyJSONResponse:
    """The same small network trained from constant and from random weights, epoch by epoch."""
    return NumpyJSONResponse(dr.init_answer(req))
