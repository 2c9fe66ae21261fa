"""The contract between engine and pages: every JSON answer documented by a response model, answers
that validate against it, one trace serializer, and geometry errors that name the request field."""

from __future__ import annotations

import numpy as np
import pytest

from layerlab.app.pages.attention.routes import AttentionAnswer
from layerlab.app.pages.conv.routes import ConvTraceAnswer
from layerlab.app.pages.family.routes import Conv1dAnswer, GroupedAnswer
from layerlab.app.pages.norm.routes import NormAnswer
from layerlab.app.serialize import trace_body
from layerlab.engine.conv import conv2d

SOBEL_X = [[[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]]


def test_every_json_operation_documents_a_non_empty_success_schema(client):
    spec = client.get("/openapi.json").json()
    undocumented = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            success = {code: r for code, r in operation["responses"].items() if code.startswith("2")}
            kinds = {kind for r in success.values() for kind in r.get("content", {})}
            if kinds == {"application/octet-stream"}:
                continue  # the live maps are bytes, described by their headers
            schemas = [
                r.get("content", {}).get("application/json", {}).get("schema") for r in success.values()
            ]
            if not any(schemas):
                undocumented.append(f"{method.upper()} {path}")
    assert not undocumented, undocumented


@pytest.mark.parametrize(
    ("path", "body", "model"),
    [
        ("/api/conv/trace", {"image": "scene", "size": 8, "weight": [SOBEL_X]}, ConvTraceAnswer),
        ("/api/family/conv1d", {}, Conv1dAnswer),
        ("/api/family/grouped", {"mode": "separable"}, GroupedAnswer),
        ("/api/attention", {"heads": 2}, AttentionAnswer),
        ("/api/norm/apply", {}, NormAnswer),
    ],
)
def test_answers_validate_against_their_response_model(client, path, body, model):
    r = client.post(path, json=body)
    assert r.status_code == 200, r.text[:300]
    answer = r.json()
    model.model_validate(answer)
    declared = client.get("/openapi.json").json()["components"]["schemas"][model.__name__]
    assert set(declared["required"]) <= set(answer)


def test_trace_body_sends_a_chunk_of_a_lazy_trace_as_the_eager_trace_records_it():
    rng = np.random.default_rng(16)
    x, w = rng.normal(size=(2, 6, 5)), rng.normal(size=(3, 2, 3, 3))
    lazy, eager = conv2d(x, w, padding=1), conv2d(x, w, padding=1, record_steps=True)
    body = trace_body(lazy, steps=slice(10, 25), stages=["padded"], drop=("window",))
    assert lazy.lazy and body["num_steps"] == eager.num_steps == 90
    assert set(body["stages"]) == {"padded"} and "window" not in body["steps"]
    for name, column in body["steps"].items():
        np.testing.assert_array_equal(column, eager.steps[name][10:25])
    assert "stages" not in trace_body(lazy, steps=False, stages=False)


# a kernel larger than the padded input, per page with geometry: (path, body, the field the 422 names)
KERNEL_OVER_INPUT = {
    "conv": ("/api/conv/trace", {"image": "scene", "size": 4, "weight": [[[[1] * 5] * 5]]}, "weight"),
    "conv_live": ("/api/conv/live", {"image": "scene", "size": 4, "weight": [[[[1] * 5] * 5]]}, "weight"),
    "conv1d": ("/api/family/conv1d", {"signal": [1, 2, 3], "kernel": [1, 1, 1, 1]}, "kernel"),
    "grouped": ("/api/family/grouped", {"padding": "valid", "kernel_size": 7, "size": 5}, "kernel_size"),
    "separable": (
        "/api/family/grouped",
        {"mode": "separable", "padding": "valid", "kernel_size": 7, "size": 5},
        "kernel_size",
    ),
    "tiled": ("/api/family/tiled", {"kernel_size": 7, "size": 4}, "kernel_size"),
    "flattened": ("/api/family/flattened", {"horizontal": [1] * 7, "size": 4, "padding": 0}, "horizontal"),
    "pool": ("/api/pool/trace", {"matrix": [[1, 2], [3, 4]], "kernel_size": 3}, "kernel_size"),
    "transposed_cropped": (
        "/api/family/transposed",
        {"input": [[1]], "kernel": [[1]], "padding": 1},
        "padding",
    ),
    "calculator": (
        "/api/calculator/analyse",
        {
            "input_shape": [1, 3, 3],
            "layers": [{"kind": "Conv2d", "args": {"in_channels": 1, "out_channels": 1, "kernel_size": 5}}],
        },
        "layers[0]",
    ),
}


@pytest.mark.parametrize(("path", "body", "field"), KERNEL_OVER_INPUT.values(), ids=KERNEL_OVER_INPUT.keys())
def test_kernel_larger_than_the_padded_input_is_a_422_naming_the_field(client, path, body, field):
    r = client.post(path, json=body)
    assert r.status_code == 422, r.text[:300]
    assert r.json()["detail"][0]["loc"][-1] == field, r.json()


def test_every_model_in_the_schema_has_its_own_short_name(client):
    """Two models of one name get their module path spelled out in /openapi.json and /docs
    ("layerlab__app__pages__..."), too long for a phone: each model's name is unique."""
    names = list(client.get("/openapi.json").json()["components"]["schemas"])
    assert [n for n in names if "__" in n] == []
