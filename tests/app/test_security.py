"""Uploads are processed in memory and never written to disk; the server binds to 127.0.0.1 by default."""

from __future__ import annotations

import builtins
import importlib.metadata
import io
import os
import tempfile

import numpy as np
import pytest
import uvicorn
from PIL import Image

from layerlab.app import cli
from layerlab.app.config import settings as S


def _noise_png(width: int, height: int) -> bytes:
    """A PNG that barely compresses: about width x height x 3 bytes."""
    pixels = np.random.default_rng(1).integers(0, 256, (height, width, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


@pytest.fixture
def no_disk_writes(monkeypatch):
    """Every way Python's standard library creates or writes a file fails the test while it runs."""
    writes: list[str] = []

    def refuse(name):
        def opened(*args, **kwargs):
            writes.append(name)
            raise AssertionError(f"{name} called while handling an upload")

        return opened

    for name in ("TemporaryFile", "NamedTemporaryFile", "mkstemp", "mkdtemp"):
        monkeypatch.setattr(tempfile, name, refuse(f"tempfile.{name}"))
    real_open, real_os_open = builtins.open, os.open

    def open_for_reading(file, mode="r", *args, **kwargs):
        if any(flag in mode for flag in "wax+"):
            writes.append(f"open({file!r}, {mode!r})")
        return real_open(file, mode, *args, **kwargs)

    def os_open_for_reading(path, flags, *args, **kwargs):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            writes.append(f"os.open({path!r})")
        return real_os_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", open_for_reading)
    monkeypatch.setattr(os, "open", os_open_for_reading)
    return writes


def test_an_upload_near_the_size_limit_stays_in_memory(client, no_disk_writes):
    data = _noise_png(1600, 1200)
    # past Starlette's default spool threshold (1 MiB), under the upload limit
    assert 1024 * 1024 * 4 < len(data) <= S.max_upload_bytes
    r = client.post("/api/images", files={"file": ("noise.png", data, "image/png")})
    assert r.status_code == 201, r.text[:300]
    assert no_disk_writes == []
    used = client.post("/api/conv/live", json={"image": r.json()["id"], "size": 16, "weight": [[[[1]]]]})
    assert used.status_code == 200


def test_refused_uploads_stay_in_memory_too(client, no_disk_writes):
    oversized = b"\x89PNG" + bytes(S.max_upload_bytes)
    assert client.post("/api/images", files={"file": ("big.png", oversized, "image/png")}).status_code == 413
    damaged = _noise_png(800, 800)[: 1024 * 1024 + 7]
    assert client.post("/api/images", files={"file": ("cut.png", damaged, "image/png")}).status_code == 415
    assert no_disk_writes == []


def _served_on(monkeypatch, argv: list[str]) -> dict:
    """The host and port `layerlab` would serve on, without starting a server or a browser."""
    served: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: served.update(kwargs, app=app))
    monkeypatch.setattr(cli.webbrowser, "open", lambda url: served.setdefault("browser", url))
    cli.main(argv)
    return served


def test_the_cli_binds_to_loopback_unless_told_otherwise(monkeypatch, capsys):
    served = _served_on(monkeypatch, ["--no-browser"])
    assert served["host"] == "127.0.0.1"
    assert served["port"] == 8000
    assert "http://127.0.0.1:8000/" in capsys.readouterr().out


def test_the_cli_binds_elsewhere_only_when_asked(monkeypatch):
    served = _served_on(monkeypatch, ["--no-browser", "--host", "0.0.0.0", "--port", "9000"])
    assert (served["host"], served["port"]) == ("0.0.0.0", 9000)


def test_the_cli_says_its_version(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"layerlab {importlib.metadata.version('layerlab')}"
