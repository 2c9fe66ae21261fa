"""HTML pages, rendered from templates/ with Jinja2."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from layerlab.app.assets import encoded
from layerlab.app.config import settings as S
from layerlab.app.examples import CONV_EXAMPLES
from layerlab.app.formulas import CONV as CONV_FORMULAS
from layerlab.app.lessons import cards as lesson_cards
from layerlab.app.operations import OPERATIONS
from layerlab.app.routes.kernels import kernel_infos
from layerlab.engine.images import FIXED_SIZE, SAMPLES

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    """The index: one card per operation."""
    context = {"operations": OPERATIONS, "lessons": lesson_cards()}
    return request.app.state.templates.TemplateResponse(request, "index.html", context)


@router.get("/conv", response_class=HTMLResponse)
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
        request, "conv.html", {"page_data": data, "formulas": CONV_FORMULAS}
    )


PLOTLY_URL = "/vendor/plotly-cartesian.min.js"  # templates/macros.html and static/js/kit/plotly-ready.js


@router.get(PLOTLY_URL)
def plotly_js(request: Request) -> Response:
    """Plotly.js's cartesian bundle, vendored in static/vendor/ (no CDN, works offline), compressed once."""
    body, encoding = encoded(S.plotly_js).pick(request.headers.get("accept-encoding", ""))
    headers = {"Cache-Control": "public, max-age=86400", "Vary": "Accept-Encoding"}
    if encoding:
        headers["Content-Encoding"] = encoding
    return Response(body, media_type="text/javascript", headers=headers)
