"""HTML pages, rendered from templates/ with Jinja2."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from layerlab.app.assets import encoded
from layerlab.app.config import in_effect as S
from layerlab.app.lessons import cards as lesson_cards
from layerlab.app.operations import OPERATIONS

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    """The index: one card per operation."""
    context = {"operations": OPERATIONS, "lessons": lesson_cards()}
    return request.app.state.templates.TemplateResponse(request, "index.html", context)


PLOTLY_URL = "/vendor/plotly-cartesian.min.js"  # templates/macros.html and static/js/kit/plotly-ready.js


@router.get(PLOTLY_URL)
def plotly_js(request: Request) -> Response:
    """Plotly.js's cartesian bundle, vendored in static/vendor/ (no CDN, works offline), compressed once."""
    body, encoding = encoded(S.plotly_js).pick(request.headers.get("accept-encoding", ""))
    headers = {"Cache-Control": "public, max-age=86400", "Vary": "Accept-Encoding"}
    if encoding:
        headers["Content-Encoding"] = encoding
    return Response(body, media_type="text/javascript", headers=headers)
