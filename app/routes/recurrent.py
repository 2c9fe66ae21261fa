"""Placeholder: filled in by the recurrent page's work."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["recurrent"])
