"""Security headers on every response (a Content-Security-Policy that allows only this origin, and friends),
our JSON 500 for an unhandled exception, and HEAD wherever GET is."""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from layerlab.app.errors import error_json


# Everything the pages load comes from this origin: our scripts (ES modules, never inline), Plotly.js from
# /vendor, the API. Page data rides in <script type="application/json"> blocks, which are never executed,
# so script-src needs no 'unsafe-inline' and no hashes.
def content_security_policy(embed_origins: tuple[str, ...] = ()) -> str:
    """The policy; `embed_origins` (e.g. a course site, a notebook's server) may show pages in a frame."""
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "connect-src 'self'",
            # data: for Plotly's PNG/SVG export (it draws the SVG into an <img> from a data: URL), blob: for
            # the WebM and image downloads
            "img-src 'self' data: blob:",
            # the camera input plays a getUserMedia stream; the recorded WebM is a blob:
            "media-src 'self' blob: mediastream:",
            # Plotly.js injects a <style> element and sets style attributes on every plot it draws, so
            # inline styles must be allowed (styles cannot run code; scripts stay strictly 'self')
            "style-src 'self' 'unsafe-inline'",
            "font-src 'self' data:",
            "object-src 'none'",
            "base-uri 'none'",
            " ".join(("frame-ancestors 'self'", *embed_origins)),
            "form-action 'self'",
        )
    )


CSP = content_security_policy()

_ORIGIN = re.compile(r"https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:[0-9]{1,5})?")


def embed_origin(url: str) -> str:
    """`url` as an origin a frame-ancestors list may name (scheme://host[:port], nothing else), or
    ValueError saying what is wrong: anything more could rewrite the policy."""
    origin = url.strip().rstrip("/")
    if not _ORIGIN.fullmatch(origin):
        raise ValueError(f"embed origin {url!r} must be scheme://host[:port] with scheme http or https")
    return origin


def security_headers(embed_origins: tuple[str, ...] = ()) -> tuple[tuple[bytes, bytes], ...]:
    """The headers every answer carries."""
    return (
        (b"content-security-policy", content_security_policy(embed_origins).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"cross-origin-opener-policy", b"same-origin"),
        # the conv and network pages can read the camera (getUserMedia); nothing reads microphone or location
        (b"permissions-policy", b"camera=(self), microphone=(), geolocation=()"),
    )


SECURITY_HEADERS = security_headers()


INTERNAL_ERROR = error_json("server", "an internal error; it is logged on the server", "internal")


def with_security_headers(
    headers: list[tuple[bytes, bytes]], defaults: tuple[tuple[bytes, bytes], ...] = SECURITY_HEADERS
) -> list[tuple[bytes, bytes]]:
    """`headers` plus every entry of `defaults` it does not set itself."""
    present = {name.lower() for name, _ in headers}
    return headers + [(k, v) for k, v in defaults if k not in present]


class SecurityHeaders:
    """ASGI middleware, the outermost of ours, so that every answer is ours:
    - SECURITY_HEADERS on every HTTP response, unless the response set one itself;
    - an unhandled exception becomes our JSON 500 with those headers (when no response has started), then
      propagates to be logged (Starlette's own 500 sits outside every middleware, headers-less);
    - HEAD is answered wherever GET is: as a GET whose body is not sent (its headers, Content-Length
      included, are the GET's)."""

    def __init__(self, app: ASGIApp, embed_origins: tuple[str, ...] = ()) -> None:
        self.app = app
        self.headers = security_headers(embed_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        if head:
            scope = {**scope, "method": "GET"}
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message = {
                    **message,
                    "headers": with_security_headers(list(message.get("headers", ())), self.headers),
                }
            elif head and message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if not started:
                headers = [(b"content-type", b"application/json")]
                headers.append((b"content-length", str(len(INTERNAL_ERROR)).encode()))
                await send_with_headers({"type": "http.response.start", "status": 500, "headers": headers})
                await send_with_headers({"type": "http.response.body", "body": INTERNAL_ERROR})
            raise
