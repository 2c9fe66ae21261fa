"""`layerlab`: serve the app and open a browser tab on it."""

from __future__ import annotations

import argparse
import os
import sys
import threading
import webbrowser
from importlib.metadata import PackageNotFoundError, version

from layerlab.app import server
from layerlab.app.config import EMBED_ORIGINS_ENV
from layerlab.app.security import embed_origin


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["model"]:  # `layerlab model FILE`: a model file's layer table, no server
        from layerlab.models.cli import main as model_main

        raise SystemExit(model_main(argv[1:]))
    parser = argparse.ArgumentParser(
        prog="layerlab",
        description="Serve Layerlab on this machine (`layerlab model FILE`: a model file's layers).",
    )
    parser.add_argument("--version", action="version", version=f"layerlab {_version()}")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser tab")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes (production: one per core); an upload works on any of them (pages re-send it)",
    )
    parser.add_argument(
        "--embed-origin",
        action="append",
        default=[],
        metavar="URL",
        help="an origin (scheme://host[:port]) that may show the pages in a frame, e.g. a course site or "
        "a notebook's server; repeat for several (default: none, only Layerlab itself)",
    )
    args = parser.parse_args(argv)
    try:
        origins = [embed_origin(url) for url in args.embed_origin]
    except ValueError as e:
        parser.error(str(e))
    if origins:
        os.environ[EMBED_ORIGINS_ENV] = " ".join(origins)  # read by each server process's settings
    url = f"http://{args.host}:{args.port}/"
    if not args.no_browser:
        threading.Timer(1.0, webbrowser.open, [url]).start()
    print(f"Layerlab on {url}  (Ctrl+C to stop)")
    server.run(args.host, args.port, workers=args.workers, log_level="warning")


def _version() -> str:
    """The installed distribution's version (pyproject.toml's), or "unknown" when run from a bare checkout."""
    try:
        return version("layerlab")
    except PackageNotFoundError:
        return "unknown"
