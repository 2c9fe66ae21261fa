"""Shared dependencies as Annotated aliases, and the middleware that puts an app's settings in effect."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from layerlab.app.config import Settings, settings_in_effect
from layerlab.app.inputs import UploadStore


class SettingsInEffect:
    """ASGI middleware: while this app serves a request (or a WebSocket), its settings are the ones in
    effect (app.config.in_effect), so request schemas and handlers check this app's limits; the jobs'
    worker threads inherit them (anyio copies the context)."""

    def __init__(self, app: ASGIApp, config: Settings) -> None:
        self.app, self.config = app, config

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with settings_in_effect(self.config):
            await self.app(scope, receive, send)


# async: FastAPI runs a plain `def` dependency in its thread pool, a hand-off that cost more than the
# whole live conv at 64x64 under load
async def _uploads(request: Request) -> UploadStore:
    return request.app.state.uploads


Uploads = Annotated[UploadStore, Depends(_uploads)]
