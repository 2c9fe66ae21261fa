"""Shared dependencies as Annotated aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from layerlab.app.inputs import UploadStore


# async: FastAPI runs a plain `def` dependency in its thread pool, a hand-off that cost more than the
# whole live conv at 64x64 under load
async def _uploads(request: Request) -> UploadStore:
    return request.app.state.uploads


Uploads = Annotated[UploadStore, Depends(_uploads)]
