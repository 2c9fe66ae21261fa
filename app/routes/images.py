"""Built-in sample images and uploads."""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter, Request, UploadFile

from layerlab.app.config import Settings
from layerlab.app.config import settings as S
from layerlab.app.deps import Uploads
from layerlab.app.errors import ApiError
from layerlab.app.inputs import upload_id
from layerlab.app.memory import decodes_of
from layerlab.app.pages.conv.schemas import ImageListing, SampleInfo, UploadedImage
from layerlab.engine.images import SAMPLES, DecodeTooLarge, ImageError, decode_image

router = APIRouter(prefix="/api/images", tags=["images"])


JPEG_MAGIC = b"\xff\xd8\xff"


def _decode(data: bytes, config: Settings) -> np.ndarray:
    """The upload as (3, H, W) in [0, 1], within the pixel and decode-memory limits, or ApiError.

    JPEGs decode scaled down, so their pixel limit is higher; PNGs decode whole."""
    max_pixels = config.max_upload_pixels if data.startswith(JPEG_MAGIC) else config.max_png_pixels
    try:
        return decode_image(
            data,
            max_side=config.max_image_side,
            max_pixels=max_pixels,
            color="rgb",
            max_decode_bytes=config.max_decode_bytes,
        )
    except DecodeTooLarge as exc:
        raise ApiError(422, "file", str(exc)) from exc
    except ImageError as exc:
        raise ApiError(415, "file", str(exc)) from exc


@router.get("", response_model=ImageListing)
async def listing() -> ImageListing:
    """The built-in samples, the sizes they come in, and the upload limits."""
    return ImageListing(
        samples=[SampleInfo(name=k, description=v) for k, v in SAMPLES.items()],
        sizes=list(S.image_sizes),
        max_side=S.max_image_side,
        max_upload_bytes=S.max_upload_bytes,
    )


@router.post("", response_model=UploadedImage, status_code=201)
async def upload(file: UploadFile, request: Request, uploads: Uploads) -> UploadedImage:
    """Decode a PNG or JPEG, downscale it to the size limit and keep it for later requests.

    The id is the file's content address: the same file gets the same id from every worker, and one
    this worker already holds is not decoded again. Decodes run in worker threads, a bounded number at
    once (app/memory.py), each refused beforehand if it would need more than the decode-memory limit.
    """
    config: Settings = request.app.state.settings
    data = await file.read(config.max_upload_bytes + 1)
    if len(data) > config.max_upload_bytes:
        limit = config.max_upload_bytes // 2**20
        raise ApiError(413, "file", f"the upload is over the {limit} MiB limit")
    key = upload_id(data)
    image = uploads.get(key)
    if image is None:
        image = await decodes_of(request).run(_decode, data, config)
        uploads.put(key, image)
    return UploadedImage(id=key, height=image.shape[1], width=image.shape[2], name=file.filename or "upload")
