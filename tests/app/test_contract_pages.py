"""Each page answer built on the one trace serializer carries what `trace_body` of the engine's trace
gives for a sample request: the same op, params, output, step columns and step count."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from layerlab.app.pages.activations import request as ar
from layerlab.app.pages.activations.schemas import CurveRequest
from layerlab.app.pages.dense.schemas import InitRequest
from layerlab.app.pages.family import request as fr
from layerlab.app.pages.family.schemas import (
    FlattenedRequest,
    ResidualRequest,
    TiledRequest,
    TransposedRequest,
)
from layerlab.app.pages.network import request as netr
from layerlab.app.pages.norm import request as nr
from layerlab.app.pages.norm.schemas import NormParams
from layerlab.app.serialize import NumpyJSONResponse, trace_body
from layerlab.engine.activation_demos import sample_curve
from layerlab.engine.activations import softmax
from layerlab.engine.cnn import circle
from layerlab.engine.cnn.model import backward, forward
from layerlab.engine.init_demo import init_demo
from layerlab.engine.transposed import conv_transpose2d
from layerlab.engine.variants import flattened_conv2d, residual_block, tiled_conv2d


def _json(value):
    """As the answer writes it: through the app's one JSON response."""
    return orjson.loads(NumpyJSONResponse(value).body)


def _norm(kind):
    req = NormParams(kind=kind)
    return nr.run(req, nr.generate(req))[0]


def _curve(req):
    return sample_curve(ar.activation(req), req.x_min, req.x_max, req.points, req.threshold)


def _transposed():
    x, w, kwargs = fr.transposed_args(TransposedRequest())
    return conv_transpose2d(x, w, **kwargs)


def _tiled():
    x, w, kwargs = fr.tiled_args(TiledRequest())
    return tiled_conv2d(x, w, None, **kwargs)


def _flattened():
    x, _, kwargs = fr.flattened_args(FlattenedRequest())
    return flattened_conv2d(x, **kwargs)


def _residual():
    x, _, kwargs = fr.residual_args(ResidualRequest())
    return residual_block(x, **kwargs)


DIGIT = np.zeros((28, 28))
DIGIT[6:22, 12:16] = 1.0  # a "1"
# (path, body, the engine's trace, the trace_body keys the answer carries as trace_body gives them)
WHOLE = ("op", "params", "output", "steps", "num_steps")
CASES = {
    "norm_batch": (
        "/api/norm/apply",
        {"kind": "batch"},
        lambda: _norm("batch"),
        ("op", "params", "output", "num_steps", "+steps"),
    ),
    "norm_lrn": (
        "/api/norm/apply",
        {"kind": "lrn"},
        lambda: _norm("lrn"),
        ("op", "params", "output", "num_steps", "+steps"),
    ),
    "transposed": (
        "/api/family/transposed",
        {},
        _transposed,
        ("op", "params", "scatter.op", "scatter.params", "scatter.num_steps"),
    ),
    "tiled": ("/api/family/tiled", {}, _tiled, ("op", "params")),
    "flattened": ("/api/family/flattened", {}, _flattened, ("op", "params")),
    "residual": ("/api/family/residual", {}, _residual, ("op", "params", "output", "stages")),
    "curve": (
        "/api/activations/curve",
        {"kind": "tanh", "points": 41},
        lambda: _curve(CurveRequest(kind="tanh", points=41)),
        ("output",),
    ),
    "softmax": (
        "/api/activations/softmax",
        {"z": [1.0, 2.0, 0.5], "temperature": 2.0},
        lambda: softmax(np.array([0.5, 1.0, 0.25]), dim=0),
        ("output", "num_steps"),
    ),
    "dense_init": (
        "/api/dense/init",
        {},
        lambda: init_demo(**InitRequest().model_dump()),
        (*WHOLE, "stages"),
    ),
    "network_forward": (
        "/api/network/forward",
        {"source": "matrix", "matrix": DIGIT.tolist()},
        lambda: forward(netr.fit_digit(DIGIT), netr.weights()),
        WHOLE,
    ),
    "network_backward": (
        "/api/network/backward",
        {"source": "matrix", "matrix": DIGIT.tolist(), "target": 1},
        lambda: backward(netr.fit_digit(DIGIT), 1, netr.weights()),
        WHOLE,
    ),
    "circle": (
        "/api/network/circle",
        {"shape": "circle"},
        lambda: circle.detect(circle.SHAPES["circle"]),
        ("op", "params"),
    ),
}


def _at(answer: dict, path: str):
    for part in path.split("."):
        answer = answer[part]
    return answer


@pytest.mark.parametrize(("path", "body", "trace", "keys"), CASES.values(), ids=CASES.keys())
def test_answer_carries_the_trace_body_of_the_engines_trace(client, path, body, trace, keys):
    r = client.post(path, json=body)
    assert r.status_code == 200, r.text[:300]
    answer, expected = r.json(), _json(trace_body(trace()))
    for key in keys:
        if key.startswith("+"):  # every step column the trace records, as recorded, beside the page's own
            sent = _at(answer, key[1:])
            assert {name: sent.get(name) for name in expected["steps"]} == expected["steps"], key
        else:
            assert _at(answer, key) == expected[key.rsplit(".", 1)[-1]], key
