"""Layerlab's `torch.nn.functional`: `from layerlab.functional import conv2d, relu, max_pool2d`.

The implementation is `layerlab.engine.functional` (pure NumPy); every call returns a Trace that
behaves as its output array and shows its steps in a notebook.
"""

from layerlab.engine.functional import *  # noqa: F403
from layerlab.engine.functional import __all__  # noqa: F401
