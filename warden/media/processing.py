"""Image processing for uploads, with Pillow: what is kept of an upload is pixels, nothing else.

`process_image` reads JPEG, PNG, WebP and GIF only (Pillow's other decoders are never asked), refuses
what it cannot or should not read (video, audio, other formats, corrupt or truncated files, more
pixels than `MAX_INPUT_PIXELS`, decompression bombs) with a `MediaRefused` (422) and files over
`MAX_UPLOAD_BYTES` with `MediaTooLarge` (413), before anything is stored. What it accepts it turns
upright (EXIF orientation), re-encodes without any metadata (EXIF and its GPS position, XMP, comments,
text chunks; the ICC colour profile is kept), scales down to Mastodon's limits and gives a preview
("small") and a blurhash.

Mastodon's figures (app/models/media_attachment.rb): 16 MB per image, originals scaled to at most
8,294,400 pixels (3840x2160), previews to 230,400 pixels (640x360), both keeping the aspect ratio;
`image_matrix_limit` 33,177,600 pixels (7680x4320) for what is accepted at all. An animated GIF keeps
its first frame, as a PNG (Mastodon would transcode it to a video; Warden does not handle video).
"""

from __future__ import annotations

import hashlib
import io
import math
import struct
import warnings
from dataclasses import dataclass

import blurhash
from PIL import Image, ImageOps, UnidentifiedImageError

from warden.errors import WardenError

MAX_UPLOAD_BYTES = 16 * 1024 * 1024
MAX_INPUT_PIXELS = 33_177_600
ORIGINAL_PIXELS = 8_294_400
SMALL_PIXELS = 230_400
SUPPORTED_MIME_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif")
#: Pillow's decoders that may run on an upload, and what each becomes.
_DECODERS = ("JPEG", "PNG", "WEBP", "GIF")
_OUTPUT = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WEBP", "GIF": "PNG"}
_TYPES = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
#: Beyond this Pillow itself refuses to open an image (DecompressionBombError at twice the figure).
Image.MAX_IMAGE_PIXELS = MAX_INPUT_PIXELS

UNSUPPORTED = ("Validation failed: File content type is invalid: upload an image (JPEG, PNG, WebP or GIF)")
NOT_MEDIA_WE_TAKE = ("Validation failed: Video and audio are not supported on this server: "
                     "upload an image (JPEG, PNG, WebP or GIF)")


class MediaRefused(WardenError):
    """An upload that is not an image Warden accepts (422); nothing was stored."""

    status_code = 422


class MediaTooLarge(WardenError):
    """An upload over the size limit (413); nothing was stored."""

    status_code = 413


@dataclass(frozen=True)
class Rendition:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


@dataclass(frozen=True)
class ProcessedImage:
    original: Rendition
    small: Rendition
    blurhash: str
    #: The SHA-256 of `original.data`.
    sha256: str
    upload_size: int
    #: What the upload was (JPEG | PNG | WEBP | GIF) and whether it had more than one frame.
    source_format: str
    animated: bool


def too_large_message() -> str:
    return f"Validation failed: File is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB"


def _looks_like_video_or_audio(data: bytes, content_type: str | None) -> bool:
    if content_type and content_type.split("/")[0].lower() in ("video", "audio"):
        return True
    head = data[:16]
    return (head[4:8] == b"ftyp"                      # MP4, MOV, M4A, 3GP, HEIF's cousins
            or head.startswith(b"\x1aE\xdf\xa3")      # Matroska, WebM
            or head.startswith((b"OggS", b"fLaC", b"ID3", b"#!AMR"))
            or (head.startswith(b"RIFF") and head[8:12] in (b"WAVE", b"AVI "))
            or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"))  # MPEG audio frames


def _scaled(width: int, height: int, pixels: int) -> tuple[int, int]:
    """The largest size with the same aspect ratio and at most `pixels` pixels (as Mastodon does)."""
    if width * height <= pixels:
        return width, height
    factor = math.sqrt(pixels / (width * height))
    return max(1, int(width * factor)), max(1, int(height * factor))


def _encode(image: Image.Image, fmt: str, icc: bytes | None, *, small: bool) -> bytes:
    image.info = {}  # nothing of the upload's metadata travels with its pixels
    out = io.BytesIO()
    options: dict[str, object] = {}
    if icc:
        options["icc_profile"] = icc
    if fmt == "JPEG":
        image.save(out, "JPEG", quality=80 if small else 85, exif=b"", **options)
    elif fmt == "WEBP":
        image.save(out, "WEBP", quality=80 if small else 85, method=3, exif=b"", **options)
    else:
        image.save(out, "PNG", compress_level=6 if small else 3, **options)
    return out.getvalue()


def _rendition(image: Image.Image, fmt: str, icc: bytes | None, *, small: bool = False) -> Rendition:
    content_type, extension = _TYPES[fmt]
    return Rendition(_encode(image, fmt, icc, small=small), content_type, extension, image.width, image.height)


def _open(data: bytes) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data), formats=_DECODERS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise MediaRefused(f"Validation failed: Image is larger than {MAX_INPUT_PIXELS:,} pixels") from None
    except UnidentifiedImageError:
        raise MediaRefused(UNSUPPORTED) from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        raise MediaRefused(f"Validation failed: File could not be read as an image ({exc})") from None
    width, height = image.size
    if width < 1 or height < 1:
        raise MediaRefused("Validation failed: File could not be read as an image (no pixels)")
    if width * height > MAX_INPUT_PIXELS:
        raise MediaRefused(f"Validation failed: Image is larger than {MAX_INPUT_PIXELS:,} pixels "
                           f"({width}x{height})")
    return image


def process_image(data: bytes, content_type: str | None = None) -> ProcessedImage:
    """Check and process one upload (CPU only: no I/O, nothing stored). Raises `MediaTooLarge` or
    `MediaRefused` with a message for the client."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise MediaTooLarge(too_large_message())
    if not data:
        raise MediaRefused("Validation failed: File can't be blank")
    if _looks_like_video_or_audio(data, content_type):
        raise MediaRefused(NOT_MEDIA_WE_TAKE)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = _open(data)
        source = image.format or ""
        animated = bool(getattr(image, "is_animated", False))
        target = _scaled(image.width, image.height, ORIGINAL_PIXELS)
        try:
            if source == "JPEG":
                image.draft("RGB", target)  # decode at 1/2, 1/4 or 1/8 scale when that still covers the target
            image.load()
            orientation = image.getexif().get(0x0112, 1)
            if orientation in (2, 3, 4, 5, 6, 7, 8):
                image = ImageOps.exif_transpose(image)
            icc = image.info.get("icc_profile")
            alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
                image.mode == "P" and "transparency" in image.info)
            mode = "RGBA" if alpha else "RGB"
            if image.mode != mode:
                image = image.convert(mode)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise MediaRefused(f"Validation failed: Image is larger than {MAX_INPUT_PIXELS:,} pixels") from None
        except (OSError, SyntaxError, ValueError, EOFError, struct.error, MemoryError) as exc:
            raise MediaRefused(f"Validation failed: File could not be read as an image ({exc})") from None
    fmt = _OUTPUT[source]
    target = _scaled(image.width, image.height, ORIGINAL_PIXELS)
    if target != image.size:
        # a triangle filter (Pillow's BILINEAR, antialiased over the whole scale factor): the scale is at
        # most 2x per side here (33 MP in, 8.3 MP out), and Lanczos took 2.6 times as long on a 12 MP photo
        image = image.resize(target, Image.Resampling.BILINEAR, reducing_gap=2.0)
    original = _rendition(image, fmt, icc)
    small_size = _scaled(image.width, image.height, SMALL_PIXELS)
    small_image = image.resize(small_size, Image.Resampling.BICUBIC, reducing_gap=2.0) \
        if small_size != image.size else image.copy()
    small = _rendition(small_image, "PNG" if alpha else "JPEG", icc, small=True)
    return ProcessedImage(original=original, small=small, blurhash=blurhash_of(small_image),
                          sha256=hashlib.sha256(original.data).hexdigest(), upload_size=len(data),
                          source_format=source, animated=animated)


def blurhash_of(image: Image.Image) -> str:
    """Mastodon's blurhash (4x4 components) of a small image, computed on a 32-pixel-wide copy."""
    width = 32
    height = max(1, round(image.height * width / image.width))
    tiny = image.convert("RGB").resize((width, height), Image.Resampling.BILINEAR)
    with warnings.catch_warnings():
        # blurhash-python 1.2.2 reads pixels with Image.getdata, deprecated for Pillow 14 (Pillow is pinned)
        warnings.simplefilter("ignore", DeprecationWarning)
        return str(blurhash.encode(tiny, x_components=4, y_components=4))
