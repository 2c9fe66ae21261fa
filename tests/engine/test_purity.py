"""engine/ stays pure NumPy: no web, template, plotting or serialisation imports."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "engine"
FORBIDDEN = {
    "fastapi",
    "starlette",
    "pydantic",
    "jinja2",
    "plotly",
    "uvicorn",
    "httpx",
    "orjson",
    "matplotlib",
}


def _imported_top_level_names(path: Path) -> set[str]:
    """Top-level package of every import statement in a file, however deeply nested."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _engine_modules() -> list[str]:
    """Installed dotted names of every module under engine/, e.g. "layerlab.engine.conv"."""
    modules = []
    for path in sorted(ENGINE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        modules.append(".".join(("layerlab", *(parts[:-1] if parts[-1] == "__init__" else parts))))
    return modules


def test_engine_sources_import_no_web_or_plotting_package():
    sources = sorted(ENGINE.rglob("*.py"))
    assert ENGINE / "conv.py" in sources
    offending = {
        str(path.relative_to(ROOT)): sorted(_imported_top_level_names(path) & FORBIDDEN) for path in sources
    }
    assert {path: names for path, names in offending.items() if names} == {}


def test_importing_engine_loads_no_web_or_plotting_package():
    modules = _engine_modules()
    assert "layerlab.engine.conv" in modules
    code = (
        f"import importlib, sys\n"
        f"for name in {modules!r}:\n"
        f"    importlib.import_module(name)\n"
        f"forbidden = {sorted(FORBIDDEN)!r}\n"
        f"print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in forbidden)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == ""
