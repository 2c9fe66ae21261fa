"""The small CNN (seeds 002 and 000): a digit through every layer, its gradients, map links, and the
hand-made circle detector."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from layerlab.app.config import in_effect as S
from layerlab.app.deps import Uploads
from layerlab.app.jobs import heavy
from layerlab.app.mathml import tex
from layerlab.app.pages.network import request as nr
from layerlab.app.pages.network import text as nt
from layerlab.app.pages.network.schemas import (
    CircleRequest,
    NetworkBackwardRequest,
    NetworkInput,
    NetworkLinkRequest,
)
from layerlab.app.serialize import NumpyJSONResponse, body_model
from layerlab.engine.cnn import circle
from layerlab.engine.cnn.model import parameter_count

router = APIRouter(tags=["network"])


ForwardAnswer = body_model(
    "ForwardAnswer",
    "The small CNN's forward pass: every map, the logits and the prediction.",
    "source",
    "blank",
    "input",
    "maps",
    "flatten",
    "logits",
    "probs",
    "predicted",
    "shapes",
)
BackwardAnswer = body_model(
    "BackwardAnswer",
    "The small CNN's backward pass: the loss and every gradient.",
    "source",
    "target",
    "loss",
    "probs",
    "grads",
    "grad_flatten",
    "grad_logits",
    "weight_grads",
    "transposed",
)
CircleAnswer = body_model(
    "CircleAnswer",
    "A detector of a circle from its parts: the kernels, contributions and output.",
    "shape",
    "input",
    "kernels",
    "parts",
    "detector",
    "contributions",
    "bias",
    "output",
    "fires",
    "part_names",
    "formula",
)

PAGE_LIMITS = ("min_network_matrix_side", "max_network_matrix_side", "max_network_seed", "max_upload_bytes")
DOC = {200: {"description": "Every layer's numbers for one input (channels first, N dropped)."}}


@router.get("/network", response_class=HTMLResponse, include_in_schema=False)
def network_page(request: Request) -> HTMLResponse:
    """The small-CNN explainer."""
    data = {
        "defaults": NetworkBackwardRequest().model_dump() | {"tab": "forward"},
        "architecture": [{"name": n, "what": w, "shape": s} for n, w, s in nt.ARCHITECTURE],
        "parameters": {name: count for name, (_, count) in nt.PARAMETERS.items()},
        "total_parameters": parameter_count(),
        "circle_shapes": list(circle.SHAPES),
        "part_names": nt.PART_NAMES,
        "limits": {name: getattr(S, name) for name in PAGE_LIMITS},
    }
    formulas = {key: tex(latex, True) for key, latex in nt.DEFINITIONS.items()}
    for name, (latex, count) in nt.PARAMETERS.items():
        formulas[f"params_{name}"] = tex(rf"{latex} = {count}")
    context = {
        "page_data": data,
        "formulas": formulas,
        "torch": nt.TORCH,
        "keras": nt.KERAS,
        "circle_note": nt.CIRCLE_NOTE,
        "architecture": nt.ARCHITECTURE,
        "total_parameters": parameter_count(),
    }
    return request.app.state.templates.TemplateResponse(request, "network/page.html", context)


@router.post(
    "/api/network/forward", response_model=ForwardAnswer, response_class=NumpyJSONResponse, responses=DOC
)
@heavy
def forward(req: NetworkInput, uploads: Uploads) -> NumpyJSONResponse:
    """The input as the network sees it, every feature map, the flattened vector, logits and probabilities."""
    x, source = nr.load_input(req, uploads)
    return NumpyJSONResponse(nr.forward_body(x, source))


@router.post(
    "/api/network/backward", response_model=BackwardAnswer, response_class=NumpyJSONResponse, responses=DOC
)
@heavy
def backward(req: NetworkBackwardRequest, uploads: Uploads) -> NumpyJSONResponse:
    """The gradient of -log P(target) at every layer; conv2's input gradient as a transposed convolution."""
    x, source = nr.load_input(req, uploads)
    return NumpyJSONResponse(nr.backward_body(x, req.target, source))


@router.post("/api/network/link")
@heavy
def link(req: NetworkLinkRequest, uploads: Uploads) -> dict:
    """Links opening one map of this input on the conv or pooling page, and what they show."""
    return nr.links(req, uploads)


@router.post("/api/network/circle", response_model=CircleAnswer, response_class=NumpyJSONResponse)
@heavy
def circle_detector(req: CircleRequest) -> NumpyJSONResponse:
    """Seed 000's two-layer circle detector on a named 5x5 shape or an edited grid."""
    return NumpyJSONResponse(nr.circle_body(req))
