"""Requests of the normalization page (/norm)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from layerlab.app.fields import Field, limit

NormKind = Literal[
    "batch", "layer", "instance", "group", "rms", "lrn",  # of the activations (N, C, H, W)
    "weight_std", "weight_norm",  # of a conv weight (C_out, C_in, k, k), drawn as the same grid
]  # fmt: skip
NormNumber = Annotated[float, Field(allow_inf_nan=False, ge=-limit.max_norm_abs, le=limit.max_norm_abs)]
NormScale = Annotated[float, Field(allow_inf_nan=False, gt=0, le=limit.max_norm_abs)]
# the generated input's mean and standard deviation per channel, far apart so that what each
# normalization shares (or mixes) shows in the colours and the histograms
NORM_OFFSETS = (3.0, -2.0, 0.5, 6.0, -4.0, 1.5, 8.0, -1.0)
NORM_SCALES = (1.0, 0.5, 2.0, 3.0, 0.8, 1.5, 4.0, 0.3)


class NormInput(BaseModel):
    """The seeded (N, C, H, W) tensor: channel c is offsets[c] + scales[c] * unit-variance noise, a
    share of whose variance is one draw per (sample, channel) plane (a whole image brighter or darker)."""

    model_config = ConfigDict(extra="forbid")

    batch: int = Field(4, ge=1, le=limit.max_norm_batch)  # N (C_out for the weight kinds)
    channels: int = Field(4, ge=1, le=limit.max_norm_channels)  # C (C_in for the weight kinds)
    size: int = Field(4, ge=2, le=limit.max_norm_side)  # H = W (the kernel side for the weight kinds)
    offsets: list[NormNumber] | None = Field(None, validate_default=True)  # (C,) means; None: defaults
    scales: list[NormScale] | None = Field(None, validate_default=True)  # (C,) std devs; None: defaults
    sample_share: float = Field(0.5, ge=0, le=0.95, allow_inf_nan=False)  # of the variance, per plane
    seed: int = Field(0, ge=0, le=limit.max_norm_seed)

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
    num_groups: int = Field(2, ge=1, le=limit.max_norm_channels)  # group: must divide the channels
    normalized_shape: Literal["chw", "hw", "w"] = "chw"  # layer and rms: the trailing dims shared
    gamma: NormNumber = 1.0  # the scale applied after normalizing (every channel alike)
    beta: NormNumber = 0.0  # the shift (rms has none)
    eps: float = Field(1e-5, gt=0, le=limit.max_norm_eps, allow_inf_nan=False)
    momentum: float = Field(0.1, ge=0, le=1, allow_inf_nan=False)  # batch: the running-average weight
    training: bool = True  # batch: batch statistics, or the running ones after `batches` batches
    batches: int = Field(40, ge=1, le=limit.max_norm_batches)  # batch: training batches before evaluation
    lrn_size: int = Field(3, ge=1, le=limit.max_lrn_size)  # lrn: channels in the window
    lrn_alpha: float = Field(1.0, ge=0, le=limit.max_norm_abs, allow_inf_nan=False)
    lrn_beta: float = Field(0.75, ge=0, le=limit.max_lrn_beta, allow_inf_nan=False)
    lrn_k: float = Field(1.0, ge=1e-3, le=limit.max_norm_abs, allow_inf_nan=False)
    g: NormNumber = 1.0  # weight_norm: the length every output channel's weights are given
    histogram: Literal["channel", "group"] = "channel"  # one histogram series per channel or per group
    # the batch-dependence demo: add change_by to every value of sample `change`, watch sample `watch`
    perturb: bool = False
    watch: int = Field(0, ge=0, lt=limit.max_norm_batch)
    change: int = Field(1, ge=0, lt=limit.max_norm_batch)
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
    eps: float = Field(1e-5, gt=0, le=limit.max_norm_eps, allow_inf_nan=False)
    batches: int = Field(40, ge=1, le=limit.max_norm_batches)  # each of `batch` samples
    small_batch: int = Field(2, ge=2, le=limit.max_norm_batch)
    large_batch: int = Field(64, ge=2, le=limit.max_norm_large_batch)
    trials: int = Field(50, ge=10, le=limit.max_norm_trials)  # batches drawn per size

    @field_validator("large_batch")
    @classmethod
    def _larger(cls, large: int, info: ValidationInfo) -> int:
        small = info.data.get("small_batch")
        if small is not None and large <= small:
            raise ValueError(f"must be larger than small_batch ({small}), got {large}")
        return large
