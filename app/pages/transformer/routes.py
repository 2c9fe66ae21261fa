"""The trained-transformer page: the tiny language model Layerlab trains on its own generated sentences,
every head's attention, one head's arithmetic, a token's residual stream and the next word."""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from layerlab.app.errors import engine_errors
from layerlab.app.jobs import heavy
from layerlab.app.mathml import tex
from layerlab.app.pages.transformer import request as tr
from layerlab.app.pages.transformer import text as tt
from layerlab.app.pages.transformer.schemas import TransformerRequest, limits
from layerlab.app.serialize import NumpyJSONResponse, body_model

router = APIRouter(tags=["transformer"])

PRESETS = {  # name -> sentence, in the generated corpus's grammars; only those the vocabulary has are offered
    "bank (money)": "they brought the savings into the bank",
    "bank (river)": "we sat by the river bank",
    "induction": "kite lemon ghost tiger piano kite lemon ghost",
    "agreement": "the dogs near the tree",
}

TransformerAnswer = body_model(
    "TransformerAnswer",
    "The tiny language model on one sentence: every head's weights, the selected head's arithmetic, "
    "the residual stream and the next-token probabilities.",
    "params",
    "tokens",
    "ids",
    "config",
    "attention",
    "head",
    "weights",
    "embeddings",
    "residual",
    "next",
    "edits",
    "torch",
    "formulas",
)
DOC = {
    200: {"description": ("Every head's weights, one head written out, the residual stream, the next words.")}
}


def presets() -> dict[str, str]:
    """The presets every word of which the model knows."""
    known = set(tr.vocabulary())
    return {name: s for name, s in PRESETS.items() if set(s.split()) <= known}


@router.get("/transformer", response_class=HTMLResponse, include_in_schema=False)
def transformer_page(request: Request) -> HTMLResponse:
    """The trained-transformer page."""
    _, config = tr.model()
    data = {
        "defaults": TransformerRequest().model_dump(),
        "presets": presets(),
        "vocab": sorted(tr.vocabulary()),
        "config": {
            "n_layers": config.n_layers,
            "n_heads": config.n_heads,
            "max_len": config.max_len,
            "d_model": config.d_model,
            "d_k": config.d_model // config.n_heads,
        },
        "limits": limits(),
        "roles": tr.roles(),
    }
    formulas = {key: tex(latex, True) for key, latex in tt.DEFINITIONS.items()}
    return request.app.state.templates.TemplateResponse(
        request, "transformer/page.html", {"page_data": data, "formulas": formulas}
    )


@router.post(
    "/api/transformer/run",
    response_model=TransformerAnswer,
    response_class=NumpyJSONResponse,
    responses=DOC,
)
@heavy
def run(req: TransformerRequest) -> NumpyJSONResponse:
    """The model's forward pass over <bos> and the sentence, with the request's edited cells."""
    s = tr.setup(req)
    with engine_errors():
        f = tr.run(s)
    c = s.config
    ids = s.ids
    return NumpyJSONResponse(
        {
            "params": {
                "layer": req.layer,
                "head": req.head,
                "query": s.query,
                "temperature": req.temperature,
                "top_k": req.top_k,
                "seed": req.seed,
            },
            "tokens": tr.decode(ids),
            "ids": ids,
            "config": {
                "vocab_size": c.vocab_size,
                "d_model": c.d_model,
                "n_heads": c.n_heads,
                "n_layers": c.n_layers,
                "d_ff": c.d_ff,
                "max_len": c.max_len,
            },
            "attention": np.stack([w[0] for w in f.weights]),  # (n_layers, H, T, T)
            "head": tr.head_part(f, s, req.layer, req.head),
            "weights": tr.head_weights(s, req.layer, req.head),
            "embeddings": s.params["tok_emb.weight"][ids],  # (T, D): each token's row of tok_emb
            "residual": tr.residual(f, c),
            "next": tr.next_words(f, req.temperature, req.top_k, req.seed),
            "edits": s.edited,
            "torch": tt.torch_lines(c.d_model, c.n_heads, req.layer),
            "formulas": {"attention": tex(tt.DEFINITIONS["attention"], True)},
        }
    )
