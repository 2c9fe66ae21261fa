"""Where a request's input image comes from: a built-in sample or an upload kept in memory."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from functools import lru_cache

import numpy as np
from PIL import Image

from app.config import settings as S
from app.errors import ApiError
from engine.images import SAMPLES, sample_image, to_color


@lru_cache(maxsize=128)
def _sample(name: str, size: int, color: str) -> np.ndarray:
    image = sample_image(name, size, color)
    image.flags.writeable = False
    return image


def fit(image: np.ndarray, max_side: int) -> np.ndarray:
    """Downscale (C, H, W) so that max(H, W) <= max_side, keeping the aspect ratio."""
    channels, height, width = image.shape
    scale = max_side / max(height, width)
    if scale >= 1:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    planes = [
        np.asarray(Image.fromarray(p.astype(np.float32), mode="F").resize(size, Image.Resampling.BOX))
        for p in image
    ]
    return np.stack(planes).astype(np.float64)


class UploadStore:
    """Decoded uploads, (3, H, W) in [0, 1], least recently used dropped past `capacity`."""

    def __init__(self, capacity: int) -> None:
        self._images: OrderedDict[str, np.ndarray] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def add(self, image: np.ndarray) -> str:
        key = "upload:" + hashlib.sha256(image.tobytes()).hexdigest()[:16]
        image.flags.writeable = False
        with self._lock:
            self._images[key] = image
            self._images.move_to_end(key)
            while len(self._images) > self._capacity:
                self._images.popitem(last=False)
        return key

    def get(self, key: str) -> np.ndarray | None:
        with self._lock:
            image = self._images.get(key)
            if image is not None:
                self._images.move_to_end(key)
            return image


def load_image(name: str, size: int, color: str, uploads: UploadStore) -> np.ndarray:
    """(C, H, W) float64 for a request's `image`, `size` and `color` fields."""
    if name.startswith("upload:"):
        image = uploads.get(name)
        if image is None:
            raise ApiError(
                404,
                "image",
                f"{name} is not on this server (uploads are kept in memory "
                f"until restart, the latest {S.max_uploads_kept}); upload the image again",
            )
        return to_color(fit(image, size), color)
    if name not in SAMPLES:
        raise ApiError(422, "image", f"unknown sample {name!r}; choose one of {', '.join(SAMPLES)}")
    return _sample(name, size, color)
