"""The encryption key's life cycle: the check at start-up (the canary), encrypting what was
stored before encryption at rest, the audit log's MAC key, and key rotation.

Encryption happens in the storage functions (they are given the cipher); this service owns the
key itself. What is done with a person's data as a whole is `services/privacy.py`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path

from fieldbot.clock import Clock
from fieldbot.crypto import Cipher, KeyProblem, UnreadableValue, generate_key, write_key_file
from fieldbot.services.photos import FOLDER as PHOTO_FOLDER
from fieldbot.services.photos import seal_stored
from fieldbot.storage import audit
from fieldbot.storage import vault as store
from fieldbot.storage.db import Database, Tx
from fieldbot.storage.privacy import truncate_wal
from fieldbot.storage.vault import CANARY

log = logging.getLogger(__name__)


class RotationRefused(Exception):
    """The key is set in the environment: the operator has to change it there (two steps)."""

    def __init__(self, message: str, new_key: str) -> None:
        super().__init__(message)
        self.new_key = new_key


@dataclass(frozen=True, slots=True)
class Rotation:
    values: int  # how many stored values were re-encrypted
    retired_keys: int  # how many older keys are no longer needed


class KeyService:
    def __init__(self, db: Database, clock: Clock, cipher: Cipher, data_dir: Path) -> None:
        self._db = db
        self._clock = clock
        self._cipher = cipher
        self._data_dir = data_dir

    async def unlock(self) -> None:
        """Load the key and prove it opens this database (run when the database opens).

        A database without a canary has no encrypted data yet: a missing key may be created.
        One with a canary must be opened by the configured key, or start-up stops: a new key
        would silently make every stored contact and lodging unreadable.
        """
        async with self._db.transaction() as conn:
            canary = await store.get_meta(conn, "canary")
            if canary is None:
                created = await asyncio.to_thread(self._cipher.load, create=True)
                if created:
                    log.warning(
                        "NEW ENCRYPTION KEY created at %s. Back it up now, and keep the copy "
                        "apart from the database and its backups: without this key the personal "
                        "data in %s cannot be read, and whoever holds both can read it all.",
                        self._cipher.key_file, self._db.where,
                    )
                await store.set_meta(conn, "canary", self._cipher.encrypt(CANARY))
            else:
                if not self._cipher.available():
                    raise KeyProblem(
                        f"{self._db.where} holds encrypted personal data but there is no key: "
                        f"restore the key file {self._cipher.key_file} from your backup, or "
                        "set FIELDBOT_ENCRYPTION_KEY. Do not start with a new key: the data "
                        "would stay unreadable."
                    )
                await asyncio.to_thread(self._cipher.load, create=False)
                self._check(canary)
            if await store.get_meta(conn, "plaintext") is not None:
                count = await store.encrypt_plaintext(conn, self._cipher)
                count += await asyncio.to_thread(
                    seal_stored, self._data_dir / PHOTO_FOLDER, self._cipher, rotate=False)
                await store.delete_meta(conn, "plaintext")
                if count:
                    log.warning("encrypted %s personal values stored before encryption at rest",
                                count)
            await self._unlock_audit(conn)
        await asyncio.to_thread(self._private_folder)
        await truncate_wal(self._db)

    async def _unlock_audit(self, conn: Tx) -> None:
        """Load the audit log's MAC key (made once, kept encrypted in the vault) and chain
        the entries written before the chain existed (see fieldbot.storage.audit)."""
        stored = await store.get_meta(conn, "audit_key")
        if stored is None:
            stored = self._cipher.encrypt(secrets.token_hex(32))
            await store.set_meta(conn, "audit_key", stored)
        audit.use_key(conn, bytes.fromhex(self._cipher.decrypt(stored)))
        if await store.get_meta(conn, "audit_unchained") is not None:
            sealed = await audit.start_chain(conn)
            await store.delete_meta(conn, "audit_unchained")
            if sealed:  # an upgrade, not a new database: say so, in the chain too
                await audit.record(conn, None, "audit_chain_start", None, f"sealed={sealed}",
                                   self._clock.now())
                log.warning("the audit log is chained from now on (%s earlier entries sealed)",
                            sealed)

    def _private_folder(self) -> None:
        """The data folder (key file, photos) is for the bot's user only: 0700."""
        if self._data_dir.is_dir():
            self._data_dir.chmod(0o700)

    def _check(self, canary: str) -> None:
        try:
            opened = self._cipher.decrypt(canary) == CANARY
        except UnreadableValue:
            opened = False
        if not opened:
            raise KeyProblem(
                f"the encryption key from {self._cipher.location} does not open the personal "
                f"data in {self._db.where}: it is not the key this database was encrypted with. "
                "Restore the right key (the key file from your backup, or the right "
                "FIELDBOT_ENCRYPTION_KEY); until then the bot does not start."
            )

    async def rotate_key(self) -> Rotation:
        """Re-encrypt every stored value under a new key; the old key stays usable until the
        last value is re-encrypted, then it is dropped from the key file.

        With the key in FIELDBOT_ENCRYPTION_KEY this process cannot change it: given
        "new,old" it re-encrypts under "new"; given one key it refuses with a new key to add.
        """
        keys = self._cipher.keys()
        from_env = self._cipher.from_environment
        retired = len(keys) - 1 if from_env else len(keys)
        if from_env:
            if len(keys) < 2:
                new_key = generate_key()
                raise RotationRefused(
                    "the key comes from FIELDBOT_ENCRYPTION_KEY. Set it to the new key followed "
                    "by the current one (FIELDBOT_ENCRYPTION_KEY=<new>,<current>), restart the "
                    "bot, run `fieldbot rotate-key` again, then remove the old key.",
                    new_key,
                )
        else:
            # Both keys first: any process reading the file can open old and new values alike.
            new_key = generate_key()
            await asyncio.to_thread(write_key_file, self._cipher.key_file, [new_key, *keys])
            self._cipher.reload()
        now = self._clock.now()
        async with self._db.transaction() as conn:
            values = await store.rotate_all(conn, self._cipher)
            # Photo files too, before the old key goes (rewritten atomically, one by one).
            values += await asyncio.to_thread(
                seal_stored, self._data_dir / PHOTO_FOLDER, self._cipher, rotate=True)
            await audit.record(conn, None, "key_rotate", None,
                               f"values={values} retired_keys={retired}", now)
        if not from_env:
            await asyncio.to_thread(write_key_file, self._cipher.key_file, [new_key])
            self._cipher.reload()
        await truncate_wal(self._db)
        log.warning("encryption key rotated: %s values re-encrypted", values)
        return Rotation(values, retired)
