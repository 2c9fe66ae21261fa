"""Your own model: open an ONNX file or a state_dict (or a built-in), run it on an image, see every
layer's maps and the class probabilities, and open a Conv, pooling or norm layer on its own page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse

from layerlab.app.config import Settings
from layerlab.app.config import in_effect as S
from layerlab.app.deps import Uploads
from layerlab.app.errors import ApiError
from layerlab.app.jobs import heavy, run_job
from layerlab.app.pages.model import links as ml
from layerlab.app.pages.model import request as mr
from layerlab.app.pages.model.schemas import BUILTINS, BuiltinName, ModelLinkRequest, ModelRunRequest
from layerlab.app.pages.model.store import ModelStore, models_of
from layerlab.app.serialize import NumpyJSONResponse, body_model
from layerlab.engine.images import SAMPLES

router = APIRouter(tags=["model"])
Models = Annotated[ModelStore, Depends(models_of)]
PAGE_LIMITS = (
    "max_model_bytes",
    "max_model_nodes",
    "max_model_maps",
    "max_model_input_side",
    "max_model_layer_list",
    "max_upload_bytes",
    "max_network_seed",
)
OpenedAnswer = body_model(
    "OpenedAnswer",
    "An opened model: its content address and its layer column (and its file's `name`).",
    "name",
    id="the model's content address (SHA-256 of its file), to name it in later requests",
    kind='"onnx", "safetensors", "npz" or "builtin"',
    input="the graph input's name and shape (N, C, H, W)",
    layers="one row per node: name, op, torch name, inputs, output shape, parameters",
    total_parameters="the parameters torch would count (buffers such as running means left out)",
    explain="the page's explanation with this model's numbers",
)
RunAnswer = body_model(
    "RunAnswer",
    "The model run on one image: the input drawn, every layer's maps, the class probabilities.",
    model="the model's content address",
    source="where the input came from",
    input="the input as the model reads it (at most max_model_maps channels)",
    layers="per node: its maps (or vector) and shape; large maps as block means, said so",
    classes="a classifier's probabilities, labels and prediction (null otherwise)",
)
LinkAnswer = body_model(
    "LinkAnswer",
    "Links opening one channel of a layer on its own page, and what they leave out.",
    layer="the node's name",
    op="its ONNX operator",
    channel="the output channel linked",
    links="page, href and label of each link",
    notes="what the linked page shows differently or leaves out",
)
OPEN_ERRORS = {
    404: {"description": "The model named is not open on this worker (`unknown_model`): open it again"},
    413: {"description": "The model file is over max_model_bytes"},
    422: {"description": "The file, its layer list or input shape is wrong; the field is named"},
}


@router.get("/model", response_class=HTMLResponse, include_in_schema=False)
def model_page(request: Request) -> HTMLResponse:
    """Your own model, layer by layer."""
    data = {
        "defaults": ModelRunRequest().model_dump(exclude={"matrix", "layer"}),
        "builtins": list(BUILTINS),
        "samples": [name for name in SAMPLES if not name.startswith("seed002")],
        "limits": {name: getattr(S, name) for name in PAGE_LIMITS},
    }
    return request.app.state.templates.TemplateResponse(request, "model/page.html", {"page_data": data})


@router.post(
    "/api/model/open", response_model=OpenedAnswer, response_class=NumpyJSONResponse, responses=OPEN_ERRORS
)
async def open_model(
    request: Request,
    models: Models,
    file: Annotated[UploadFile, File(description="An ONNX file, or a safetensors or .npz state_dict")],
    layers: Annotated[str | None, Form(max_length=200_000)] = None,
    input_shape: Annotated[str | None, Form(max_length=40)] = None,
) -> NumpyJSONResponse:
    """Read a model file (with its layer list and input shape when it is a state_dict), check every node
    is one Layerlab runs, and keep it under its content address; the layer column with shapes and
    parameters."""
    config: Settings = request.app.state.settings
    data = await file.read(config.max_model_bytes + 1)
    if len(data) > config.max_model_bytes:
        raise ApiError(413, "file", f"the model file is over the {config.max_model_bytes:,} byte limit")
    name = (file.filename or "model")[:80]
    model = await run_job(request, mr.open_file, data, name, layers, input_shape, models)
    return NumpyJSONResponse(mr.opened_body(model))


@router.post(
    "/api/model/builtin/{name}",
    response_model=OpenedAnswer,
    response_class=NumpyJSONResponse,
    responses=OPEN_ERRORS,
)
@heavy
def open_builtin(name: BuiltinName, models: Models) -> NumpyJSONResponse:
    """A built-in model ("small-cnn", "circle") through the same path as a file."""
    return NumpyJSONResponse(mr.opened_body(mr.open_builtin(name, models)))


@router.post(
    "/api/model/run", response_model=RunAnswer, response_class=NumpyJSONResponse, responses=OPEN_ERRORS
)
@heavy
def run_model(req: ModelRunRequest, models: Models, uploads: Uploads) -> NumpyJSONResponse:
    """Run the opened model on an image: every layer's maps (at most max_model_maps channels each) and, for
    a classifier, the class probabilities."""
    return NumpyJSONResponse(mr.run_body(req, mr.find(req.model, models), uploads))


@router.post(
    "/api/model/link", response_model=LinkAnswer, response_class=NumpyJSONResponse, responses=OPEN_ERRORS
)
@heavy
def link(req: ModelLinkRequest, models: Models, uploads: Uploads) -> NumpyJSONResponse:
    """Links opening one channel of a Conv, pooling or norm layer on its own page, with that layer's
    weights and real input, and notes on what does not fit there."""
    return NumpyJSONResponse(ml.links(req, mr.find(req.model, models), uploads))
