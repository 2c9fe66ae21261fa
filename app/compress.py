"""gzip for responses whose client accepts it, with large bodies compressed in a worker thread.

A multi-megabyte trace takes tens of milliseconds to compress: on the event loop that is tens of
milliseconds in which no other request is read or answered. Bodies (or streamed chunks) up to
`inline_bytes` compress inline, where a thread hand-off would cost more than the work; larger ones in a
thread (zlib lets go of the GIL while it works).
"""

from __future__ import annotations

import zlib

import anyio.to_thread
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# float maps barely compress, and gzip would cost the live path milliseconds
EXCLUDED = frozenset((*DEFAULT_EXCLUDED_CONTENT_TYPES, "application/octet-stream"))
LEVEL = 6  # level 9 costs 5x the time for 1% fewer bytes on a trace
MINIMUM_BYTES = 1024  # smaller bodies go as they are: the gzip header and a round of zlib cost more


def _accepts_gzip(scope: Scope) -> bool:
    return any(name == b"accept-encoding" and b"gzip" in value for name, value in scope["headers"])


def _excluded(content_type: str) -> bool:
    media = content_type.partition(";")[0].strip().lower()
    return media in EXCLUDED or f"{media.partition('/')[0]}/*" in EXCLUDED


class Compress:
    """ASGI middleware: gzip responses of `minimum_bytes` or more when the request accepts gzip, unless
    their type is EXCLUDED or they are encoded already; `inline_bytes` or more compress in a thread."""

    def __init__(self, app: ASGIApp, inline_bytes: int, minimum_bytes: int = MINIMUM_BYTES) -> None:
        self.app, self.inline_bytes, self.minimum_bytes = app, inline_bytes, minimum_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _accepts_gzip(scope):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        gzip: zlib._Compress | None = None  # set once the response is being compressed

        async def deflate(body: bytes, more: bool) -> bytes:
            def run() -> bytes:
                return gzip.compress(body) + gzip.flush(zlib.Z_SYNC_FLUSH if more else zlib.Z_FINISH)

            return run() if len(body) < self.inline_bytes else await anyio.to_thread.run_sync(run)

        async def send_compressed(message: Message) -> None:
            nonlocal start, gzip
            kind = message["type"]
            if kind == "http.response.start":
                headers = Headers(raw=message.get("headers", []))
                if "content-encoding" in headers or _excluded(headers.get("content-type", "")):
                    await send(message)  # passed through untouched, and so is its body
                else:
                    start = message
                return
            if kind != "http.response.body" or start is None:
                await send(message)
                return
            body, more = message.get("body", b""), message.get("more_body", False)
            if gzip is None:  # the first body message decides
                headers = MutableHeaders(raw=list(start.get("headers", [])))
                headers.add_vary_header("Accept-Encoding")
                if len(body) < self.minimum_bytes and not more:
                    await send({**start, "headers": headers.raw})
                    await send(message)
                    start = None
                    return
                gzip = zlib.compressobj(LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
                body = await deflate(body, more)
                headers["Content-Encoding"] = "gzip"
                if more:
                    del headers["Content-Length"]
                else:
                    headers["Content-Length"] = str(len(body))
                await send({**start, "headers": headers.raw})
            else:
                body = await deflate(body, more)
            await send({"type": "http.response.body", "body": body, "more_body": more})

        await self.app(scope, receive, send_compressed)
