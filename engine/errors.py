"""The engine's one exception: an impossible argument, named as torch names it."""

from __future__ import annotations


class ArgumentError(ValueError):
    """A ValueError whose `.argument` names the torch argument at fault ("weight", "padding", ...).

    The app maps the argument to the request field that fed it, so a 422 names what to change.
    """

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(message)
        self.argument = argument
