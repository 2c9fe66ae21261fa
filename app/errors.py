"""One error shape for every 4xx: {"message": "...", "detail": [{"loc": [...], "msg": "..."}]}."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from layerlab.engine.errors import ArgumentError


class ApiError(Exception):
    """A client error that names the field at fault and the limit it broke."""

    def __init__(
        self,
        status: int,
        field: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        kind: str = "limit",
    ) -> None:
        super().__init__(message)
        self.status, self.field, self.message = status, field, message
        self.headers, self.kind = headers, kind


class ErrorItem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str | None = None


class ErrorBody(BaseModel):
    """The body of every 4xx: "field: what is wrong, and the limit", then each error found."""

    message: str
    detail: list[ErrorItem]


# the 4xx statuses each kind of operation can answer, as the OpenAPI schema declares them
BODY_ERRORS = {
    413: "The body is over its byte limit",
    415: "The body is not JSON (or not an image, for an upload)",
    422: "A parameter is out of its limits, or the combination is impossible",
    # app/jobs.py: heavy requests are bounded per worker; light ones never answer it
    503: "Busy: as many heavy requests as this worker computes at once are running and waiting; retry after "
    "the Retry-After header's seconds",
}
PATH_ERRORS = {404: "Nothing by that name", 422: "A parameter is out of its limits"}
FORM_ERRORS = {400: "The multipart form is broken (no boundary, a part over its size limit...)"}
EVERY_ERROR = {414: "The query string is over its byte limit"}
UPLOAD_GONE = {404: "The upload named is no longer on this server"}


# pydantic names the union member that failed (e.g. "constrained-int", "tuple[...]"): not a field
_UNION_TAG = re.compile(r"^(constrained-|tuple\[|literal\[|list\[|function-|int$|float$|str$)")


_TYPE_MISMATCH = {
    "int_type",
    "int_parsing",
    "tuple_type",
    "literal_error",
    "string_type",
    "list_type",
    "float_type",
    "float_parsing",
    "bool_type",
    "bool_parsing",
}


_NOT_AN_OBJECT = {"model_attributes_type", "dict_type", "model_type"}


def _location(loc: tuple | list) -> str:
    """'weight[0][1]' style path of a validation error, without the body/union noise."""
    path = ""
    for part in loc:
        if part in ("body", "query", "path") or _UNION_TAG.match(str(part)):
            continue
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path.lstrip(".") or "request"


def _unparsable(cause: BaseException | None) -> str:
    """Why Python's JSON parser gave up on a body, in the client's terms."""
    if isinstance(cause, RecursionError):
        return "arrays or objects nested too deeply; no request here nests more than 5 levels"
    if isinstance(cause, UnicodeDecodeError):
        return "the bytes are not UTF-8 text"
    if isinstance(cause, ValueError) and "digits" in str(cause):
        return f"a number of more than {sys.get_int_max_str_digits():,} digits"
    return "it could not be parsed"


def _body(field: str, message: str, detail: list[dict]) -> dict:
    return {"message": f"{field}: {message}", "detail": detail}


def error_json(field: str, message: str, kind: str = "limit") -> bytes:
    """One error in the app's shape, as bytes: for answers made below FastAPI (middleware, server)."""
    return orjson.dumps(_body(field, message, [{"loc": [field], "msg": message, "type": kind}]))


def error_body(exc: ApiError) -> dict:
    """The JSON body answering an ApiError."""
    loc = ["body", exc.field] if exc.status < 500 else [exc.field]  # a 5xx is not the body's fault
    return _body(exc.field, exc.message, [{"loc": loc, "msg": exc.message, "type": exc.kind}])


def validation_body(detail: list[dict]) -> dict:
    """The 422 body for validation errors ({loc, msg, type} each): the first informative one is named."""
    # with a union (int or pair) the useful error is the limit broken, not "wrong type"
    informative = [d for d in detail if d.get("type") not in _TYPE_MISMATCH]
    first = (informative or detail or [{"loc": [], "msg": "invalid request"}])[0]
    return _body(_location(first["loc"]), first["msg"].removeprefix("Value error, "), detail)


def install(app: FastAPI) -> None:
    """Register the handlers that turn our errors and validation failures into 4xx JSON."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # the route was found but its body could not be parsed
            content_type = request.headers.get("content-type", "none")
            if "json" in content_type:
                message = f"not valid JSON ({_unparsable(exc.__cause__)})"
                detail = [{"loc": ["body"], "msg": message, "type": "json_invalid"}]
                return JSONResponse(_body("body", message, detail), status_code=422)
            detail = [{"loc": ["body"], "msg": str(exc.detail), "type": "body_invalid"}]
            return JSONResponse(_body("body", str(exc.detail), detail), status_code=400)
        where = f"{request.method} {request.url.path}"
        detail = [{"loc": ["path"], "msg": str(exc.detail), "type": "http"}]
        return JSONResponse(
            _body(where, str(exc.detail), detail),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [
            {"loc": list(err.get("loc", ())), "msg": err.get("msg", "invalid"), "type": err.get("type")}
            for err in exc.errors()
        ]
        if any(d["type"] == "json_invalid" for d in detail):
            at = next(d["loc"][-1] for d in detail if d["type"] == "json_invalid")
            return JSONResponse(_body("body", f"not valid JSON (at character {at})", detail), status_code=422)
        if any(d["loc"] == ["body"] and d["type"] in _NOT_AN_OBJECT for d in detail):
            content_type = request.headers.get("content-type", "none")
            if "json" not in content_type:
                message = f"send the parameters as application/json (got {content_type})"
                return JSONResponse(_body("body", message, detail), status_code=415)
        return JSONResponse(validation_body(detail), status_code=422)


def _names_upload(schema: object, components: dict, seen: set[str]) -> bool:
    """Whether a request schema has a field that may name an upload (pattern "upload:...")."""
    if isinstance(schema, list):
        return any(_names_upload(s, components, seen) for s in schema)
    if not isinstance(schema, dict):
        return False
    if "upload:" in str(schema.get("pattern", "")):
        return True
    ref = schema.get("$ref", "").rsplit("/", 1)[-1]
    if ref and ref not in seen:
        seen.add(ref)
        if _names_upload(components.get(ref), components, seen):
            return True
    return any(_names_upload(v, components, seen) for k, v in schema.items() if k != "$ref")


def _may_fail(operation: dict, components: dict) -> dict[int, str]:
    """The 4xx statuses an operation can answer, with what each means."""
    statuses = dict(EVERY_ERROR)
    if "requestBody" in operation:
        statuses |= BODY_ERRORS
        if "multipart/form-data" in operation["requestBody"].get("content", {}):
            statuses |= FORM_ERRORS
        if _names_upload(operation["requestBody"], components, set()):
            statuses |= UPLOAD_GONE
    if operation.get("parameters"):
        statuses |= PATH_ERRORS
    return statuses


def document(app: FastAPI) -> None:
    """Declare ErrorBody (not FastAPI's HTTPValidationError) for every 4xx each operation can answer."""
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        definitions = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(definitions.pop("$defs"))
        components["ErrorBody"] = definitions
        content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
        for operations in schema["paths"].values():
            for operation in operations.values():
                responses = operation["responses"]
                for status, description in _may_fail(operation, components).items():
                    declared = responses.setdefault(str(status), {"description": description})
                    declared["content"] = content
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


@contextmanager
def engine_errors(field: str = "request", fields: Mapping[str, str] | None = None) -> Iterator[None]:
    """Turn the engine's ValueError (an impossible parameter combination) into a 422.

    An ArgumentError names the torch argument at fault; `fields` maps it to the request field
    that fed it (e.g. {"weight": "kernel"}), so the 422's loc names what to change. An argument
    the map does not list is named as is when `field` is the catch-all "request".
    """
    try:
        yield
    except ArgumentError as exc:
        named = (fields or {}).get(exc.argument)
        raise ApiError(422, named or (exc.argument if field == "request" else field), str(exc)) from exc
    except ValueError as exc:
        raise ApiError(422, field, str(exc)) from exc
