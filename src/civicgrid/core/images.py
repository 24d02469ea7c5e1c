"""Uploaded images, made safe to serve from the app's origin.

An upload is never stored as sent: Pillow must decode it as a JPEG, PNG, GIF or WebP (no other decoder
is tried), its pixel count is capped before the pixels are read, and it is re-encoded from its pixels
alone (first frame of an animation; orientation applied, then every metadata block dropped: EXIF with
GPS, comments, ICC, text chunks). The result is a JPEG (or a PNG when the image has transparency)
under a generated name with the matching extension, so a file whose name or first bytes lie (an HTML
page starting with ``GIF89a``, an SVG) can never come back out as anything but an image.
"""

from __future__ import annotations

import io
import uuid

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

DECODERS = ("JPEG", "PNG", "GIF", "WEBP")
MAX_PIXELS = 40_000_000  # a 40-megapixel phone photo; more is a decompression bomb, not a photo
MAX_SIDE = 4096  # stored images are scaled down to this many pixels on their longer side
CONTENT_TYPES = {".jpg": "image/jpeg", ".png": "image/png"}


def reencode_image(upload: UploadedFile, *, max_bytes: int, max_pixels: int = MAX_PIXELS) -> ContentFile[bytes]:
    """A clean copy of ``upload`` as JPEG or PNG, or a ValidationError saying why it was refused."""
    data = upload.read(max_bytes + 1)
    upload.seek(0)
    if len(data) > max_bytes:
        raise ValidationError(_("The photo is larger than %(mb)d MB.") % {"mb": max_bytes // (1024 * 1024)})
    not_an_image = ValidationError(_("The photo must be a JPEG, PNG, GIF or WebP image."))
    try:
        with Image.open(io.BytesIO(data), formats=DECODERS) as source:
            width, height = source.size
            if width * height > max_pixels or width < 1 or height < 1:
                raise ValidationError(_("The photo has too many pixels (at most %(n)d million).")
                                      % {"n": max_pixels // 1_000_000})
            source.seek(0)
            image = ImageOps.exif_transpose(source.copy())
    except ValidationError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError,
            EOFError, IndexError, TypeError):
        raise not_an_image from None
    transparent = image.mode in {"RGBA", "LA", "PA"} or (image.mode == "P" and "transparency" in image.info)
    image = image.convert("RGBA" if transparent else "RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    image = Image.frombytes(image.mode, image.size, image.tobytes())  # the pixels alone: no info carried over
    out = io.BytesIO()
    if transparent:
        image.save(out, format="PNG", optimize=True)
        extension = ".png"
    else:
        image.save(out, format="JPEG", quality=85, optimize=True)
        extension = ".jpg"
    return ContentFile(out.getvalue(), name=f"{uuid.uuid4().hex}{extension}")
