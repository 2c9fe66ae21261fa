"""The layer calculator: shapes, parameters, MACs and receptive fields of a stack (engine.calculator)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from layerlab.app.config import in_effect as S
from layerlab.app.errors import ApiError
from layerlab.app.fields import Field, limit
from layerlab.app.jobs import heavy
from layerlab.app.pages.calculator.request import (
    GENERAL,
    check_arg,
    check_input_shape,
    check_report,
    formulas,
    kind_table,
    preset_list,
    report_json,
)
from layerlab.app.serialize import NumpyJSONResponse, body_model
from layerlab.engine.calculator import Layer, StackError, StackReport, analyse
from layerlab.engine.calculator_graph import GraphLayer, GraphReport, analyse_graph

# ---- requests -----------------------------------------------------------------------------------

ArgName = Annotated[str, Field(max_length=32)]
LayerName = Annotated[str, Field(min_length=1, max_length=64)]
GRAPH_INPUT = "input"  # what a graph layer's `inputs` calls the input of input_shape
Side = Annotated[int, Field(ge=0, lt=limit.max_stack_side)]


class StackLayer(BaseModel):
    """One layer in torch's words, in_channels left out: the calculator takes it from the shape."""

    model_config = ConfigDict(extra="forbid")

    kind: Annotated[str, Field(max_length=32)]  # e.g. "Conv2d"; the engine names the kinds it knows
    # constructor arguments, e.g. {"out_channels": 32, "kernel_size": 3}; pairs as [H, W]
    args: Annotated[dict[ArgName, Any], Field(max_length=12)] = {}

    # a graph: the layer's name, and the names it reads ("input", or earlier layers); with neither on
    # any layer the stack is a chain. A layer without inputs reads the one before it.
    name: LayerName | None = None
    inputs: Annotated[list[LayerName], Field(min_length=1, max_length=8)] | None = None

    @field_validator("args")
    @classmethod
    def _safe_values(cls, args: dict[str, Any]) -> dict[str, Any]:
        return {name: check_arg(name, value) for name, value in args.items()}


class AnalyseRequest(BaseModel):
    """A stack applied to one sample; `selected` gets its formulas, `position` its field box."""

    model_config = ConfigDict(extra="forbid")

    # (F,), (C, L) or (C, H, W): channels first, no batch axis
    input_shape: Annotated[list[Annotated[int, Field(ge=1)]], Field(min_length=1, max_length=3)]
    layers: Annotated[list[StackLayer], Field(max_length=limit.max_layers)] = []
    selected: Annotated[int, Field(ge=0, lt=limit.max_layers)] | None = None  # a layer index
    # an output position (row, col) of the selected layer; None: its centre
    position: tuple[Side, Side] | None = None

    _input_within_limits = field_validator("input_shape")(check_input_shape)

    @field_validator("selected")
    @classmethod
    def _selected_exists(cls, index: int | None, info: ValidationInfo) -> int | None:
        layers = info.data.get("layers")
        if index is not None and layers is not None and index >= len(layers):
            raise ValueError(f"is {index}, but the stack has {len(layers)} layers")
        return index

    @field_validator("position")
    @classmethod
    def _needs_a_layer(cls, position: tuple | None, info: ValidationInfo) -> tuple | None:
        if position is not None and info.data.get("selected") is None:
            raise ValueError("is a position in the selected layer's output: set selected too")
        return position


def _graph(req: AnalyseRequest) -> list[GraphLayer] | None:
    """The layers as a graph when any names itself or its inputs; None for a plain chain."""
    if all(layer.name is None and layer.inputs is None for layer in req.layers):
        return None
    return [
        GraphLayer(layer.name or f"layers[{i}]", layer.kind, layer.args, tuple(layer.inputs or ()))
        for i, layer in enumerate(req.layers)
    ]


def _before(report: StackReport | GraphReport, i: int):
    """The report of what layer i reads (its first input in a graph), None for the input itself."""
    if isinstance(report, GraphReport):
        found = [r for r in report.layers[:i] if r.name == report.layers[i].inputs[0]]
        return found[0] if found else None
    return report.layers[i - 1] if i else None


def _focus(req: AnalyseRequest, report: StackReport | GraphReport) -> tuple[int, tuple[int, int]] | None:
    """(selected, position) once the position is checked against the layer's output."""
    if req.position is None:
        return None
    layer = report.layers[req.selected]
    if layer.receptive_field is None:
        raise ApiError(422, "position", f"layer {layer.index} ({layer.kind}) has no spatial output")
    sides = layer.output_shape[1:] if len(layer.output_shape) == 3 else (1, layer.output_shape[1])
    if any(p >= side for p, side in zip(req.position, sides, strict=True)):
        raise ApiError(
            422, "position", f"{req.position} is outside layer {layer.index}'s {sides[0]}x{sides[1]} output"
        )
    return req.selected, req.position


# ---- routes -------------------------------------------------------------------------------------

api = APIRouter(prefix="/api/calculator", tags=["calculator"])


AnalyseAnswer = body_model(
    "AnalyseAnswer",
    "Per layer shapes, parameters, MACs and receptive fields; the totals; the selected layer's formulas.",
    "input_shape",
    "layers",
    "total_parameters",
    "total_macs",
    "output_shape",
    "selected?",
)
router = APIRouter()  # the page and, included at the end, the API

ANALYSE_DOC = {
    200: {
        "description": "Per layer: index, kind, torch line, input and output shapes, parameters, MACs, "
        "receptive field (size, jump, start per axis H, W) and box (the input pixels that can reach one "
        "output position); the totals; `selected`: that layer's formulas as MathML. A graph (layers "
        "with `name` and `inputs`, the input called 'input'; Add and Concat join) adds each layer's "
        "name, inputs and input_shapes, and `outputs`: the shape of every value no layer reads."
    }
}


@api.post("/analyse", response_model=AnalyseAnswer, response_class=NumpyJSONResponse, responses=ANALYSE_DOC)
@heavy
def analyse_stack(req: AnalyseRequest) -> NumpyJSONResponse:
    """Shapes, parameters, MACs and receptive fields of every layer; a stack torch rejects is a 422."""
    graph = _graph(req)
    layers = graph or [Layer(layer.kind, layer.args) for layer in req.layers]
    try:
        if graph is None:
            report = analyse(req.input_shape, layers)
        else:
            report = analyse_graph({GRAPH_INPUT: req.input_shape}, graph)
    except StackError as exc:
        raise ApiError(422, "input_shape" if exc.index is None else f"layers[{exc.index}]", str(exc)) from exc
    check_report(report)
    body = report_json(report, tuple(req.input_shape), _focus(req, report))
    if req.selected is not None:
        i = req.selected
        body["selected"] = {"index": i, "formulas": formulas(layers[i], report.layers[i], _before(report, i))}
    return NumpyJSONResponse(body)


@api.get("/presets")
def presets() -> list[dict[str, Any]]:
    """The seeds' stacks: label, note, input_shape and layers as {kind, args}, ready to analyse."""
    return preset_list()


@router.get("/calculator", response_class=HTMLResponse, include_in_schema=False)
def calculator_page(request: Request) -> HTMLResponse:
    """The layer calculator."""
    data = {
        "kinds": kind_table(),
        "presets": preset_list(),
        "limits": {
            "max_layers": S.max_layers,
            "max_layer_size": S.max_layer_size,
            "max_stack_side": S.max_stack_side,
            "max_window_arg": S.max_window_arg,
        },
    }
    return request.app.state.templates.TemplateResponse(
        request, "calculator/page.html", {"page_data": data, "formulas": GENERAL}
    )


router.include_router(api)
