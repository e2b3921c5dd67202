"""Personal fields encrypted at rest: Fernet tokens under a key kept outside the database.

The key comes from FIELDBOT_ENCRYPTION_KEY (one or more keys, newest first, comma-separated)
or from a key file (one key per line, newest first). MultiFernet encrypts with the first key
and decrypts with any, which is what makes rotation safe: during `fieldbot rotate-key` the key
file holds the new key and the old one, so every process can read every value at all times.

A running bot re-reads the key file when it changes (compared by inode, size and mtime on
each use): `fieldbot rotate-key` in another process must not leave the bot encrypting with a
key that is about to be dropped, nor unable to read what was just re-encrypted.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr

from fieldbot.config import ConfigError

log = logging.getLogger(__name__)

KEY_FILE_HEADER = (
    "# fieldbot encryption key(s), newest first. Back this file up apart from the database:\n"
    "# without it the personal data in the database cannot be read.\n"
)


class KeyProblem(ConfigError):
    """The key is missing, malformed or does not open the data: start-up stops."""


class UnreadableValue(Exception):
    """A stored value does not decrypt with any configured key."""


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


def is_valid_key(text: str) -> bool:
    """Return whether `text` is a Fernet key: 32 bytes in URL-safe base64."""
    try:
        return len(base64.urlsafe_b64decode(text.encode("ascii"))) == 32
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return False


def parse_keys(text: str, source: str) -> list[str]:
    """Split a key list (commas or lines, '#' comments) and check each key."""
    keys = [
        part.strip()
        for line in text.splitlines()
        if not line.strip().startswith("#")
        for part in line.split(",")
        if part.strip()
    ]
    if not keys:
        raise KeyProblem(f"{source}: holds no key")
    for number, key in enumerate(keys, 1):
        if not is_valid_key(key):
            # Never echo the value: it is a secret, or a typo of one.
            raise KeyProblem(
                f"{source}: key {number} is not a Fernet key (32 bytes, URL-safe base64; "
                "`python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'` makes one)"
            )
    return keys


def write_key_file(path: Path, keys: Sequence[str]) -> None:
    """Replace the key file atomically, readable by its owner only (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(KEY_FILE_HEADER + "".join(f"{key}\n" for key in keys))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class Cipher:
    """Encrypt and decrypt personal fields; the first key encrypts, every key decrypts.

    Nothing is read until `load()`: building the services must not create a key file.
    """

    def __init__(self, *, key: SecretStr | None, key_file: Path) -> None:
        self._env = key
        self.key_file = key_file
        self._keys: list[str] = []
        self._fernet: MultiFernet | None = None
        self._stamp: tuple[int, int, int] | None = None

    @property
    def from_environment(self) -> bool:
        return self._env is not None

    @property
    def location(self) -> str:
        """Where the key comes from, for messages (never the key itself)."""
        return "FIELDBOT_ENCRYPTION_KEY" if self._env is not None else str(self.key_file)

    def keys(self) -> list[str]:
        self._refresh()
        return list(self._keys)

    def available(self) -> bool:
        """Return whether a key is configured (the variable is set or the key file exists)."""
        return self._env is not None or self.key_file.exists()

    def load(self, *, create: bool) -> bool:
        """Read the keys; with `create`, make a new key file if none is configured.

        Returns True when a new key file was created (the caller says so, loudly).
        """
        if self._env is not None:
            self._use(parse_keys(self._env.get_secret_value(), "FIELDBOT_ENCRYPTION_KEY"), None)
            return False
        if not self.key_file.exists():
            if not create:
                raise KeyProblem(
                    f"no encryption key: {self.key_file} does not exist and "
                    "FIELDBOT_ENCRYPTION_KEY is not set"
                )
            write_key_file(self.key_file, [generate_key()])
            self._read_file()
            return True
        self._read_file()
        return False

    def reload(self) -> None:
        """Read the key file again now (after this process rewrote it)."""
        if self._env is None:
            self._read_file()

    def encrypt(self, text: str) -> str:
        """Return a Fernet token for `text`; the empty string stays empty (nothing to hide)."""
        if text == "":
            return ""
        return self._current().encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        return self._open(self._current(), token)

    def opener(self, token: str) -> Callable[[], str]:
        """Return a function that decrypts `token` when called, for a value that may never be
        shown. It keeps the keys of now: should a rotation end meanwhile and drop the key the
        value was read under, what was read before it still opens."""
        return partial(self._open, self._current(), token)

    def _open(self, fernet: MultiFernet, token: str) -> str:
        if token == "":
            return ""
        try:
            return fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeEncodeError):
            raise UnreadableValue(
                f"a stored value does not open with the key from {self.location}"
            ) from None

    def encrypt_bytes(self, data: bytes) -> bytes:
        """Return a Fernet token for a file's bytes (stored photos)."""
        return self._current().encrypt(data)

    def decrypt_bytes(self, token: bytes) -> bytes:
        try:
            return self._current().decrypt(token)
        except InvalidToken:
            raise UnreadableValue(
                f"a stored file does not open with the key from {self.location}"
            ) from None

    def rotate_bytes(self, token: bytes) -> bytes:
        try:
            return self._current().rotate(token)
        except InvalidToken:
            raise UnreadableValue(
                f"a stored file does not open with the key from {self.location}"
            ) from None

    def opens(self, token: str) -> bool:
        """Return whether `token` is a value this cipher made (so it is not plain text)."""
        if not token.startswith("gAAAAA"):
            return False
        try:
            self._current().decrypt(token.encode("ascii"))
        except (InvalidToken, UnicodeEncodeError):
            return False
        return True

    def encrypt_json(self, value: Any) -> str:
        return self.encrypt(json.dumps(value, ensure_ascii=False))

    def decrypt_json(self, token: str, empty: Any = None) -> Any:
        """Decrypt a JSON value; the empty string (purged) gives `empty`."""
        return json.loads(self.decrypt(token)) if token else empty

    def rotate(self, token: str) -> str:
        """Re-encrypt a token under the first key (it may have been made with any key)."""
        if token == "":
            return ""
        try:
            return self._current().rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise UnreadableValue(
                f"a stored value does not open with the key from {self.location}"
            ) from None

    # --- internals ----------------------------------------------------------------------

    def _current(self) -> MultiFernet:
        self._refresh()
        if self._fernet is None:
            raise RuntimeError("the encryption key has not been loaded (Services.start)")
        return self._fernet

    def _refresh(self) -> None:
        if self._env is not None or self._stamp is None:
            return
        try:
            st = os.stat(self.key_file)
        except FileNotFoundError:
            return  # keep what we have: a rotation replaces the file atomically
        if (st.st_ino, st.st_size, st.st_mtime_ns) != self._stamp:
            log.info("encryption key file changed; reloading it")
            self._read_file()

    def _read_file(self) -> None:
        try:
            st = os.stat(self.key_file)
            text = self.key_file.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyProblem(f"cannot read the key file {self.key_file}: {exc}") from None
        if st.st_mode & 0o077:
            log.warning(
                "the key file %s is readable by other users; chmod 600 it", self.key_file
            )
        self._use(parse_keys(text, str(self.key_file)), (st.st_ino, st.st_size, st.st_mtime_ns))

    def _use(self, keys: list[str], stamp: tuple[int, int, int] | None) -> None:
        self._keys = keys
        self._fernet = MultiFernet([Fernet(key.encode("ascii")) for key in keys])
        self._stamp = stamp
