"""Embedding: by default only Layerlab may frame its pages; `layerlab --embed-origin URL` adds origins to the
Content-Security-Policy's frame-ancestors, on every answer of every worker, and nothing else."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request

import pytest
from fastapi.testclient import TestClient

from layerlab.app.config import EMBED_ORIGINS_ENV, Settings
from layerlab.app.devserver import free_port, serve
from layerlab.app.main import create_app
from layerlab.app.security import embed_origin

COURSE = "http://127.0.0.1:8143"


def frame_ancestors(csp: str) -> str:
    (directive,) = [d.strip() for d in csp.split(";") if d.strip().startswith("frame-ancestors")]
    return directive


def test_by_default_only_layerlab_frames_its_pages():
    client = TestClient(create_app(Settings()))
    for path in ("/conv", "/api/kernels", "/nowhere"):
        csp = client.get(path).headers["content-security-policy"]
        assert frame_ancestors(csp) == "frame-ancestors 'self'"


def test_an_allowed_origin_joins_frame_ancestors_on_every_answer():
    client = TestClient(create_app(Settings(embed_origins=(COURSE, "https://moodle.example.edu"))))
    for path in ("/conv", "/api/kernels", "/nowhere"):
        csp = client.get(path).headers["content-security-policy"]
        assert frame_ancestors(csp) == f"frame-ancestors 'self' {COURSE} https://moodle.example.edu"
        assert "script-src 'self';" in csp  # the rest of the policy is untouched


@pytest.mark.parametrize(
    "url",
    [
        "http://x.example; script-src *",
        "javascript:alert(1)",
        "http://a.example/path",
        "*",
        "'unsafe-inline'",
        "ftp://files.example",
        "http://a b.example",
    ],
)
def test_anything_but_an_origin_is_refused(url):
    with pytest.raises(ValueError, match="scheme://host"):
        embed_origin(url)


def test_an_origin_is_taken_as_written_less_a_trailing_slash():
    assert embed_origin("https://moodle.example.edu/") == "https://moodle.example.edu"
    assert embed_origin("http://[::1]:8888") == "http://[::1]:8888"


def test_the_command_refuses_a_bad_origin_before_serving():
    run = subprocess.run(
        [sys.executable, "-m", "layerlab.app", "--no-browser", "--embed-origin", "http://x; script-src *"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2 and "embed origin" in run.stderr


@pytest.mark.parametrize("origins", [[], [COURSE]])
def test_the_running_server_sends_the_origins_it_was_started_with(origins):
    """What `curl -sI` shows on a page of `layerlab [--embed-origin URL]`, with two workers."""
    port = free_port()
    command = [sys.executable, "-m", "layerlab.app", "--no-browser", "--port", str(port), "--workers", "2"]
    for url in origins:
        command += ["--embed-origin", url]
    env = {k: v for k, v in os.environ.items() if k != EMBED_ORIGINS_ENV}
    with serve(command, port, env=env, timeout=60):
        for _ in range(4):  # answers from either worker
            request = urllib.request.Request(f"http://127.0.0.1:{port}/conv", method="HEAD")
            with urllib.request.urlopen(request, timeout=30) as answer:
                csp = answer.headers["content-security-policy"]
            assert frame_ancestors(csp) == " ".join(["frame-ancestors 'self'", *origins])
