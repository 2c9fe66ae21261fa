"""Requests of the convolution page and the image and kernel listings."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from layerlab.app.fields import Dilation, Field, ImageName, Kernel2d, Number, Pad, Stride, limit


class ConvParams(BaseModel):
    """One conv2d call on a built-in or uploaded image (N = 1)."""

    model_config = ConfigDict(extra="forbid")

    image: ImageName = "scene"  # a sample name or an upload id "upload:<16 hex>"
    size: int = Field(32, ge=4, le=limit.max_image_side)  # side length the image is fitted to
    color: Literal["gray", "rgb"] = "gray"
    weight: Annotated[
        list[Annotated[list[Kernel2d], Field(min_length=1, max_length=limit.max_channels)]],
        Field(min_length=1, max_length=limit.max_filters),
    ]  # (C_out, C_in, kH, kW)
    bias: Annotated[list[Number], Field(max_length=limit.max_filters)] | None = None  # (C_out,)
    stride: Stride | tuple[Stride, Stride] = 1
    padding: Pad | tuple[Pad, Pad] | Literal["same", "valid"] = 0
    dilation: Dilation | tuple[Dilation, Dilation] = 1
    padding_mode: Literal["zeros", "reflect", "replicate", "circular"] = "zeros"
    relu: bool = False  # also return the ReLU of each map

    # field validators (not a model validator) so an error names its field
    @field_validator("weight")
    @classmethod
    def _weight_shape(cls, weight: list, info: ValidationInfo) -> list:
        color = info.data.get("color", "gray")
        channels = 3 if color == "rgb" else 1
        kh, kw = len(weight[0][0]), len(weight[0][0][0])
        for f, kernels in enumerate(weight):
            if len(kernels) != channels:
                raise ValueError(
                    f"filter {f} has {len(kernels)} kernels; {color} input needs {channels} "
                    "(one per input channel)"
                )
            for kernel in kernels:
                if len(kernel) != kh or any(len(row) != kw for row in kernel):
                    raise ValueError(f"every kernel must be {kh}x{kw} (rectangular, all filters alike)")
        return weight

    @field_validator("bias")
    @classmethod
    def _one_bias_per_filter(cls, bias: list | None, info: ValidationInfo) -> list | None:
        filters = len(info.data.get("weight") or [])
        if bias is not None and filters and len(bias) != filters:
            raise ValueError(f"has {len(bias)} entries; expected one per filter ({filters})")
        return bias

    @property
    def num_filters(self) -> int:
        return len(self.weight)


class ConvTraceRequest(ConvParams):
    """A chunk of one filter's step trace."""

    filter: int = Field(0, ge=0, lt=limit.max_filters)  # which output channel to step through
    chunk: int = Field(0, ge=0)  # steps [chunk * chunk_steps, (chunk + 1) * chunk_steps)
    # instead of chunk: the chunk holding this step (clamped to the last step)
    step: int | None = Field(None, ge=0)
    # include the stages: all (true), none (false: later chunks), or the named ones (a kernel edit changes
    # only the weight; the page keeps the input and padded input it has)
    stages: bool | list[Literal["input", "padded", "weight"]] = True

    @field_validator("filter")
    @classmethod
    def _filter_exists(cls, index: int, info: ValidationInfo) -> int:
        filters = len(info.data.get("weight") or [])
        if filters and index >= filters:
            raise ValueError(f"must be below the number of filters ({filters})")
        return index


class UploadedImage(BaseModel):
    id: str  # pass as `image` in conv requests
    height: int
    width: int
    name: str


class KernelInfo(BaseModel):
    name: str
    label: str
    weights: list[list[float]]
    description: str
    source: str


class SampleInfo(BaseModel):
    name: str
    description: str


class ImageListing(BaseModel):
    samples: list[SampleInfo]
    sizes: list[int]
    max_side: int
    max_upload_bytes: int
