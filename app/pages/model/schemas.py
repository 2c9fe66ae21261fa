"""Requests of the "Your model" page (/model)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from layerlab.app.fields import Field, ImageName, limit, rectangular

BUILTINS = ("small-cnn", "circle")  # layerlab.models.builtin's names
BuiltinName = Literal[BUILTINS]
ModelId = Annotated[str, Field(max_length=40, pattern=r"^(model:[0-9a-f]{16}|builtin:[a-z0-9-]+)$")]
NodeName = Annotated[str, Field(min_length=1, max_length=200)]
Ink = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
InkRow = Annotated[list[Ink], Field(min_length=4, max_length=limit.max_model_input_side)]


class ModelInput(BaseModel):
    """An opened model (its id from /api/model/open or /api/model/builtin) and the image it runs on."""

    model_config = ConfigDict(extra="forbid")

    model: ModelId = "builtin:small-cnn"
    # "image": a sample or an upload id; "matrix": a drawing, ink in [0, 1]; "digit": a generated digit
    source: Literal["image", "matrix", "digit"] = "digit"
    image: ImageName = "scene"
    matrix: Annotated[list[InkRow], Field(min_length=4, max_length=limit.max_model_input_side)] | None = (
        Field(None, validate_default=True)
    )
    digit: int = Field(3, ge=0, le=9)
    seed: int = Field(1, ge=0, le=limit.max_network_seed)

    @field_validator("matrix")
    @classmethod
    def _matrix_for_matrix_source(cls, matrix: list[list[float]] | None, info: ValidationInfo) -> object:
        if matrix is None:
            if info.data.get("source") == "matrix":
                raise ValueError("source 'matrix' needs the drawing here, rows of ink values in [0, 1]")
            return None
        return rectangular(matrix)


class ModelRunRequest(ModelInput):
    """Run the model; every layer's maps within the answer's budget, and `layer`'s in any case."""

    layer: NodeName | None = None


class ModelLinkRequest(ModelInput):
    """Where one channel of one layer's output can be opened on its own page (/conv, /pool, /norm)."""

    layer: NodeName
    channel: int = Field(0, ge=0, le=100_000)


class BuiltinRequest(BaseModel):
    """A built-in model by name, in the body (as an alternative to the path)."""

    model_config = ConfigDict(extra="forbid")

    name: BuiltinName = "small-cnn"
