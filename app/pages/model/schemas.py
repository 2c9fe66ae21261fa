"""Requests of the "Your model" page (/model)."""

from __future__ import annotations

from typing import Annotated, Literal

from layerlab.app.fields import Field, ImageName
from layerlab.app.pages.network.schemas import NetworkInput

BUILTINS = ("small-cnn", "circle")  # layerlab.models.builtin's names
BuiltinName = Literal[BUILTINS]
ModelId = Annotated[str, Field(max_length=40, pattern=r"^(model:[0-9a-f]{16}|builtin:[a-z0-9-]+)$")]
NodeName = Annotated[str, Field(min_length=1, max_length=200)]


class ModelInput(NetworkInput):
    """An opened model (its id from /api/model/open or /api/model/builtin) and the image it runs on, chosen
    as on the small-CNN page: a generated digit, a drawing (ink in [0, 1]), or a sample or upload."""

    model: ModelId = "builtin:small-cnn"
    image: ImageName = "scene"  # source "image": a built-in sample or an upload id


class ModelRunRequest(ModelInput):
    """Run the model; every layer's maps within the answer's budget, and `layer`'s in any case."""

    layer: NodeName | None = None


class ModelLinkRequest(ModelInput):
    """Where one channel of one layer's output can be opened on its own page (/conv, /pool, /norm)."""

    layer: NodeName
    channel: int = Field(0, ge=0, le=100_000)
