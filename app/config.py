"""Settings: paths and every limit the app enforces, in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import plotly

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    template_dir: Path = ROOT / "templates"
    static_dir: Path = ROOT / "static"
    plotly_js: Path = field(
        default_factory=lambda: Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    )
    # sizes
    image_sizes: tuple[int, ...] = (5, 8, 16, 28, 32, 64, 128, 256)  # sample images are square
    max_image_side: int = 256  # uploads are downscaled to fit; requests may not ask for more
    max_channels: int = 3
    max_kernel_side: int = 7
    max_filters: int = 8
    max_stride: int = 8
    max_dilation: int = 8
    max_padding: int = 16
    max_abs_value: float = 1e6  # kernel and bias entries; keeps every product finite
    # step traces are served in chunks so a 256x256 map never builds one huge response
    trace_chunk_steps: int = 1024
    # uploads
    max_upload_bytes: int = 8 * 1024 * 1024
    max_upload_pixels: int = 50_000_000  # declared size checked before decoding (decompression bombs)
    max_uploads_kept: int = 64  # uploads live in memory, least recently used dropped first
    upload_types: tuple[str, ...] = field(default=("image/png", "image/jpeg"))
    # the convolution-family page (/family): small inputs, since every step and stage is sent at once
    max_signal_length: int = 64  # entries of a 1-D signal
    max_kernel_length: int = 9  # taps of a 1-D kernel
    max_transposed_side: int = 5  # rows and columns of the transposed view's input and of its kernel
    max_transposed_stride: int = 4  # with the sides above the output stays within 32x32
    max_transposed_dilation: int = 3
    max_transposed_padding: int = 4
    max_family_channels: int = 12  # C_in and C_out of the grouped and shuffle views (12 named channels)
    max_family_image_side: int = 32  # channel maps are drawn small, many side by side
    max_tile_side: int = 3  # tile rows and columns of the tiled view (up to 9 kernels to edit)
    max_mid_channels: int = 4  # middle channels of the residual block
    # the layer calculator (/calculator): only arithmetic per layer, so the limits keep every
    # number exact in JavaScript and every receptive-field picture drawable
    max_layers: int = 32  # layers in one stack
    max_layer_size: int = 65_536  # channels or features of the input, out_channels, out_features, groups
    max_stack_side: int = 1024  # height, width or length of the input and of every layer's output
    max_window_arg: int = 256  # kernel_size, stride, padding, dilation and output_padding


def load_settings() -> Settings:
    """Settings with paths overridable from the environment (for packaging)."""
    overrides = {
        name: Path(os.environ[env])
        for name, env in (("template_dir", "LAYERLAB_TEMPLATES"), ("static_dir", "LAYERLAB_STATIC"))
        if env in os.environ
    }
    return Settings(**overrides)


settings = load_settings()
