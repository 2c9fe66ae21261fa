"""Cache headers for GET responses: a strong ETag (a hash of the bytes sent) with If-None-Match -> 304,
and a Cache-Control that says who may keep the response and for how long.

- GET endpoints that are pure functions of their URL (kernel presets, the image listing, the calculator's
  presets, lessons, the OpenAPI schema, static files): `public, max-age=PUBLIC_MAX_AGE`, so any proxy or
  CDN may serve them.
- HTML pages: `no-cache` (keep it, but ask every time): they embed data that changes with each deploy,
  and the ETag makes asking cheap.
- Any other GET (nothing else today; anything that would read the in-memory upload store must land here):
  `private, no-store`.
POST responses pass through untouched: the live path pays nothing.
"""

from __future__ import annotations

import hashlib
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# short: static files have no version in their names, so after a deploy an old module may be used this long
PUBLIC_MAX_AGE = 300
PUBLIC = f"public, max-age={PUBLIC_MAX_AGE}".encode()
PAGE = b"no-cache"
PRIVATE = b"private, no-store"

# paths whose GET responses depend on the URL only (and on the deployed code)
PUBLIC_PATHS = re.compile(
    r"^(/api/kernels|/api/images|/api/calculator/presets|/api/lessons(/[^/]+)?|/openapi\.json|/static/.+)$"
)


def etag(body: bytes) -> bytes:
    """A strong entity tag for these exact bytes (the encoded body: gzip and identity differ)."""
    return b'"' + hashlib.blake2b(body, digest_size=16).hexdigest().encode() + b'"'


def _matches(if_none_match: bytes, tag: bytes) -> bool:
    """If-None-Match: `*` or a list of tags; compared weakly, as RFC 9110 says for this header."""
    if if_none_match.strip() == b"*":
        return True
    return any(t.strip().removeprefix(b"W/") == tag for t in if_none_match.split(b","))


class CacheHeaders:
    """ASGI middleware: buffer successful GET responses, tag them, answer 304 on a match (HEAD passes)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if_none_match = dict(scope["headers"]).get(b"if-none-match")
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffered(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if message["status"] != 200:  # errors and 304s go out as they are
                    await send(message)
                    return
                start = message
                return
            if start is None:  # not buffering this one
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            await send_tagged(start, b"".join(chunks))

        async def send_tagged(start: Message, body: bytes) -> None:
            headers = [(k, v) for k, v in start.get("headers", ()) if k.lower() != b"etag"]
            names = {k.lower() for k, _ in headers}
            content_type = dict(headers).get(b"content-type", b"")
            if b"cache-control" not in names:  # a route's own choice wins (e.g. /vendor/plotly.min.js)
                if content_type.startswith(b"text/html"):
                    policy = PAGE
                elif PUBLIC_PATHS.match(path):
                    policy = PUBLIC
                else:
                    policy = PRIVATE
                headers.append((b"cache-control", policy))
            cacheable = dict(headers)[b"cache-control"] != PRIVATE
            if not cacheable:
                await send({**start, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            tag = etag(body)
            headers.append((b"etag", tag))
            if b"vary" not in names:
                headers.append((b"vary", b"Accept-Encoding"))
            if if_none_match is not None and _matches(if_none_match, tag):
                # 304: the validators and caching headers of the 200, no body and no length
                drop = (b"content-length", b"content-type", b"content-encoding", b"last-modified")
                kept = [(k, v) for k, v in headers if k.lower() not in drop]
                await send({"type": "http.response.start", "status": 304, "headers": kept})
                await send({"type": "http.response.body", "body": b""})
                return
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, buffered)
