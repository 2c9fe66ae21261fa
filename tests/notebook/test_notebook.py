"""The learner's notebook, executed headless (nbclient, this venv's python3 kernel): layerlab.functional
composes like torch, matches a plain-loop reference written in the notebook, and a trace displays as
a short repr and an offline HTML view."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).with_name("layerlab_demo.ipynb")
# anything the view could load over the network
REMOTE = [
    re.compile(r"""\b(?:src|href)\s*=\s*["']?\s*https?:""", re.I),
    re.compile(r"""\bimport\s*\(\s*["'`]https?:""", re.I),
    re.compile(r"""\bfrom\s*["']https?:""", re.I),
    re.compile(r"""@import\s+(?:url\(\s*)?["']?https?:""", re.I),
    re.compile(r"""url\(\s*["']?https?:""", re.I),
    re.compile(r"<script[^>]*\bsrc\s*=", re.I),
]


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> nbformat.NotebookNode:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    workdir = tmp_path_factory.mktemp("notebook")  # a folder outside the checkout
    client = NotebookClient(
        nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}
    )
    client.execute(cwd=str(workdir))
    return nb


def code_outputs(nb: nbformat.NotebookNode) -> list[list[dict]]:
    return [cell.outputs for cell in nb.cells if cell.cell_type == "code"]


def test_notebook_runs_in_this_venv_and_matches_the_loop_reference(executed):
    outputs = code_outputs(executed)
    errors = [o for cell in outputs for o in cell if o.output_type == "error"]
    assert errors == []
    printed = "".join(o.text for o in outputs[1] if o.output_type == "stream")
    shape, repr_length, executable = printed.splitlines()
    assert shape == "(1, 3, 3, 3)"  # np.asarray(t).shape: the output's
    assert int(repr_length) < 300
    assert os.path.realpath(executable) == os.path.realpath(sys.executable)


@pytest.mark.parametrize("cell", [2, 3])
def test_a_trace_displays_as_a_short_repr_and_an_offline_html_view(executed, cell):
    (result,) = [o for o in code_outputs(executed)[cell] if o.output_type == "execute_result"]
    text, page = result.data["text/plain"], result.data["text/html"]
    assert len(text) < 300 and text.startswith("Trace(")
    assert 'class="layerlab-trace"' in page and "mountTraceView" in page
    assert [p.pattern for p in REMOTE if p.search(page)] == []
    assert len(page) < 400_000
