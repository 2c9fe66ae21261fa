"""A property-based fuzz of the whole HTTP API from its own OpenAPI schema (schemathesis, in process).

Two of schemathesis' phases run for every operation: `coverage` (deterministic boundary values and
invalid inputs: each field missing, of the wrong type, one past its limit...) and `fuzzing` (hypothesis
examples, valid and invalid, from a fixed seed so CI is reproducible). Each response must not be a
5xx, must have a status code the schema declares and a body that matches the declared schema.
The last test asserts that the fuzz sent at least MIN_REQUESTS requests, reached every operation and
that no request took HANG_BOUND seconds.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
import schemathesis
from schemathesis import checks
from schemathesis.config import SchemathesisConfig
from schemathesis.python import asgi
from schemathesis.specs.openapi import checks as openapi_checks

from layerlab.app.main import create_app

MIN_REQUESTS = 5_000
HANG_BOUND = 10.0  # seconds: no request may take longer (the slowest valid one, /api/dense/init, takes ~2)
FUZZ_EXAMPLES = 15  # hypothesis examples per operation, on top of the coverage phase's cases
# a trained network or a thousand epochs per request: fewer random examples
HEAVY = {r"^/api/dense/init$": 3, r"^/api/network/": 10, r"^/api/recurrent/gradients$": 10}

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 10,
        "generation": {"max-examples": FUZZ_EXAMPLES, "deterministic": True, "database": "none"},
        "phases": {"examples": {"enabled": False}, "stateful": {"enabled": False}},
        "operations": [
            {"include-path-regex": path, "generation": {"max-examples": examples}}
            for path, examples in HEAVY.items()
        ],
    }
)
APP = create_app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG)
CHECKS = [
    checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]
SENT: Counter[str] = Counter()
SLOWEST: dict[str, float] = {}


@pytest.fixture(scope="module")
def session():
    """One in-process client for the whole fuzz (a new one per request costs more than most requests)."""
    with asgi.get_client(APP) as client:
        yield client


@schema.parametrize()
def test_api(case, session):
    start = time.perf_counter()
    response = case.call(session=session)
    label = case.operation.label
    SENT[label] += 1
    SLOWEST[label] = max(SLOWEST.get(label, 0.0), time.perf_counter() - start)
    case.validate_response(response, checks=CHECKS)


def test_fuzz_sent_enough_requests(request):
    operations = {op.ok().label for op in schema.get_all_operations()}
    fuzzed = [item for item in request.session.items if item.originalname == "test_api"]
    if len(fuzzed) < len(operations):
        pytest.skip("only part of the fuzz was selected")
    assert set(SENT) == operations, operations - set(SENT)
    assert sum(SENT.values()) >= MIN_REQUESTS, SENT
    slowest = max(SLOWEST, key=SLOWEST.__getitem__)
    assert SLOWEST[slowest] < HANG_BOUND, f"{slowest} took {SLOWEST[slowest]:.1f} s"
