"""From an attention request to engine arguments, and the picture of one output as a sum of values.

The weights are fixed so a link reproduces them: W_Q, W_K, W_V are `projections(8, 8, seed=0)`,
stacked as nn.MultiheadAttention's in_proj_weight, and W_O is the first matrix of
`projections(8, 8, seed=1)` (out_proj.weight); no biases. Heads split Q, K, V into contiguous
chunks of d_k = 8 / heads columns, as nn.MultiheadAttention does. Edited cells
(`weight_overrides`) replace entries of these matrices before anything is computed.

The additive tab's W1, W2 (A, 8) are the first two matrices of `projections(8, A, seed=2)` and
v (A,) is the first row of the third, so its entries are N(0, 1/8) too; A = settings.additive_dim.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from layerlab.app.config import in_effect as S
from layerlab.app.errors import ApiError
from layerlab.app.pages.attention.schemas import AdditiveRequest, AttentionRequest
from layerlab.engine.attention_heads import attention_mask, context_vector, cosine_similarity
from layerlab.engine.vocab import FEATURES, SENSES, embed, projections, tokenize

PROJECTION_SEED = 0
OUT_SEED = 1
ADDITIVE_SEED = 2
WEIGHT_NAMES = ("W_Q", "W_K", "W_V", "W_O")


@dataclass(frozen=True)
class Setup:
    """Everything the engine call needs, each array with its shape."""

    tokens: list[str]
    unknown: list[str]
    x: np.ndarray  # (L, D) embeddings
    w_q: np.ndarray  # (D, D), rows are output features: Q = X·W_Qᵀ
    w_k: np.ndarray
    w_v: np.ndarray
    w_o: np.ndarray  # (D, D) out_proj.weight
    allowed: np.ndarray  # (L, L) bool, True where query i may attend to key j (SDPA's bool mask)
    scale: float  # the factor multiplying QKᵀ: 1/√d_k (or 1), divided by the temperature


def tokens_of(req: AttentionRequest) -> list[str]:
    """The sentence's tokens, or a 422 naming the token limit."""
    tokens = tokenize(req.sentence)
    if not tokens:
        raise ApiError(422, "sentence", "type at least one word")
    if len(tokens) > S.max_attention_tokens:
        raise ApiError(
            422,
            "sentence",
            f"at most {S.max_attention_tokens} tokens (max_attention_tokens), got {len(tokens)}",
        )
    if req.padding >= len(tokens):
        raise ApiError(
            422,
            "padding",
            f"must leave at least one real token: below {len(tokens)} tokens, got {req.padding}",
        )
    return tokens


def weights() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """W_Q, W_K, W_V and W_O, each (D, D)."""
    d = len(FEATURES)
    w_q, w_k, w_v = projections(d, d, seed=PROJECTION_SEED)
    return w_q, w_k, w_v, projections(d, d, seed=OUT_SEED)[0]


def edited_weights(cells: dict[str, list[tuple[int, int, float]]]) -> tuple[np.ndarray, ...]:
    """weights() with the edited [row, col, value] cells written in, in the order of WEIGHT_NAMES."""
    mats = tuple(w.copy() for w in weights())
    for name, edits in cells.items():
        w = mats[WEIGHT_NAMES.index(name)]
        for row, col, value in edits:
            w[row, col] = value
    return mats


def additive_weights() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """W1 (A, D), W2 (A, D) and v (A,) of the additive tab."""
    w1, w2, third = projections(len(FEATURES), S.additive_dim, seed=ADDITIVE_SEED)
    return w1, w2, third[0]


def additive_setup(req: AdditiveRequest) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """The tokens, the unknown words, the encoder states (T, D) and the decoder state (D,)."""
    tokens = tokens_of(AttentionRequest(sentence=req.sentence))
    overrides = {word: np.array(values) for word, values in req.overrides.items()}
    h, unknown = embed(tokens, overrides)  # (T, D)
    if req.decoder_state is not None:
        return tokens, unknown, h, np.array(req.decoder_state, dtype=float)
    if req.decoder >= len(tokens):
        raise ApiError(422, "decoder", f"must be a token index below {len(tokens)}, got {req.decoder}")
    return tokens, unknown, h, h[req.decoder].copy()


def setup(req: AttentionRequest) -> Setup:
    """Embed the sentence, edit the weights; the mask and the scale."""
    tokens = tokens_of(req)
    overrides = {word: np.array(values) for word, values in req.overrides.items()}
    x, unknown = embed(tokens, overrides)  # (L, D)
    w_q, w_k, w_v, w_o = edited_weights(req.weight_overrides)
    d_k = len(FEATURES) // req.heads
    allowed = attention_mask(len(tokens), req.causal, req.padding)
    scale = (1 / math.sqrt(d_k) if req.scaled else 1.0) / req.temperature
    return Setup(tokens, unknown, x, w_q, w_k, w_v, w_o, allowed, scale)


def sense(tokens: list[str], x: np.ndarray, weights: np.ndarray) -> dict | None:
    """Which sense an ambiguous word's context leans to (seed 004's river bank against bank account).

    The context of the word is the engine's context_vector: Σⱼ wᵢⱼ·xⱼ, its attention weights
    (H, L, L) averaged over heads applied to the embeddings themselves, so it is read in the named
    features; it is compared with each sense by cosine similarity.
    """
    for i, token in enumerate(tokens):
        if token in SENSES:
            context = context_vector(weights, x, i)  # (D,)
            scores = {name: cosine_similarity(context, ref) for name, ref in SENSES[token].items()}
            return {
                "word": token,
                "index": i,
                "context": context,
                "cosine": scores,
                "leans": max(scores, key=scores.get),
            }
    return None
