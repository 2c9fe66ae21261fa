"""Request models: every limit comes from `app.config.settings`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from app.config import settings as S

Number = Annotated[float, Field(allow_inf_nan=False, ge=-S.max_abs_value, le=S.max_abs_value)]
Stride = Annotated[int, Field(ge=1, le=S.max_stride)]
Dilation = Annotated[int, Field(ge=1, le=S.max_dilation)]
Pad = Annotated[int, Field(ge=0, le=S.max_padding)]
Kernel2d = Annotated[
    list[Annotated[list[Number], Field(min_length=1, max_length=S.max_kernel_side)]],
    Field(min_length=1, max_length=S.max_kernel_side),
]
ImageName = Annotated[str, Field(max_length=64, pattern=r"^(upload:[0-9a-f]{16}|[a-z0-9_]+)$")]


class ConvParams(BaseModel):
    """One conv2d call on a built-in or uploaded image (N = 1)."""

    model_config = ConfigDict(extra="forbid")

    image: ImageName = "scene"  # a sample name or an upload id "upload:<16 hex>"
    size: int = Field(32, ge=4, le=S.max_image_side)  # side length the image is fitted to
    color: Literal["gray", "rgb"] = "gray"
    weight: Annotated[
        list[Annotated[list[Kernel2d], Field(min_length=1, max_length=S.max_channels)]],
        Field(min_length=1, max_length=S.max_filters),
    ]  # (C_out, C_in, kH, kW)
    bias: Annotated[list[Number], Field(max_length=S.max_filters)] | None = None  # (C_out,)
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

    filter: int = Field(0, ge=0, lt=S.max_filters)  # which output channel to step through
    chunk: int = Field(0, ge=0)  # steps [chunk * chunk_steps, (chunk + 1) * chunk_steps)
    # instead of chunk: the chunk holding this step (clamped to the last step)
    step: int | None = Field(None, ge=0)
    stages: bool = True  # include the padded input and weight (skip for later chunks)

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


# ---- the convolution family page (/family) ---------------------------------------------------

PaddingMode = Literal["zeros", "reflect", "replicate", "circular"]
FamilySize = Annotated[int, Field(ge=4, le=S.max_family_image_side)]  # side of the sample image
FamilyChannels = Annotated[int, Field(ge=1, le=S.max_family_channels)]
KernelSide = Annotated[int, Field(ge=1, le=S.max_kernel_side)]
TransposedSide = Annotated[list[Number], Field(min_length=1, max_length=S.max_transposed_side)]
TransposedMatrix = Annotated[list[TransposedSide], Field(min_length=1, max_length=S.max_transposed_side)]
Taps = Annotated[list[Number], Field(min_length=1, max_length=S.max_kernel_side)]  # a 1-D filter
TileSide = Annotated[int, Field(ge=1, le=S.max_tile_side)]
SEED002_SIGNAL = [0, 0, 1, 2, 4, 4, 4, 3, 1, 0]  # the 1-D signal of seed 002's derivative example
LUMA_LIKE = [0.3, 0.6, 0.1]  # roughly the eye's weights for R, G, B


def _rectangular(matrix: list[list[float]]) -> list[list[float]]:
    if any(len(row) != len(matrix[0]) for row in matrix):
        raise ValueError(f"every row must have {len(matrix[0])} entries, like the first")
    return matrix


class Conv1dRequest(BaseModel):
    """conv1d of one signal with one kernel: one channel in, one out, no bias."""

    model_config = ConfigDict(extra="forbid")

    signal: Annotated[list[Number], Field(min_length=1, max_length=S.max_signal_length)] = (
        SEED002_SIGNAL  # (L,)
    )
    kernel: Annotated[list[Number], Field(min_length=1, max_length=S.max_kernel_length)] = [-1, 1]  # (k,)
    stride: Stride = 1
    padding: Pad = 0  # on both ends
    dilation: Dilation = 1
    padding_mode: PaddingMode = "zeros"


class TransposedRequest(BaseModel):
    """conv_transpose2d of one small matrix with one kernel: one channel in, one out, no bias."""

    model_config = ConfigDict(extra="forbid")

    input: TransposedMatrix = [[1, 2], [3, 4]]  # (H, W)
    kernel: TransposedMatrix = [[1, 1, 1], [1, 1, 1], [1, 1, 1]]  # (kH, kW)
    stride: Annotated[int, Field(ge=1, le=S.max_transposed_stride)] = 1
    padding: Annotated[int, Field(ge=0, le=S.max_transposed_padding)] = 0
    dilation: Annotated[int, Field(ge=1, le=S.max_transposed_dilation)] = 1
    # extra rows/columns at the bottom/right; below the stride or the dilation
    output_padding: Annotated[
        int, Field(ge=0, le=max(S.max_transposed_stride, S.max_transposed_dilation) - 1)
    ] = 0

    @field_validator("input", "kernel")
    @classmethod
    def _rows_alike(cls, matrix: list[list[float]]) -> list[list[float]]:
        return _rectangular(matrix)

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
            list[Annotated[list[Kernel2d], Field(min_length=1, max_length=S.max_tile_side)]],
            Field(min_length=1, max_length=S.max_tile_side),
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
    mid_channels: Annotated[int, Field(ge=1, le=S.max_mid_channels)] = 2
    kernel_size: KernelSide = 3
    scale: Annotated[float, Field(ge=0, le=2, allow_inf_nan=False)] = 1.0  # 0: the block is relu(x)
    size: FamilySize = 16


# ---- the pooling page (/pool) ----------------------------------------------------------------

PoolKind = Literal[
    "max", "avg", "min", "lp", "mixed", "stochastic",  # windowed: a window slides over the input
    "adaptive_avg", "adaptive_max", "global_avg", "global_max", "spp", "roi",  # bins cut the input
]  # fmt: skip
PoolSide = Annotated[int, Field(ge=1, le=S.max_pool_kernel)]
PoolOut = Annotated[int, Field(ge=1, le=S.max_pool_output)]
Shift = Annotated[int, Field(ge=-S.max_shift, le=S.max_shift)]
MatrixRow = Annotated[list[Number], Field(min_length=1, max_length=S.max_pool_matrix_side)]
SEED004_MATRIX = [[1, 0, 2], [3, 1, 2], [1, 2, 3]]  # seed 004's max-pool example


def as_pair(value: int | tuple[int, int] | list[int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[1])


class PoolSource(BaseModel):
    """The one map that is pooled: a typed matrix, a sample or upload in grey, or a conv feature map."""

    model_config = ConfigDict(extra="forbid")

    source: Literal["matrix", "image", "conv"] = "matrix"
    matrix: Annotated[list[MatrixRow], Field(min_length=1, max_length=S.max_pool_matrix_side)] = (
        SEED004_MATRIX  # (H, W), read when source is "matrix"
    )
    image: ImageName = "scene"  # read when source is "image"
    size: int = Field(16, ge=4, le=S.max_image_side)
    # source "conv": the conv page's settings; the map is filter conv_filter's output (after its ReLU)
    conv: ConvParams | None = Field(None, validate_default=True)
    conv_filter: int = Field(0, ge=0, lt=S.max_filters, validate_default=True)

    @field_validator("matrix")
    @classmethod
    def _rows_alike(cls, matrix: list[list[float]]) -> list[list[float]]:
        return _rectangular(matrix)

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

    kind: PoolKind = "max"
    kernel_size: PoolSide | tuple[PoolSide, PoolSide] = (2, 2)
    stride: Stride | tuple[Stride, Stride] | None = (1, 1)  # None: the kernel size, torch's default
    padding: Pad | tuple[Pad, Pad] = (0, 0)  # at most half the kernel (torch's rule)
    dilation: Dilation | tuple[Dilation, Dilation] = (1, 1)  # max and min only
    ceil_mode: bool = False  # max, min, avg, lp
    count_include_pad: bool = True  # avg
    divisor_override: int | None = Field(None, ge=1, le=S.max_divisor)  # avg
    norm_type: float = Field(2.0, gt=0, le=S.max_lp_norm_type, allow_inf_nan=False)  # lp: its p
    mix: float = Field(0.5, ge=0, le=1, allow_inf_nan=False)  # mixed: the weight of the max
    training: bool = True  # stochastic: draw a cell (True) or take the probability-weighted mean
    seed: int = Field(0, ge=0, le=S.max_pool_seed)  # stochastic: the same seed draws the same cells
    output_size: PoolOut | tuple[PoolOut, PoolOut] = (2, 2)  # adaptive and roi
    levels: Annotated[
        list[Annotated[int, Field(ge=1, le=S.max_pyramid_level)]],
        Field(min_length=1, max_length=S.max_pyramid_levels),
    ] = [1, 2, 4]  # spp: an l x l grid per level
    pyramid_mode: Literal["max", "avg"] = "max"  # spp
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
    norm_type: float = Field(2.0, gt=0, le=S.max_lp_norm_type, allow_inf_nan=False)
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


# ---- the normalization page (/norm) ----------------------------------------------------------

NormKind = Literal[
    "batch", "layer", "instance", "group", "rms", "lrn",  # of the activations (N, C, H, W)
    "weight_std", "weight_norm",  # of a conv weight (C_out, C_in, k, k), drawn as the same grid
]  # fmt: skip
NormNumber = Annotated[float, Field(allow_inf_nan=False, ge=-S.max_norm_abs, le=S.max_norm_abs)]
NormScale = Annotated[float, Field(allow_inf_nan=False, gt=0, le=S.max_norm_abs)]
# the generated input's mean and standard deviation per channel, far apart so that what each
# normalization shares (or mixes) shows in the colours and the histograms
NORM_OFFSETS = (3.0, -2.0, 0.5, 6.0, -4.0, 1.5, 8.0, -1.0)
NORM_SCALES = (1.0, 0.5, 2.0, 3.0, 0.8, 1.5, 4.0, 0.3)


class NormInput(BaseModel):
    """The seeded (N, C, H, W) tensor: channel c is offsets[c] + scales[c] * unit-variance noise, a
    share of whose variance is one draw per (sample, channel) plane (a whole image brighter or darker)."""

    model_config = ConfigDict(extra="forbid")

    batch: int = Field(4, ge=1, le=S.max_norm_batch)  # N (C_out for the weight kinds)
    channels: int = Field(4, ge=1, le=S.max_norm_channels)  # C (C_in for the weight kinds)
    size: int = Field(4, ge=2, le=S.max_norm_side)  # H = W (the kernel side for the weight kinds)
    offsets: list[NormNumber] | None = Field(None, validate_default=True)  # (C,) means; None: defaults
    scales: list[NormScale] | None = Field(None, validate_default=True)  # (C,) std devs; None: defaults
    sample_share: float = Field(0.5, ge=0, le=0.95, allow_inf_nan=False)  # of the variance, per plane
    seed: int = Field(0, ge=0, le=S.max_norm_seed)

    @field_validator("offsets", "scales")
    @classmethod
    def _one_per_channel(cls, values: list[float] | None, info: ValidationInfo) -> list[float]:
        channels = info.data.get("channels")
        if values is None:  # the first C of the page's defaults, so {"channels": 6} alone is enough
            return list((NORM_OFFSETS if info.field_name == "offsets" else NORM_SCALES)[: channels or 0])
        if channels is not None and len(values) != channels:
            raise ValueError(f"has {len(values)} entries; expected one per channel ({channels})")
        return values


class NormParams(NormInput):
    """One normalization of the generated tensor; each kind reads the arguments its torch layer takes."""

    kind: NormKind = "batch"
    num_groups: int = Field(2, ge=1, le=S.max_norm_channels)  # group: must divide the channels
    normalized_shape: Literal["chw", "hw", "w"] = "chw"  # layer and rms: the trailing dims shared
    gamma: NormNumber = 1.0  # the scale applied after normalizing (every channel alike)
    beta: NormNumber = 0.0  # the shift (rms has none)
    eps: float = Field(1e-5, gt=0, le=S.max_norm_eps, allow_inf_nan=False)
    momentum: float = Field(0.1, ge=0, le=1, allow_inf_nan=False)  # batch: the running-average weight
    training: bool = True  # batch: batch statistics, or the running ones after `batches` batches
    batches: int = Field(40, ge=1, le=S.max_norm_batches)  # batch: training batches before evaluation
    lrn_size: int = Field(3, ge=1, le=S.max_lrn_size)  # lrn: channels in the window
    lrn_alpha: float = Field(1.0, ge=0, le=S.max_norm_abs, allow_inf_nan=False)
    lrn_beta: float = Field(0.75, ge=0, le=S.max_lrn_beta, allow_inf_nan=False)
    lrn_k: float = Field(1.0, ge=1e-3, le=S.max_norm_abs, allow_inf_nan=False)
    g: NormNumber = 1.0  # weight_norm: the length every output channel's weights are given
    histogram: Literal["channel", "group"] = "channel"  # one histogram series per channel or per group
    # the batch-dependence demo: add change_by to every value of sample `change`, watch sample `watch`
    perturb: bool = False
    watch: int = Field(0, ge=0, lt=S.max_norm_batch)
    change: int = Field(1, ge=0, lt=S.max_norm_batch)
    change_by: NormNumber = 5.0
    group: int = Field(0, ge=0)  # the group whose equation is written out (the last when past the end)

    @field_validator("num_groups")
    @classmethod
    def _divides_channels(cls, groups: int, info: ValidationInfo) -> int:
        channels = info.data.get("channels")
        if info.data.get("kind") == "group" and channels is not None and channels % groups:
            raise ValueError(f"must divide the number of channels ({channels}), got {groups}")
        return groups

    @field_validator("perturb")
    @classmethod
    def _two_samples(cls, perturb: bool, info: ValidationInfo) -> bool:
        batch = info.data.get("batch")
        if perturb and batch is not None and batch < 2:
            raise ValueError("changing another sample needs a batch of at least 2 samples")
        return perturb

    @field_validator("watch", "change")
    @classmethod
    def _in_batch(cls, index: int, info: ValidationInfo) -> int:
        batch = info.data.get("batch")
        if info.data.get("perturb") and batch is not None and index >= batch:
            raise ValueError(f"must be below the batch size ({batch}), got {index}")
        if info.field_name == "change" and info.data.get("perturb") and index == info.data.get("watch"):
            raise ValueError(f"must be another sample than the one watched ({index})")
        return index


class NormStreamRequest(NormInput):
    """Batch norm in training over a stream of batches, and the small-batch comparison."""

    momentum: float = Field(0.1, ge=0, le=1, allow_inf_nan=False)
    eps: float = Field(1e-5, gt=0, le=S.max_norm_eps, allow_inf_nan=False)
    batches: int = Field(40, ge=1, le=S.max_norm_batches)  # each of `batch` samples
    small_batch: int = Field(2, ge=2, le=S.max_norm_batch)
    large_batch: int = Field(64, ge=2, le=S.max_norm_large_batch)
    trials: int = Field(50, ge=10, le=S.max_norm_trials)  # batches drawn per size

    @field_validator("large_batch")
    @classmethod
    def _larger(cls, large: int, info: ValidationInfo) -> int:
        small = info.data.get("small_batch")
        if small is not None and large <= small:
            raise ValueError(f"must be larger than small_batch ({small}), got {large}")
        return large


HEAD_COUNTS = (1, 2, 4, 8)  # the divisors of d_model = 8 named features
EmbeddingValue = Annotated[float, Field(allow_inf_nan=False, ge=-S.max_embedding_abs, le=S.max_embedding_abs)]


class AttentionRequest(BaseModel):
    """Self-attention over a typed sentence: embeddings -> Q, K, V -> softmax(QKᵀ·scale)·V -> W_O."""

    model_config = ConfigDict(extra="forbid")

    sentence: str = Field("we sat on the river bank", max_length=S.max_sentence_chars)
    heads: int = Field(1, ge=1, le=8)  # must divide d_model = 8
    causal: bool = False  # query i sees keys 0..i only
    padding: int = Field(0, ge=0, lt=S.max_attention_tokens)  # trailing tokens no query may attend to
    scaled: bool = True  # divide the scores by √d_k
    temperature: float = Field(1.0, ge=S.min_temperature, le=S.max_temperature, allow_inf_nan=False)
    # word -> its 8 feature values, replacing the vocabulary's (or the unknown word's) vector
    overrides: Annotated[
        dict[
            Annotated[str, Field(min_length=1, max_length=32)],
            Annotated[list[EmbeddingValue], Field(min_length=8, max_length=8)],
        ],
        Field(max_length=S.max_attention_overrides),
    ] = {}

    @field_validator("heads")
    @classmethod
    def _divides_model(cls, heads: int) -> int:
        if heads not in HEAD_COUNTS:
            raise ValueError(f"must divide d_model = 8 (1, 2, 4 or 8), got {heads}")
        return heads
