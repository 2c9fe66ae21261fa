"""Run Layerlab in a child process on a free port, and the browser that drives it (tests, benchmark)."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from layerlab.app.config import ROOT

# Debian's Chromium, driven headless by the browser tests and the benchmark; never a downloaded one.
# The flags keep it off the network: without them it tries to reach update and sync services.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    """Whether GET `url` answers 200 within a second (the standard library: the app needs no HTTP client)."""
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def serve(
    command: list[str],
    port: int,
    ready: Callable[[subprocess.Popen], bool] = lambda proc: True,
    timeout: float = 30,
    cwd: Path = ROOT,
    env: dict[str, str] | None = None,
) -> Iterator[subprocess.Popen]:
    """Start the server `command` listening on `port`; once GET /api/kernels answers and `ready(proc)`
    holds, yield the process; stop it on exit. Its stderr goes to a temporary file (its children inherit
    it, and a pipe nobody reads would block them once full), shown if it fails to start."""
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + timeout
    try:
        while True:
            up = _answers(f"http://127.0.0.1:{port}/api/kernels")
            if up and ready(proc):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                log.seek(0)
                raise RuntimeError(f"server did not start: {log.read().decode()[-2000:]}")
            time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextmanager
def app_server(timeout: float = 30) -> Iterator[str]:
    """The real app (`python -m layerlab.app`) on a free port; yields its base URL, stops it on exit."""
    port = free_port()
    with serve(
        [sys.executable, "-m", "layerlab.app", "--no-browser", "--port", str(port)], port, timeout=timeout
    ):
        yield f"http://127.0.0.1:{port}"
