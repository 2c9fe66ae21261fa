"""Uploads decoded safely: a PNG or JPEG from an untrusted client becomes (C, H, W) float64 in [0, 1].

Every check that can be made from the header (the format, the pixel count, the memory the decode would
take: `decode_bytes`) is made before any pixel is decoded, so a small file declaring a huge image (a
decompression bomb) costs nothing; the limits are the app's settings (`max_upload_bytes`,
`max_upload_pixels`, `max_png_pixels`, `max_decode_bytes`). The decodes themselves run in worker threads,
a bounded number at once (app/memory.py).
"""

from __future__ import annotations

import io
import struct

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from layerlab.app.config import Settings
from layerlab.app.errors import ApiError
from layerlab.engine.images import COLORS

ACCEPTED_FORMATS = ("PNG", "JPEG")
JPEG_MAGIC = b"\xff\xd8\xff"
_DECODER_STATE = 2 * 2**20  # a decoder's own tables and row buffers, and the shrunk copies: ~2 MiB measured


class ImageError(ValueError):
    """An upload that cannot be used; the message says why in plain words."""


def _open_checked(data: bytes, max_pixels: int) -> Image.Image:
    """Open lazily (header only) and refuse other formats or too many pixels before any decoding."""
    try:
        img = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except UnidentifiedImageError:
        raise ImageError("this file is not a PNG or JPEG image; only PNG and JPEG are accepted") from None
    # Pillow names a JPEG that carries extra frames (as some cameras save) "MPO"; it is still a JPEG file.
    if img.format not in (*ACCEPTED_FORMATS, "MPO"):
        raise ImageError(f"{img.format} images are not accepted; upload a PNG or JPEG image")
    width, height = img.size
    if width * height > max_pixels:
        raise ImageError(
            f"the image is {width}x{height} = {width * height:,} pixels, "
            f"more than the limit of {max_pixels:,} pixels; please upload a smaller image"
        )
    return img


class DecodeTooLarge(ImageError):
    """An upload whose decoding would take more memory than the budget (estimated from its header)."""


_SOS, _SOF_NOT_FRAMES = 0xDA, (0xC4, 0xC8, 0xCC)  # start of scan; DHT, JPG, DAC share SOFn's range
_STANDALONE = frozenset((0x01, *range(0xD0, 0xD8)))  # TEM and RSTn carry no length


def _jpeg_first_scan_components(data: bytes) -> int | None:
    """How many components the first scan of a JPEG codes (its SOS header), or None if not found.

    A baseline JPEG whose first scan codes every component decodes one band of blocks at a time; one
    coded component by component (several scans), like a progressive one, needs every coefficient
    of the whole image in memory first.
    """
    at = 2  # after SOI
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in _STANDALONE:
            at += 2
            continue
        if marker == _SOS:
            return data[at + 4] if at + 4 < len(data) else None
        at += 2 + struct.unpack(">H", data[at + 2 : at + 4])[0]
    return None


def _pixel_bytes(mode: str) -> int:
    """Bytes a pixel takes in Pillow's memory: one for 1, L and P, two for 16-bit grey, four otherwise."""
    return 1 if mode in ("1", "L", "P") else 2 if mode.startswith("I;16") else 4


def _coefficient_bytes(img: Image.Image, size: tuple[int, int]) -> int:
    """libjpeg's whole-image coefficient buffer: 64 two-byte coefficients per 8x8 block of every component.

    `img.layer` lists each component's (id, horizontal, vertical sampling, table); a component sampled at
    h/hmax of the width has that share of the blocks, in whole MCUs as libjpeg allocates them. `size` is
    the full size: the buffer does not shrink with the draft scale.
    """
    width, height = size
    h_max = max(h for _, h, _, _ in img.layer)
    v_max = max(v for _, _, v, _ in img.layer)
    mcu_cols, mcu_rows = -(-width // (8 * h_max)), -(-height // (8 * v_max))
    return sum(mcu_cols * h * mcu_rows * v * 64 * 2 for _, h, v, _ in img.layer)


def _needs_rgba(img: Image.Image) -> bool:
    """Whether an image must become RGBA at full size before it shrinks: a palette or a transparent colour."""
    return not img.mode.startswith("I") and (img.mode in ("P", "PA") or "transparency" in img.info)


def decode_bytes(img: Image.Image, data: bytes, size: tuple[int, int]) -> int:
    """What decoding `img` (opened and drafted, not loaded) allocates at its peak, in bytes; `size` is the
    size its header declares, `data` the file.

    A JPEG decodes at its draft size into Pillow's pixels, plus, when it is progressive or coded in
    several scans, libjpeg's coefficients of the whole image at full size, whatever the draft scale (a
    7000x7000 progressive JPEG: 147 MB in 4:2:0, 294 MB in 4:4:4). A PNG decodes whole into Pillow's
    pixels (a 16-bit colour PNG into 8-bit RGB(A), 4 bytes a pixel, 16-bit grey into 2; an interlaced one
    pass by pass into the same pixels, no more); then a palette or a transparent colour becomes RGBA (4
    more bytes a pixel), and RGBA is premultiplied before it is shrunk (4 more).
    """
    if img.format in ("JPEG", "MPO"):
        total = img.width * img.height * _pixel_bytes(img.mode)
        one_scan = _jpeg_first_scan_components(data) == len(img.layer)
        if img.info.get("progressive") or not one_scan:
            total += _coefficient_bytes(img, size)
        return _DECODER_STATE + total
    rgba = _needs_rgba(img)
    premultiplied = rgba or img.mode in ("RGBA", "LA")
    return _DECODER_STATE + img.width * img.height * (_pixel_bytes(img.mode) + 4 * rgba + 4 * premultiplied)


def _fitted(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    """(width, height) scaled down, keeping the aspect, so the longer side is at most max_side."""
    width, height = size
    scale = min(1.0, max_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _shrink(img: Image.Image, max_side: int) -> Image.Image:
    """Decode and shrink to fit max_side (keeping the aspect, never enlarging) while still in the file's
    own pixel format, so that every copy made after this one is small."""
    if _needs_rgba(img):
        img = img.convert("RGBA")  # a palette cannot be resampled; a transparent colour becomes alpha
    elif img.mode == "1":
        img = img.convert("L")
    # Pillow cannot box-reduce 16-bit grey first: resample it in one step
    gap = None if img.mode.startswith("I;16") else 2.0
    img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=gap)
    return img


def _opaque_8bit(img: Image.Image) -> Image.Image:
    """Composite any transparency onto white; scale 16-bit grey to 8 bits (convert() would clip it)."""
    if img.mode.startswith("I"):
        return Image.fromarray(np.round(np.asarray(img, dtype=np.float64) / 257).astype(np.uint8), "L")
    if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
        white = Image.new("RGBA", img.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, img.convert("RGBA")).convert("RGB")
    return img


def decode_image(
    data: bytes, *, max_side: int, max_pixels: int, color: str = "gray", max_decode_bytes: int | None = None
) -> np.ndarray:
    """Decode an uploaded PNG or JPEG to (C, H, W) float64 in [0, 1], shrunk so max(H, W) <= max_side.

    The pixel count, and with `max_decode_bytes` the memory decoding would take (`decode_bytes`), are
    checked from the header before any pixel is decoded, so a small file that declares a huge image (a
    decompression bomb) costs nothing. A JPEG decodes at the smallest DCT scale (1/8, 1/4, 1/2) still
    at least as large as the fitted size; every image is shrunk before it is converted, and only the
    shrunk one becomes float.
    """
    if color not in COLORS:
        raise ValueError(f"color must be one of {COLORS}, got {color!r}")
    if max_side < 1 or max_pixels < 1:
        raise ValueError(f"max_side and max_pixels must be positive, got {max_side} and {max_pixels}")
    mode = "L" if color == "gray" else "RGB"
    try:
        img = _open_checked(data, max_pixels)
        size = img.size
        img.draft(mode, _fitted(size, max_side))  # JPEG only; the size is chosen so the scale is the smallest
        if max_decode_bytes is not None and (need := decode_bytes(img, data, size)) > max_decode_bytes:
            raise DecodeTooLarge(
                f"decoding this {size[0]}x{size[1]} image would take {need / 2**20:,.0f} MiB of memory, "
                f"more than the limit of {max_decode_bytes / 2**20:,.0f} MiB"
                + ("; save it as a baseline (not progressive) JPEG" if img.format != "PNG" else "")
                + " or upload a smaller image"
            )
        img = _opaque_8bit(ImageOps.exif_transpose(_shrink(img, max_side))).convert(mode)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own guard fired before ours could (the warning only arrives here if warnings are
        # errors), so the image is over Pillow's limit as well as, perhaps, over max_pixels.
        limit = max_pixels if Image.MAX_IMAGE_PIXELS is None else min(max_pixels, Image.MAX_IMAGE_PIXELS)
        message = f"the image has more than {limit:,} pixels, the limit; please upload a smaller image"
        raise ImageError(message) from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, struct.error):
        raise ImageError("the image file is damaged or incomplete and cannot be decoded") from None
    pixels = np.asarray(img, dtype=np.float64) / 255
    return pixels[None] if color == "gray" else pixels.transpose(2, 0, 1)


def _bytes(n: int) -> str:
    """A byte limit in words: "8 MiB" when it is whole mebibytes, else "1,000 bytes"."""
    return f"{n // 2**20} MiB" if n >= 2**20 and n % 2**20 == 0 else f"{n:,} bytes"


def within_upload_limit(data: bytes, config: Settings) -> bytes:
    """The uploaded file, or ApiError(413) naming the `file` field and the limit (`max_upload_bytes`)."""
    if len(data) > config.max_upload_bytes:
        raise ApiError(413, "file", f"the upload is over the {_bytes(config.max_upload_bytes)} limit")
    return data


def decode_upload(data: bytes, config: Settings) -> np.ndarray:
    """The upload as (3, H, W) in [0, 1], fitted to `max_image_side`, within the pixel and decode-memory
    limits of `config`, or ApiError (415 not an image or damaged, 422 over a limit) naming `file`.

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
