"""The explainer pages, one package each, named as the page's folder in every layer: app/pages/<name>/
(routes.py, schemas.py, request.py: from a request to engine calls and back, text.py: the page's words and
formulas), templates/<name>/page.html, static/js/<name>/page.js and static/css/pages/<name>.css."""

from __future__ import annotations

from importlib import import_module

from fastapi import APIRouter

# in the order their routes are registered (and listed in /docs)
PAGES = (
    "conv",
    "family",
    "calculator",
    "pool",
    "norm",
    "attention",
    "transformer",
    "activations",
    "dense",
    "network",
    "model",
    "recurrent",
)


def page_routers() -> list[APIRouter]:
    """Each page's router, from app/pages/<name>/routes.py."""
    return [import_module(f"{__name__}.{name}.routes").router for name in PAGES]
