"""Requests of the pooling page (/pool)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from layerlab.app.fields import Dilation, Field, ImageName, Number, Pad, Stride, limit, rectangular
from layerlab.app.pages.conv.schemas import ConvParams
from layerlab.app.pages.pool.kinds import NAMES, PYRAMID_MODES

PoolKind = Literal[NAMES]  # every kind of the registry (kinds.py)
PoolSide = Annotated[int, Field(ge=1, le=limit.max_pool_kernel)]
PoolOut = Annotated[int, Field(ge=1, le=limit.max_pool_output)]
Shift = Annotated[int, Field(ge=-limit.max_shift, le=limit.max_shift)]
MatrixRow = Annotated[list[Number], Field(min_length=1, max_length=limit.max_pool_matrix_side)]
SEED004_MATRIX = [[1, 0, 2], [3, 1, 2], [1, 2, 3]]  # seed 004's max-pool example


def as_pair(value: int | tuple[int, int] | list[int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[1])


class PoolSource(BaseModel):
    """The one map that is pooled: a typed matrix, a sample or upload in grey, or a conv feature map."""

    model_config = ConfigDict(extra="forbid")

    source: Literal["matrix", "image", "conv"] = "matrix"
    matrix: Annotated[list[MatrixRow], Field(min_length=1, max_length=limit.max_pool_matrix_side)] = (
        SEED004_MATRIX  # (H, W), read when source is "matrix"
    )
    image: ImageName = "scene"  # read when source is "image"
    size: int = Field(16, ge=4, le=limit.max_image_side)
    # source "conv": the conv page's settings; the map is filter conv_filter's output (after its ReLU)
    conv: ConvParams | None = Field(None, validate_default=True)
    conv_filter: int = Field(0, ge=0, lt=limit.max_filters, validate_default=True)

    @field_validator("matrix")
    @classmethod
    def _rows_alike(cls, matrix: list[list[float]]) -> list[list[float]]:
        return rectangular(matrix)

    @field_validator("conv")
    @classmethod
    def _conv_for_conv_source(cls, conv: ConvParams | None, info: ValidationInfo) -> ConvParams | None:
        if info.data.get("source") == "conv" and conv is None:
            raise ValueError("source 'conv' needs the conv page's settings here")
        return conv

    @field_validator("conv_filter")
    @classmethod
    def _filter_exists(cls, index: int, info: ValidationInfo) -> int:
        conv = info.data.get("conv")
        if conv is not None and index >= conv.num_filters:
            raise ValueError(f"must be below the conv's number of filters ({conv.num_filters})")
        return index


class PoolParams(PoolSource):
    """One pooling of the map; each kind reads the arguments its torch function takes (the rest wait)."""

    kind: PoolKind = NAMES[0]  # the registry's first: max
    kernel_size: PoolSide | tuple[PoolSide, PoolSide] = (2, 2)
    stride: Stride | tuple[Stride, Stride] | None = (1, 1)  # None: the kernel size, torch's default
    padding: Pad | tuple[Pad, Pad] = (0, 0)  # at most half the kernel (torch's rule)
    dilation: Dilation | tuple[Dilation, Dilation] = (1, 1)  # max and min only
    ceil_mode: bool = False  # max, min, avg, lp
    count_include_pad: bool = True  # avg
    divisor_override: int | None = Field(None, ge=1, le=limit.max_divisor)  # avg
    norm_type: float = Field(2.0, gt=0, le=limit.max_lp_norm_type, allow_inf_nan=False)  # lp: its p
    mix: float = Field(0.5, ge=0, le=1, allow_inf_nan=False)  # mixed: the weight of the max
    training: bool = True  # stochastic: draw a cell (True) or take the probability-weighted mean
    seed: int = Field(0, ge=0, le=limit.max_pool_seed)  # stochastic: the same seed draws the same cells
    output_size: PoolOut | tuple[PoolOut, PoolOut] = (2, 2)  # adaptive and roi
    levels: Annotated[
        list[Annotated[int, Field(ge=1, le=limit.max_pyramid_level)]],
        Field(min_length=1, max_length=limit.max_pyramid_levels),
    ] = [1, 2, 4]  # spp: an l x l grid per level
    pyramid_mode: Literal[tuple(PYRAMID_MODES)] = next(iter(PYRAMID_MODES))  # spp: max
    # roi: the box's corners (x1, y1, x2, y2), both inclusive as in torchvision, in input pixels
    box: tuple[int, int, int, int] = (0, 0, 1, 1)

    @field_validator("padding")
    @classmethod
    def _at_most_half_the_kernel(cls, padding: int | tuple[int, int], info: ValidationInfo) -> object:
        kernel = info.data.get("kernel_size")
        if kernel is None:
            return padding
        k, p = as_pair(kernel), as_pair(padding)
        if p[0] > k[0] // 2 or p[1] > k[1] // 2:
            raise ValueError(
                f"must be at most half the kernel size, as in PyTorch: kernel_size {k} allows padding "
                f"up to {(k[0] // 2, k[1] // 2)}, got {p}"
            )
        return padding

    @field_validator("levels")
    @classmethod
    def _distinct(cls, levels: list[int]) -> list[int]:
        if len(set(levels)) != len(levels):
            raise ValueError(f"must be distinct, got {levels}")
        return levels


class PoolTraceRequest(PoolParams):
    """A chunk of one pooling's steps (as /api/conv/trace)."""

    chunk: int = Field(0, ge=0)  # steps [chunk * chunk_steps, (chunk + 1) * chunk_steps)
    step: int | None = Field(None, ge=0)  # instead of chunk: the chunk holding this step (clamped)
    stages: bool = True  # include the input, padded input, output and formulas (skip for later chunks)


class PoolCompareRequest(PoolSource):
    """Max, average, min and Lp pooling of one map with one window, side by side (no padding)."""

    kernel_size: PoolSide | tuple[PoolSide, PoolSide] = (2, 2)
    stride: Stride | tuple[Stride, Stride] | None = (1, 1)
    ceil_mode: bool = False
    norm_type: float = Field(2.0, gt=0, le=limit.max_lp_norm_type, allow_inf_nan=False)
    chunk: int = Field(0, ge=0)
    step: int | None = Field(None, ge=0)
    stages: bool = True


class PoolShiftRequest(PoolParams):
    """The pooling of the map and of the map moved by `shift` pixels: how much of each changes."""

    shift: tuple[Shift, Shift] = (0, 1)  # (down, right); the cells moved in from outside are 0

    @field_validator("shift")
    @classmethod
    def _moves(cls, shift: tuple[int, int]) -> tuple[int, int]:
        if shift == (0, 0):
            raise ValueError("must move the map by at least one pixel")
        return shift
