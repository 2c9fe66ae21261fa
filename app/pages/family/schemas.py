"""Requests of the convolution-family page (/family)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from layerlab.app.fields import Dilation, Field, Kernel2d, Limit, Number, Pad, Stride, limit, rectangular

PaddingMode = Literal["zeros", "reflect", "replicate", "circular"]
FamilySize = Annotated[int, Field(ge=4, le=limit.max_family_image_side)]  # side of the sample image
FamilyChannels = Annotated[int, Field(ge=1, le=limit.max_family_channels)]
KernelSide = Annotated[int, Field(ge=1, le=limit.max_kernel_side)]
TransposedSide = Annotated[list[Number], Field(min_length=1, max_length=limit.max_transposed_side)]
TransposedMatrix = Annotated[list[TransposedSide], Field(min_length=1, max_length=limit.max_transposed_side)]
Taps = Annotated[list[Number], Field(min_length=1, max_length=limit.max_kernel_side)]  # a 1-D filter
TileSide = Annotated[int, Field(ge=1, le=limit.max_tile_side)]
BELOW_STRIDE_OR_DILATION = Limit(  # output_padding's bound, as in PyTorch
    lambda s: max(s.max_transposed_stride, s.max_transposed_dilation) - 1,
    "max(max_transposed_stride, max_transposed_dilation) - 1",
)
SEED002_SIGNAL = [0, 0, 1, 2, 4, 4, 4, 3, 1, 0]  # the 1-D signal of seed 002's derivative example
LUMA_LIKE = [0.3, 0.6, 0.1]  # roughly the eye's weights for R, G, B


class Conv1dRequest(BaseModel):
    """conv1d of one signal with one kernel: one channel in, one out, no bias."""

    model_config = ConfigDict(extra="forbid")

    signal: Annotated[list[Number], Field(min_length=1, max_length=limit.max_signal_length)] = (
        SEED002_SIGNAL  # (L,)
    )
    kernel: Annotated[list[Number], Field(min_length=1, max_length=limit.max_kernel_length)] = [-1, 1]  # (k,)
    stride: Stride = 1
    padding: Pad = 0  # on both ends
    dilation: Dilation = 1
    padding_mode: PaddingMode = "zeros"


class TransposedRequest(BaseModel):
    """conv_transpose2d of one small matrix with one kernel: one channel in, one out, no bias."""

    model_config = ConfigDict(extra="forbid")

    input: TransposedMatrix = [[1, 2], [3, 4]]  # (H, W)
    kernel: TransposedMatrix = [[1, 1, 1], [1, 1, 1], [1, 1, 1]]  # (kH, kW)
    stride: Annotated[int, Field(ge=1, le=limit.max_transposed_stride)] = 1
    padding: Annotated[int, Field(ge=0, le=limit.max_transposed_padding)] = 0
    dilation: Annotated[int, Field(ge=1, le=limit.max_transposed_dilation)] = 1
    # extra rows/columns at the bottom/right; below the stride or the dilation
    output_padding: Annotated[
        int,
        Field(ge=0, le=BELOW_STRIDE_OR_DILATION),
    ] = 0

    @field_validator("input", "kernel")
    @classmethod
    def _rows_alike(cls, matrix: list[list[float]]) -> list[list[float]]:
        return rectangular(matrix)

    @field_validator("output_padding")
    @classmethod
    def _below_stride_or_dilation(cls, value: int, info: ValidationInfo) -> int:
        limit = max(info.data.get("stride", 1), info.data.get("dilation", 1))
        if value >= limit:
            raise ValueError(f"must be smaller than the stride or the dilation (here below {limit})")
        return value


GroupedMode = Literal["standard", "grouped", "depthwise", "pointwise", "separable"]


class GroupedRequest(BaseModel):
    """One layer from C_in to C_out channels on the sample scene, and its cost beside a standard conv.

    `groups` is read in "grouped" mode only: "depthwise" uses groups = in_channels, "standard"
    and "pointwise" use 1, and "pointwise" a 1x1 kernel; "separable" is a depthwise kxk
    convolution (one kernel per channel) then a pointwise one to out_channels.
    """

    model_config = ConfigDict(extra="forbid")

    mode: GroupedMode = "grouped"
    in_channels: FamilyChannels = 4
    # validated even when left out, since the checks below involve the other fields
    out_channels: FamilyChannels = Field(8, validate_default=True)
    groups: FamilyChannels = Field(2, validate_default=True)
    kernel_size: KernelSide = 3
    padding: Literal["same", "valid"] = "same"
    size: FamilySize = 16
    bias: bool = False

    @field_validator("out_channels")
    @classmethod
    def _depthwise_multiple(cls, value: int, info: ValidationInfo) -> int:
        c_in = info.data.get("in_channels")
        if info.data.get("mode") == "depthwise" and c_in and value % c_in:
            raise ValueError(
                f"a depthwise convolution needs a multiple of in_channels ({c_in}): each input "
                "channel gets the same number of kernels"
            )
        return value

    @field_validator("groups")
    @classmethod
    def _divides_channels(cls, value: int, info: ValidationInfo) -> int:
        c_in, c_out = info.data.get("in_channels"), info.data.get("out_channels")
        if info.data.get("mode") == "grouped" and c_in and c_out and (c_in % value or c_out % value):
            raise ValueError(f"must divide both in_channels ({c_in}) and out_channels ({c_out})")
        return value


class ShuffleRequest(BaseModel):
    """channel_shuffle of the sample scene's channels."""

    model_config = ConfigDict(extra="forbid")

    channels: FamilyChannels = 6
    groups: FamilyChannels = Field(2, validate_default=True)
    size: FamilySize = 16

    @field_validator("groups")
    @classmethod
    def _divides_channels(cls, value: int, info: ValidationInfo) -> int:
        channels = info.data.get("channels")
        if channels and channels % value:
            raise ValueError(f"must divide the number of channels ({channels})")
        return value


class TiledRequest(BaseModel):
    """tiled_conv2d on the grey sample scene: one kernel per position in a tile of outputs."""

    model_config = ConfigDict(extra="forbid")

    tile: tuple[TileSide, TileSide] = (2, 2)  # (tH, tW)
    kernel_size: KernelSide = 3
    stride: Stride = 1
    padding: Pad = 0
    size: FamilySize = 16
    # (tH, tW, k, k); None: the default kernels (presets, one per tile position)
    weight: (
        Annotated[
            list[Annotated[list[Kernel2d], Field(min_length=1, max_length=limit.max_tile_side)]],
            Field(min_length=1, max_length=limit.max_tile_side),
        ]
        | None
    ) = None

    @field_validator("weight")
    @classmethod
    def _one_kernel_per_tile_position(cls, weight: list | None, info: ValidationInfo) -> list | None:
        tile, k = info.data.get("tile"), info.data.get("kernel_size")
        if weight is None or tile is None or k is None:
            return weight
        if len(weight) != tile[0] or any(len(row) != tile[1] for row in weight):
            raise ValueError(f"needs {tile[0]}x{tile[1]} kernels, one per tile position")
        for row in weight:
            for kernel in row:
                if len(kernel) != k or any(len(r) != k for r in kernel):
                    raise ValueError(f"every kernel must be {k}x{k} (kernel_size)")
        return weight


class FlattenedRequest(BaseModel):
    """flattened_conv2d on the sample scene: a channel, a vertical and a horizontal 1-D filter."""

    model_config = ConfigDict(extra="forbid")

    color: Literal["gray", "rgb"] = "rgb"
    channel: Annotated[list[Number], Field(min_length=1, max_length=3, validate_default=True)] = (
        LUMA_LIKE  # (C_in,)
    )
    vertical: Taps = [1, 2, 1]  # (kH,)
    horizontal: Taps = [-1, 0, 1]  # (kW,)
    padding: Pad = 1
    size: FamilySize = 16

    @field_validator("channel")
    @classmethod
    def _one_weight_per_channel(cls, channel: list, info: ValidationInfo) -> list:
        needed = 3 if info.data.get("color", "rgb") == "rgb" else 1
        if len(channel) != needed:
            raise ValueError(f"has {len(channel)} weights; {info.data.get('color')} input needs {needed}")
        return channel


class ResidualRequest(BaseModel):
    """residual_block on the sample scene with preset weights; `scale` multiplies conv2's weights."""

    model_config = ConfigDict(extra="forbid")

    color: Literal["gray", "rgb"] = "gray"
    mid_channels: Annotated[int, Field(ge=1, le=limit.max_mid_channels)] = 2
    kernel_size: KernelSide = 3
    scale: Annotated[float, Field(ge=0, le=2, allow_inf_nan=False)] = 1.0  # 0: the block is relu(x)
    size: FamilySize = 16
