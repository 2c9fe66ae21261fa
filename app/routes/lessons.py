"""Placeholder: filled in by the lessons work."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["lessons"])
