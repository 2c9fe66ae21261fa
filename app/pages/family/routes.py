"""The convolution family (seed 003): 1-D, transposed, grouped and separable, shuffle, tiled,
flattened and residual, each one engine call answered with every number its view draws."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from layerlab.app.config import in_effect as S
from layerlab.app.errors import engine_errors
from layerlab.app.jobs import heavy
from layerlab.app.mathml import tex
from layerlab.app.pages.family import request as fr
from layerlab.app.pages.family import text as ft
from layerlab.app.pages.family.schemas import (
    Conv1dRequest,
    FlattenedRequest,
    GroupedRequest,
    ResidualRequest,
    ShuffleRequest,
    TiledRequest,
    TransposedRequest,
)
from layerlab.app.serialize import NumpyJSONResponse, body_model, trace_body
from layerlab.engine.conv import conv2d
from layerlab.engine.family_parts import channel_groups, joint_schedule, scatter_partials
from layerlab.engine.grouped import (
    channel_shuffle,
    connections,
    conv1d,
    conv_cost,
    depthwise_separable_conv2d,
)
from layerlab.engine.measures import max_abs_difference
from layerlab.engine.transposed import conv_transpose2d, conv_transpose2d_as_conv
from layerlab.engine.variants import flattened_conv2d, residual_block, tiled_conv2d

router = APIRouter(tags=["family"])


Conv1dAnswer = body_model(
    "Conv1dAnswer",
    "conv1d of a signal with a kernel, every window recorded.",
    "op",
    "params",
    "output",
    "stages",
    "steps",
    "num_steps",
    "torch",
    "formulas",
)
TransposedAnswer = body_model(
    "TransposedAnswer",
    "Both readings of conv_transpose2d: the scatter steps with partial outputs and the gather conv2d trace.",
    "op",
    "params",
    "output",
    "max_difference",
    "num_steps",
    "schedule",
    "scatter",
    "gather",
    "torch",
    "formulas",
)
GroupedAnswer = body_model(
    "GroupedAnswer",
    "A standard, grouped, depthwise, pointwise or separable layer, its weights, output and cost.",
    "op",
    "mode",
    "params",
    "input",
    "names",
    "weights",
    "middle",
    "output",
    "diagrams",
    "cost",
    "ratio",
    "torch",
    "formulas",
)
ShuffleAnswer = body_model(
    "ShuffleAnswer",
    "channel_shuffle: the permutation and the maps before and after.",
    "op",
    "params",
    "permutation",
    "input_group",
    "input",
    "names",
    "output",
    "output_names",
    "torch",
    "formulas",
)
TiledAnswer = body_model(
    "TiledAnswer",
    "tiled_conv2d: which kernel each output uses and the parameter counts.",
    "op",
    "params",
    "input",
    "padded",
    "kernels",
    "tile_id",
    "output",
    "parameters",
    "torch",
    "formulas",
)
FlattenedAnswer = body_model(
    "FlattenedAnswer",
    "flattened_conv2d's three 1-D passes beside the full rank-one conv2d.",
    "op",
    "params",
    "input",
    "names",
    "filters",
    "stages",
    "output",
    "full_kernel",
    "full_output",
    "max_difference",
    "operations",
    "torch",
    "formulas",
)
ResidualAnswer = body_model(
    "ResidualAnswer",
    "residual_block: conv1, relu, conv2, the identity, their sum and the output.",
    "op",
    "params",
    "names",
    "stages",
    "output",
    "weights",
    "torch",
)

VARIANTS = {  # tab id -> (label, request model)
    "1d": ("1-D", Conv1dRequest),
    "transposed": ("Transposed", TransposedRequest),
    "grouped": ("Grouped / depthwise / pointwise / separable", GroupedRequest),
    "shuffle": ("Shuffle", ShuffleRequest),
    "tiled": ("Tiled", TiledRequest),
    "flattened": ("Flattened", FlattenedRequest),
    "residual": ("Residual", ResidualRequest),
}
PAGE_LIMITS = (  # the settings the page's controls are bounded by
    "max_signal_length",
    "max_kernel_length",
    "max_transposed_side",
    "max_transposed_stride",
    "max_transposed_dilation",
    "max_transposed_padding",
    "max_family_channels",
    "max_family_image_side",
    "max_tile_side",
    "max_mid_channels",
    "max_kernel_side",
    "max_stride",
    "max_dilation",
    "max_padding",
)
WEIGHT_KEYS = ("weight", "bias", "depthwise", "pointwise", "depthwise_bias", "pointwise_bias")
DOC = {200: {"description": "Output, stages, steps where there are any, formulas and the PyTorch line."}}


@router.get("/family", response_class=HTMLResponse, include_in_schema=False)
def family_page(request: Request) -> HTMLResponse:
    """The convolution-family page: one tab per variant."""
    data = {
        "variants": [{"id": key, "label": label} for key, (label, _) in VARIANTS.items()],
        "defaults": {key: model().model_dump() for key, (_, model) in VARIANTS.items()},
        "limits": {name: getattr(S, name) for name in PAGE_LIMITS},
        "sizes": [size for size in S.image_sizes if size <= S.max_family_image_side],
    }
    formulas = {key: tex(latex, True) for key, latex in ft.DEFINITIONS.items()}
    examples = {  # seed 003's 1x1 example: 28x28x192 to 32 channels, beside 3x3 filters
        "pointwise": conv_cost(192, 32, 1, 28, bias=False),
        "standard": conv_cost(192, 32, 3, 28, bias=False),
    }
    return request.app.state.templates.TemplateResponse(
        request, "family/page.html", {"page_data": data, "formulas": formulas, "examples": examples}
    )


@router.post(
    "/api/family/conv1d", response_model=Conv1dAnswer, response_class=NumpyJSONResponse, responses=DOC
)
@heavy
def one_dimensional(req: Conv1dRequest) -> NumpyJSONResponse:
    """conv1d of a signal with a kernel, every window recorded."""
    x, w, kwargs = fr.conv1d_args(req)
    with engine_errors(fields=fr.CONV1D_FIELDS):
        t = conv1d(x, w, **kwargs)
    steps = t.steps
    stages = {"signal": x[0], "padded": t.stages["padded"][0], "kernel": w[0, 0]}
    return NumpyJSONResponse(
        trace_body(t, steps=False, stages=stages)
        | {
            "output": t.output[0],  # (L_out,)
            "steps": {
                "position": steps["index"][:, 2],  # (S,) the output position
                "positions": steps["positions"],  # (S, k) padded positions the taps read
                "window": steps["window"][:, 0],  # (S, k)
                "products": steps["products"][:, 0],  # (S, k)
                "sum": steps["sum"],
                "result": steps["result"],
            },
            "torch": ft.torch_conv1d(req),
            "formulas": {"size": ft.conv1d_size(t.params)},
        }
    )


@router.post(
    "/api/family/transposed", response_model=TransposedAnswer, response_class=NumpyJSONResponse, responses=DOC
)
@heavy
def transposed(req: TransposedRequest) -> NumpyJSONResponse:
    """Both readings of conv_transpose2d: scatter steps with partial outputs, the gather conv2d trace."""
    x, w, kwargs = fr.transposed_args(req)
    with engine_errors():
        scatter = conv_transpose2d(x, w, **kwargs)
        gather = conv_transpose2d_as_conv(x, w, **kwargs)
    params = scatter.params
    top, bottom, left, right = params["gather_pads"]
    inserted = gather.stages["zero_inserted"][0]  # (Z_H, Z_W)
    schedule = dict(
        zip(("scatter", "gather"), joint_schedule(scatter.num_steps, gather.num_steps), strict=True)
    )
    scatter_body, gather_body = trace_body(scatter, stages=False), trace_body(gather, stages=False)
    s, g = scatter_body["steps"], gather_body["steps"]
    return NumpyJSONResponse(
        trace_body(scatter, steps=False, stages=False)
        | {
            "output": scatter.output[0],  # (OH, OW)
            "max_difference": max_abs_difference(scatter.output, gather.output),
            "num_steps": len(schedule["scatter"]),
            "schedule": schedule,  # joint step -> the step of each reading it shows
            "scatter": scatter_body
            | {
                "input": x[0],
                "kernel": w[0, 0],
                "output": scatter.output[0],
                "partial": scatter_partials(s, params["output_size"]),  # (S, OH, OW)
                "steps": {
                    "index": s["index"][:, 2:],  # (S, 2) the input element (i, j)
                    "value": s["value"],
                    "origin": s["origin"],
                    "rows": s["rows"],
                    "cols": s["cols"],
                    "stamp": s["stamp"][:, 0],  # (S, kH, kW)
                    "inside": s["inside"],
                },
            },
            "gather": gather_body
            | {
                "zero_inserted": inserted,
                "padded": gather.stages["padded"][0],  # (Hp, Wp)
                "kernel": gather.stages["weight"][0, 0],  # flipped
                "frame": (top, left, top + inserted.shape[0], left + inserted.shape[1]),
                "output": gather.output[0],
                "steps": {
                    "index": g["index"][:, 2:],  # (S, 2) the output element
                    "rows": g["rows"],
                    "cols": g["cols"],
                    "window": g["window"][:, 0],
                    "products": g["products"][:, 0],
                    "sum": g["sum"],
                    "result": g["result"],
                },
            },
            "torch": ft.torch_transposed(req),
            "formulas": ft.transposed_sizes(params),
        }
    )


def _diagram(c_from: int, c_to: int, groups: int) -> dict:
    """Which channel feeds which, (C_to, C_from), and the group of each source channel, (C_from,)."""
    return {
        "connections": connections(c_from, c_to, groups),
        "source_group": channel_groups(c_from, groups),
    }


@router.post(
    "/api/family/grouped", response_model=GroupedAnswer, response_class=NumpyJSONResponse, responses=DOC
)
@heavy
def grouped(req: GroupedRequest) -> NumpyJSONResponse:
    """A standard, grouped, depthwise, pointwise or depthwise-separable layer and its cost."""
    layer = fr.grouped_layer(req)
    x, k, groups, c_in, c_out = (
        layer["x"],
        layer["kernel"],
        layer["groups"],
        req.in_channels,
        req.out_channels,
    )
    middle = None
    with engine_errors(fields={"weight": "kernel_size", "depthwise_weight": "kernel_size"}):
        if req.mode == "separable":
            weights = [layer[key] for key in ("depthwise", "pointwise", "depthwise_bias", "pointwise_bias")]
            t = depthwise_separable_conv2d(x, *weights, padding=req.padding)
            middle, cost = t.stages["depthwise"], t.params["cost"]
            cost = {**cost, "layer": cost["separable"]}
            diagrams = [_diagram(c_in, c_in, c_in), _diagram(c_in, c_out, 1)]
        else:
            t = conv2d(
                x, layer["weight"], layer["bias"], padding=req.padding, groups=groups, record_steps=False
            )
            out_size = t.params["output_size"]
            cost = {
                "layer": conv_cost(c_in, c_out, k, out_size, groups, req.bias),
                "standard": conv_cost(c_in, c_out, k, out_size, 1, req.bias),
            }
            diagrams = [_diagram(c_in, c_out, groups)]
    out_size = t.params["output_size"]
    ratio = {key: cost["standard"][key] / cost["layer"][key] for key in ("parameters", "macs")}
    return NumpyJSONResponse(
        trace_body(t, steps=False, stages=False)
        | {
            "mode": req.mode,
            "params": {
                "in_channels": c_in,
                "out_channels": c_out,
                "groups": groups,
                "kernel_size": k,
                "padding": req.padding,
                "output_size": out_size,
            },
            "input": x,  # (C_in, H, W)
            "names": layer["names"],
            # "weight" (C_out, C_in/g, k, k) and "bias", or for "separable" "depthwise" (C_in, 1, k, k),
            # "pointwise" (C_out, C_in, 1, 1) and their biases (None without a bias)
            "weights": {key: value for key, value in layer.items() if key in WEIGHT_KEYS},
            "middle": middle,  # (C_in, OH, OW) after the depthwise half of "separable", else None
            "output": t.output,  # (C_out, OH, OW)
            "diagrams": diagrams,  # input -> output, or input -> depthwise -> output for "separable"
            "cost": cost,
            "ratio": ratio,  # standard / this layer
            "torch": ft.torch_grouped(req, k, groups),
            "formulas": ft.grouped_formulas(req, k, out_size, cost),
        }
    )


@router.post(
    "/api/family/shuffle", response_model=ShuffleAnswer, response_class=NumpyJSONResponse, responses=DOC
)
@heavy
def shuffle(req: ShuffleRequest) -> NumpyJSONResponse:
    """channel_shuffle of the scene's channels: the permutation and the maps before and after."""
    x, names = fr.channel_stack(req.size, req.channels)
    with engine_errors():
        t = channel_shuffle(x[None], req.groups)
    permutation = t.params["permutation"]
    return NumpyJSONResponse(
        trace_body(t, steps=False, stages=False)
        | {
            "params": {"groups": req.groups, "channels_per_group": t.params["channels_per_group"]},
            "permutation": permutation,  # output[k] = input[permutation[k]]
            "input_group": channel_groups(req.channels, req.groups),  # (C,)
            "input": x,
            "names": names,
            "output": t.output[0],
            "output_names": [names[p] for p in permutation],
            "torch": ft.torch_shuffle(req),
            "formulas": {"permutation": ft.shuffle_formula(req.channels, req.groups)},
        }
    )


@router.post("/api/family/tiled", response_model=TiledAnswer, response_class=NumpyJSONResponse, responses=DOC)
@heavy
def tiled(req: TiledRequest) -> NumpyJSONResponse:
    """tiled_conv2d on the grey scene: which kernel each output uses and the parameter counts."""
    x, w, kwargs = fr.tiled_args(req)
    with engine_errors(fields={"weight": "kernel_size"}):
        t = tiled_conv2d(x, w, None, **kwargs)
    tile_index = t.stages["tile_index"]  # (OH, OW, 2)
    plain = conv_cost(1, 1, req.kernel_size, t.params["output_size"], 1, False)["parameters"]
    return NumpyJSONResponse(
        trace_body(t, steps=False, stages=False)
        | {
            "input": x[0],
            "padded": t.stages["padded"][0],
            "kernels": w[:, :, 0, 0],  # (tH, tW, k, k)
            "tile_id": tile_index[..., 0] * req.tile[1] + tile_index[..., 1],  # (OH, OW) kernel number
            "output": t.output[0],
            "parameters": {"tiled": t.params["parameters"], "plain": plain},
            "torch": ft.torch_tiled(req, t.params["output_size"]),
            "formulas": ft.tiled_formulas(t.params, plain),
        }
    )


@router.post(
    "/api/family/flattened", response_model=FlattenedAnswer, response_class=NumpyJSONResponse, responses=DOC
)
@heavy
def flattened(req: FlattenedRequest) -> NumpyJSONResponse:
    """flattened_conv2d's three 1-D passes beside the full conv2d with the rank-1 kernel they make."""
    x, names, kwargs = fr.flattened_args(req)
    full_kernel = fr.rank_one_kernel(kwargs)  # (1, C, kH, kW)
    with engine_errors(fields=fr.FLATTENED_FIELDS):
        t = flattened_conv2d(x, **kwargs)
        full = conv2d(x, full_kernel, padding=req.padding, record_steps=False)
    stages = {key: t.stages[key][0] for key in ("after_channel", "padded", "after_vertical")}
    return NumpyJSONResponse(
        trace_body(t, steps=False, stages=stages)
        | {
            "input": x,
            "names": names,
            "filters": {key: kwargs[f"{key}_weight"][0] for key in ("channel", "vertical", "horizontal")},
            "output": t.output[0],
            "full_kernel": full_kernel[0],  # (C, kH, kW)
            "full_output": full.output[0],
            "max_difference": max_abs_difference(full.output, t.output),
            "operations": t.params["operations"],
            "torch": ft.torch_flattened(req),
            "formulas": ft.flattened_formulas(t.params, x.shape[0]),
        }
    )


@router.post(
    "/api/family/residual", response_model=ResidualAnswer, response_class=NumpyJSONResponse, responses=DOC
)
@heavy
def residual(req: ResidualRequest) -> NumpyJSONResponse:
    """residual_block with preset weights: conv1, relu, conv2, the identity, their sum and the output."""
    x, names, kwargs = fr.residual_args(req)
    with engine_errors():
        t = residual_block(x, **kwargs)
    # stages conv1, relu1 (C_mid, H, W); conv2, identity, sum (C, H, W)
    return NumpyJSONResponse(
        trace_body(t, steps=False)
        | {
            "names": names,
            "weights": {"conv1": kwargs["weight1"], "conv2": kwargs["weight2"]},
            "torch": ft.torch_residual(req),
        }
    )
