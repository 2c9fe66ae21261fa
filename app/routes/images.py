"""Built-in sample images and uploads."""

from __future__ import annotations

from fastapi import APIRouter, UploadFile

from app.config import settings as S
from app.deps import Uploads
from app.errors import ApiError
from app.schemas import ImageListing, SampleInfo, UploadedImage
from engine.images import SAMPLES, ImageError, decode_image

router = APIRouter(prefix="/api/images", tags=["images"])


JPEG_MAGIC = b"\xff\xd8\xff"


def _max_pixels(data: bytes) -> int:
    """The pixel limit for this file: JPEGs decode scaled down, anything else whole."""
    return S.max_upload_pixels if data.startswith(JPEG_MAGIC) else S.max_png_pixels


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
def upload(file: UploadFile, uploads: Uploads) -> UploadedImage:
    """Decode a PNG or JPEG, downscale it to the size limit and keep it for later requests."""
    data = file.file.read(S.max_upload_bytes + 1)
    if len(data) > S.max_upload_bytes:
        raise ApiError(413, "file", f"the upload is over the {S.max_upload_bytes // (1024 * 1024)} MiB limit")
    try:
        image = decode_image(data, max_side=S.max_image_side, max_pixels=_max_pixels(data), color="rgb")
    except ImageError as exc:
        raise ApiError(415, "file", str(exc)) from exc
    key = uploads.add(image)
    return UploadedImage(id=key, height=image.shape[1], width=image.shape[2], name=file.filename or "upload")
