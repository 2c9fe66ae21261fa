"""Layerlab's compute engine: NumPy only, every operation returns a `Trace`."""

from layerlab.engine.trace import Trace

__all__ = ["Trace"]
