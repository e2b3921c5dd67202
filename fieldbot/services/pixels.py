"""Pillow's half of the photo checks (fieldbot.services.photos): decoding, bounded, and
re-encoding without metadata. Imported with the first photo, so a start of the bot does not
load Pillow and its HEIF plugin."""

from __future__ import annotations

import io

import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

from fieldbot.services.photos import (
    FORMATS,
    MAX_ASPECT,
    MAX_PIXELS,
    MAX_SIDE,
    PhotoProblem,
    PhotoRejected,
)

# HEIC is what iPhones send "as file"; pillow-heif teaches Pillow to read it.
pillow_heif.register_heif_opener()

_OUTPUT = {"JPEG": ("JPEG", "jpg"), "HEIF": ("JPEG", "jpg"), "PNG": ("PNG", "png"),
           "WEBP": ("WEBP", "webp")}


def reencoded(data: bytes) -> tuple[bytes, str]:
    """Return the image re-encoded without any metadata, and its file extension.

    Raises PhotoRejected. CPU-bound: call it in a thread.
    """
    opened = _open(data)
    try:
        fmt = opened.format or ""
        if fmt == "JPEG":
            opened.draft("RGB", (MAX_SIDE, MAX_SIDE))  # decode big JPEGs at a reduced scale
        opened.load()
        small = _scaled_down(opened)
        upright = _upright(small)
        save_as, extension = _OUTPUT[fmt]
        pixels = _pixels_only(upright, save_as)
    except (OSError, ValueError, SyntaxError, KeyError, EOFError) as exc:
        raise PhotoRejected(PhotoProblem.BROKEN) from exc
    finally:
        opened.close()
    out = io.BytesIO()
    options: dict[str, object] = {"quality": 85} if save_as in ("JPEG", "WEBP") else {}
    pixels.save(out, save_as, **options)
    return out.getvalue(), extension


def _open(data: bytes) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoRejected(PhotoProblem.BOMB) from exc
    except UnidentifiedImageError as exc:
        raise PhotoRejected(PhotoProblem.NOT_IMAGE) from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise PhotoRejected(PhotoProblem.BROKEN) from exc
    try:
        check_dimensions(*image.size)
    except PhotoRejected:
        image.close()
        raise
    return image


def check_dimensions(width: int, height: int) -> None:
    """Refuse an image by its declared size alone, before a single pixel is decoded."""
    if width * height > MAX_PIXELS:
        raise PhotoRejected(PhotoProblem.BOMB)
    if min(width, height) < 1 or max(width, height) > MAX_ASPECT * min(width, height):
        raise PhotoRejected(PhotoProblem.SHAPE)


def _scaled_down(image: Image.Image) -> Image.Image:
    """Return the image within MAX_SIDE, making no other full-size copy on the way.

    The box is square, so turning the photo upright afterwards does not change the scale.
    """
    factor = max(image.size) // MAX_SIDE
    if factor > 1 and image.mode in ("RGBA", "LA"):
        # Pillow reduces and resizes these through a premultiplied copy of the whole image
        # (0.2 GB more at 50 MP); one band at a time holds a quarter of that at most.
        reduced = Image.merge(image.mode, [image.getchannel(band).reduce(factor)
                                           for band in image.getbands()])
        reduced.info = dict(image.info)  # the EXIF orientation, applied afterwards
        image = reduced
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    return image


def _upright(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation to the pixels, since the EXIF itself will be gone."""
    try:
        return ImageOps.exif_transpose(image)
    except (OSError, ValueError, SyntaxError, KeyError, TypeError):
        return image  # a broken orientation tag: keep the pixels as they are


def _pixels_only(image: Image.Image, save_as: str) -> Image.Image:
    """Return a new image holding only the pixels: no EXIF, XMP, ICC or comments."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if save_as == "JPEG":
        mode = "L" if image.mode in ("L", "1", "I;16") else "RGB"
    elif image.mode in ("L", "RGB") and not has_alpha:
        mode = image.mode
    else:
        mode = "RGBA" if has_alpha else "RGB"
    converted = image.convert(mode)
    fresh = Image.new(mode, converted.size)
    fresh.paste(converted)
    return fresh
