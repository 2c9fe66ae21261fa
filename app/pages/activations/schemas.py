"""Requests of the activations page (/activations)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from layerlab.app.fields import Field, limit
from layerlab.engine.images import SAMPLES
from layerlab.engine.kernels import PRESETS

ElementwiseKind = Literal["sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "gelu", "maxout"]
KINDS = ("sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "gelu", "softmax", "maxout")
Param = Annotated[
    float, Field(ge=-limit.max_activation_param, le=limit.max_activation_param, allow_inf_nan=False)
]
X = Annotated[float, Field(ge=-limit.max_curve_x, le=limit.max_curve_x, allow_inf_nan=False)]
Threshold = Annotated[float, Field(gt=0, le=limit.max_saturation_threshold, allow_inf_nan=False)]
SoftmaxEntry = Annotated[
    float, Field(ge=-limit.max_softmax_abs, le=limit.max_softmax_abs, allow_inf_nan=False)
]
MAXOUT_PIECES = [(1.0, 0.0), (-0.5, -1.0)]  # (w, b) per piece: x, and a falling line below it


class ActivationParams(BaseModel):
    """One element-wise activation and its arguments; each kind reads the ones its function takes."""

    model_config = ConfigDict(extra="forbid")

    kind: ElementwiseKind = "sigmoid"
    negative_slope: Param = 0.01  # leaky_relu
    alpha: Param = 1.0  # elu
    weight: Param = 0.25  # prelu: one slope (torch's nn.PReLU starts at 0.25)
    approximate: Literal["none", "tanh"] = "none"  # gelu
    # maxout: the pieces (w, b) of max_j (w_j x + b_j), x a number
    pieces: Annotated[list[tuple[Param, Param]], Field(min_length=1, max_length=limit.max_maxout_pieces)] = (
        MAXOUT_PIECES
    )
    threshold: Threshold = 0.05  # |f'(x)| below this is shaded as saturated


class CurveRequest(ActivationParams):
    """f and f' sampled on an x grid, with the saturated stretches."""

    x_min: X = -6.0
    x_max: X = 6.0
    points: int = Field(481, ge=2, le=limit.max_curve_points)

    @field_validator("x_max")
    @classmethod
    def _above_x_min(cls, x_max: float, info: ValidationInfo) -> float:
        x_min = info.data.get("x_min")
        if x_min is not None and x_max <= x_min:
            raise ValueError(f"must be above x_min ({x_min})")
        return x_max


class ActivationPointRequest(ActivationParams):
    """f(x) and f'(x) at one x, with the formula's numbers filled in."""

    x: X = 1.0


class MapRequest(ActivationParams):
    """A sample image convolved with a kernel preset ('same' padding), then activated."""

    image: str = "scene"
    size: int = Field(32, ge=4, le=limit.max_activation_image_side)
    kernel: str = "edge"
    gain: Param = 1.0  # the kernel is multiplied by it: larger weights push the sums into the bands

    @field_validator("image")
    @classmethod
    def _a_sample(cls, image: str) -> str:
        if image not in SAMPLES:
            raise ValueError(f"must be one of the samples: {', '.join(SAMPLES)}")
        return image

    @field_validator("kernel")
    @classmethod
    def _a_preset(cls, kernel: str) -> str:
        if kernel not in PRESETS:
            raise ValueError(f"must be one of the kernel presets: {', '.join(PRESETS)}")
        return kernel


class SoftmaxRequest(BaseModel):
    """softmax(z / T) of a short vector, with its normalization and Jacobian."""

    model_config = ConfigDict(extra="forbid")

    z: Annotated[list[SoftmaxEntry], Field(min_length=1, max_length=limit.max_softmax_length)] = [
        2.0,
        1.0,
        0.1,
    ]
    temperature: float = Field(
        1.0, ge=limit.min_softmax_temperature, le=limit.max_softmax_temperature, allow_inf_nan=False
    )


class DeadReluRequest(BaseModel):
    """The dying-ReLU training run: a 1-H-1 network fitted by plain gradient descent."""

    model_config = ConfigDict(extra="forbid")

    seed: int = Field(0, ge=0, le=limit.max_dead_seed)
    neurons: int = Field(16, ge=1, le=limit.max_dead_neurons)
    lr: float = Field(0.3, gt=0, le=limit.max_dead_lr, allow_inf_nan=False)
    steps: int = Field(100, ge=1, le=limit.max_dead_steps)
    bias_shift: float = Field(
        0.0, ge=-limit.max_dead_bias_shift, le=limit.max_dead_bias_shift, allow_inf_nan=False
    )
    negative_slope: float = Field(0.0, ge=0, le=1, allow_inf_nan=False)  # 0: ReLU; above: leaky ReLU
