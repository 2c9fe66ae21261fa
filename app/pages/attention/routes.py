"""Self-attention over a typed sentence (seeds 000, 004): every stage, one step per (head, query),
the 2-D picture of each output as a weighted sum of values, and the √d_k demo (seed 000)."""

from __future__ import annotations

from functools import lru_cache

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from layerlab.app.config import in_effect as S
from layerlab.app.errors import engine_errors
from layerlab.app.jobs import heavy
from layerlab.app.mathml import tex
from layerlab.app.pages.attention import request as ar
from layerlab.app.pages.attention import text as at
from layerlab.app.pages.attention.schemas import HEAD_COUNTS, AdditiveRequest, AttentionRequest
from layerlab.app.serialize import NumpyJSONResponse, body_model, trace_body
from layerlab.engine.attention import additive_attention, sqrt_dk_demo
from layerlab.engine.attention_heads import plane_picture, self_attention_heads
from layerlab.engine.vocab import FEATURES, PRESETS, VOCAB

router = APIRouter(tags=["attention"])


AttentionAnswer = body_model(
    "AttentionAnswer",
    "Multi-head self-attention: every stage, one step per (head, query), the 2-D picture.",
    "op",
    "params",
    "output",
    "steps",
    "num_steps",
    "tokens",
    "unknown",
    "features",
    "embeddings",
    "weights",
    "q",
    "k",
    "v",
    "heads",
    "allowed",
    "concat",
    "plane",
    "sense",
    "torch",
    "formulas",
)
AdditiveAnswer = body_model(
    "AdditiveAnswer",
    "Additive (Bahdanau) attention of one decoder state over the encoder states.",
    "op",
    "tokens",
    "unknown",
    "features",
    "params",
    "decoder_state",
    "encoder_states",
    "weights",
    "stages",
    "context",
    "num_steps",
    "steps",
    "equations",
    "softmax",
    "formula",
    "torch",
)

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


@router.post(
    "/api/attention", response_model=AttentionAnswer, response_class=NumpyJSONResponse, responses=DOC
)
@heavy
def attention(req: AttentionRequest) -> NumpyJSONResponse:
    """Multi-head self-attention of the sentence, one scaled_dot_product_attention call over the heads."""
    s = ar.setup(req)
    with engine_errors(fields={"padding": "padding", "num_heads": "heads"}):
        t = self_attention_heads(
            s.x, s.w_q, s.w_k, s.w_v, s.w_o, req.heads, attn_mask=s.allowed, scale=s.scale
        )
    _, length, d_k = t.stages["q_heads"].shape  # (H, L, d_k)
    body = trace_body(t, stages=False)
    return NumpyJSONResponse(
        body
        | {
            "tokens": s.tokens,
            "unknown": s.unknown,
            "features": list(FEATURES),
            "params": {
                **t.params,
                "scaled": req.scaled,
                "temperature": req.temperature,
                "padding": req.padding,
            },
            "embeddings": s.x,  # (L, D)
            "weights": {"W_Q": s.w_q, "W_K": s.w_k, "W_V": s.w_v, "W_O": s.w_o},  # (D, D) each
            **{name: t.stages[name] for name in ("q", "k", "v")},  # (L, D)
            # per head, (H, L, d_k) or (H, L, L); the mask is 0 or -inf (null in JSON)
            "heads": {
                **{name: t.stages[f"{name}_heads"] for name in ("q", "k", "v")},
                **{name: t.stages[name] for name in ("scores", "scaled", "mask", "weights")},
                "output": t.stages["head_outputs"],
            },
            "allowed": s.allowed,  # (L, L)
            "concat": t.stages["concat"],
            # H·L steps, head-major: step i is head i // L, query i % L
            "steps": {
                "head": body["steps"]["index"][:, 0],
                "query": body["steps"]["index"][:, 1],
                **{name: body["steps"][name] for name in STEP_FIELDS},
            },
            # the 2-D picture: values (H, L, 2), each step's weighted values (H·L, L, 2) and output (H·L, 2)
            "plane": plane_picture(t),
            "sense": ar.sense(s.tokens, s.x, t.stages["weights"]),
            "torch": at.torch_line(req, length, s.scale),
            "formulas": {"attention": tex(at.attention_formula(req, d_k), True)},
        }
    )


@router.post("/api/attention/additive", response_model=AdditiveAnswer, response_class=NumpyJSONResponse)
@heavy
def additive(req: AdditiveRequest) -> NumpyJSONResponse:
    """Additive (Bahdanau) attention of one decoder state over the sentence's embeddings."""
    tokens, unknown, h, s = ar.additive_setup(req)
    w1, w2, v = ar.additive_weights()
    with engine_errors():
        t = additive_attention(s, h, w1, w2, v)
    return NumpyJSONResponse(
        trace_body(t)
        | {
            "tokens": tokens,
            "unknown": unknown,
            "features": list(FEATURES),
            "params": {**t.params, "decoder": None if req.decoder_state is not None else req.decoder},
            "decoder_state": s,  # (D,)
            "encoder_states": h,  # (T, D)
            "weights": {"W1": w1, "W2": w2, "v": v},  # (A, D), (A, D), (A,)
            # stages projected_state (A,); projected_keys, summed, tanh (T, A); scores, weights (T,)
            "context": t.output,  # (D,); one step per encoder state
            "equations": [
                tex(at.additive_step(token, row, v, score))
                for token, row, score in zip(tokens, t.stages["tanh"], t.stages["scores"], strict=True)
            ],
            "softmax": tex(at.additive_softmax(tokens, t.stages["scores"], t.stages["weights"])),
            "formula": tex(at.DEFINITIONS["additive"], True),
            "torch": at.additive_torch(),
        }
    )
