"""Kernel presets."""

from __future__ import annotations

from functools import cache

from fastapi import APIRouter

from layerlab.app.pages.conv.schemas import KernelInfo
from layerlab.engine.kernels import PRESETS

router = APIRouter(prefix="/api/kernels", tags=["kernels"])


@cache
def kernel_infos() -> list[KernelInfo]:
    return [
        KernelInfo(
            name=p.name, label=p.label, weights=p.weights.tolist(), description=p.description, source=p.source
        )
        for p in PRESETS.values()
    ]


@router.get("", response_model=list[KernelInfo])
async def listing() -> list[KernelInfo]:
    """Every preset with its weights (kH, kW), what it detects and where the seeds show it."""
    return kernel_infos()
