"""Photos and documents: what an upload, a file_id or a URL becomes on Telegram's side."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from faketelegram.errors import bad_request
from faketelegram.models import StoredFile
from faketelegram.params import Upload

if TYPE_CHECKING:
    from faketelegram.api import FakeTelegram

_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM")
_BOXES = (90, 320, 800, 1280)
_WRONG_FILE = "wrong file identifier/HTTP URL specified"


@dataclass(frozen=True)
class Media:
    """The JSON Telegram shows for a file, its bytes and the file_id to record."""

    json: Any
    data: bytes
    file_id: str


def looks_like_image(data: bytes) -> bool:
    """Return whether data starts like a JPEG, PNG, GIF, BMP or WebP file."""
    is_webp = data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    return data.startswith(_IMAGE_MAGIC) or is_webp


def photo_sizes(
    fake: FakeTelegram,
    data: bytes,
    width: int = 1280,
    height: int = 960,
    file_size: int | None = None,
) -> list[dict[str, Any]]:
    """Store data as the PhotoSize list Telegram makes of a compressed photo, smallest first."""
    sizes: list[dict[str, Any]] = []
    seen: set[tuple[int, int]] = set()
    for box in _BOXES:
        scale = min(1.0, box / max(width, height, 1))
        dims = (max(1, round(width * scale)), max(1, round(height * scale)))
        if dims in seen:
            continue
        seen.add(dims)
        stored = fake.store_file(data, "photos", "jpg", file_size)
        sizes.append(_size_json(stored, *dims))
    return sizes


def _size_json(stored: StoredFile, width: int, height: int) -> dict[str, Any]:
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "width": width,
        "height": height,
        "file_size": stored.file_size,
    }


def document_json(stored: StoredFile) -> dict[str, Any]:
    """Return the Document object of a stored file."""
    data: dict[str, Any] = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.file_size,
    }
    if stored.file_name:
        data["file_name"] = stored.file_name
    if stored.mime_type:
        data["mime_type"] = stored.mime_type
    return data


def photo_from(fake: FakeTelegram, photo: Upload | str) -> Media:
    """Return the photo a sendPhoto makes of an upload, a known file_id or a URL."""
    if isinstance(photo, Upload):
        if not looks_like_image(photo.data):
            raise bad_request("IMAGE_PROCESS_FAILED")
        sizes = photo_sizes(fake, photo.data)
        return Media(sizes, photo.data, sizes[-1]["file_id"])
    stored = _known(fake, photo, "photos", "jpg")
    return Media([_size_json(stored, 1280, 960)], stored.data, stored.file_id)


def document_from(fake: FakeTelegram, document: Upload | str) -> Media:
    """Return the document a sendDocument makes of an upload, a known file_id or a URL."""
    if isinstance(document, Upload):
        name = document.filename or "file"
        mime = document.mime_type or mimetypes.guess_type(name)[0]
        extension = name.rsplit(".", 1)[-1] if "." in name else "bin"
        stored = fake.store_file(document.data, "documents", extension, None, name, mime)
    else:
        stored = _known(fake, document, "documents", "bin")
    return Media(document_json(stored), stored.data, stored.file_id)


def _known(fake: FakeTelegram, reference: str, folder: str, extension: str) -> StoredFile:
    """Return the stored file for a file_id, or a placeholder for a URL Telegram fetched."""
    if reference in fake.files:
        return fake.files[reference]
    if reference.startswith(("http://", "https://")):
        return fake.store_file(b"", folder, extension, file_name=reference.rsplit("/", 1)[-1])
    raise bad_request(_WRONG_FILE)
