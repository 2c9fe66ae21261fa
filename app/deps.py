"""Shared dependencies as Annotated aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.inputs import UploadStore


def _uploads(request: Request) -> UploadStore:
    return request.app.state.uploads


Uploads = Annotated[UploadStore, Depends(_uploads)]
