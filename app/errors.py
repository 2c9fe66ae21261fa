"""One error shape for every 4xx: {"message": "...", "detail": [{"loc": [...], "msg": "..."}]}."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class ApiError(Exception):
    """A client error that names the field at fault and the limit it broke."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(message)
        self.status, self.field, self.message = status, field, message


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


def _body(field: str, message: str, detail: list[dict]) -> dict:
    return {"message": f"{field}: {message}", "detail": detail}


def install(app: FastAPI) -> None:
    """Register the handlers that turn our errors and validation failures into 4xx JSON."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        detail = [{"loc": ["body", exc.field], "msg": exc.message}]
        return JSONResponse(_body(exc.field, exc.message, detail), status_code=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        where = f"{request.method} {request.url.path}"
        detail = [{"loc": ["path"], "msg": str(exc.detail)}]
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
        # with a union (int or pair) the useful error is the limit broken, not "wrong type"
        informative = [d for d in detail if d.get("type") not in _TYPE_MISMATCH]
        first = (informative or detail or [{"loc": [], "msg": "invalid request"}])[0]
        message = first["msg"].removeprefix("Value error, ")
        return JSONResponse(_body(_location(first["loc"]), message, detail), status_code=422)


@contextmanager
def engine_errors(field: str = "request") -> Iterator[None]:
    """Turn the engine's ValueError (an impossible parameter combination) into a 422."""
    try:
        yield
    except ValueError as exc:
        raise ApiError(422, field, str(exc)) from exc
