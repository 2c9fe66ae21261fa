"""Requests of the dense-layers page (/dense), and seed 003's networks on the plane."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from layerlab.app.config import in_effect as S
from layerlab.app.fields import Field, Number, limit, rectangular

Activation = Literal["identity", "relu", "step", "sign", "sigmoid", "tanh"]
Weight = Annotated[float, Field(allow_inf_nan=False, ge=-limit.max_dense_weight, le=limit.max_dense_weight)]
Row = Annotated[list[Weight], Field(min_length=1, max_length=limit.max_dense_neurons)]
Coordinate = Annotated[
    float, Field(allow_inf_nan=False, ge=-limit.max_plane_extent, le=limit.max_plane_extent)
]
Features = Annotated[list[Number], Field(min_length=1, max_length=limit.max_linear_features)]


def _layer(weight: list, bias: list, activation: str) -> dict:
    return {"weight": weight, "bias": bias, "activation": activation}


# seed 003: three lines, each step neuron firing on its inner side; the next neuron fires where all
# three do (an AND: their sum, 3, beats the bias 2.5), which is the triangle between the lines
TRIANGLE_LINES = [[0.0, 1.0], [1.75, -1.0], [-1.75, -1.0]], [1.5, 2.0, 2.0]
TRIANGLE = [_layer(*TRIANGLE_LINES, "step"), _layer([[1.0, 1.0, 1.0]], [-2.5], "step")]
# seed 003's 7-2-1 network: a triangle (lines 1-3) and a rectangle (lines 4-7), each an AND in the
# second layer, joined by an OR in the third (the sum 1 beats the bias 0.5): a non-convex region
UNION = [
    _layer(
        [[0, 1], [2.5, -1], [-2.5, -1], [1, 0], [-1, 0], [0, 1], [0, -1]],
        [1, 5.25, -2.25, -0.5, 2.5, 0.5, 1.5],
        "step",
    ),
    _layer([[1, 1, 1, 0, 0, 0, 0], [0, 0, 0, 1, 1, 1, 1]], [-2.5, -3.5], "step"),
    _layer([[1, 1]], [-0.5], "step"),
]
# seed 003's example 2: y_in = 2 x2 - x1 + 0, one neuron, rectified
SINGLE = [_layer([[-1.0, 2.0]], [0.0], "relu")]
# the triangle with soft folds: the lines' weights tripled, sigmoid instead of step
SOFT_TRIANGLE = [
    _layer(
        [[3 * v for v in row] for row in TRIANGLE_LINES[0]], [3 * v for v in TRIANGLE_LINES[1]], "sigmoid"
    ),
    _layer([[4.0, 4.0, 4.0]], [-10.0], "sigmoid"),
]
SEED001_SIZES = {"3-4-2": [3, 4, 2], "3-4-4-1": [3, 4, 4, 1]}  # 26 and 41 parameters


class DenseLayer(BaseModel):
    """One fully connected layer: weight (out_features, in_features), bias (out_features,), activation."""

    model_config = ConfigDict(extra="forbid")

    weight: Annotated[list[Row], Field(min_length=1, max_length=limit.max_dense_neurons)]
    bias: Annotated[list[Weight], Field(min_length=1, max_length=limit.max_dense_neurons)]
    activation: Activation = "step"

    @field_validator("weight")
    @classmethod
    def _rows_alike(cls, weight: list[list[float]]) -> list[list[float]]:
        return rectangular(weight)

    @field_validator("bias")
    @classmethod
    def _one_per_neuron(cls, bias: list[float], info: ValidationInfo) -> list[float]:
        weight = info.data.get("weight")
        if weight is not None and len(bias) != len(weight):
            raise ValueError(
                f"needs one entry per neuron: the weight has {len(weight)} rows, got {len(bias)}"
            )
        return bias


class DenseNet(BaseModel):
    """A stack of fully connected layers on the 2-D plane: the first layer takes (x1, x2)."""

    model_config = ConfigDict(extra="forbid")

    layers: Annotated[list[DenseLayer], Field(min_length=1, max_length=limit.max_dense_layers)] = Field(
        TRIANGLE, validate_default=True
    )

    @field_validator("layers")
    @classmethod
    def _chained(cls, layers: list[DenseLayer]) -> list[DenseLayer]:
        features = 2
        for i, layer in enumerate(layers):
            columns = len(layer.weight[0])
            if columns != features:
                source = "the plane has 2 coordinates" if i == 0 else f"layer {i - 1} has {features} neurons"
                raise ValueError(
                    f"layer {i}'s weight has {columns} columns, but {source}: in_features must equal "
                    f"the previous layer's out_features"
                )
            features = len(layer.weight)
        return layers


class PlaneRequest(DenseNet):
    """Every layer's maps over the plane [-extent, extent]^2 on a resolution x resolution grid."""

    extent: float = Field(3.0, gt=0, le=limit.max_plane_extent, allow_inf_nan=False)
    resolution: int = Field(61, ge=2, le=limit.max_plane_resolution)


class DensePointRequest(DenseNet):
    """One layer's weighted sums, neuron by neuron, at one point of the plane."""

    point: tuple[Coordinate, Coordinate] = (0.5, 0.5)
    layer: int = Field(0, ge=0, lt=limit.max_dense_layers)  # from 0

    @field_validator("layer")
    @classmethod
    def _exists(cls, layer: int, info: ValidationInfo) -> int:
        layers = info.data.get("layers")
        if layers is not None and layer >= len(layers):
            raise ValueError(f"must be below the number of layers ({len(layers)})")
        return layer


class LinearRequest(BaseModel):
    """torch.nn.functional.linear(input, weight, bias) on small tensors."""

    model_config = ConfigDict(extra="forbid")

    input: Any = [1.0, 2.0, 3.0]  # (*, in_features): a number list, or nested lists of them
    weight: Annotated[list[Features], Field(min_length=1, max_length=limit.max_linear_features)] = [
        [0.5, -1.0, 0.25],
        [1.0, 0.0, -0.5],
    ]  # (out_features, in_features)
    bias: Features | None = [0.1, -0.2]  # (out_features,) or None

    @field_validator("input")
    @classmethod
    def _tensor(cls, value: Any) -> list:
        return tensor(value).tolist()

    @field_validator("weight")
    @classmethod
    def _rows_alike(cls, weight: list[list[float]]) -> list[list[float]]:
        return rectangular(weight)


def tensor(value: Any) -> np.ndarray:
    """A nested list of numbers as an array within the linear limits (ValueError says what is wrong)."""
    if not isinstance(value, list) or any(isinstance(v, bool | str | dict) for v in _leaves(value)):
        raise ValueError("must be a list of numbers, or nested lists of them, shaped (*, in_features)")
    depth, first = 0, value
    while isinstance(first, list) and first:
        depth, first = depth + 1, first[0]
    if depth > S.max_linear_dims:  # before NumPy, which gives up past 64 axes with a vaguer error
        raise ValueError(f"has {depth} axes, over the limit of {S.max_linear_dims}")
    try:
        x = np.array(value, dtype=np.float64)
    except (ValueError, TypeError):
        raise ValueError("must be rectangular: every list at one depth as long as the others") from None
    if x.ndim > S.max_linear_dims:
        raise ValueError(f"has {x.ndim} axes, over the limit of {S.max_linear_dims}")
    if 0 in x.shape:
        raise ValueError(f"every axis needs at least one entry, got shape {x.shape}")
    rows = x.size // x.shape[-1]
    if rows > S.max_linear_rows or x.shape[-1] > S.max_linear_features:
        raise ValueError(
            f"shape {x.shape} has {rows} samples of {x.shape[-1]} features; the limits are "
            f"{S.max_linear_rows} samples and {S.max_linear_features} features"
        )
    if not np.isfinite(x).all() or np.abs(x).max() > S.max_abs_value:
        raise ValueError(f"entries must be finite numbers within ±{S.max_abs_value:g}")
    return x


def _leaves(value: Any) -> list:
    """The non-list items of a nested list (stops early on a deep one: numpy rejects it next)."""
    out, stack = [], [value]
    while stack and len(out) <= S.max_linear_rows * S.max_linear_features:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        else:
            out.append(item)
    return out


class CountRequest(BaseModel):
    """The parameters of fully connected layers of these sizes, the input's size first."""

    model_config = ConfigDict(extra="forbid")

    sizes: Annotated[
        list[Annotated[int, Field(ge=1, le=limit.max_count_size)]],
        Field(min_length=2, max_length=limit.max_count_layers),
    ] = SEED001_SIZES["3-4-2"]
    bias: bool = True


class InitRequest(BaseModel):
    """One 2 -> hidden -> 1 network trained twice: all weights `constant`, and random (seeded)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["xor", "circle"] = "xor"  # the toy set
    points: int = Field(80, ge=4, le=limit.max_init_points)
    hidden: int = Field(4, ge=1, le=limit.max_init_hidden)
    activation: Literal["tanh", "sigmoid", "relu"] = "tanh"  # the hidden layer's; the output is sigmoid
    epochs: int = Field(300, ge=1, le=limit.max_init_epochs)
    lr: float = Field(0.5, gt=0, le=limit.max_init_lr, allow_inf_nan=False)
    constant: float = Field(0.5, ge=-limit.max_init_constant, le=limit.max_init_constant, allow_inf_nan=False)
    seed: int = Field(0, ge=0, le=limit.max_init_seed)
