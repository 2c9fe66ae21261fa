"""HTML pages, rendered from templates/ with Jinja2."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse

from app.config import settings as S
from app.examples import CONV_EXAMPLES
from app.formulas import CONV as CONV_FORMULAS
from app.routes.kernels import kernel_infos
from engine.images import SAMPLES

router = APIRouter(tags=["pages"], include_in_schema=False)

OPERATIONS = [
    {
        "name": "Convolution",
        "href": "/conv",
        "live": True,
        "blurb": "Slide a kernel over an image one window at a time; edit it and watch the maps change.",
    },
    {
        "name": "Convolution family",
        "href": "/family",
        "live": True,
        "blurb": "1-D, transposed, grouped, depthwise-separable, dilated; a shape and parameter calculator.",
    },
    {
        "name": "Layer calculator",
        "href": "/calculator",
        "live": True,
        "blurb": "Stack layers and read each one's output shape, parameters, MACs and receptive field.",
    },
    {
        "name": "Pooling",
        "href": "/pool",
        "live": True,
        "blurb": "Max, average, min, Lp, stochastic, pyramid and ROI pooling.",
    },
    {
        "name": "Normalization",
        "href": "/norm",
        "live": True,
        "blurb": "Which numbers share a mean and variance: BN, LN, IN, GN, RMS; running statistics; weights.",
    },
    {
        "name": "Attention",
        "href": "/attention",
        "live": True,
        "blurb": "From tokens to softmax(QKᵀ/√d_k)·V, one head and many.",
    },
    {
        "name": "Activations",
        "href": "/activations",
        "live": True,
        "blurb": "Sigmoid to GELU with their derivatives: where gradients vanish, and a ReLU that dies.",
    },
    {
        "name": "Dense layers",
        "href": "/dense",
        "live": True,
        "blurb": "Neurons as lines that fold the plane; regions from layers; why weights start random.",
    },
    {
        "name": "A small CNN",
        "href": "/network",
        "live": True,
        "blurb": "Draw a digit and watch every layer of a trained network, forward and backward.",
    },
    {
        "name": "Recurrent cells",
        "href": "/recurrent",
        "live": True,
        "blurb": "RNN, LSTM and GRU unrolled through time: gates, cell state and vanishing gradients.",
    },
]


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    """The index: one card per operation."""
    return request.app.state.templates.TemplateResponse(request, "index.html", {"operations": OPERATIONS})


@router.get("/conv", response_class=HTMLResponse)
def conv_page(request: Request) -> HTMLResponse:
    """The convolution explainer."""
    data = {
        "kernels": [k.model_dump() for k in kernel_infos()],
        "samples": [{"name": k, "description": v} for k, v in SAMPLES.items()],
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
        request, "conv.html", {"page_data": data, "formulas": CONV_FORMULAS}
    )


@router.get("/vendor/plotly.min.js")
def plotly_js() -> FileResponse:
    """Plotly.js from the installed plotly package: no CDN, works offline."""
    return FileResponse(
        S.plotly_js, media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"}
    )
