"""Records the fake keeps: chats, messages, files, calls, sends, toasts and fault rules."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from faketelegram.errors import FakeError
from faketelegram.markup import inline_rows, keyboard_rows


@dataclass(frozen=True)
class Version:
    """What a message said before an edit."""

    text: str | None
    caption: str | None
    source: str | None
    reply_markup: dict[str, Any] | None
    edited_at: datetime | None


@dataclass(eq=False, repr=False)
class FakeMessage:
    """A message in a chat, sent by the bot or by a user; edits change it in place."""

    chat_id: int
    message_id: int
    sender_id: int
    from_bot: bool
    date: datetime
    text: str | None = None
    caption: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    source: str | None = None
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None
    protect_content: bool = False
    reply_to_message_id: int | None = None
    photo: list[dict[str, Any]] | None = None
    photo_bytes: bytes | None = None
    document: dict[str, Any] | None = None
    document_bytes: bytes | None = None
    location: dict[str, Any] | None = None
    contact: dict[str, Any] | None = None
    forward_origin: dict[str, Any] | None = None  # a MessageOrigin: whose message this was
    edit_date: datetime | None = None
    deleted: bool = False
    history: list[Version] = field(default_factory=list)

    @property
    def body(self) -> str | None:
        """Return the text, or the caption of a media message."""
        return self.text if self.text is not None else self.caption

    @property
    def html(self) -> str | None:
        """Return the message as HTML: the source if sent in HTML mode, else escaped text."""
        if self.parse_mode and self.parse_mode.lower() == "html":
            return self.source
        return None if self.body is None else html.escape(self.body, quote=False)

    @property
    def edited(self) -> bool:
        """Return whether the message was edited."""
        return bool(self.history)

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        """Return the inline keyboard rows as button dicts."""
        return inline_rows(self.reply_markup)

    @property
    def buttons(self) -> list[list[str]]:
        """Return the button texts, row by row, of the inline or reply keyboard."""
        rows = self.inline_keyboard or keyboard_rows(self.reply_markup)
        return [[button["text"] for button in row] for row in rows]

    def button(self, text: str) -> dict[str, Any]:
        """Return the button with this exact text; fail listing the buttons there are."""
        rows = self.inline_keyboard or keyboard_rows(self.reply_markup)
        for row in rows:
            for button in row:
                if button["text"] == text:
                    return button
        raise AssertionError(f"no button {text!r} in message {self.message_id}: {self.buttons}")

    def button_data(self, text: str) -> str:
        """Return the callback_data of the inline button with this text."""
        data = self.button(text).get("callback_data")
        if data is None:
            raise AssertionError(f"button {text!r} has no callback_data")
        return str(data)

    def __repr__(self) -> str:
        sender = "bot" if self.from_bot else f"user {self.sender_id}"
        kinds = ("photo", "document", "location", "contact")
        extras = "".join(f" {name}" for name in kinds if getattr(self, name))
        buttons = f" buttons={self.buttons}" if self.buttons else ""
        deleted = " deleted" if self.deleted else ""
        return (
            f"<FakeMessage #{self.message_id} in {self.chat_id} from {sender}:"
            f" {self.body!r}{extras}{buttons}{deleted}>"
        )

    def snapshot(self) -> Version:
        """Return the current content, to keep in the history before an edit."""
        return Version(self.text, self.caption, self.source, self.reply_markup, self.edit_date)


@dataclass
class Chat:
    """A private chat with a user, or a group the bot is in."""

    id: int
    type: str = "private"
    title: str | None = None
    messages: dict[int, FakeMessage] = field(default_factory=dict)
    last_message_id: int = 0
    migrated_to: int | None = None

    def next_message_id(self) -> int:
        """Return a new per-chat increasing message id."""
        self.last_message_id += 1
        return self.last_message_id


@dataclass(frozen=True)
class Sent:
    """One message the bot sent (sendMessage, sendPhoto, sendDocument, sendLocation)."""

    method: str
    chat_id: int
    message_id: int
    text: str | None
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    protect_content: bool
    photo: bytes | None
    file_id: str | None
    at: datetime
    message: FakeMessage


@dataclass
class Call:
    """One Bot API call as received, with the status it was answered with."""

    method: str
    params: dict[str, Any]
    files: list[str]
    at: datetime
    status: int | None = None


@dataclass(frozen=True)
class Toast:
    """The bot's answer to a button press (answerCallbackQuery)."""

    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    at: datetime


@dataclass
class CallbackQuery:
    """A button press waiting for answerCallbackQuery."""

    id: str
    user_id: int
    message_id: int | None
    data: str | None
    answer: Toast | None = None


@dataclass
class StoredFile:
    """A file on Telegram's servers, reachable through getFile and the file URL."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    file_size: int
    file_name: str | None = None
    mime_type: str | None = None

    def json(self) -> dict[str, Any]:
        """Return the File object getFile answers with."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
            "file_path": self.file_path,
        }


@dataclass
class FailureRule:
    """An injected fault: which method (or "*"), which chat, how many more times."""

    method: str
    error: FakeError
    remaining: int | None
    chat_id: int | None = None


@dataclass
class Webhook:
    """The webhook set with setWebhook."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    last_error_date: datetime | None = None
    last_error_message: str | None = None
