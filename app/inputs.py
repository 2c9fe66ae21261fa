"""Where a request's input image comes from: a built-in sample or an upload kept in memory."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from functools import lru_cache

import numpy as np
from PIL import Image

from layerlab.app.config import in_effect as S
from layerlab.app.errors import ApiError
from layerlab.engine.images import SAMPLES, sample_image, to_color

UNKNOWN_UPLOAD = "unknown_upload"  # the error type of a request naming an upload this worker does not have


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


def upload_id(data: bytes) -> str:
    """The id of an uploaded file: its content address, so the same file has the same id on every worker
    and machine, and a page can send it again to whichever one answers."""
    return "upload:" + hashlib.sha256(data).hexdigest()[:16]


class UploadStore:
    """Decoded uploads, (C, H, W) in [0, 1], least recently used dropped past `capacity`."""

    def __init__(self, capacity: int) -> None:
        self._images: OrderedDict[str, np.ndarray] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def add(self, image: np.ndarray) -> str:
        """Keep an image the server made (not a file), under the address of its pixels."""
        return self.put("upload:" + hashlib.sha256(image.tobytes()).hexdigest()[:16], image)

    def put(self, key: str, image: np.ndarray) -> str:
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

    def clear(self) -> None:
        """Forget every upload, as a restarted worker or another machine would."""
        with self._lock:
            self._images.clear()


def load_image(name: str, size: int, color: str, uploads: UploadStore) -> np.ndarray:
    """(C, H, W) float64 for a request's `image`, `size` and `color` fields."""
    if name.startswith("upload:"):
        image = uploads.get(name)
        if image is None:
            # machine-readable ("type": "unknown_upload"): the page sends the file again and retries
            raise ApiError(
                404,
                "image",
                f"{name} is not on this server (uploads are kept in memory per worker until restart, "
                f"the latest {S.max_uploads_kept}); upload the image again",
                kind=UNKNOWN_UPLOAD,
            )
        return to_color(fit(image, size), color)
    if name not in SAMPLES:
        raise ApiError(422, "image", f"unknown sample {name!r}; choose one of {', '.join(SAMPLES)}")
    return _sample(name, size, color)
