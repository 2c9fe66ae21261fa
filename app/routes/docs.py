"""API reference rendered on the server from the OpenAPI schema: works offline, no CDN assets."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

router = APIRouter(tags=["pages"], include_in_schema=False)

_CONSTRAINTS = (
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minItems",
    "maxItems",
    "maxLength",
    "pattern",
    "enum",
    "const",
)


def _type(schema: dict[str, Any]) -> str:
    """A short readable type: 'integer', 'array of number', 'integer | array', 'ConvParams'."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(_type(s) for s in schema["anyOf"])
    if schema.get("type") == "array":
        items = schema.get("prefixItems") or [schema.get("items", {})]
        return "array of " + ", ".join(_type(s) for s in items)
    if "const" in schema:
        return repr(schema["const"])
    if "enum" in schema:
        return " | ".join(repr(v) for v in schema["enum"])
    return schema.get("type", "any")


def _limits(schema: dict[str, Any]) -> str:
    found = {k: schema[k] for k in _CONSTRAINTS if k in schema and k not in ("enum", "const")}
    for sub in schema.get("anyOf", []) + ([schema["items"]] if isinstance(schema.get("items"), dict) else []):
        found.update({k: v for k, v in _limits_dict(sub).items() if k not in found})
    return ", ".join(f"{k} {_plain(v)}" for k, v in found.items())


def _plain(value: Any) -> Any:
    """A bound as a reader writes it: 16, not 16.0 (the schema's numbers may come as floats)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _limits_dict(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: schema[k] for k in _CONSTRAINTS if k in schema and k not in ("enum", "const")}


def _models(spec: dict[str, Any]) -> list[dict[str, Any]]:
    models = []
    for name, schema in spec.get("components", {}).get("schemas", {}).items():
        fields = [
            {
                "name": field,
                "type": _type(sub),
                "default": sub.get("default", ""),
                "limits": _limits(sub),
                "required": field in schema.get("required", []),
            }
            for field, sub in schema.get("properties", {}).items()
        ]
        models.append({"name": name, "doc": schema.get("description", ""), "fields": fields})
    return models


def _operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    ops = []
    for path, methods in spec.get("paths", {}).items():
        for method, op in methods.items():
            body = op.get("requestBody", {}).get("content", {})
            body_types = [f"{media}: {_type(c.get('schema', {}))}" for media, c in body.items()]
            params = [
                f"{p['name']} ({p['in']}): {_type(p.get('schema', {}))}" for p in op.get("parameters", [])
            ]
            responses = [f"{code}: {r.get('description', '')}" for code, r in op.get("responses", {}).items()]
            ops.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "doc": op.get("description", ""),
                    "body": body_types,
                    "params": params,
                    "responses": responses,
                    "tag": (op.get("tags") or [""])[0],
                }
            )
    return ops


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    """Every endpoint, its request model with limits, and its responses."""
    spec = request.app.openapi()
    context = {"spec": spec, "operations": _operations(spec), "models": _models(spec)}
    return request.app.state.templates.TemplateResponse(request, "api_docs.html", context)
