"""Requests of the small-CNN page (/network)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from layerlab.app.fields import Field, ImageName, limit, rectangular

Ink = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
InkRow = Annotated[
    list[Ink], Field(min_length=limit.min_network_matrix_side, max_length=limit.max_network_matrix_side)
]
CircleRow = Annotated[list[Ink], Field(min_length=5, max_length=5)]
Digit = Annotated[int, Field(ge=0, le=9)]
LayerName = Literal["input", "conv1", "relu1", "pool1", "conv2", "relu2", "pool2"]


class NetworkInput(BaseModel):
    """The one image the network reads: a drawing, a generated sample digit, or a sample or upload."""

    model_config = ConfigDict(extra="forbid")

    source: Literal["matrix", "sample", "image"] = "sample"
    # source "matrix": the canvas, (H, W) ink in [0, 1] (1 = ink), fitted to 28x28 like the training digits
    matrix: (
        Annotated[
            list[InkRow],
            Field(min_length=limit.min_network_matrix_side, max_length=limit.max_network_matrix_side),
        ]
        | None
    ) = Field(None, validate_default=True)
    digit: Digit = 3  # source "sample": which digit the generator draws
    seed: int = Field(1, ge=0, le=limit.max_network_seed)  # and with which seed
    image: ImageName = "digit"  # source "image": a built-in sample or an upload id
    invert: Literal["auto", "yes", "no"] = "auto"  # "auto": dark ink on light paper is turned to ink = 1

    @field_validator("matrix")
    @classmethod
    def _matrix_for_matrix_source(cls, matrix: list[list[float]] | None, info: ValidationInfo) -> object:
        if matrix is None:
            if info.data.get("source") == "matrix":
                raise ValueError("source 'matrix' needs the drawing here, rows of ink values in [0, 1]")
            return None
        return rectangular(matrix)


class NetworkBackwardRequest(NetworkInput):
    """The gradient of -log p[target] for the same input, at every layer."""

    target: Digit = 3  # the class whose loss is differentiated


class NetworkLinkRequest(NetworkInput):
    """Where one feature map of the current input can be opened on the conv or pooling page."""

    layer: LayerName = "conv1"
    channel: int = Field(0, ge=0, lt=16)  # conv1, relu1, pool1 have 8 channels; conv2 and on 16


class CircleRequest(BaseModel):
    """Seed 000's circle detector on a named 5x5 shape or on an edited 5x5 grid."""

    model_config = ConfigDict(extra="forbid")

    shape: str = Field("circle", max_length=32)  # a name from the page's shapes, read when matrix is None
    matrix: Annotated[list[CircleRow], Field(min_length=5, max_length=5)] | None = None  # (5, 5)
