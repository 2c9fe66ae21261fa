"""Activation functions (seed 001): f and f' with their saturated stretches, one x with its numbers,
a conv feature map activated, softmax on a small vector, and a ReLU network whose units die."""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from layerlab.app.config import in_effect as S
from layerlab.app.errors import engine_errors
from layerlab.app.jobs import heavy
from layerlab.app.mathml import tex
from layerlab.app.pages.activations import request as ar
from layerlab.app.pages.activations import text as at
from layerlab.app.pages.activations.schemas import (
    KINDS,
    ActivationPointRequest,
    CurveRequest,
    DeadReluRequest,
    MapRequest,
    SoftmaxRequest,
)
from layerlab.app.serialize import NumpyJSONResponse, body_model, trace_body
from layerlab.engine.activation_demos import dead_relu_training, sample_curve
from layerlab.engine.activation_parts import first_step, gradient_flow, tempered
from layerlab.engine.activations import softmax
from layerlab.engine.images import SAMPLES
from layerlab.engine.kernels import PRESETS

router = APIRouter(tags=["activations"])


CurveAnswer = body_model(
    "CurveAnswer",
    "An activation's curve, its gradient and where it saturates.",
    "kind",
    "params",
    "x",
    "f",
    "grad",
    "saturated",
    "intervals",
    "pieces",
    "winner",
    "saturated_fraction",
    "formulas",
    "torch",
)
PointAnswer = body_model(
    "PointAnswer",
    "An activation and its gradient at one point.",
    "x",
    "f",
    "grad",
    "formulas",
)
MapAnswer = body_model(
    "MapAnswer",
    "A feature map through an activation: values, gradient, saturation.",
    "conv",
    "output",
    "grad",
    "saturated_fraction",
    "zero_fraction",
    "conv_state",
    "torch",
)
SoftmaxAnswer = body_model(
    "SoftmaxAnswer",
    "softmax of a vector, each stage and its Jacobian.",
    "z",
    "temperature",
    "scaled",
    "shifted",
    "exp",
    "sum",
    "output",
    "jacobian",
    "text",
)
DeadReluAnswer = body_model(
    "DeadReluAnswer",
    "Training a small ReLU layer: which neurons die and when.",
    "params",
    "num_steps",
    "x",
    "target",
    "steps",
    "first_dead",
)

LABELS = {
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "relu": "ReLU",
    "leaky_relu": "Leaky ReLU",
    "prelu": "PReLU",
    "elu": "ELU",
    "gelu": "GELU",
    "softmax": "Softmax",
    "maxout": "Maxout",
}
PAGE_LIMITS = (
    "max_curve_x",
    "max_curve_points",
    "max_activation_param",
    "max_saturation_threshold",
    "max_maxout_pieces",
    "max_activation_image_side",
    "max_softmax_length",
    "max_softmax_abs",
    "min_softmax_temperature",
    "max_softmax_temperature",
    "max_dead_neurons",
    "max_dead_steps",
    "max_dead_lr",
    "max_dead_bias_shift",
)


@router.get("/activations", response_class=HTMLResponse, include_in_schema=False)
def activations_page(request: Request) -> HTMLResponse:
    """The activations explainer."""
    data = {
        "defaults": {
            "curve": CurveRequest().model_dump(),
            "map": {
                k: v for k, v in MapRequest().model_dump().items() if k in ("image", "size", "kernel", "gain")
            },
            "softmax": SoftmaxRequest().model_dump(),
            "dead": DeadReluRequest().model_dump(),
        },
        "kinds": [{"id": k, "label": LABELS[k]} for k in KINDS],
        "samples": [{"name": k, "description": v} for k, v in SAMPLES.items()],
        "kernels": [{"name": p.name, "label": p.label} for p in PRESETS.values()],
        "sizes": [s for s in S.image_sizes if s <= S.max_activation_image_side],
        "limits": {name: getattr(S, name) for name in PAGE_LIMITS},
    }
    formulas = {key: tex(latex, True) for key, latex in at.DEFINITIONS.items()}
    return request.app.state.templates.TemplateResponse(
        request, "activations/page.html", {"page_data": data, "formulas": formulas}
    )


@router.post("/api/activations/curve", response_model=CurveAnswer, response_class=NumpyJSONResponse)
@heavy
def curve(req: CurveRequest) -> NumpyJSONResponse:
    """f and f' on `points` x in [x_min, x_max], and where |f'| < threshold (saturated)."""
    with engine_errors("kind"):
        t = sample_curve(ar.activation(req), req.x_min, req.x_max, req.points, req.threshold)
    return NumpyJSONResponse(
        trace_body(t, stages=False)
        | {
            "kind": req.kind,
            "x": t.stages["x"],
            "f": t.output,
            "grad": t.stages["grad"],
            "saturated": t.stages["saturated"].astype(int),
            "intervals": t.stages["intervals"],  # (M, 2): [first x, last x] of each saturated run
            "pieces": t.stages.get("pieces"),  # maxout: (points, k) each line's value
            "winner": t.stages.get("winner"),
            "saturated_fraction": gradient_flow(t.stages["grad"], req.threshold)["saturated_fraction"],
            "formulas": at.formulas(req),
            "torch": at.torch_line(req),
        }
    )


@router.post("/api/activations/point", response_model=PointAnswer, response_class=NumpyJSONResponse)
def point(req: ActivationPointRequest) -> NumpyJSONResponse:
    """f(x) and f'(x) at one x, and both formulas with that x's numbers filled in."""
    t = ar.apply(req, np.array([req.x]))
    return NumpyJSONResponse(
        trace_body(t, stages=False)
        | {
            "x": req.x,
            "f": float(t.output.reshape(-1)[0]),
            "grad": float(t.stages["grad"].reshape(-1)[0]),
            "formulas": at.point(req, t),
        }
    )


@router.post("/api/activations/map", response_model=MapAnswer, response_class=NumpyJSONResponse)
@heavy
def feature_map(req: MapRequest) -> NumpyJSONResponse:
    """A conv feature map, the activation of it and its derivative (where gradients flow)."""
    conv = ar.feature_map(req)  # (H, W)
    t = ar.apply(req, conv)
    grad = t.stages["grad"].reshape(conv.shape)
    kernel = req.kernel if req.gain == 1 else f"{req.gain!r} * {req.kernel}"
    return NumpyJSONResponse(
        trace_body(t, stages=False)
        | {
            "conv": conv,
            "output": t.output.reshape(conv.shape),  # the activated map
            "grad": grad,
            **gradient_flow(grad, req.threshold),
            "conv_state": ar.conv_state(req),
            "torch": f"y = {at.torch_line(req)}  # x = F.conv2d(image, {kernel}, padding='same')",
        }
    )


@router.post("/api/activations/softmax", response_model=SoftmaxAnswer, response_class=NumpyJSONResponse)
@heavy
def softmax_vector(req: SoftmaxRequest) -> NumpyJSONResponse:
    """softmax(z / T) with every stage: shifted, exponentials, their sum, the output and the Jacobian."""
    scaled = tempered(req.z, req.temperature)
    with engine_errors("z"):
        t = softmax(scaled, dim=0)
    return NumpyJSONResponse(
        trace_body(t, stages=False)
        | {
            "z": req.z,
            "temperature": req.temperature,
            "scaled": scaled,
            "shifted": t.stages["shifted"],
            "exp": t.stages["exp"],
            "sum": float(t.stages["sum"][0]),
            "jacobian": t.stages["jacobian"],  # (n, n): dy_i / ds_j, s = z / T
            "text": at.softmax_text(req.z, req.temperature, t),
        }
    )


@router.post("/api/activations/dead-relu", response_model=DeadReluAnswer, response_class=NumpyJSONResponse)
@heavy
def dead_relu(req: DeadReluRequest) -> NumpyJSONResponse:
    """The dying-ReLU run: per step the loss, which units are dead, their pre-activation ranges."""
    with engine_errors("lr"):
        t = dead_relu_training(req.seed, req.neurons, req.lr, req.steps, req.bias_shift, req.negative_slope)
    steps = t.steps
    first_dead = first_step(steps["dead"])  # (neurons,)
    return NumpyJSONResponse(
        trace_body(t, stages=False)
        | {
            "x": t.stages["x"],
            "target": t.stages["target"],
            "steps": {k: v.astype(int) if v.dtype == bool else v for k, v in steps.items()},
            "first_dead": first_dead,  # the first state a unit is dead in (-1: never)
        }
    )
