"""PTB persistence on the core's state store (our own database), so a restart mid-conversation
resumes it. What PTB's conversation keys mean stays here."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

from fieldbot.crypto import Cipher
from fieldbot.services.state import StateStore

_CONVERSATION = "conversation:"
_USER = "user"


def owner_of(key: ConversationKey) -> int | None:
    """Return the person a conversation belongs to: our conversations are per user, so PTB's
    key ends with the user id ((chat id, user id), or (user id,))."""
    last = key[-1] if key else None
    return last if isinstance(last, int) else None


class StatePersistence(BasePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """Persist conversation states and user_data (drafts); bot and chat data stay in memory.

    The store opens the database lazily because PTB loads persisted data in
    `Application.initialize()`, before `post_init` runs. Every row names the person it belongs
    to, so erasing a person deletes their drafts and open conversations. user_data is stored
    encrypted: a /trip draft holds the lodging and the emergency contact before they are saved.
    """

    def __init__(self, state: StateStore, cipher: Cipher, update_interval: float = 5) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )
        self._state = state
        self._cipher = cipher
        # What each person's stored user_data holds now (a digest; None or absent: no row, as
        # read at the start; only this persistence writes these rows, erasure aside, which
        # drops them). PTB hands over the user_data of everyone who sent an update since its
        # last look, changed or not: in the evening rush that was one encrypted write (or, for
        # nothing stored, one delete) per check-in, each holding the database's write lock the
        # check-ins wait for.
        self._stored: dict[int, bytes | None] = {}

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        stored = await self._state.load(_USER)
        found = {int(k): self._open(v) for k, v in stored.items()}
        self._stored = {user_id: _digest(data) for user_id, data in found.items()}
        return defaultdict(dict, found)

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        return defaultdict(dict)

    async def get_bot_data(self) -> dict[Any, Any]:
        return {}

    async def get_callback_data(self) -> CDCData | None:
        return None

    async def get_conversations(self, name: str) -> ConversationDict:
        stored = await self._state.load(_CONVERSATION + name)
        return {tuple(json.loads(k)): v for k, v in stored.items()}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        if new_state is None:
            await self._state.delete(_CONVERSATION + name, json.dumps(list(key)))
        else:
            await self._state.put(_CONVERSATION + name, json.dumps(list(key)), new_state,
                                  owner=owner_of(key))

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        digest = _digest(data) if data else None
        if self._stored.get(user_id) == digest:
            return  # stored as it is already (or nothing to store, and nothing stored)
        if data:
            await self._state.put(_USER, str(user_id), self._cipher.encrypt_json(data),
                                  owner=user_id)
        else:
            await self._state.delete(_USER, str(user_id))
        self._stored[user_id] = digest

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        return None

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        return None

    async def update_callback_data(self, data: CDCData) -> None:
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        return None

    def _open(self, stored: object) -> dict[Any, Any]:
        """Decrypt stored user_data (a token); a dict is from before encryption at rest."""
        if isinstance(stored, str):
            return dict(self._cipher.decrypt_json(stored, empty={}))
        return dict(stored) if isinstance(stored, dict) else {}

    async def drop_user_data(self, user_id: int) -> None:
        await self._state.delete(_USER, str(user_id))
        self._stored[user_id] = None

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        return None

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        return None

    async def flush(self) -> None:
        return None


def _digest(data: dict[Any, Any]) -> bytes:
    """A fingerprint of user_data as stored (its JSON), to tell whether it changed."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()
