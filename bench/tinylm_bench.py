"""The tiny transformer: its recorded forward and the page's round trip over a bare NumPy forward.

A 16-token sentence (<bos> and 15 words) through the shipped model (`engine.tinylm.load()`; the seeded
`init_params` of the same Config when no weights ship yet, which costs the same). Rows, as ratios to a
bare forward written here (the minimal computation to the logits, nothing recorded):
- the engine's `forward`, which keeps every intermediate (q, k, v, scores, scaled, masked, exp, weights,
  head outputs, residuals, ...);
- the page's round trip: a POST of the sentence to the page's endpoint through the TestClient (request
  validation, the forward, the answer's JSON), when the app has that route;
and, for the training loop, one `loss_and_grads` step at B=32, T=24 (milliseconds only).
"""

from __future__ import annotations

import math

import numpy as np

from bench.common import Section, measure, ms, ratio
from layerlab.engine.tinylm import corpus
from layerlab.engine.tinylm.model import Config, erf, forward, init_params, loss_and_grads

# 15 words: with the <bos> the page prepends, 16 tokens
SENTENCE = "the man sat by the river bank then the woman put money in the bank"
ROUTES = ("/api/attention/model", "/api/transformer/run")  # the page's endpoint, by either name


def model() -> tuple[dict[str, np.ndarray], Config, str]:
    """The shipped weights, or the untrained ones of the same shape when none ship yet."""
    try:
        from layerlab.engine.tinylm import load

        params, config = load()
        return params, config, "shipped weights"
    except (ImportError, OSError, ValueError, KeyError):
        config = Config(vocab_size=len(corpus.VOCAB))
        return init_params(config, seed=0), config, "init_params(seed=0): no shipped weights yet"


def bare_forward(params: dict[str, np.ndarray], config: Config, ids: np.ndarray) -> np.ndarray:
    """The logits (T, V) of one sentence (T,) and nothing else: the least NumPy that computes them."""
    T, H, dk = len(ids), config.n_heads, config.d_k

    def norm(x: np.ndarray, name: str) -> np.ndarray:
        c = x - x.mean(-1, keepdims=True)
        return (
            c / np.sqrt((c * c).mean(-1, keepdims=True) + 1e-5) * params[name + ".weight"]
            + params[name + ".bias"]
        )

    mask = np.triu(np.full((T, T), -np.inf), 1)
    x = params["tok_emb.weight"][ids] + params["pos_emb.weight"][:T]
    for i in range(config.n_layers):
        p = f"blocks.{i}."
        qkv = norm(x, p + "ln1") @ params[p + "attn.in_proj_weight"].T + params[p + "attn.in_proj_bias"]
        q, k, v = qkv.reshape(T, 3, H, dk).transpose(1, 2, 0, 3)  # (H, T, dk) each
        s = q @ k.transpose(0, 2, 1) / math.sqrt(dk) + mask
        e = np.exp(s - s.max(-1, keepdims=True))
        heads = (e / e.sum(-1, keepdims=True)) @ v  # (H, T, dk)
        x = x + heads.transpose(1, 0, 2).reshape(T, -1) @ params[p + "attn.out_proj.weight"].T
        x = x + params[p + "attn.out_proj.bias"]
        a = norm(x, p + "ln2") @ params[p + "mlp.fc.weight"].T + params[p + "mlp.fc.bias"]
        g = a * 0.5 * (1.0 + erf(a / math.sqrt(2.0)))
        x = x + g @ params[p + "mlp.proj.weight"].T + params[p + "mlp.proj.bias"]
    return norm(x, "ln_f") @ params["head.weight"].T


def _round_trip():
    """A call that POSTs the sentence to the page's endpoint, and the route's path; (None, None) when
    the app has no such route yet."""
    from fastapi.testclient import TestClient

    from layerlab.app.main import create_app

    client = TestClient(create_app())
    body = {"sentence": SENTENCE}
    for route in ROUTES:
        answer = client.post(route, json=body)
        if answer.status_code == 200:
            break
        if answer.status_code not in (404, 405):  # there, but refusing the sentence
            raise RuntimeError(f"{route} answered {answer.status_code}: {answer.text[:300]}")
    else:
        return None, None
    return lambda: client.post(route, json=body).raise_for_status(), route


def run(quick: bool) -> Section:
    repeats = 20 if quick else 300
    params, config, source = model()
    ids = np.concatenate([[corpus.VOCAB.index("<bos>")], corpus.encode(SENTENCE)])
    assert len(ids) == 16, len(ids)
    np.testing.assert_allclose(
        forward(params, config, ids).logits[0], bare_forward(params, config, ids), atol=1e-10
    )

    bare = measure(lambda: bare_forward(params, config, ids), repeats)
    rows = [("bare NumPy forward (logits only)", bare)]
    rows.append(
        ("engine forward (every intermediate)", measure(lambda: forward(params, config, ids), repeats))
    )
    call, route = _round_trip()
    if call is not None:
        rows.append((f"page round trip, POST {route}", measure(call, max(10, repeats // 5))))

    section = Section(
        "Tiny transformer: a 16-token sentence (<bos> + 15 words)",
        ["row", "median ms", "p95 ms", "median / bare", "p95 / bare p95"],
    )
    section.notes.append(f"model: {source}; {config}")
    if call is None:
        section.notes.append(f"no page endpoint ({' or '.join(ROUTES)}) in the app yet: forward only")
    for name, t in rows:
        section.rows.append(
            [
                name,
                ms(t.median_ms),
                ms(t.p95_ms),
                ratio(t.median_ms / bare.median_ms),
                ratio(t.p95_ms / bare.p95_ms),
            ]
        )
        section.data[name] = {
            "median_ms": t.median_ms,
            "p95_ms": t.p95_ms,
            "n": t.n,
            "median_ratio": t.median_ms / bare.median_ms,
        }

    rng = np.random.default_rng(0)
    train_config = Config(vocab_size=len(corpus.VOCAB))
    train_params = init_params(train_config, seed=0)
    tokens = rng.integers(2, train_config.vocab_size, (32, 24))
    targets = rng.integers(-1, train_config.vocab_size, (32, 24))
    step = measure(
        lambda: loss_and_grads(train_params, train_config, tokens, targets), max(10, repeats // 10)
    )
    section.rows.append(
        ["training step, loss_and_grads B=32 T=24", ms(step.median_ms), ms(step.p95_ms), "", ""]
    )
    section.data["training step"] = {"median_ms": step.median_ms, "p95_ms": step.p95_ms, "n": step.n}
    return section
