"""Layerlab: an interactive, visual explainer of the operations inside neural networks.

One installed name holds everything:

- ``layerlab.functional``: the engine's ``torch.nn.functional`` (conv2d, max_pool2d, softmax, ...),
  each call returning a Trace that behaves as its output array and records its steps on demand;
- ``layerlab.engine``: the pure-NumPy operations and their traces (the repository's ``engine/``);
- ``layerlab.app``: the FastAPI app and the ``layerlab`` command (the repository's ``app/``);
- the pages' templates and static files, installed beside them.
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("layerlab")
except PackageNotFoundError:  # a checkout used without installing it
    __version__ = "0+unknown"


def _trace_html(trace: object) -> str:
    """A Trace's notebook view, its module imported on first display only."""
    from layerlab.notebook import trace_html

    return trace_html(trace)  # type: ignore[arg-type]


def _register_notebook_view() -> None:
    """Make IPython display a Trace as its step-through (text/html), when IPython is running.

    IPython is never imported here: only looked up among the modules already loaded.
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None:
        html = shell.display_formatter.formatters["text/html"]
        html.for_type_by_name("layerlab.engine.trace", "Trace", _trace_html)


_register_notebook_view()
