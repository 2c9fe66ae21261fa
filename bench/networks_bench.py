"""Whole networks: the small CNN, the recurrent cells, the dense plane, and their endpoints.

Engine: the small CNN's traced forward and backward for one drawing, a training minibatch, and an
LSTM sequence traced gate by gate against a bare NumPy LSTM written here. API: one round trip per
endpoint the activations, dense, network and recurrent pages call, against GET /api/kernels.
"""

from __future__ import annotations

import httpx
import numpy as np

from bench.common import Section, Target, Timing, measure, ms, ratio
from layerlab.engine.cnn import layers as L
from layerlab.engine.cnn.data import make_dataset
from layerlab.engine.cnn.model import backward, forward, gradients, load_weights
from layerlab.engine.recurrent import lstm
from layerlab.engine.recurrent_params import init_params

SEQ_LEN, HIDDEN = 24, 8  # the recurrent page's largest sequence and hidden size
BATCH = 64  # the training script's minibatch
RATIO_TARGET = 2.0
ENDPOINTS = (  # (path, body): the body each page sends by default
    ("/api/activations/curve", {}),
    ("/api/activations/map", {}),
    ("/api/dense/plane", {}),
    ("/api/dense/init", {}),
    ("/api/network/forward", {}),
    ("/api/network/backward", {}),
    ("/api/recurrent/run", {"hidden_size": HIDDEN}),
    ("/api/recurrent/gradients", {}),
)


def bare_lstm(x: np.ndarray, p: dict[str, np.ndarray]) -> np.ndarray:
    """x (T, I) -> h (T, H): one layer, one direction, torch's gate order i, f, g, o; nothing kept."""
    hidden = p["weight_hh_l0"].shape[1]
    h, c, out = np.zeros(hidden), np.zeros(hidden), []
    for x_t in x:
        z = p["weight_ih_l0"] @ x_t + p["bias_ih_l0"] + p["weight_hh_l0"] @ h + p["bias_hh_l0"]
        i, f, g, o = np.split(z, 4)
        c = c / (1 + np.exp(-f)) + np.tanh(g) / (1 + np.exp(-i))
        h = np.tanh(c) / (1 + np.exp(-o))
        out.append(h)
    return np.array(out)


def _training_step(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> None:
    """Forward and backward of one minibatch through the layer functions (the training script's step)."""
    gradients(forward(x, params), y, params)


def engine_section(quick: bool) -> Section:
    repeats = 5 if quick else 30
    params = load_weights()
    x, y = make_dataset(BATCH, seed=5)
    image = x[0, 0]
    seq = np.random.default_rng(0).standard_normal((SEQ_LEN, 1))
    rnn_params = init_params("lstm", 1, HIDDEN, seed=0)
    traced = lstm(seq, None, rnn_params).output
    if not np.allclose(traced, bare_lstm(seq, rnn_params)):
        raise AssertionError("the bare LSTM disagrees with the engine")
    t: dict[str, Timing] = {
        "cnn_forward": measure(lambda: forward(image, params), repeats),
        "cnn_bare": measure(lambda: _bare_cnn(image, params), repeats),
        "cnn_backward": measure(lambda: backward(image, 3, params), repeats),
        "cnn_batch_step": measure(lambda: _training_step(params, x, y), repeats),
        "lstm_trace": measure(lambda: lstm(seq, None, rnn_params), repeats),
        "lstm_bare": measure(lambda: bare_lstm(seq, rnn_params), repeats),
    }
    section = Section(
        title=f"Whole networks: engine (median of {repeats})",
        headers=["computation", "median ms", "p95 ms", "against"],
        data={"repeats": repeats, **{k: v.__dict__ for k, v in t.items()}},
    )
    cnn = t["cnn_forward"].median_ms / t["cnn_bare"].median_ms
    rec = t["lstm_trace"].median_ms / t["lstm_bare"].median_ms
    section.rows += [
        [
            "small CNN forward trace, one 28x28 drawing",
            ms(t["cnn_forward"].median_ms),
            ms(t["cnn_forward"].p95_ms),
            f"{ratio(cnn)} bare forward",
        ],
        [
            "small CNN backward (with the transposed-conv check)",
            ms(t["cnn_backward"].median_ms),
            ms(t["cnn_backward"].p95_ms),
            f"{ratio(t['cnn_backward'].median_ms / t['cnn_forward'].median_ms)} forward",
        ],
        [
            f"training step, minibatch of {BATCH}",
            ms(t["cnn_batch_step"].median_ms),
            ms(t["cnn_batch_step"].p95_ms),
            f"{BATCH / t['cnn_batch_step'].median_ms * 1e3:,.0f} digits/s",
        ],
        [
            f"LSTM trace, T={SEQ_LEN}, H={HIDDEN}, every gate",
            ms(t["lstm_trace"].median_ms),
            ms(t["lstm_trace"].p95_ms),
            f"{ratio(rec)} bare loop",
        ],
    ]
    section.targets.append(Target("small CNN forward trace/bare", cnn, RATIO_TARGET, "x"))
    section.notes.append("bare: the same output from NumPy written here, nothing recorded")
    return section


def _bare_cnn(image: np.ndarray, p: dict[str, np.ndarray]) -> np.ndarray:
    """The same network's probabilities with no stage kept."""
    x = image[None, None]
    x = L.max_pool2x2_forward(np.maximum(L.conv2d_forward(x, p["conv1.weight"], p["conv1.bias"]), 0))[0]
    x = L.max_pool2x2_forward(np.maximum(L.conv2d_forward(x, p["conv2.weight"], p["conv2.bias"]), 0))[0]
    logits = x.reshape(1, -1) @ p["fc.weight"].T + p["fc.bias"]
    e = np.exp(logits - logits.max())
    return e / e.sum()


def api_section(quick: bool, server: str) -> Section:
    repeats = 5 if quick else 30
    timings: dict[str, Timing] = {}
    sizes: dict[str, int] = {}
    with httpx.Client(base_url=server, timeout=60, headers={"accept-encoding": "gzip"}) as client:

        def call(method: str, path: str, body: dict | None) -> None:
            r = client.request(method, path, json=body)
            r.raise_for_status()
            sizes[path] = r.num_bytes_downloaded

        timings["GET /api/kernels"] = measure(lambda: call("GET", "/api/kernels", None), repeats)
        for path, body in ENDPOINTS:
            timings[f"POST {path}"] = measure(lambda p=path, b=body: call("POST", p, b), repeats, warmup=2)
    base = timings["GET /api/kernels"].median_ms
    section = Section(
        title=f"Whole networks: API round trips with the pages' default bodies (median of {repeats})",
        headers=["request", "median ms", "p95 ms", "median/baseline", "bytes received"],
        data={"repeats": repeats, **{k: v.__dict__ for k, v in timings.items()}},
    )
    for name, t in timings.items():
        path = name.split(" ", 1)[1]
        section.rows.append(
            [name, ms(t.median_ms), ms(t.p95_ms), ratio(t.median_ms / base), f"{sizes[path]:,}"]
        )
    section.notes.append("baseline: GET /api/kernels in the same run; bytes as received (gzip)")
    return section


def run(quick: bool, server: str) -> Section:
    """Both tables as one section (the engine's first)."""
    engine, api = engine_section(quick), api_section(quick, server)
    engine.notes.append("\n" + api.render())
    engine.data["api"] = api.data
    return engine
