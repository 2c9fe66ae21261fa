"""The one error a model file (or the layer list beside it) raises: what is at fault, and why."""

from __future__ import annotations


class ModelFileError(ValueError):
    """A model file Layerlab will not open.

    `.field` names what is at fault: the request field ("file", "layers", "input_shape"), or the part
    of the file (a state_dict key such as "0.weight", an ONNX node or initializer name); the message
    names the limit or the problem, and how to fix it where there is a way.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return self.message
