"""Image processing without HTTP: formats, metadata stripped, Mastodon's size limits, refusals."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.media.images import (GPS_IFD, animated_gif, encode, jpeg_with_gps, mp4_header, photo,
                                png_header_only)
from warden.media.processing import (MAX_UPLOAD_BYTES, ORIGINAL_PIXELS, SMALL_PIXELS, MediaRefused, MediaTooLarge,
                                     process_image)
from warden.media.storage import LocalStorage, MissingFile


def reopen(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize(("fmt", "options", "content_type"), [
    ("JPEG", {"quality": 90}, "image/jpeg"),
    ("PNG", {}, "image/png"),
    ("WEBP", {"quality": 90}, "image/webp"),
    ("GIF", {}, "image/png"),  # a still GIF becomes a PNG
])
def test_each_format_is_re_encoded_with_a_preview_and_blurhash(fmt: str, options: dict[str, object],
                                                               content_type: str) -> None:
    done = process_image(encode(photo(800, 600), fmt, **options))
    assert done.original.content_type == content_type
    assert (done.original.width, done.original.height) == (800, 600)
    assert reopen(done.original.data).size == (800, 600)
    small = reopen(done.small.data)
    assert small.size == (done.small.width, done.small.height)
    assert small.width * small.height <= SMALL_PIXELS and abs(small.width / small.height - 4 / 3) < 0.01
    assert len(done.blurhash) == 36  # 4x4 components: 2 + 4 + 2 x 15 characters


def test_transparency_is_kept_as_png() -> None:
    image = Image.new("RGBA", (300, 200), (255, 0, 0, 0))
    image.paste((0, 0, 255, 255), (50, 50, 150, 150))
    done = process_image(encode(image, "PNG"))
    assert done.original.content_type == "image/png" and done.small.content_type == "image/png"
    assert reopen(done.original.data).getpixel((0, 0))[3] == 0


def test_exif_gps_and_comments_are_stripped_and_orientation_applied() -> None:
    upload = jpeg_with_gps(640, 480, orientation=6)  # "rotate 90° clockwise to display"
    assert Image.open(io.BytesIO(upload)).getexif().get_ifd(GPS_IFD)  # the upload does have a position
    done = process_image(upload, "image/jpeg")
    for data in (done.original.data, done.small.data):
        image = reopen(data)
        assert not image.getexif(), "EXIF survived"
        assert "comment" not in image.info and "exif" not in image.info
        assert b"WardenCam" not in data and b"secret comment" not in data and b"Exif\x00\x00" not in data
    assert (done.original.width, done.original.height) == (480, 640)  # turned upright, then stripped


def test_large_images_are_scaled_to_mastodons_limits() -> None:
    done = process_image(encode(photo(5000, 4000), "JPEG", quality=80))  # 20 MP
    assert done.original.width * done.original.height <= ORIGINAL_PIXELS
    assert done.original.width * done.original.height > ORIGINAL_PIXELS * 0.99
    assert abs(done.original.width / done.original.height - 1.25) < 0.01
    assert done.small.width * done.small.height <= SMALL_PIXELS


def test_animated_gif_keeps_its_first_frame() -> None:
    done = process_image(animated_gif(), "image/gif")
    assert done.animated and done.original.content_type == "image/png"
    assert reopen(done.original.data).size == (64, 48)


@pytest.mark.parametrize(("data", "content_type", "message"), [
    (png_header_only(50_000, 50_000), "image/png", "pixels"),        # 2.5 gigapixels: Pillow's bomb error
    (png_header_only(6_000, 6_000), "image/png", "pixels"),          # 36 MP: over image_matrix_limit
    (encode(photo(64, 64), "JPEG")[:300], "image/jpeg", "could not be read"),  # truncated
    (b"just some text, not an image", "image/png", "content type is invalid"),
    (encode(photo(64, 64), "TIFF"), "image/tiff", "content type is invalid"),  # a format not accepted
    (encode(photo(64, 64), "BMP"), "image/bmp", "content type is invalid"),
    (mp4_header(), "video/mp4", "Video and audio"),
    (b"ID3\x03\x00" + b"\x00" * 100, "audio/mpeg", "Video and audio"),
    (mp4_header(), "application/octet-stream", "Video and audio"),  # sniffed, whatever the client says
    (b"", "image/png", "blank"),
])
def test_refused_uploads(data: bytes, content_type: str, message: str) -> None:
    with pytest.raises(MediaRefused) as refused:
        process_image(data, content_type)
    assert refused.value.status_code == 422
    assert message in refused.value.message


def test_over_size_upload_is_413() -> None:
    with pytest.raises(MediaTooLarge) as refused:
        process_image(b"\xff" * (MAX_UPLOAD_BYTES + 1), "image/jpeg")
    assert refused.value.status_code == 413


def test_local_storage_round_trip_and_key_checks(tmp_path) -> None:  # type: ignore[no-untyped-def]
    storage = LocalStorage(tmp_path)
    storage.put("ab/abcd/original.jpg", b"bytes", "image/jpeg")
    assert storage.get("ab/abcd/original.jpg") == b"bytes" and storage.exists("ab/abcd/original.jpg")
    assert not list(tmp_path.rglob(".upload-*"))  # no temporary file left behind
    storage.delete("ab/abcd/original.jpg")
    assert not storage.exists("ab/abcd/original.jpg")
    with pytest.raises(MissingFile):
        storage.get("ab/abcd/original.jpg")
    for bad in ("../etc/passwd", "/abs", "a//b", "a/./b", ""):
        with pytest.raises(ValueError):
            storage.put(bad, b"x", "image/jpeg")
