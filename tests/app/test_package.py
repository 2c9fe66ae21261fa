"""The package as a learner installs it: the wheel built from this checkout, installed into a fresh venv
outside the repository, serves every page with no environment variables, under the one name `layerlab`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from layerlab.app.devserver import free_port, serve

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "layerlab", "engine", "app", "templates", "static")
PAGES = ("/", "/conv", "/pool", "/attention", "/docs", "/openapi.json", "/static/js/kit/start.js")


def _clean_env() -> dict[str, str]:
    """The environment a learner's shell has: no PYTHONPATH, nothing of Layerlab's."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("LAYERLAB")}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of the sources (a build in the checkout could pick up stale files)."""
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(path, src / name)
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(src)],
        check=True,
        env=_clean_env(),
        timeout=300,
    )
    (found,) = dist.glob("layerlab-*.whl")
    return found


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv outside the repository with the wheel (and its dependencies) installed."""
    where = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True, timeout=120)
    subprocess.run(
        [str(where / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)],
        check=True,
        env=_clean_env(),
        timeout=600,
    )
    return where


@pytest.fixture(scope="module")
def learner_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A notebook's folder holding the learner's own engine.py and app.py."""
    folder = tmp_path_factory.mktemp("notebooks")
    (folder / "engine.py").write_text("WHOSE = 'mine'\n")
    (folder / "app.py").write_text("WHOSE = 'mine'\n")
    return folder


def test_the_wheel_installs_one_top_level_name_and_carries_the_pages(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        (top_level,) = [n for n in names if n.endswith(".dist-info/top_level.txt")]
        assert z.read(top_level).decode().split() == ["layerlab"]
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"layerlab"}
    for part in (
        "layerlab/__init__.py",
        "layerlab/functional.py",
        "layerlab/engine/conv.py",
        "layerlab/engine/cnn/weights.npz",
        "layerlab/app/main.py",
        "layerlab/app/lessons/derivative-kernel.json",
        "layerlab/templates/base.html",
        "layerlab/templates/conv/page.html",
        "layerlab/static/js/conv/page.js",
        "layerlab/static/vendor/plotly-cartesian.min.js",
        "layerlab/static/vendor/plotly-LICENSE",
    ):
        assert part in names, f"{part} is not in the wheel"


def test_every_folder_with_an_init_is_a_listed_package() -> None:
    """pyproject.toml lists the packages by their installed names: a new sub-package must be listed, or the
    wheel leaves it out."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    installed_as = {v: k for k, v in config["package-dir"].items()}
    found = {"layerlab.templates", "layerlab.static"}
    for top in ("layerlab", "engine", "app"):
        for init in (ROOT / top).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / top).parts
            found.add(".".join((installed_as[top], *rel)))
    assert sorted(config["packages"]) == sorted(found)


def test_a_learners_own_engine_and_app_modules_do_not_shadow_ours(venv: Path, learner_folder: Path) -> None:
    code = (
        "import engine, app, layerlab.engine, layerlab.app, layerlab.functional\n"
        "from layerlab.engine.conv import conv2d\n"
        "print(engine.WHOSE, app.WHOSE, layerlab.engine.__name__, layerlab.app.__name__)\n"
    )
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code],
        cwd=learner_folder,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.split()
    assert out == ["mine", "mine", "layerlab.engine", "layerlab.app"]


def test_layerlab_version_answers(venv: Path, learner_folder: Path) -> None:
    out = subprocess.run(
        [str(venv / "bin" / "layerlab"), "--version"],
        cwd=learner_folder,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert out.strip() == f"layerlab {version}"


@pytest.fixture(scope="module")
def installed_server(venv: Path, learner_folder: Path) -> Iterator[str]:
    port = free_port()
    command = [str(venv / "bin" / "layerlab"), "--no-browser", "--port", str(port)]
    with serve(command, port, cwd=learner_folder, env=_clean_env(), timeout=60):
        yield f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("path", PAGES)
def test_the_installed_command_serves_every_page_from_any_folder(installed_server: str, path: str) -> None:
    with urllib.request.urlopen(installed_server + path, timeout=30) as answer:
        assert answer.status == 200
        body = answer.read()
    assert len(body) > 200
    if path == "/conv":
        assert b"/static/js/conv/page.js" in body
