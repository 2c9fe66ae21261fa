"""Field types shared by the request models, and request-time limits.

Every limit comes from the settings of the app serving the request (`app.config.in_effect`), not from the
defaults at import: a bound written `Field(le=limit.max_stride)` is checked against that app's
`max_stride` when a request is validated, with pydantic's own error (type, message and context), and the
JSON schema shows the bound of the settings in effect when it is generated (each app's /openapi.json its
own).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Annotated, Any

import pydantic
from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic_core import PydanticKnownError, PydanticUndefined, core_schema

from layerlab.app.config import Settings, current_settings


class Limit:
    """A bound read from the settings in effect: `limit.max_padding`, `-limit.max_abs_value`, or any
    function of the settings, `Limit(lambda s: s.max_stride - 1, "max_stride - 1")`."""

    def __init__(self, read: Callable[[Settings], float], name: str) -> None:
        self.read, self.name = read, name

    def __neg__(self) -> Limit:
        return Limit(lambda s: -self.read(s), f"-{self.name}")

    def __call__(self) -> float:
        """The bound now (the settings of the app serving this request)."""
        return self.read(current_settings())

    def __repr__(self) -> str:
        return f"Limit({self.name})"


class _Limits:
    """`limit.<name>`: the setting of that name as a request-time Limit (a typo fails at import)."""

    def __getattr__(self, name: str) -> Limit:
        if name.startswith("_") or not hasattr(current_settings(), name):
            raise AttributeError(f"Settings has no limit {name!r}")
        return Limit(lambda s: getattr(s, name), name)


limit = _Limits()

# bound keyword -> (pydantic's error type, JSON schema keyword for a number, whether a value is within)
_NUMBER_BOUNDS = {
    "gt": ("greater_than", "exclusiveMinimum", operator.gt),
    "ge": ("greater_than_equal", "minimum", operator.ge),
    "lt": ("less_than", "exclusiveMaximum", operator.lt),
    "le": ("less_than_equal", "maximum", operator.le),
}
_LENGTH_BOUNDS = ("min_length", "max_length")
# core schema type -> the name pydantic's length errors give it
_SEQUENCES = {"list": "List", "tuple": "Tuple", "set": "Set", "dict": "Dictionary", "str": "String"}


def _sequence_kind(schema: core_schema.CoreSchema) -> str:
    """'List', 'Tuple', 'Set', 'Dictionary' or 'String': what a length bound applies to (under any
    validator wrapping)."""
    while schema["type"] not in _SEQUENCES and "schema" in schema:
        schema = schema["schema"]
    return _SEQUENCES.get(schema["type"], "List")


class Bounds:
    """Request-time bounds on a field (pydantic metadata), each failing with the error pydantic's static
    bound gives: lengths checked before the items are validated (a long list is refused at once),
    numbers after. The bounds are read once per settings object; a value well inside them costs one
    comparison (the largest conv request has 1,176 kernel entries and 200 lists to check)."""

    def __init__(self, bounds: tuple[tuple[str, Limit], ...]) -> None:
        self.bounds = bounds
        # (settings, lowest, highest, shortest, longest, ((holds, error, key, bound), ...)), read from the
        # settings last in effect; one tuple, replaced whole, so a thread never sees two apps' bounds mixed
        self._read: tuple = (None,)

    def _bounds_of(self, config: Settings) -> tuple:
        values = [(k, b.read(config)) for k, b in self.bounds]
        numbers = tuple(
            (_NUMBER_BOUNDS[k][2], _NUMBER_BOUNDS[k][0], k, b) for k, b in values if k in _NUMBER_BOUNDS
        )
        lowest = max((b for k, b in values if k in ("gt", "ge")), default=-math.inf)
        highest = min((b for k, b in values if k in ("lt", "le")), default=math.inf)
        shortest = next((b for k, b in values if k == "min_length"), 0)
        longest = next((b for k, b in values if k == "max_length"), math.inf)
        self._read = (config, lowest, highest, shortest, longest, numbers)
        return self._read

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        schema = handler(source)
        if schema["type"] == "nullable":  # `int | None = Field(None, le=...)`: None is within every bound
            schema["schema"] = self._bounded(schema["schema"])
            return schema
        return self._bounded(schema)

    def _bounded(self, schema: core_schema.CoreSchema) -> core_schema.CoreSchema:
        kind = _sequence_kind(schema)
        if any(k in _LENGTH_BOUNDS for k, _ in self.bounds):

            def within_length(value: Any) -> Any:
                read = self._read
                if read[0] is not (config := current_settings()):
                    read = self._bounds_of(config)
                try:
                    n = len(value)
                except TypeError:  # not a sequence: the type's own validation says so
                    return value
                if read[3] <= n <= read[4]:
                    return value
                raise _length_error(kind, n, read[3], read[4])

            schema = core_schema.no_info_before_validator_function(within_length, schema)
        if any(k in _NUMBER_BOUNDS for k, _ in self.bounds):

            def within_bounds(value: Any) -> Any:
                read = self._read
                if read[0] is not (config := current_settings()):
                    read = self._bounds_of(config)
                if read[1] < value < read[2]:
                    return value
                for holds, error, key, b in read[5]:  # on or past a bound: which one, exactly
                    if not holds(value, b):
                        raise PydanticKnownError(error, {key: b})
                return value

            schema = core_schema.no_info_after_validator_function(within_bounds, schema)
        return schema

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict:
        json_schema = handler(schema)
        target = handler.resolve_ref_schema(json_schema)
        # an optional field's bounds belong to its value's branch, as pydantic's own are
        for branch in [b for b in target.get("anyOf", ()) if b.get("type") != "null"] or [target]:
            string = branch.get("type") == "string"
            for key, bound in self.bounds:
                if key in _NUMBER_BOUNDS:
                    branch[_NUMBER_BOUNDS[key][1]] = bound()
                else:
                    keyword = ("minLength", "maxLength") if string else ("minItems", "maxItems")
                    branch[keyword[_LENGTH_BOUNDS.index(key)]] = bound()
        return json_schema


def _length_error(kind: str, n: int, shortest: float, longest: float) -> PydanticKnownError:
    """pydantic's too_long/too_short error (string_too_long/string_too_short for text)."""
    key, b, direction = ("max_length", longest, "long") if n > longest else ("min_length", shortest, "short")
    if kind == "String":
        return PydanticKnownError(f"string_too_{direction}", {key: b})
    return PydanticKnownError(f"too_{direction}", {"field_type": kind, key: b, "actual_length": n})


def Field(default: Any = PydanticUndefined, **kwargs: Any) -> Any:  # noqa: N802 (pydantic's name)
    """pydantic's Field, where `gt`, `ge`, `lt`, `le`, `min_length` and `max_length` may each be a Limit:
    checked against the settings of the app serving the request."""
    bounds = tuple(
        (k, kwargs.pop(k)) for k in (*_NUMBER_BOUNDS, *_LENGTH_BOUNDS) if isinstance(kwargs.get(k), Limit)
    )
    info = pydantic.Field(default, **kwargs)
    if bounds:
        info.metadata.append(Bounds(bounds))
    return info


Number = Annotated[float, Field(allow_inf_nan=False, ge=-limit.max_abs_value, le=limit.max_abs_value)]
Stride = Annotated[int, Field(ge=1, le=limit.max_stride)]
Dilation = Annotated[int, Field(ge=1, le=limit.max_dilation)]
Pad = Annotated[int, Field(ge=0, le=limit.max_padding)]
Kernel2d = Annotated[
    list[Annotated[list[Number], Field(min_length=1, max_length=limit.max_kernel_side)]],
    Field(min_length=1, max_length=limit.max_kernel_side),
]
ImageName = Annotated[str, Field(max_length=64, pattern=r"^(upload:[0-9a-f]{16}|[a-z0-9_]+)$")]


def rectangular(matrix: list[list[float]]) -> list[list[float]]:
    """The matrix, if every row is as long as the first (a field validator's body)."""
    if any(len(row) != len(matrix[0]) for row in matrix):
        raise ValueError(f"every row must have {len(matrix[0])} entries, like the first")
    return matrix
