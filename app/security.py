"""Security headers on every response: a Content-Security-Policy that allows only this origin, and friends."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Everything the pages load comes from this origin: our scripts (ES modules, never inline), Plotly.js from
# /vendor, the API. Page data rides in <script type="application/json"> blocks, which are never executed,
# so script-src needs no 'unsafe-inline' and no hashes.
CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "connect-src 'self'",
        # data: for Plotly's PNG/SVG export (it draws the SVG into an <img> from a data: URL), blob: for
        # the WebM and image downloads
        "img-src 'self' data: blob:",
        # the camera input plays a getUserMedia stream; the recorded WebM is a blob:
        "media-src 'self' blob: mediastream:",
        # Plotly.js injects a <style> element and sets style attributes on every plot it draws, so inline
        # styles must be allowed (styles cannot run code; scripts stay strictly 'self')
        "style-src 'self' 'unsafe-inline'",
        "font-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'self'",
        "form-action 'self'",
    )
)

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    # the conv and network pages can read the camera (getUserMedia); nothing reads microphone or location
    (b"permissions-policy", b"camera=(self), microphone=(), geolocation=()"),
)


class SecurityHeaders:
    """ASGI middleware: add SECURITY_HEADERS to every HTTP response, unless the response set one itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
