"""CONTRIBUTING.md's walk "Add a pooling kind" stays true: the files it names exist, and every kind of the
registry is spelled, outside engine/ and tests/, only in the files of its numbered steps."""

from __future__ import annotations

import re
from pathlib import Path

from layerlab.app.pages.pool.kinds import KINDS

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("app", "templates", "static/js", "static/css")  # pages, scripts, styles and lessons (app/lessons)
SUFFIXES = {".py", ".html", ".js", ".css", ".json"}


def walk() -> tuple[set[str], set[str]]:
    """(files of the numbered steps, every file the walk names), as paths from the repository's root."""
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    section = text.split("## Add a pooling kind", 1)[1].split("\n## ", 1)[0]
    steps, rest = re.split(r"\nOnly when", section, maxsplit=1)
    named = re.compile(r"`((?:app|engine|templates|static|tests)/[\w./<>-]+)`")
    return set(named.findall(steps)), set(named.findall(section))


def spelled(name: str) -> set[str]:
    """Files outside engine/ and tests/ that quote `name`, not counting a choice of it ("kind": "max")."""
    quoted = re.compile(rf"""(?<![\w-])(["'`]){re.escape(name)}\1""")
    chosen = re.compile(rf"""["']kind["']\s*:\s*["']{re.escape(name)}["']""")
    found = set()
    for folder in SCANNED:
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in SUFFIXES and "vendor" not in path.parts and "__pycache__" not in path.parts:
                text = chosen.sub("", path.read_text(encoding="utf-8"))
                if quoted.search(text):
                    found.add(path.relative_to(ROOT).as_posix())
    return found


def test_every_file_the_walk_names_exists():
    _, named = walk()
    assert named, "the walk names no files"
    concrete = {path for path in named if "<" not in path}
    assert sorted(p for p in concrete if not (ROOT / p).exists()) == []


def test_the_walk_is_a_few_files():
    steps, _ = walk()
    outside = {path for path in steps if not path.startswith(("engine/", "tests/"))}
    assert len(outside) <= 3, outside  # the registry, its text, its sentence


def test_every_kind_is_spelled_only_in_the_walks_files():
    steps, _ = walk()
    # max, avg and min are ordinary words elsewhere (an attention mask's fill, an int's bounds in a URL):
    # those three are held to the rule inside the pooling page's own folders only
    common = {"max", "avg", "min"}
    own = ("app/pages/pool/", "templates/pool/", "static/js/pool/", "static/css/pages/pool.css")
    stray = {}
    for kind in KINDS:
        files = spelled(kind.name)
        if kind.name in common:
            files = {path for path in files if path.startswith(own)}
        if files - steps:
            stray[kind.name] = sorted(files - steps)
    assert stray == {}
