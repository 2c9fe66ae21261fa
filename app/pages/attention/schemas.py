"""Requests of the attention page (/attention)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, field_validator

from layerlab.app.config import in_effect as S
from layerlab.app.fields import Field, limit

HEAD_COUNTS = (1, 2, 4, 8)  # the divisors of d_model = 8 named features
EmbeddingValue = Annotated[
    float, Field(allow_inf_nan=False, ge=-limit.max_embedding_abs, le=limit.max_embedding_abs)
]
WeightName = Literal["W_Q", "W_K", "W_V", "W_O"]
Index8 = Annotated[int, Field(ge=0, le=7)]  # a row or column of an (8, 8) weight
WeightCell = tuple[
    Index8,
    Index8,
    Annotated[float, Field(allow_inf_nan=False, ge=-limit.max_weight_abs, le=limit.max_weight_abs)],
]


class AttentionRequest(BaseModel):
    """Self-attention over a typed sentence: embeddings -> Q, K, V -> softmax(QKᵀ·scale)·V -> W_O."""

    model_config = ConfigDict(extra="forbid")

    sentence: str = Field("we sat on the river bank", max_length=limit.max_sentence_chars)
    heads: int = Field(1, ge=1, le=8)  # must divide d_model = 8
    causal: bool = False  # query i sees keys 0..i only
    padding: int = Field(0, ge=0, lt=limit.max_attention_tokens)  # trailing tokens no query may attend to
    scaled: bool = True  # divide the scores by √d_k
    temperature: float = Field(1.0, ge=limit.min_temperature, le=limit.max_temperature, allow_inf_nan=False)
    # word -> its 8 feature values, replacing the vocabulary's (or the unknown word's) vector
    overrides: Annotated[
        dict[
            Annotated[str, Field(min_length=1, max_length=32)],
            Annotated[list[EmbeddingValue], Field(min_length=8, max_length=8)],
        ],
        Field(max_length=limit.max_attention_overrides),
    ] = {}
    # "W_Q" (W_K, W_V, W_O) -> [row, col, value] cells replacing the seeded weights
    weight_overrides: dict[WeightName, list[WeightCell]] = {}

    @field_validator("weight_overrides")
    @classmethod
    def _few_weight_cells(cls, cells: dict[str, list]) -> dict[str, list]:
        count = sum(len(v) for v in cells.values())
        if count > S.max_weight_overrides:
            raise ValueError(
                f"at most {S.max_weight_overrides} edited cells (max_weight_overrides), got {count}"
            )
        return cells

    @field_validator("heads")
    @classmethod
    def _divides_model(cls, heads: int) -> int:
        if heads not in HEAD_COUNTS:
            raise ValueError(f"must divide d_model = 8 (1, 2, 4 or 8), got {heads}")
        return heads


class AdditiveRequest(BaseModel):
    """Additive (Bahdanau) attention: one decoder state s over the sentence's embeddings hⱼ."""

    model_config = ConfigDict(extra="forbid")

    sentence: str = Field("we sat on the river bank", max_length=limit.max_sentence_chars)
    decoder: int = Field(0, ge=0, lt=limit.max_attention_tokens)  # s is this token's embedding ...
    decoder_state: Annotated[list[EmbeddingValue], Field(min_length=8, max_length=8)] | None = (
        None  # ... or this
    )
    overrides: Annotated[
        dict[
            Annotated[str, Field(min_length=1, max_length=32)],
            Annotated[list[EmbeddingValue], Field(min_length=8, max_length=8)],
        ],
        Field(max_length=limit.max_attention_overrides),
    ] = {}
