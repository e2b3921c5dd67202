"""Photos of hazards: checked, cleaned and stored under their content hash.

What arrives is untrusted: a photo sent "as file" carries its EXIF (GPS position, device), a
"photo" may be a PDF, and a few hundred bytes of PNG can declare a gigapixel image. So: the size
is checked before anything is downloaded, the format is decided by content (never by the name or
mime type), the pixel count and the shape are bounded before decoding, and only freshly encoded
pixels are stored — no metadata survives the round trip.

Decoding is where the memory goes, and it is bounded three ways: the header alone (read by
`Image.open` without decoding) must declare at most MAX_PIXELS in a shape no more elongated than
MAX_ASPECT (a 243 KB PNG of 1 x 50,000,000 pixels is within the pixel count but Pillow keeps a
pointer per row, and it peaked at 1.2 GB); at most DECODES_AT_ONCE photos are decoded at a time
in the whole process; and the full-size pixels are scaled down before any other copy is made.

Stored files are encrypted with the personal-data cipher (a Fernet token of the cleaned bytes)
and readable by the bot's user only (0600): a copy of the data folder shows no picture.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from collections.abc import AsyncIterator, Hashable, Iterable
from contextlib import asynccontextmanager, nullcontext
from enum import StrEnum
from pathlib import Path

from fieldbot.crypto import Cipher
from fieldbot.domain.hazards import PhotoRef

MAX_BYTES = 20 * 1024 * 1024  # what the Bot API lets a bot download at all
MAX_PIXELS = 50_000_000  # a 50 MP camera; well below Pillow's own bomb warning (89 MP)
MAX_ASPECT = 20  # long side / short side: phone panoramas are about 4:1, long screenshots 10:1
DECODES_AT_ONCE = 2  # the worst photo decodes in ~0.2 GB; never more than this many at a time
MAX_SIDE = 2560  # stored photos are scaled down to this, like Telegram's own compression
FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
FOLDER = "photos"
_STORED = re.compile(r"photos/[0-9a-f]{64}\.(jpg|png|webp)")



class PhotoProblem(StrEnum):
    TOO_BIG = "too_big"  # over 20 MB
    NOT_IMAGE = "not_image"  # not JPEG, PNG, WebP or HEIC (by content)
    BOMB = "bomb"  # more pixels than any camera makes: a decompression bomb
    SHAPE = "shape"  # a strip far longer than any photo (1 x 50,000,000): a bomb by shape
    BROKEN = "broken"  # looks like an image but cannot be decoded


class PhotoRejected(Exception):
    def __init__(self, problem: PhotoProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def check_size(size: int | None) -> None:
    """Refuse a file whose announced size is over the limit (before downloading it)."""
    if size is not None and size > MAX_BYTES:
        raise PhotoRejected(PhotoProblem.TOO_BIG)


def clean(data: bytes) -> tuple[bytes, str]:
    """Return the image re-encoded without any metadata, and its file extension.

    Raises PhotoRejected. CPU-bound: call it in a thread.
    """
    check_size(len(data))
    # Pillow and its HEIF plugin load with the first photo, not at every start of the bot.
    from fieldbot.services.pixels import reencoded

    return reencoded(data)


class _OneAtATime:
    """A lock per key (a person), kept only while someone holds it or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def turn(self, key: Hashable) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class PhotoStore:
    """Cleaned photos under `<data_dir>/photos/<sha256>.<ext>`: one file per content, its
    bytes encrypted (the name is the hash of the cleaned, unencrypted photo)."""

    def __init__(self, data_dir: Path, cipher: Cipher) -> None:
        self._root = data_dir
        self._cipher = cipher
        # Memory: one photo at a time per person (an album of ten 50 MP files sent "as file"
        # is checked one after the other), and DECODES_AT_ONCE in the whole process.
        self._turns = _OneAtATime()
        self._decoding = asyncio.Semaphore(DECODES_AT_ONCE)

    def path(self, ref: PhotoRef) -> Path:
        """Return where a photo lies; only names this store makes are accepted."""
        if not _STORED.fullmatch(ref.path) or not ref.path.startswith(f"{FOLDER}/{ref.sha256}."):
            raise ValueError("not a stored photo")
        return self._root / ref.path

    async def add(self, data: bytes, owner: Hashable = None) -> PhotoRef:
        """Clean and store a photo (a duplicate is stored once); raises PhotoRejected.

        Photos of the same owner (a person) are checked one at a time, in the order they were
        added; without an owner only the process-wide bound applies.
        """
        turn = self._turns.turn(owner) if owner is not None else nullcontext()
        async with turn, self._decoding:
            return await asyncio.to_thread(self._add, data)

    def _add(self, data: bytes) -> PhotoRef:
        cleaned, extension = clean(data)
        digest = hashlib.sha256(cleaned).hexdigest()
        ref = PhotoRef(digest, f"{FOLDER}/{digest}.{extension}")
        target = self.path(ref)
        if not target.exists():
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_private(target, self._cipher.encrypt_bytes(cleaned))
        return ref

    async def read(self, ref: PhotoRef) -> bytes | None:
        """Return a stored photo's (decrypted) bytes; None if it is gone."""
        return await self.read_file(self.path(ref))

    async def read_file(self, path: Path) -> bytes | None:
        """Return the decrypted bytes of a stored photo given by its full path (as the outbox
        carries it); None if it is gone. Only files of this store are read."""
        if path.parent != self._root / FOLDER or not _STORED.fullmatch(
            f"{FOLDER}/{path.name}"
        ):
            raise ValueError("not a stored photo")
        try:
            token = await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None
        return self._cipher.decrypt_bytes(token)

    async def remove(self, refs: Iterable[PhotoRef]) -> None:
        """Delete stored photos (those of a draft that was cancelled)."""
        await asyncio.to_thread(self._remove, list(refs))

    def _remove(self, refs: list[PhotoRef]) -> None:
        for ref in refs:
            self.path(ref).unlink(missing_ok=True)


def write_private(target: Path, data: bytes) -> None:
    """Write a file readable by its owner only (0600), atomically: a reader never sees half."""
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(partial, 0o600)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def seal_stored(folder: Path, cipher: Cipher, *, rotate: bool) -> int:
    """Encrypt the stored photos that are not encrypted yet (written before photos were), or
    with `rotate` re-encrypt every one under the cipher's first key; make each 0600.

    Returns how many files were rewritten. Blocking: call it in a thread."""
    if not folder.is_dir():
        return 0
    folder.chmod(0o700)
    changed = 0
    for path in sorted(folder.iterdir()):
        if not _STORED.fullmatch(f"{FOLDER}/{path.name}"):
            continue
        data = path.read_bytes()
        if not data.startswith(b"gAAAAA"):  # a Fernet token's first bytes; no image's
            write_private(path, cipher.encrypt_bytes(data))
        elif rotate:
            write_private(path, cipher.rotate_bytes(data))
        else:
            path.chmod(0o600)
            continue
        changed += 1
    return changed
