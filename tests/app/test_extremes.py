"""Every numeric field of every JSON request, at its extremes, answers 2xx or 4xx, never 5xx.

The fields come from the app's own OpenAPI schema: each number or integer in a request (a list's entries
are set all at once), and each optional one the defaults leave out. Each is sent, alone, as a subnormal
(±5e-324), ±0, the largest finite doubles, and its declared bounds (minimum, maximum and the exclusive
ones), every other field at its default. A value inside the declared limits that cannot be answered must
be a 4xx naming a field, as any other refused value.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from layerlab.app.main import create_app

TINY = 5e-324  # the smallest subnormal double
HUGE = sys.float_info.max
FLOATS = (TINY, -TINY, 0.0, -0.0, 1e-308, HUGE, -HUGE)
INTEGERS = (0, -1, 2**31, -(2**31), 2**63, -(2**63))
# bodies for the requests that have required fields (every other request's fields all have defaults)
BASE: dict[str, dict] = {
    "/api/conv/trace": {"weight": [[[[1.0, -1.0]]]], "image": "gradient", "size": 8},
    "/api/conv/live": {"weight": [[[[1.0, -1.0]]]], "image": "gradient", "size": 8},
    "/api/calculator/analyse": {
        "input_shape": [1, 28, 28],
        "layers": [{"kind": "conv2d", "args": {"out_channels": 4, "kernel_size": 3}}],
    },
}

APP = create_app()
PROBE = TestClient(APP)
SPEC = APP.openapi()
COMPONENTS = SPEC["components"]["schemas"]


def resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = COMPONENTS[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def alternatives(schema: dict) -> list[dict]:
    schema = resolve(schema)
    return [resolve(s) for s in schema.get("anyOf", schema.get("oneOf", [schema]))]


def numeric(schema: dict) -> dict | None:
    return next((s for s in alternatives(schema) if s.get("type") in ("number", "integer")), None)


def extremes(schema: dict) -> list[float | int]:
    """The values to try for a numeric field: the generic extremes and its declared bounds."""
    kind = "integer" if schema["type"] == "integer" else "number"
    values: list[float | int] = list(INTEGERS if kind == "integer" else FLOATS)
    for bound in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        if bound in schema:
            values.append(int(schema[bound]) if kind == "integer" else float(schema[bound]))
    return list(dict.fromkeys(values))  # ±0 stay apart: 0.0 == -0.0, but their keys differ below


def numeric_array(schema: dict) -> tuple[int, dict] | None:
    """(depth, leaf schema) of an array (of arrays...) of numbers, or None."""
    array = next((s for s in alternatives(schema) if s.get("type") == "array" and "items" in s), None)
    if array is None:
        return None
    if (leaf := numeric(array["items"])) is not None:
        return 1, leaf
    inner = numeric_array(array["items"])
    return None if inner is None else (inner[0] + 1, inner[1])


def filled(url: str, body: dict, key: str, prop: dict) -> list | None:
    """A value the server accepts for the optional numeric array `key` (its length often has to match
    another field): n x n x ... of a plain number in its bounds, the first n from 1 to 8 answering 200."""
    depth, leaf = numeric_array(prop)
    plain = min(max(1, leaf.get("minimum", 1)), leaf.get("maximum", 1))
    for n in range(1, 9):
        value: Any = plain
        for _ in range(depth):
            value = [copy.deepcopy(value) for _ in range(n)]
        if PROBE.post(url, json={**body, key: value}).status_code == 200:
            return value
    return None


def fields(body: Any, schema: dict, path: tuple = ()) -> Iterator[tuple[tuple, dict]]:
    """(path with '*' for list indices, numeric schema) of every number in `body`, and of every optional
    numeric property left out of it."""
    if isinstance(body, bool) or body is None:
        return
    if isinstance(body, (int, float)):
        if (found := numeric(schema)) is not None:
            yield path, found
        return
    if isinstance(body, list):
        array = next((s for s in alternatives(schema) if s.get("type") == "array"), {})
        for i, item in enumerate(body):
            prefix = array.get("prefixItems", [])
            yield from fields(item, prefix[i] if i < len(prefix) else array.get("items", {}), (*path, "*"))
        return
    obj = next((s for s in alternatives(schema) if "properties" in s), {})
    for key, prop in obj.get("properties", {}).items():
        value = body.get(key, resolve(prop).get("default"))
        if value is None:
            if (found := numeric(prop)) is not None:
                yield (*path, key), found
            continue
        yield from fields(value, prop, (*path, key))


def assign(body: Any, path: tuple, value: Any) -> Any:
    """`body` with every position `path` names (each list entry, for '*') set to `value`."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if head == "*":
        return [assign(item, rest, value) for item in body]
    return {**body, head: assign(body.get(head), rest, value)}


def cases() -> Iterator[tuple[str, dict, tuple, float | int]]:
    for url, operations in SPEC["paths"].items():
        content = operations.get("post", {}).get("requestBody", {}).get("content", {})
        if "application/json" not in content:
            continue
        schema = resolve(content["application/json"]["schema"])
        body = copy.deepcopy(BASE.get(url, {}))
        for key, prop in schema["properties"].items():  # defaults written out, so lists can be walked
            if key not in body and resolve(prop).get("default") is not None:
                body[key] = resolve(prop)["default"]
        for key, prop in schema["properties"].items():  # and an accepted value for each optional array
            if body.get(key) is None and numeric_array(prop) is not None:
                if (value := filled(url, body, key, prop)) is not None:
                    body[key] = value
        for path, found in dict(fields(body, schema)).items():
            for value in extremes(found):
                yield url, body, path, value


CASES = list(cases())


@pytest.fixture(scope="module")
def http() -> Iterator[TestClient]:
    with TestClient(APP) as c:
        yield c


def test_the_walk_reaches_every_json_request_and_their_numbers():
    urls = {url for url, *_ in CASES}
    posts = {
        u
        for u, ops in SPEC["paths"].items()
        if "application/json" in ops.get("post", {}).get("requestBody", {}).get("content", {})
    }
    assert urls == posts
    assert len({(url, path) for url, _, path, _ in CASES}) > 150  # fields, not values


@pytest.mark.parametrize("url", sorted({url for url, *_ in CASES}))
def test_numbers_at_their_extremes_answer_without_a_server_error(http, url):
    failures = []
    for _, body, path, value in (case for case in CASES if case[0] == url):
        sent = assign(body, path, value)
        r = http.post(url, json=sent)
        field = ".".join(map(str, path))
        if r.status_code >= 500:
            failures.append(f"{field}={value!r}: {r.status_code} {r.text[:200]}")
        elif r.status_code >= 400 and not r.json().get("message"):
            failures.append(f"{field}={value!r}: {r.status_code} without a message naming the field")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(("url", "body"), [("/api/pool/trace", {"kind": "lp"}), ("/api/pool/compare", {})])
def test_an_lp_norm_so_small_that_the_output_overflows_is_refused_naming_it(http, url, body):
    r = http.post(url, json={**body, "norm_type": 1e-308})  # torch: inf, which JSON cannot carry
    assert r.status_code == 422
    assert r.json()["message"].startswith("norm_type: ")
    assert http.post(url, json={**body, "norm_type": 0.5}).status_code == 200
