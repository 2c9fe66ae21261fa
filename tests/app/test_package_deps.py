"""The installed package imports only what `pip install layerlab` brings: its runtime dependencies (and
theirs), never a package of the `test` extra such as httpx or pytest."""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ("app", "engine", "layerlab")  # the folders the wheel installs as layerlab.*


def _name(requirement: str) -> str:
    """The distribution a requirement names, normalised ("uvicorn[standard]>=0.29" -> "uvicorn")."""
    return re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _extras(requirement: str) -> set[str]:
    """The extras a requirement asks for ("uvicorn[standard]" -> {"standard"})."""
    inside = re.search(r"\[([^\]]*)\]", requirement.split(";")[0])
    return {e.strip() for e in inside.group(1).split(",")} if inside else set()


def _closure(requirements: list[str]) -> set[str]:
    """The distributions `requirements` install: themselves and what they require, with the extras asked."""
    seen: set[str] = set()
    todo = list(requirements)
    while todo:
        requirement = todo.pop()
        name, extras = _name(requirement), _extras(requirement)
        if (name, *sorted(extras)) in seen:
            continue
        seen.add((name, *sorted(extras)))
        try:
            needs = metadata.requires(name) or ()
        except metadata.PackageNotFoundError:  # required only on another platform (a marker)
            continue
        for need in needs:
            marker = need.partition(";")[2]
            extra = re.search(r"extra\s*==\s*['\"]([^'\"]+)", marker)
            if extra is None or extra.group(1) in extras:
                todo.append(need)
    return {name for name, *_ in seen}


def _imported_modules() -> dict[str, str]:
    """Every top-level module the shipped code imports (absolute imports), with one file importing it."""
    found: dict[str, str] = {}
    for folder in SHIPPED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def test_shipped_code_imports_only_runtime_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = _closure(project["dependencies"])
    test_only = {_name(r) for r in project["optional-dependencies"]["test"]} - runtime
    providers = metadata.packages_distributions()  # import name -> distributions
    stray = {}
    for module, where in _imported_modules().items():
        if module in sys.stdlib_module_names or module == "layerlab":
            continue
        dists = {d.lower().replace("_", "-") for d in providers.get(module, [module])}
        if not dists & runtime:
            stray[module] = (where, "test extra only" if dists & test_only else "not a runtime dependency")
    assert not stray, f"imports the installed app cannot satisfy: {stray}"
