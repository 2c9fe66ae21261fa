"""Every answer is ours: the server's own refusals, a 500, HEAD and the read timeout, each with the
security headers and, where there is a body, the app's JSON error shape.

The server-level cases go over a raw socket to a real uvicorn server running Layerlab's protocol
(app/server.py), in a thread of this process with a short read timeout.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import orjson
import pytest
import uvicorn
from fastapi.testclient import TestClient

from layerlab.app.config import settings as S
from layerlab.app.main import create_app
from layerlab.app.security import SECURITY_HEADERS
from layerlab.app.server import Protocol, config

READ_TIMEOUT = 0.5


class QuickProtocol(Protocol):
    read_timeout = READ_TIMEOUT


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    """A real uvicorn server with our protocol (read timeout READ_TIMEOUT s) on a free port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    server = uvicorn.Server(
        config(create_app(), host="127.0.0.1", port=free, http=QuickProtocol, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    yield free
    server.should_exit = True
    thread.join(10)


def exchange(port: int, data: bytes, wait: float = 5.0) -> tuple[bytes, float]:
    """Send `data` on a new connection, read until the server closes it; the bytes and the seconds taken."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.settimeout(wait)
        s.sendall(data)
        received = b""
        while chunk := s.recv(65536):
            received += chunk
    return received, time.monotonic() - start


def parse(response: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = response.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


def assert_ours(headers: dict[str, str], body: bytes, field: str) -> None:
    """Our security headers, and a JSON body in the app's error shape naming `field`."""
    for name, value in SECURITY_HEADERS:
        assert headers.get(name.decode()) == value.decode(), name
    assert headers["content-type"] == "application/json"
    error = orjson.loads(body)
    assert error["message"].startswith(f"{field}: ")
    assert error["detail"][0]["loc"] == [field]


POST = b"POST /api/norm/apply HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
MALFORMED = {
    "unknown method": (b"FOO / HTTP/1.1\r\nHost: x\r\n\r\n", "method"),
    "raw byte in the path": (b"GET /\xff HTTP/1.1\r\nHost: x\r\n\r\n", "char in url"),
    "negative Content-Length": (POST + b"Content-Length: -1\r\n\r\n{}", "content-length"),
    "Content-Length and Transfer-Encoding": (
        POST + b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}",
        "transfer-encoding",
    ),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_requests_the_server_cannot_parse_get_our_json_400(port, case):
    data, why = MALFORMED[case]
    status, headers, body = parse(exchange(port, data)[0])
    assert status == 400
    assert_ours(headers, body, "request")
    assert why in orjson.loads(body)["message"].lower()


def test_a_70_kb_query_gets_a_json_414_naming_the_query_and_its_limit(port):
    status, headers, body = parse(
        exchange(port, b"GET /conv?k=" + b"1" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")[0]
    )
    assert status == 414
    assert_ours(headers, body, "query")
    assert f"{S.max_query_bytes:,} byte limit" in orjson.loads(body)["message"]
    assert S.max_request_line_bytes < 64 * 1024  # refused before uvicorn's URL parser gives up


def test_header_lines_past_their_limit_get_a_json_431(port):
    data = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * S.max_header_bytes + b"\r\n\r\n"
    status, headers, body = parse(exchange(port, data)[0])
    assert status == 431
    assert_ours(headers, body, "headers")


def test_a_half_open_connection_is_closed_within_the_read_timeout(port):
    received, seconds = exchange(port, b"")
    assert received == b""
    assert READ_TIMEOUT <= seconds < READ_TIMEOUT + 1.0


def test_an_unfinished_request_gets_a_408_within_the_read_timeout(port):
    received, seconds = exchange(port, POST + b"Content-Length: 100\r\n\r\n{")
    status, headers, body = parse(received)
    assert status == 408
    assert_ours(headers, body, "request")
    assert READ_TIMEOUT <= seconds < READ_TIMEOUT + 1.0


def test_a_body_that_keeps_coming_may_take_longer_than_the_read_timeout(port):
    body = b'{"kind": "layer", "gamma": 2.0}'
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.settimeout(10)
        s.sendall(POST + b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body))
        for i in range(0, len(body), 11):  # three chunks, paused: longer than the timeout in all
            time.sleep(READ_TIMEOUT * 0.6)
            s.sendall(body[i : i + 11])
        assert s.recv(65536).startswith(b"HTTP/1.1 200")


def test_a_kept_alive_connection_still_serves_one_request_after_another(port):
    get = b"GET /api/kernels HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.settimeout(5)
        for _ in range(2):
            s.sendall(get)
            time.sleep(READ_TIMEOUT * 0.6)  # together longer than one read timeout, each shorter
            assert s.recv(65536).startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize("path", ["/", "/conv", "/api/kernels", "/api/images"])
def test_head_answers_wherever_get_does_with_the_same_headers_and_no_body(port, path):
    close = b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    get_status, get_headers, get_body = parse(exchange(port, b"GET " + path.encode() + close)[0])
    status, headers, body = parse(exchange(port, b"HEAD " + path.encode() + close)[0])
    assert (status, get_status) == (200, 200)
    assert body == b""
    assert headers["content-length"] == get_headers["content-length"] == str(len(get_body))
    assert headers["content-security-policy"] == get_headers["content-security-policy"]


def test_an_unhandled_exception_is_our_json_500_with_the_security_headers():
    app = create_app()

    @app.get("/test-only/fail")
    def fail() -> None:
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/test-only/fail")
    assert r.status_code == 500
    assert_ours({k.lower(): v for k, v in r.headers.items()}, r.content, "server")
    assert "a bug" not in r.text  # nothing of the exception leaks


@pytest.mark.parametrize("kind", ["batch", "layer", "instance", "group", "rms"])
@pytest.mark.parametrize("gamma", [5e-324, 1e-323, 1e-322])
def test_norm_with_a_subnormal_gamma_is_answered(client, kind, gamma):
    r = client.post("/api/norm/apply", json={"kind": kind, "gamma": gamma})
    assert r.status_code == 200, r.text[:300]
    after = r.json()["histograms"]["after"]
    assert sum(after["total"]) == 4 * 4 * 4 * 4  # every element of the default (4, 4, 4, 4) tensor counted
