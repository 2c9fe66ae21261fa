"""From a transformer request to the engine's forward pass, and its answer's parts.

The parameters are the shipped weights (`layerlab.engine.tinylm.load`); edited cells are written into
copies of the arrays they touch, so the cached weights are never changed. Every number comes from the
engine's `forward` and `readout` (`next_token_probs` and the likeliest words); this module picks,
stacks and names them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from layerlab.app.errors import ApiError
from layerlab.app.pages.transformer.schemas import TransformerRequest
from layerlab.engine import tinylm
from layerlab.engine.tinylm.corpus import VOCAB, decode, encode
from layerlab.engine.tinylm.model import Config, Forward, forward
from layerlab.engine.tinylm.readout import residual_stream, top_next_words

BOS = 1  # VOCAB[1] == "<bos>", prepended to every sentence
TOP = 10  # next-token words listed per position


def model() -> tuple[dict[str, np.ndarray], Config]:
    """The shipped weights (read-only, cached by the engine) and their config."""
    return tinylm.load()


@dataclass(frozen=True)
class Setup:
    """The request checked against the model: token ids, the (edited) parameters, the selection."""

    ids: np.ndarray  # (T,) <bos> then the sentence's words
    params: dict[str, np.ndarray]
    config: Config
    query: int
    edited: list[dict]  # each applied edit with the value it replaced


def token_ids(sentence: str, config: Config) -> np.ndarray:
    """<bos> and the sentence's ids, or a 422 naming the unknown word or the length limit."""
    try:
        ids = np.asarray(encode(sentence), dtype=np.int64)
    except ValueError as e:
        raise ApiError(422, "sentence", str(e), kind="value") from e
    if ids.size == 0 or ids[0] != BOS:
        ids = np.concatenate([[BOS], ids])
    if ids.size < 2:
        raise ApiError(422, "sentence", "type at least one word", kind="value")
    if ids.size > config.max_len:
        raise ApiError(
            422,
            "sentence",
            f"at most {config.max_len - 1} words (the model's max_len {config.max_len}, with <bos>), "
            f"got {ids.size - 1}",
        )
    return ids


def edited_params(base: dict[str, np.ndarray], edits) -> tuple[dict[str, np.ndarray], list[dict]]:
    """`base` with each edit written into a copy of its array; the edits with the values they replaced."""
    params = dict(base)
    copied: set[str] = set()
    applied = []
    for i, e in enumerate(edits):
        if e.param not in base:
            unknown = f"not a parameter of the model: {e.param!r}"
            raise ApiError(422, f"edits.{i}.param", unknown, kind="value")
        if e.param not in copied:
            params[e.param] = base[e.param].copy()
            copied.add(e.param)
        w = params[e.param]
        shape = w.shape if w.ndim == 2 else (w.shape[0], 1)
        for field, index, size in (("row", e.row, shape[0]), ("col", e.col, shape[1])):
            if index >= size:
                raise ApiError(
                    422, f"edits.{i}.{field}", f"{e.param} has {size} {field}s, got {field} {index}"
                )
        cell = (e.row, e.col) if w.ndim == 2 else (e.row,)
        was = float(w[cell])
        applied.append({"param": e.param, "row": e.row, "col": e.col, "value": e.value, "was": was})
        w[cell] = e.value
    return params, applied


def setup(req: TransformerRequest) -> Setup:
    """Check the request against the model and apply its edits."""
    base, config = model()
    ids = token_ids(req.sentence, config)
    for field, value, size in (("layer", req.layer, config.n_layers), ("head", req.head, config.n_heads)):
        if value >= size:
            raise ApiError(422, field, f"the model has {size} {field}s (0 to {size - 1}), got {value}")
    if req.top_k is not None and req.top_k > config.vocab_size:
        raise ApiError(422, "top_k", f"at most the vocabulary, {config.vocab_size} words, got {req.top_k}")
    query = ids.size - 1 if req.query is None else req.query
    if query >= ids.size:
        raise ApiError(422, "query", f"a position below {ids.size} (<bos> and the words), got {query}")
    params, edited = edited_params(base, req.edits)
    return Setup(ids, params, config, query, edited)


def run(s: Setup) -> Forward:
    """The engine's forward pass of one sentence."""
    return forward(s.params, s.config, s.ids)


def stage_names(n_layers: int) -> list[str]:
    """The residual stream's stages, as Forward.resid lists them."""
    names = ["embeddings"]
    for i in range(n_layers):
        names += [f"+ block {i} attention", f"+ block {i} MLP"]
    return names


def head_part(f: Forward, s: Setup, layer: int, head: int) -> dict:
    """The selected head's arithmetic for every query: scores to weights, values and weighted values."""
    d_k = s.config.d_model // s.config.n_heads
    pick = {name: getattr(f, name)[layer][0, head] for name in ("q", "k", "v", "scores", "scaled", "masked")}
    exp = f.exp[layer][0, head]  # (T, T) e^(masked - row max)
    weights = f.weights[layer][0, head]  # (T, T)
    v = pick["v"]  # (T, d_k)
    return {
        **pick,
        "d_k": d_k,
        "scale": 1 / np.sqrt(d_k),
        "max": np.max(pick["masked"], axis=1),  # (T,) the row max subtracted before exp
        "exp": exp,
        "sum": exp.sum(axis=1),  # (T,)
        "weights": weights,
        "weighted": weights[:, :, None] * v[None, :, :],  # (T queries, T keys, d_k): w_ij·v_j
        "out": f.head_out[layer][0, head],  # (T, d_k) = Σ_j w_ij·v_j
    }


def head_weights(s: Setup, layer: int, head: int) -> dict:
    """The selected head's rows of in_proj_weight (W_Q, W_K, W_V, each (d_k, D)) and where they start."""
    d, d_k = s.config.d_model, s.config.d_model // s.config.n_heads
    w = s.params[f"blocks.{layer}.attn.in_proj_weight"]  # (3D, D)
    starts = {name: i * d + head * d_k for i, name in enumerate(("W_Q", "W_K", "W_V"))}
    return {
        "param": f"blocks.{layer}.attn.in_proj_weight",
        "starts": starts,
        **{name: w[start : start + d_k] for name, start in starts.items()},
    }


def residual(f: Forward, config: Config) -> dict:
    """Every position's residual stream: each stage's vectors (S, T, D) and their norms (S, T)."""
    vectors, norms = residual_stream(f)  # (S, T, D), (S, T)
    return {"stages": stage_names(config.n_layers), "vectors": vectors, "norms": norms}


def next_words(f: Forward, temperature: float, top_k: int | None, seed: int) -> dict:
    """Per position: the TOP most likely next words and their probabilities, and one word sampled with
    np.random.default_rng(seed) from that position's probabilities."""
    ids, probs, sampled = top_next_words(f.logits[0], temperature, top_k, seed, TOP)  # (T, TOP) each
    return {
        "ids": ids,
        "words": [decode(row) for row in ids],
        "probs": probs,
        "sampled": decode(sampled),
        "sampled_ids": sampled,
        "seed": seed,
        "temperature": temperature,
        "top_k": top_k,
    }


def roles() -> dict[str, str]:
    """The job training gave each named head (tinylm.HEADS, measured after training), by "layer-head"."""
    heads = getattr(tinylm, "HEADS", {})
    return {f"{layer}-{head}": name.replace("_", " ") for name, (layer, head) in heads.items()}


def vocabulary() -> list[str]:
    """The words a sentence may use (not <pad> or <bos>)."""
    return [w for w in VOCAB if not w.startswith("<")]
