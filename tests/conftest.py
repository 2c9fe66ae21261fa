"""Shared fixtures: a test client, and a real uvicorn server on a free port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from layerlab.app.devserver import app_server
from layerlab.app.main import create_app


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app()) as c:
        yield c


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """Base URL of `layerlab` running as a real uvicorn process (as `make run` starts it)."""
    with app_server() as url:
        yield url
