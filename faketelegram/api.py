"""FakeTelegram: the state of a fake Bot API server and the entry point of every call."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from faketelegram.errors import (
    ApiError,
    Conflict,
    FakeError,
    Migrated,
    SimulatedTimeout,
    bad_request,
    forbidden,
)
from faketelegram.html import parse_html
from faketelegram.methods import METHODS
from faketelegram.models import (
    Call,
    CallbackQuery,
    Chat,
    FailureRule,
    FakeMessage,
    Sent,
    StoredFile,
    Webhook,
)
from faketelegram.params import Params, Upload
from faketelegram.users import FakeUser

DEFAULT_TOKEN = "123456:TEST-fixture-token"  # noqa: S105 - a fixture, not a secret
Dispatch = Callable[[dict[str, Any]], Awaitable[None]]
_JSON_PARAMS = {
    "reply_markup",
    "reply_parameters",
    "commands",
    "scope",
    "allowed_updates",
    "menu_button",
    "entities",
    "caption_entities",
    "link_preview_options",
}
_INT_PARAMS = {"chat_id", "message_id", "user_id", "reply_to_message_id", "offset", "limit"}
_BOOL_PARAMS = {
    "protect_content",
    "disable_notification",
    "show_alert",
    "drop_pending_updates",
    "allow_sending_without_reply",
    "disable_web_page_preview",
}


def _utcnow() -> datetime:
    return datetime.now(UTC)


def timestamp(moment: datetime) -> int:
    """Return a Bot API date: whole seconds since the epoch."""
    return int(moment.timestamp())


class FakeTelegram:
    """An in-memory Telegram Bot API: state, methods, fault injection and user actions."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        username: str = "fieldbot_test_bot",
        clock: Callable[[], datetime] | None = None,
        dispatch: Dispatch | None = None,
        first_name: str = "FieldBot",
    ) -> None:
        self.token = token
        self.username = username
        self.first_name = first_name
        self.bot_id = int(token.split(":")[0])
        self.clock = clock or _utcnow
        self.dispatch = dispatch
        self.deliver_webhooks = False
        self.webhook_transport: httpx.AsyncBaseTransport | None = None
        self.timeout_delay = 30.0
        self.strict_html = True
        self.calls: list[Call] = []
        self.sent: list[Sent] = []
        self.updates: list[dict[str, Any]] = []
        self.pending: list[dict[str, Any]] = []
        self.users: dict[int, FakeUser] = {}
        self.chats: dict[int, Chat] = {}
        self.files: dict[str, StoredFile] = {}
        self.callback_queries: dict[str, CallbackQuery] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.webhook: Webhook | None = None
        self._rules: list[FailureRule] = []
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(10_001)
        self._changed = asyncio.Condition()
        self._webhook_lock = asyncio.Lock()
        self._release = asyncio.Event()
        self._poll_generation = 0

    # -- people and chats ---------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str,
        language_code: str = "en",
        username: str | None = None,
        last_name: str | None = None,
    ) -> FakeUser:
        """Return the user with this id, creating them (not yet started) on first use."""
        if user_id not in self.users:
            self.users[user_id] = FakeUser(
                self, user_id, first_name, language_code, username, last_name
            )
            self.chats[user_id] = Chat(user_id)
        return self.users[user_id]

    def group(self, chat_id: int, title: str, chat_type: str = "group") -> Chat:
        """Return the group chat with this id, creating it with the bot as a member."""
        return self.chats.setdefault(chat_id, Chat(chat_id, chat_type, title))

    def migrate(self, chat_id: int, new_chat_id: int) -> Chat:
        """Upgrade a group to a supergroup: the old id now answers with migrate_to_chat_id."""
        old = self.chats[chat_id]
        old.migrated_to = new_chat_id
        return self.group(new_chat_id, old.title or "", "supergroup")

    def block(self, user_id: int) -> None:
        """Mark the user as having blocked the bot (no update; see `FakeUser.block`)."""
        self.users[user_id].blocked = True

    def unblock(self, user_id: int) -> None:
        """Mark the user as having unblocked the bot (no update; see `FakeUser.unblock`)."""
        self.users[user_id].blocked = False

    def deactivate(self, user_id: int) -> None:
        """Mark the user's account as deleted."""
        self.users[user_id].deactivated = True

    # -- the API --------------------------------------------------------------------------

    async def call(
        self,
        token: str,
        method: str,
        params: Mapping[str, Any],
        files: Mapping[str, bytes | Upload] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Run one Bot API method; return the HTTP status and Telegram's JSON answer.

        Raises `SimulatedTimeout` when an injected `Timeout` fires; `calls` then shows the call
        with status None.
        """
        known = METHODS.get(method.lower())
        p = Params(params, files)
        record = Call(known[0] if known else method, _normalise(p), list(p.files), self.now())
        self.calls.append(record)
        try:
            status, body = await self._answer(token, known, p)
        except SimulatedTimeout as timeout:
            # Bind the hang to today's release event, so release_timeouts() called as soon as
            # the call is visible still frees it.
            timeout.release, timeout.delay = self._release, self.timeout_delay
            await self._notify()
            raise
        record.status = status
        await self._notify()
        return status, body

    async def _answer(
        self, token: str, known: tuple[str, Any] | None, p: Params
    ) -> tuple[int, dict[str, Any]]:
        try:
            if token != self.token:
                raise ApiError(401, "Unauthorized")
            if known is None:
                raise ApiError(404, "Not Found")
            name, handler = known
            fault = self._take_fault(name, p)
            if fault is not None and not fault.executes:
                fault.raise_error()
            result = await handler(self, p)
            if fault is not None:
                fault.raise_error()
        except ApiError as error:
            return error.status, error.body()
        return 200, {"ok": True, "result": result}

    def download(self, token: str, file_path: str) -> bytes | None:
        """Return the bytes served at /file/bot<token>/<file_path>, or None (404)."""
        if token != self.token:
            return None
        for stored in self.files.values():
            if stored.file_path == file_path:
                return stored.data
        return None

    # -- fault injection ------------------------------------------------------------------

    def fail_next(
        self, method: str, error: FakeError, times: int = 1, chat_id: int | None = None
    ) -> None:
        """Make the next `times` calls of method ("*" for any) fail with error."""
        self._rules.append(FailureRule(method.lower(), error, times, chat_id))

    def fail_always(self, method: str, error: FakeError, chat_id: int | None = None) -> None:
        """Make every call of method ("*" for any) fail with error until cleared."""
        self._rules.append(FailureRule(method.lower(), error, None, chat_id))

    def clear_failures(self) -> None:
        """Remove every injected fault."""
        self._rules.clear()

    def _take_fault(self, method: str, p: Params) -> FakeError | None:
        for rule in self._rules:
            if rule.method not in (method.lower(), "*"):
                continue
            if rule.chat_id is not None and str(p.get("chat_id")) != str(rule.chat_id):
                continue
            if rule.remaining is not None:
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self._rules.remove(rule)
            return rule.error
        return None

    def release_timeouts(self) -> None:
        """Let every loopback request hanging on an injected Timeout give up now."""
        self._release.set()
        self._release = asyncio.Event()

    # -- reading what happened ------------------------------------------------------------

    def now(self) -> datetime:
        """Return the fake's current time."""
        return self.clock()

    def sent_to(self, chat_id: int) -> list[Sent]:
        """Return what the bot sent to one chat, oldest first."""
        return [s for s in self.sent if s.chat_id == chat_id]

    def messages_in(self, chat_id: int) -> list[FakeMessage]:
        """Return every message of a chat, from the bot and from the user, deleted included."""
        return list(self.chats[chat_id].messages.values())

    def calls_to(self, method: str) -> list[Call]:
        """Return the calls of one method (case-insensitive)."""
        return [c for c in self.calls if c.method.lower() == method.lower()]

    async def wait_for(
        self,
        predicate: Callable[[], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - the bound is part of the assertion
    ) -> None:
        """Wait until predicate holds; it is re-checked after every call and delivery."""
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(predicate), timeout)
            except TimeoutError:
                raise AssertionError(f"condition still false after {timeout} s") from None

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- building state for the methods ---------------------------------------------------

    def next_id(self) -> int:
        """Return a fresh number for file and callback query ids."""
        return next(self._ids)

    def find_chat(self, p: Params) -> Chat:
        """Return the chat named by chat_id, or raise "chat not found"."""
        raw = p.get("chat_id")
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        try:
            chat = self.chats.get(int(raw))
        except (TypeError, ValueError):
            chat = None
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def chat_for_send(self, p: Params) -> Chat:
        """Return the chat to send to, raising what Telegram raises when the bot may not."""
        chat = self.find_chat(p)
        if chat.migrated_to is not None:
            Migrated(chat.migrated_to).raise_error()
        user = self.users.get(chat.id) if chat.type == "private" else None
        if user is not None:
            if user.deactivated:
                raise forbidden("user is deactivated")
            if user.blocked:
                raise forbidden("bot was blocked by the user")
            if not user.started:
                raise forbidden("bot can't initiate conversation with a user")
        return chat

    def format(
        self, text: str, parse_mode: str | None, entities: Any
    ) -> tuple[str, list[dict[str, Any]]]:
        """Return plain text and entities for text sent with parse_mode."""
        if parse_mode and parse_mode.lower() == "html":
            return parse_html(text, self.strict_html)
        if not parse_mode and isinstance(entities, list):
            return text, entities
        return text, []

    def new_message(self, chat: Chat, from_bot: bool, sender_id: int) -> FakeMessage:
        """Store and return an empty message in chat with the next message id."""
        message = FakeMessage(chat.id, chat.next_message_id(), sender_id, from_bot, self.now())
        chat.messages[message.message_id] = message
        return message

    def record_sent(self, method: str, message: FakeMessage, file_id: str | None) -> None:
        """Append a send to `sent`."""
        self.sent.append(
            Sent(
                method,
                message.chat_id,
                message.message_id,
                message.body,
                message.parse_mode,
                message.reply_markup,
                message.protect_content,
                message.photo_bytes,
                file_id,
                message.date,
                message,
            )
        )

    def store_file(
        self,
        data: bytes,
        folder: str,
        extension: str,
        file_size: int | None = None,
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> StoredFile:
        """Keep data as a file reachable through getFile; return its record."""
        number = self.next_id()
        stored = StoredFile(
            file_id=f"FAKE-{folder}-{number:06d}-{self.bot_id}",
            file_unique_id=f"U{number:06d}",
            file_path=f"{folder}/file_{number}.{extension}",
            data=data,
            file_size=len(data) if file_size is None else file_size,
            file_name=file_name,
            mime_type=mime_type,
        )
        self.files[stored.file_id] = stored
        return stored

    # -- JSON -----------------------------------------------------------------------------

    def bot_json(self) -> dict[str, Any]:
        """Return the bot as a User object."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def chat_json(self, chat: Chat) -> dict[str, Any]:
        """Return a Chat object."""
        user = self.users.get(chat.id) if chat.type == "private" else None
        if user is None:
            return {"id": chat.id, "type": chat.type, "title": chat.title or ""}
        data: dict[str, Any] = {"id": chat.id, "type": "private", "first_name": user.first_name}
        if user.last_name:
            data["last_name"] = user.last_name
        if user.username:
            data["username"] = user.username
        return data

    def message_json(self, message: FakeMessage, nested: bool = False) -> dict[str, Any]:
        """Return a Message object as Telegram would send it."""
        chat = self.chats[message.chat_id]
        sender = self.bot_json() if message.from_bot else self.users[message.sender_id].json()
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "from": sender,
            "chat": self.chat_json(chat),
            "date": timestamp(message.date),
        }
        if message.text is not None:
            data["text"] = message.text
        if message.caption is not None:
            data["caption"] = message.caption
        if message.entities:
            data["entities" if message.text is not None else "caption_entities"] = message.entities
        for key in ("photo", "document", "location", "contact", "forward_origin"):
            if getattr(message, key) is not None:
                data[key] = getattr(message, key)
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            data["reply_markup"] = message.reply_markup
        if message.protect_content:
            data["has_protected_content"] = True
        if message.edit_date is not None:
            data["edit_date"] = timestamp(message.edit_date)
        replied = chat.messages.get(message.reply_to_message_id or 0)
        if replied is not None and not nested:
            data["reply_to_message"] = self.message_json(replied, nested=True)
        return data

    # -- delivering updates ---------------------------------------------------------------

    def next_update_id(self) -> int:
        """Return the next update_id."""
        return next(self._update_ids)

    async def deliver(self, update: dict[str, Any]) -> None:
        """Hand an update to the bot: the dispatch callback, the webhook, or getUpdates."""
        self.updates.append(update)
        if self.dispatch is not None:
            await self.dispatch(update)
        else:
            self.pending.append(update)
            if self.webhook is not None and self.deliver_webhooks:
                await self.flush_webhook()
        await self._notify()

    async def flush_webhook(self) -> bool:
        """POST pending updates to the webhook in order; return whether all were accepted."""
        async with self._webhook_lock:
            hook = self.webhook
            if hook is None:
                return False
            headers = {}
            if hook.secret_token:
                headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
            async with httpx.AsyncClient(transport=self.webhook_transport) as client:
                while self.pending:
                    try:
                        answer = await client.post(hook.url, json=self.pending[0], headers=headers)
                    except httpx.HTTPError as exc:
                        return self._webhook_failed(hook, f"Connection failed: {exc!r}")
                    if not answer.is_success:
                        return self._webhook_failed(
                            hook,
                            f"Wrong response from the webhook: {answer.status_code} "
                            f"{answer.reason_phrase}",
                        )
                    self.pending.pop(0)
        return True

    def _webhook_failed(self, hook: Webhook, message: str) -> bool:
        hook.last_error_date = self.now()
        hook.last_error_message = message
        return False

    async def poll(self, offset: int | None, limit: int, wait: float) -> list[dict[str, Any]]:
        """Confirm updates below offset, then wait up to `wait` seconds for some (getUpdates)."""
        if offset is not None and offset > 0:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
        elif offset is not None and offset < 0:
            self.pending = self.pending[offset:]
        self._poll_generation += 1
        generation = self._poll_generation
        await self._notify()
        if not self.pending and wait > 0:
            async with self._changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._changed.wait_for(
                            lambda: bool(self.pending) or self._poll_generation != generation
                        ),
                        wait,
                    )
        if self._poll_generation != generation:
            Conflict().raise_error()
        return self.pending[:limit]


def _normalise(p: Params) -> dict[str, Any]:
    """Return call parameters with form strings decoded where the type is known."""
    values: dict[str, Any] = {}
    for name, value in p.values.items():
        if isinstance(value, str) and name in _JSON_PARAMS:
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        elif isinstance(value, str) and name in _INT_PARAMS:
            with contextlib.suppress(ValueError, TypeError):
                value = int(value)
        elif isinstance(value, str) and name in _BOOL_PARAMS:
            value = p.get_bool(name)
        values[name] = value
    return values
