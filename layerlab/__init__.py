"""Layerlab: an interactive, visual explainer of the operations inside neural networks.

One installed name holds everything:

- ``layerlab.functional``: the engine's ``torch.nn.functional`` (conv2d, max_pool2d, softmax, ...),
  each call returning a Trace that behaves as its output array and records its steps on demand;
- ``layerlab.engine``: the pure-NumPy operations and their traces (the repository's ``engine/``);
- ``layerlab.app``: the FastAPI app and the ``layerlab`` command (the repository's ``app/``);
- the pages' templates and static files, installed beside them.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("layerlab")
except PackageNotFoundError:  # a checkout used without installing it
    __version__ = "0+unknown"
