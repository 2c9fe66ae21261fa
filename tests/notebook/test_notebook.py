"""The learner's notebook, executed headless (nbclient, this venv's python3 kernel): layerlab.functional
composes like torch, matches a plain-loop reference written in the notebook, and a trace displays as
a short repr and an offline HTML view."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from layerlab.functional import conv2d
from layerlab.notebook import MAX_MAPS, MAX_SIDE, STEP_CHUNK, STEPPED, trace_html, view_data
from tests.engine.test_functional import calls

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


def test_every_function_s_trace_gets_its_output_maps_and_conv_and_pool_their_steps():
    for name, call in calls(np.float32).items():
        result = call()
        data = view_data(result[0] if isinstance(result, tuple) else result)
        assert 1 <= len(data["maps"]) <= MAX_MAPS, name
        assert all(m["rows"] <= MAX_SIDE and m["cols"] <= MAX_SIDE for m in data["maps"]), name
        assert (data["steps"] is not None) == (name in STEPPED), name


def test_a_large_trace_is_drawn_strided_and_its_steps_capped():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 3, 224, 224)).astype(np.float32)
    t = conv2d(x, rng.standard_normal((64, 3, 7, 7)).astype(np.float32), stride=2, padding=3)
    data = view_data(t)
    assert [m["rows"] for m in data["maps"]] == [38] * MAX_MAPS  # 112 drawn one row in 3
    assert "one row and column in 3 drawn" in data["maps"][0]["title"]
    assert 0 < len(data["steps"]["index"]) <= STEP_CHUNK and data["steps"]["total"] == 64 * 112 * 112
    assert len(trace_html(t)) < 400_000
