"""JSON through orjson, with NumPy arrays written natively (and compactly); traces through one body."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import orjson
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, create_model

from layerlab.app.config import in_effect as S
from layerlab.app.errors import ApiError
from layerlab.engine.trace import Trace, chunk_length


def compact(value: Any) -> Any:
    """Arrays as contiguous float32/int32 (the page shows a few digits; half the bytes)."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f":
            return np.ascontiguousarray(value, dtype=np.float32)
        if value.dtype.kind in "iu":
            return np.ascontiguousarray(value, dtype=np.int32)
        return np.ascontiguousarray(value)
    if isinstance(value, dict):
        return {k: compact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [compact(v) for v in value]
    return value


class NumpyJSONResponse(JSONResponse):
    """A JSONResponse, so that OpenAPI declares its body as JSON (any), not as a string."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(compact(content), option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)


def trace_body(
    trace: Trace,
    *,
    steps: slice | bool = True,
    stages: bool | Iterable[str] | Mapping[str, Any] = True,
    drop: Iterable[str] = (),
) -> dict[str, Any]:
    """The JSON body of a trace, from `Trace.to_dict`: op, params, output, stages, steps, num_steps.

    steps : True every step, a slice just those (a lazy trace builds only them, through
        `select_steps`), False none (an empty record); `num_steps` always counts them all.
    stages : True the trace's, False none (the key is left out), names a selection of them,
        a mapping the stages to send as given (e.g. the input beside the trace's own).
    drop : step fields left out (the page rebuilds them from a stage, e.g. conv's windows).
    """
    picked = trace if steps is True else trace.select_steps(steps if steps is not False else slice(0, 0))
    body = picked.to_dict()
    body["num_steps"] = trace.num_steps
    if drop:
        body["steps"] = {name: column for name, column in body["steps"].items() if name not in set(drop)}
    if stages is False:
        del body["stages"]
    elif isinstance(stages, Mapping):
        body["stages"] = dict(stages)
    elif stages is not True:
        body["stages"] = {name: trace.stages[name] for name in stages}
    return body


def chunk_of(trace: Trace, chunk: int, step: int | None = None) -> tuple[int, slice]:
    """The chunk of `trace`'s steps to send (the one holding `step` when given, clamped to the last) and
    its steps: `trace_chunk_steps` at most, fewer when they would carry over `trace_chunk_values` numbers
    (the answer's `chunk_steps` is `steps.stop - steps.start`). A chunk past the last step is a 422."""
    total = trace.num_steps
    length = chunk_length(trace, S.trace_chunk_steps, S.trace_chunk_values)
    if step is not None:
        chunk = min(step, total - 1) // length
    start = chunk * length
    if start >= total:
        past = f"chunk {chunk} starts past the last step ({total} steps, {length} per chunk)"
        raise ApiError(422, "chunk", past)
    return chunk, slice(start, start + length)


# what the keys most answers share hold
COMMON_KEYS = {
    "op": "the torch.nn.functional name of the operation",
    "kind": "the kind of operation asked for",
    "params": "the call's arguments, normalised, and derived sizes",
    "output": "the operation's output (nested lists)",
    "stages": "named intermediates, each an array",
    "steps": "per-step fields, columnar: field -> array whose first axis is the step",
    "num_steps": "how many steps the whole trace has (a chunk may send fewer)",
    "torch": "the PyTorch code that computes the same",
    "formulas": "formulas with this answer's numbers, MathML by name",
    "formula": "the formula with this answer's numbers, MathML",
    "input": "the input the operation read",
}


def body_model(name: str, doc: str, *keys: str, **described: str) -> type[BaseModel]:
    """A response model documenting an answer's top-level keys.

    keys : names described by COMMON_KEYS (or as "part of the answer: see the operation"); a name
        ending in "?" is a key some answers leave out. described : name -> what it holds.
    Values are typed Any (arrays, nested objects): the model documents the answer in /openapi.json,
    and extra keys are allowed, so an answer validates against it without its arrays being copied.
    """
    fields: dict[str, Any] = {}
    for key in keys:
        bare = key.rstrip("?")
        text = COMMON_KEYS.get(bare, "part of the answer: see the operation's description")
        fields[bare] = (Any, Field(None if key.endswith("?") else ..., description=text))
    for key, text in described.items():
        fields[key] = (Any, Field(..., description=text))
    return create_model(name, __doc__=doc, __config__=ConfigDict(extra="allow"), **fields)


TraceBody = body_model(
    "TraceBody",
    "An engine trace as JSON: the output, its named intermediates and its columnar steps.",
    "op",
    "params",
    "output",
    "stages?",
    "steps",
    "num_steps",
)
