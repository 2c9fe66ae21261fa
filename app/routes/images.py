"""Built-in sample images and uploads."""

from __future__ import annotations

from fastapi import APIRouter, Request, UploadFile

from layerlab.app.config import Settings
from layerlab.app.config import in_effect as S
from layerlab.app.deps import Uploads
from layerlab.app.inputs import upload_id
from layerlab.app.memory import decodes_of
from layerlab.app.pages.conv.schemas import ImageListing, SampleInfo, UploadedImage
from layerlab.app.uploads import decode_upload, within_upload_limit
from layerlab.engine.images import SAMPLES

router = APIRouter(prefix="/api/images", tags=["images"])


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
    data = within_upload_limit(await file.read(config.max_upload_bytes + 1), config)
    key = upload_id(data)
    image = uploads.get(key)
    if image is None:
        image = await decodes_of(request).run(decode_upload, data, config)
        uploads.put(key, image)
    return UploadedImage(id=key, height=image.shape[1], width=image.shape[2], name=file.filename or "upload")
