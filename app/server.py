"""The HTTP server: uvicorn with our own protocol, so that even what the server answers by itself is ours.

Uvicorn answers a request it cannot parse (a method like `FOO`, a raw byte over 0x7f in the path, a
negative Content-Length, both Content-Length and Transfer-Encoding) with a plain-text 400 of its own,
before the app sees anything: without our security headers, not in our error shape. It puts no bound on
the request line (past 64 KB its URL parser fails, and that is a 400 too) or on the header lines, and no
time limit on a request that never finishes arriving (a half-open connection stays open for good).

`Protocol` (uvicorn's httptools protocol) answers those itself, in the app's JSON error shape with the
security headers, then closes the connection:
- 400 naming `request` and what the parser found wrong;
- 414 past `max_request_line_bytes` of URL (naming `query` when the query string is over `max_query_bytes`,
  else `url`), 431 past `max_header_bytes` of header lines;
- 408 when a request's head has not arrived `request_read_timeout` seconds after its connection opened
  (or after the previous response), or when its body pauses that long between two chunks (a slow upload
  keeps going as long as bytes keep coming); a connection on which nothing at all arrived is just closed.

Every way of running Layerlab goes through `run` (`layerlab`, `python -m layerlab.app`, `make run`) or
`config` (the tests' and benchmarks' servers).
"""

from __future__ import annotations

import asyncio
import http
from typing import Any

import httptools
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from layerlab.app.config import settings
from layerlab.app.errors import error_json
from layerlab.app.security import with_security_headers

# The conv page's live maps go over a WebSocket as float32, which barely compresses: permessage-deflate
# would cost ~13 ms on the event loop for each 256x256 answer. A larger message is refused (close 1009).
WEBSOCKET = {"ws_per_message_deflate": False, "ws_max_size": settings.max_socket_message_bytes}


class Refused(Exception):
    """A request the server answers itself: status, the field at fault, and why."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(message)
        self.status, self.field, self.message = status, field, message


def error_response(status: int, field: str, message: str, kind: str) -> bytes:
    """A whole HTTP/1.1 response in the app's error shape with the security headers; the connection closes."""
    body = error_json(field, message, kind)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    head = f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}\r\n".encode()
    head += b"".join(name + b": " + value + b"\r\n" for name, value in with_security_headers(headers))
    return head + b"\r\n" + body


def _parser_error(exc: Exception) -> str:
    """What was wrong with a request, in words, from httptools' exception (or the callback's, chained)."""
    cause = exc.__context__ or exc.__cause__
    if isinstance(cause, UnicodeDecodeError):
        return "the path has a byte that is not ASCII (percent-encode it)"
    text = str(exc).strip().rstrip(".")
    return f"not a valid HTTP/1.1 request ({text})" if text else "not a valid HTTP/1.1 request"


class Protocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with our 400s, a request line and header limit, and a read timeout."""

    max_request_line_bytes = settings.max_request_line_bytes
    max_query_bytes = settings.max_query_bytes
    max_header_bytes = settings.max_header_bytes
    read_timeout = settings.request_read_timeout

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_timer: asyncio.TimerHandle | None = None
        self._head_bytes = 0
        self._reading = False  # a request has begun and has not fully arrived

    # the read timeout: armed when the connection opens and when a response completes (the keep-alive
    # wait), restarted at each chunk of a body, disarmed once a request has fully arrived
    def _arm(self) -> None:
        if self._read_timer is None:
            self._read_timer = self.loop.call_later(self.read_timeout, self._read_timed_out)

    def _disarm(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def _read_timed_out(self) -> None:
        self._read_timer = None
        if self.transport.is_closing():
            return
        waiting_for_app = self.cycle is not None and not self.cycle.response_complete and not self._reading
        if waiting_for_app:  # the whole request arrived: the app is answering it
            return
        if self._reading and (self.cycle is None or not self.cycle.response_started):
            limit = f"{self.read_timeout:g} s"
            message = f"the request did not arrive in time (its head within {limit}, "
            message += "its body with no pause as long)"
            self.transport.write(error_response(408, "request", message, "timeout"))
        self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def handle_websocket_upgrade(self) -> None:
        self._disarm()  # the WebSocket protocol has its own pings and timeouts
        super().handle_websocket_upgrade()

    # parsing, with the limits
    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        except httptools.HttpParserError as exc:
            refused = exc.__context__ if isinstance(exc.__context__, Refused) else None
            refused = refused or Refused(400, "request", _parser_error(exc))
            self._refuse(refused)

    def _refuse(self, refused: Refused) -> None:
        self._disarm()
        if self.cycle is not None and self.cycle.response_started:
            self.transport.close()  # too late for an answer of our own
            return
        kind = "limit" if refused.status != 400 else "http"
        self.transport.write(error_response(refused.status, refused.field, refused.message, kind))
        self.transport.close()

    def send_400_response(self, msg: str) -> None:
        self._refuse(Refused(400, "request", msg.rstrip(".")))

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0
        self._reading = True
        self._arm()

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > self.max_request_line_bytes:
            if len(self.url.partition(b"?")[2]) > self.max_query_bytes:
                limit = self.max_query_bytes
                raise Refused(414, "query", f"the query string is over the {limit:,} byte limit")
            limit = self.max_request_line_bytes
            raise Refused(414, "url", f"the URL is over the {limit:,} byte limit")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_bytes += len(name) + len(value) + 4
        if self._head_bytes > self.max_header_bytes:
            limit = self.max_header_bytes
            raise Refused(431, "headers", f"the header lines are over the {limit:,} byte limit")
        super().on_header(name, value)

    def on_body(self, body: bytes) -> None:
        self._disarm()  # the body's timer runs from its last chunk
        self._arm()
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._reading = False
        self._disarm()
        super().on_message_complete()


def config(app: Any = "layerlab.app.main:app", **kwargs: Any) -> uvicorn.Config:
    """A uvicorn Config serving `app` with our protocol (or `http`, a subclass); `kwargs` as uvicorn.Config
    takes them."""
    return uvicorn.Config(app, **{"http": Protocol, **WEBSOCKET, **kwargs})


def run(host: str, port: int, workers: int = 1, **kwargs: Any) -> None:
    """Serve Layerlab (the import string, so that several workers can each import it) until stopped."""
    kwargs.setdefault("access_log", False)  # a log line per request costs the live path; errors still log
    uvicorn.run(
        "layerlab.app.main:app", host=host, port=port, workers=workers, http=Protocol, **WEBSOCKET | kwargs
    )
