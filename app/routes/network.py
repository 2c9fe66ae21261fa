"""Placeholder: filled in by the network page's work."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["network"])
