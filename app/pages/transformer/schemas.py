"""Requests of the trained-transformer page (/transformer)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict

from layerlab.app.config import in_effect as S
from layerlab.app.fields import Field, limit

DEFAULT_SENTENCE = "we sat by the river bank"


class Edit(BaseModel):
    """One parameter cell replaced: `params[param][row, col] = value` (col 0 for a vector)."""

    model_config = ConfigDict(extra="forbid")

    param: str = Field(max_length=64)  # a state_dict name, e.g. "tok_emb.weight"
    row: int = Field(ge=0)
    col: int = Field(0, ge=0)
    value: float = Field(allow_inf_nan=False, ge=-limit.max_tinylm_edit_abs, le=limit.max_tinylm_edit_abs)


class TransformerRequest(BaseModel):
    """The shipped tiny language model on a sentence: attention of every head, one head's arithmetic,
    a token's residual stream and the next-token probabilities."""

    model_config = ConfigDict(extra="forbid")

    sentence: str = Field(DEFAULT_SENTENCE, max_length=limit.max_sentence_chars)  # <bos> is prepended
    layer: int = Field(0, ge=0)  # the selected head's block (below n_layers)
    head: int = Field(0, ge=0)  # below n_heads
    query: int | None = Field(None, ge=0)  # the selected position (None: the last)
    temperature: float = Field(
        1.0, ge=limit.min_tinylm_temperature, le=limit.max_tinylm_temperature, allow_inf_nan=False
    )
    top_k: int | None = Field(None, ge=1)  # keep the k largest logits (None: all); at most the vocabulary
    seed: int = Field(0, ge=0, le=limit.max_tinylm_seed)  # of the sampled word
    edits: Annotated[list[Edit], Field(max_length=limit.max_tinylm_edits)] = []


def limits() -> dict[str, float]:
    """The limits the page states and its fields enforce."""
    names = (
        "max_sentence_chars",
        "max_tinylm_edits",
        "max_tinylm_edit_abs",
        "min_tinylm_temperature",
        "max_tinylm_temperature",
    )
    return {name: getattr(S, name) for name in names}
