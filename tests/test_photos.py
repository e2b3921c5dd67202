"""Hazard photos are checked by content, bounded in pixels, cleaned of EXIF and stored once.

Every image here is generated on the spot: flat colours and stripes, visibly made up.
"""

from __future__ import annotations

import io
from pathlib import Path

import pillow_heif
import pytest
from PIL import Image

from fieldbot.domain.hazards import PhotoRef
from fieldbot.services.photos import (
    MAX_BYTES,
    PhotoProblem,
    PhotoRejected,
    PhotoStore,
    check_size,
    clean,
)
from tests.builders import (
    GPS_IFD,
    ORIENTATION,
    PDF,
    encoded,
    loaded_cipher,
    made_up,
    png_declaring,
    with_gps,
)


def test_gps_exif_is_removed_and_the_pixels_kept() -> None:
    original = encoded(made_up(), "JPEG", exif=with_gps())
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the fixture has it

    cleaned, extension = clean(original)

    image = Image.open(io.BytesIO(cleaned))
    assert extension == "jpg" and image.format == "JPEG"
    assert dict(image.getexif()) == {}
    assert "exif" not in image.info and b"FixtureCam" not in cleaned
    assert image.size == (64, 48)


def test_the_exif_orientation_is_applied_before_it_is_dropped() -> None:
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # rotate 90° clockwise to display
    cleaned, _ = clean(encoded(made_up((64, 48)), "JPEG", exif=exif))
    assert Image.open(io.BytesIO(cleaned)).size == (48, 64)


@pytest.mark.parametrize(("fmt", "extension"), [("PNG", "png"), ("WEBP", "webp")])
def test_png_and_webp_keep_their_format_and_lose_their_metadata(fmt: str,
                                                                 extension: str) -> None:
    cleaned, got = clean(encoded(made_up(mode="RGBA"), fmt, exif=with_gps()))
    image = Image.open(io.BytesIO(cleaned))
    assert got == extension and image.format == fmt and image.mode == "RGBA"
    assert dict(image.getexif()) == {}


def test_heic_is_accepted_and_stored_as_jpeg() -> None:
    pillow_heif.register_heif_opener()
    cleaned, extension = clean(encoded(made_up(), "HEIF"))
    assert extension == "jpg" and Image.open(io.BytesIO(cleaned)).format == "JPEG"


def test_big_photos_are_scaled_down() -> None:
    cleaned, _ = clean(encoded(Image.new("RGB", (4000, 3000), (10, 120, 200)), "JPEG"))
    assert max(Image.open(io.BytesIO(cleaned)).size) == 2560


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (PDF, PhotoProblem.NOT_IMAGE),
        (b"GIF89a" + b"\x00" * 64, PhotoProblem.NOT_IMAGE),  # GIF is not on the list
        (encoded(made_up(), "BMP"), PhotoProblem.NOT_IMAGE),
        (png_declaring(100_000, 100_000), PhotoProblem.BOMB),  # Pillow's own bomb error
        (png_declaring(10_000, 10_000), PhotoProblem.BOMB),  # Pillow warns; we refuse
        (png_declaring(8_000, 7_000), PhotoProblem.BOMB),  # under Pillow's limit, over ours
        (encoded(made_up(), "JPEG")[:200], PhotoProblem.BROKEN),
    ],
    ids=["pdf", "gif", "bmp", "bomb-10-gigapixel", "bomb-100-megapixel", "bomb-56-megapixel",
         "truncated-jpeg"],
)
def test_what_is_refused_and_why(data: bytes, problem: PhotoProblem) -> None:
    with pytest.raises(PhotoRejected) as refused:
        clean(data)
    assert refused.value.problem is problem


def test_the_size_is_checked_before_anything_is_downloaded() -> None:
    check_size(MAX_BYTES)
    check_size(None)  # not announced: getFile and the download are checked later
    with pytest.raises(PhotoRejected) as refused:
        check_size(25 * 1024 * 1024)
    assert refused.value.problem is PhotoProblem.TOO_BIG


async def test_a_photo_is_stored_once_under_its_content_hash(tmp_path: Path) -> None:
    store = PhotoStore(tmp_path, loaded_cipher())
    data = encoded(made_up(), "JPEG", exif=with_gps())

    first = await store.add(data)
    second = await store.add(data)

    assert first == second
    assert first.path == f"photos/{first.sha256}.jpg"
    assert [p.name for p in (tmp_path / "photos").iterdir()] == [f"{first.sha256}.jpg"]
    stored = await store.read(first)  # decrypted: the file itself is a Fernet token
    assert stored is not None and Image.open(io.BytesIO(stored)).format == "JPEG"
    assert (tmp_path / first.path).read_bytes().startswith(b"gAAAAA")


def test_only_names_the_store_makes_are_resolved(tmp_path: Path) -> None:
    store = PhotoStore(tmp_path, loaded_cipher())
    with pytest.raises(ValueError, match="not a stored photo"):
        store.path(PhotoRef("0" * 64, "../../etc/passwd"))
