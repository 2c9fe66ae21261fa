"""RNN, LSTM and GRU unrolled through time (seed 003): every gate of every step, the three kinds on
the same input, and the vanishing gradient through time."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from layerlab.app.config import in_effect as S
from layerlab.app.errors import engine_errors
from layerlab.app.jobs import heavy
from layerlab.app.mathml import tex
from layerlab.app.pages.recurrent import request as rr
from layerlab.app.pages.recurrent import text as rt
from layerlab.app.pages.recurrent.schemas import GradientRequest, RunRequest, SequenceRequest
from layerlab.app.serialize import NumpyJSONResponse, body_model, trace_body
from layerlab.engine.recurrent_grad import KIND_ORDER, vanishing_gradients
from layerlab.engine.vocab import PRESETS, VOCAB

router = APIRouter(tags=["recurrent"])


RecurrentAnswer = body_model(
    "RecurrentAnswer",
    "An RNN, LSTM or GRU over the sequence: every gate and state by step.",
    "op",
    "kind",
    "params",
    "labels",
    "words",
    "features",
    "input",
    "output",
    "stages",
    "weights",
    "num_steps",
    "steps",
    "torch",
)
RecurrentCompareAnswer = body_model(
    "RecurrentCompareAnswer",
    "The kinds side by side on one sequence.",
    "kinds",
    "bidirectional",
    "labels",
    "output",
    "h_n",
)
GradientsAnswer = body_model(
    "GradientsAnswer",
    "How the gradient's norm changes back through time, per kind.",
    "kinds",
    "params",
    "norms",
    "step_norm",
    "torch",
)

LIMITS = (
    "max_rnn_hidden",
    "max_rnn_layers",
    "max_rnn_seq_len",
    "max_rnn_input_abs",
    "max_rnn_period",
    "min_rnn_scale",
    "max_rnn_scale",
    "max_rnn_seed",
    "max_rnn_grad_len",
    "max_rnn_input_size",
    "max_rnn_forget_bias",
    "max_sentence_chars",
)


@router.get("/recurrent", response_class=HTMLResponse, include_in_schema=False)
def recurrent_page(request: Request) -> HTMLResponse:
    """The recurrent page."""
    data = {
        "defaults": RunRequest().model_dump(),
        "gradient_defaults": GradientRequest().model_dump(),
        "kinds": list(KIND_ORDER),
        "presets": PRESETS,
        "vocab": sorted(VOCAB),
        "limits": {name: getattr(S, name) for name in LIMITS},
    }
    formulas = {key: tex(latex, True) for key, latex in rt.DEFINITIONS.items()}
    return request.app.state.templates.TemplateResponse(
        request, "recurrent/page.html", {"page_data": data, "formulas": formulas}
    )


@router.post("/api/recurrent/run", response_model=RecurrentAnswer, response_class=NumpyJSONResponse)
@heavy
def run(req: RunRequest) -> NumpyJSONResponse:
    """One kind of cell over the sequence: every stage, and every cell evaluation as a step."""
    x, labels, features = rr.sequence(req)
    trace, params = rr.run(req, req.kind)
    return NumpyJSONResponse(
        trace_body(trace)
        | {
            "kind": req.kind,
            "labels": labels,  # one per time step: the word, or the value of x_t
            "words": req.source == "sentence",  # whether the labels are words
            "features": features,  # one per input feature
            "input": x,  # (T, I)
            # output (T, D·H): forward states, then reverse ones; stages time-major (engine.recurrent.lstm)
            "weights": params,  # torch's state_dict names
            "steps": rr.step_columns(trace),  # L·D·T, in the order computed
            "torch": rt.torch_line(req, req.kind, x.shape[1], len(x)),
        }
    )


@router.post(
    "/api/recurrent/compare", response_model=RecurrentCompareAnswer, response_class=NumpyJSONResponse
)
@heavy
def compare(req: SequenceRequest) -> NumpyJSONResponse:
    """RNN, LSTM and GRU with the same settings on the same input: their outputs over time."""
    _, labels, _ = rr.sequence(req)
    traces = {kind: rr.run(req, kind)[0] for kind in KIND_ORDER}
    return NumpyJSONResponse(
        {
            "kinds": list(KIND_ORDER),
            "bidirectional": req.bidirectional,  # the last half of each output row is the reverse pass
            "labels": labels,
            "output": {kind: t.output for kind, t in traces.items()},  # (T, D·H) each
            "h_n": {kind: t.stages["h_n"] for kind, t in traces.items()},  # (L·D, H) each
        }
    )


@router.post("/api/recurrent/gradients", response_model=GradientsAnswer, response_class=NumpyJSONResponse)
@heavy
def gradients(req: GradientRequest) -> NumpyJSONResponse:
    """‖∂h_T/∂x_t‖ for t = 0 … T−1, one row per kind, on the same random sequence."""
    with engine_errors():
        t = vanishing_gradients(
            req.seq_len, req.input_size, req.hidden_size, req.scale, req.forget_bias, req.seed
        )
    return NumpyJSONResponse(
        {
            "kinds": t.params["kinds"],
            "params": t.params,
            # float64 lists, not float32 arrays: the simple RNN's norms fall below float32's range
            "norms": {kind: row.tolist() for kind, row in zip(t.params["kinds"], t.output, strict=True)},
            "step_norm": {kind: t.stages[f"{kind}.step_norm"].tolist() for kind in t.params["kinds"]},
            "torch": rt.gradients_torch(),
        }
    )
