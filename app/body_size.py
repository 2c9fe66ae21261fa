"""Request sizes: bodies capped before they are read into memory (413), query strings (414), each answer
naming the limit (the limits are Settings.max_json_bytes, max_upload_bytes and max_query_bytes)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from layerlab.app.config import current_settings
from layerlab.app.errors import error_json

MODEL_UPLOAD = "/api/model/open"  # a model file may be up to max_model_bytes, far above max_upload_bytes


class BodyLimit:
    """ASGI middleware: refuse bodies over `max_bytes` (multipart) or `max_json_bytes` (anything else),
    and query strings over `max_query_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int, max_json_bytes: int, max_query_bytes: int) -> None:
        self.app, self.max_bytes, self.max_json_bytes = app, max_bytes, max_json_bytes
        self.max_query_bytes = max_query_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope.get("query_string", b"")) > self.max_query_bytes:
            limit = self.max_query_bytes
            await _refuse(send, 414, "query", f"the query string is over the {limit:,} byte limit")
            return
        headers = dict(scope["headers"])
        multipart = headers.get(b"content-type", b"").startswith(b"multipart/")
        limit = self.max_bytes if multipart else self.max_json_bytes
        if multipart and scope.get("path") == MODEL_UPLOAD:
            config = current_settings()
            limit = max(limit, config.max_model_bytes + config.max_form_overhead_bytes)
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(send, 413, "body", f"the request is over the {limit:,} byte limit")
            return
        if declared is not None:
            # the server stops reading at Content-Length, so the declared size is the real bound
            await self.app(scope, receive, send)
            return
        # no Content-Length (chunked): buffer up to the limit, refuse past it, then replay
        chunks, seen = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            if seen > limit:
                await _refuse(send, 413, "body", f"the request is over the {limit:,} byte limit")
                return
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _refuse(send: Send, status: int, field: str, message: str) -> None:
    """Answer in the app's error shape (see app.errors) without reading the body."""
    body = error_json(field, message)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
