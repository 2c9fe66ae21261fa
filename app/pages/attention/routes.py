"""Self-attention over a typed sentence (seeds 000, 004): every stage, one step per (head, query),
the 2-D picture of each output as a weighted sum of values, and the √d_k demo (seed 000)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from layerlab.app.config import settings as S
from layerlab.app.errors import engine_errors
from layerlab.app.jobs import heavy
from layerlab.app.mathml import tex
from layerlab.app.pages.attention import request as ar
from layerlab.app.pages.attention import text as at
from layerlab.app.pages.attention.schemas import HEAD_COUNTS, AdditiveRequest, AttentionRequest
from layerlab.app.serialize import NumpyJSONResponse
from layerlab.engine.attention import additive_attention, scaled_dot_product_attention, sqrt_dk_demo
from layerlab.engine.vocab import FEATURES, PRESETS, VOCAB

router = APIRouter(tags=["attention"])

DOC = {
    200: {"description": "Every stage, the per-query steps, the 2-D picture, formulas and the PyTorch line."}
}
STEP_FIELDS = (
    "scores",
    "scaled",
    "masked",
    "max",
    "exp",
    "sum",
    "weights",
    "output",
    "entropy",
    "max_weight",
)
SQRT_DK = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


@lru_cache(maxsize=1)
def sqrt_dk() -> dict:
    """seed 000's argument, measured once: 16 keys, 256 queries, N(0, 1) entries."""
    return {name: values.tolist() for name, values in sqrt_dk_demo(SQRT_DK).items()}


@router.get("/attention", response_class=HTMLResponse, include_in_schema=False)
def attention_page(request: Request) -> HTMLResponse:
    """The attention page."""
    data = {
        "defaults": AttentionRequest().model_dump(),
        "presets": PRESETS,
        "features": list(FEATURES),
        "vocab": sorted(VOCAB),
        "heads": list(HEAD_COUNTS),
        "limits": {
            name: getattr(S, name)
            for name in (
                "max_attention_tokens",
                "max_sentence_chars",
                "max_embedding_abs",
                "max_weight_abs",
                "max_weight_overrides",
                "additive_dim",
                "min_temperature",
                "max_temperature",
            )
        },
        "sqrt_dk": sqrt_dk(),
        "additive_defaults": AdditiveRequest().model_dump(),
    }
    formulas = {key: tex(latex, True) for key, latex in at.DEFINITIONS.items()}
    return request.app.state.templates.TemplateResponse(
        request, "attention/page.html", {"page_data": data, "formulas": formulas}
    )


@router.post("/api/attention", response_class=NumpyJSONResponse, responses=DOC)
@heavy
def attention(req: AttentionRequest) -> NumpyJSONResponse:
    """Multi-head self-attention of the sentence, one scaled_dot_product_attention call over the heads."""
    s = ar.setup(req)
    with engine_errors():
        t = scaled_dot_product_attention(s.q_heads, s.k_heads, s.v_heads, attn_mask=s.allowed, scale=s.scale)
    heads, length, d_k = s.q_heads.shape
    concat = t.output.transpose(1, 0, 2).reshape(length, -1)  # (L, D)
    output = concat @ s.w_o.T  # (L, D)
    bases, kept = ar.plane(s.v_heads)  # (H, d_k, 2), (H,)
    points = s.v_heads @ bases  # (H, L, 2)
    step_head = t.steps["index"][:, 0]  # (H·L,)
    weighted = t.steps["weights"][:, :, None] * points[step_head]  # (H·L, L, 2)
    out_points = np.einsum("sd,sdk->sk", t.steps["output"], bases[step_head])  # (H·L, 2)
    weights = t.stages["weights"]  # (H, L, L)
    return NumpyJSONResponse(
        {
            "op": "multi_head_attention_forward" if heads > 1 else t.op,
            "tokens": s.tokens,
            "unknown": s.unknown,
            "features": list(FEATURES),
            "params": {
                **t.params,
                "heads": heads,
                "d_k": d_k,
                "scaled": req.scaled,
                "temperature": req.temperature,
                "padding": req.padding,
            },
            "embeddings": s.x,  # (L, D)
            "weights": {"W_Q": s.w_q, "W_K": s.w_k, "W_V": s.w_v, "W_O": s.w_o},  # (D, D) each
            "q": s.x @ s.w_q.T,
            "k": s.x @ s.w_k.T,
            "v": s.x @ s.w_v.T,  # (L, D)
            # per head, (H, L, d_k) or (H, L, L); the mask is 0 or -inf (null in JSON)
            "heads": {
                "q": s.q_heads,
                "k": s.k_heads,
                "v": s.v_heads,
                **{name: t.stages[name] for name in ("scores", "scaled", "mask", "weights")},
                "output": t.output,
            },
            "allowed": s.allowed,  # (L, L)
            "concat": concat,
            "output": output,
            "num_steps": t.num_steps,  # H·L, head-major: step i is head i // L, query i % L
            "steps": {
                "head": step_head,
                "query": t.steps["index"][:, 1],
                **{name: t.steps[name] for name in STEP_FIELDS},
            },
            # the 2-D picture: values (H, L, 2), each step's weighted values (H·L, L, 2) and output (H·L, 2)
            "plane": {"points": points, "weighted": weighted, "output": out_points, "kept": kept},
            "sense": ar.sense(s.tokens, s.x, weights.mean(axis=0)),
            "torch": at.torch_line(req, length, s.scale),
            "formulas": {"attention": tex(at.attention_formula(req, d_k), True)},
        }
    )


@router.post("/api/attention/additive", response_class=NumpyJSONResponse)
@heavy
def additive(req: AdditiveRequest) -> NumpyJSONResponse:
    """Additive (Bahdanau) attention of one decoder state over the sentence's embeddings."""
    tokens, unknown, h, s = ar.additive_setup(req)
    w1, w2, v = ar.additive_weights()
    with engine_errors():
        t = additive_attention(s, h, w1, w2, v)
    return NumpyJSONResponse(
        {
            "op": t.op,
            "tokens": tokens,
            "unknown": unknown,
            "features": list(FEATURES),
            "params": {**t.params, "decoder": None if req.decoder_state is not None else req.decoder},
            "decoder_state": s,  # (D,)
            "encoder_states": h,  # (T, D)
            "weights": {"W1": w1, "W2": w2, "v": v},  # (A, D), (A, D), (A,)
            # projected_state (A,); projected_keys, summed, tanh (T, A); scores, weights (T,)
            "stages": t.stages,
            "context": t.output,  # (D,)
            "num_steps": t.num_steps,  # one per encoder state
            "steps": t.steps,
            "equations": [
                tex(at.additive_step(token, row, v, score))
                for token, row, score in zip(tokens, t.stages["tanh"], t.stages["scores"], strict=True)
            ],
            "softmax": tex(at.additive_softmax(tokens, t.stages["scores"], t.stages["weights"])),
            "formula": tex(at.DEFINITIONS["additive"], True),
            "torch": at.additive_torch(),
        }
    )
