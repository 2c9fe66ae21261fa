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


def load_settings() -> Settings:
    """Settings with paths overridable from the environment (for packaging)."""
    overrides = {
        name: Path(os.environ[env])
        for name, env in (("template_dir", "LAYERLAB_TEMPLATES"), ("static_dir", "LAYERLAB_STATIC"))
        if env in os.environ
    }
    return Settings(**overrides)


settings = load_settings()
