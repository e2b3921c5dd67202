"""FakeUser: a person talking to the bot; every action becomes a Telegram Update."""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any

from faketelegram.media import document_json, photo_sizes
from faketelegram.models import CallbackQuery, Chat, FakeMessage, Toast

if TYPE_CHECKING:
    from faketelegram.api import FakeTelegram

_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,64}(@[A-Za-z0-9_]{1,64})?")


class FakeUser:
    """A Telegram user in a private chat with the bot."""

    def __init__(
        self,
        fake: FakeTelegram,
        user_id: int,
        first_name: str,
        language_code: str = "en",
        username: str | None = None,
        last_name: str | None = None,
    ) -> None:
        self.fake = fake
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.started = False
        self.blocked = False
        self.deactivated = False
        self.toasts: list[Toast] = []
        self._last_update: dict[str, Any] | None = None
        self._action_mark = 0
        self._live: FakeMessage | None = None

    def json(self) -> dict[str, Any]:
        """Return this user as a Telegram User object."""
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        data["language_code"] = self.language_code
        return data

    # -- reading --------------------------------------------------------------------------

    @property
    def chat(self) -> Chat:
        """Return the private chat with the bot."""
        return self.fake.chats[self.id]

    @property
    def messages(self) -> list[FakeMessage]:
        """Return the bot's messages in this chat that were not deleted, oldest first."""
        return [m for m in self.chat.messages.values() if m.from_bot and not m.deleted]

    @property
    def last(self) -> FakeMessage:
        """Return the newest message from the bot."""
        if not self.messages:
            raise AssertionError(f"user {self.id} has received no message")
        return self.messages[-1]

    def texts(self) -> list[str]:
        """Return the text (or caption) of each message from the bot."""
        return [m.body for m in self.messages if m.body is not None]

    def mark(self) -> int:
        """Return a bookmark for `since`: the newest message id in the chat."""
        return self.chat.last_message_id

    def since(self, mark: int) -> list[FakeMessage]:
        """Return the bot's messages that arrived after mark."""
        return [m for m in self.messages if m.message_id > mark]

    @property
    def keyboard(self) -> list[list[dict[str, Any]]] | None:
        """Return the reply keyboard now shown under the input field, if any."""
        shown = None
        for message in self.messages:
            markup = message.reply_markup or {}
            if "keyboard" in markup:
                shown = markup["keyboard"]
            elif markup.get("remove_keyboard"):
                shown = None
        return shown

    async def wait_for_message(
        self,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - the bound is part of the assertion
    ) -> list[FakeMessage]:
        """Wait until count messages arrived after this user's last action; return them."""
        mark = self._action_mark
        await self.fake.wait_for(lambda: len(self.since(mark)) >= count, timeout)
        return self.since(mark)

    # -- acting ---------------------------------------------------------------------------

    async def send(self, text: str, reply_to: FakeMessage | None = None) -> FakeMessage:
        """Send a text message; a leading /command gets its bot_command entity."""
        message = self._new_message(reply_to)
        message.text = text
        match = _COMMAND.match(text)
        if match:
            message.entities = [{"type": "bot_command", "offset": 0, "length": match.end()}]
        await self._send_message(message)
        return message

    async def forward(self, text: str, written_by: FakeUser) -> FakeMessage:
        """Forward to the bot a text message someone else wrote (entities kept, as Telegram
        keeps them: a forwarded "/sos" still carries its bot_command)."""
        message = self._new_message(None)
        message.text = text
        match = _COMMAND.match(text)
        if match:
            message.entities = [{"type": "bot_command", "offset": 0, "length": match.end()}]
        message.forward_origin = {"type": "user", "sender_user": written_by.json(),
                                  "date": int(message.date.timestamp()) - 60}
        await self._send_message(message)
        return message

    async def tap(self, text: str) -> FakeMessage:
        """Tap a plain button of the reply keyboard, which sends its text."""
        rows = self.keyboard or []
        button = next((b for row in rows for b in row if b["text"] == text), None)
        if button is None:
            shown = [[b["text"] for b in row] for row in rows]
            raise AssertionError(f"no reply keyboard button {text!r}; shown: {shown}")
        if button.get("request_location") or button.get("request_contact"):
            raise AssertionError(f"{text!r} asks for a location or contact: use share_*")
        return await self.send(text)

    async def press(self, button_text: str, message: FakeMessage | None = None) -> Toast | None:
        """Press the inline button with this text in message, or in the newest message with it.

        Returns the bot's answer (toast) if it answered before the update was handled.
        """
        candidates = [message] if message is not None else list(reversed(self.messages))
        for candidate in candidates:
            for row in candidate.inline_keyboard:
                for button in row:
                    if button["text"] == button_text:
                        if "callback_data" not in button:
                            raise AssertionError(f"button {button_text!r} has no callback_data")
                        return await self.press_data(button["callback_data"], candidate)
        shown = {m.message_id: m.buttons for m in candidates if m.inline_keyboard}
        raise AssertionError(f"no inline button {button_text!r}; buttons by message: {shown}")

    async def press_data(
        self, callback_data: str, message: FakeMessage | None = None
    ) -> Toast | None:
        """Send a callback query with arbitrary data, as a forged client could."""
        message = message or self.last
        query_id = str(self.id * 1_000_000 + self.fake.next_id())
        query = CallbackQuery(query_id, self.id, message.message_id, callback_data)
        self.fake.callback_queries[query.id] = query
        await self._deliver(
            {
                "callback_query": {
                    "id": query.id,
                    "from": self.json(),
                    "message": self.fake.message_json(message),
                    "chat_instance": str(-self.id),
                    "data": callback_data,
                }
            }
        )
        return query.answer

    async def forward_location(self, latitude: float, longitude: float,
                               written_by: FakeUser) -> FakeMessage:
        """Forward to the bot a pin someone else sent (where they are, not where I am)."""
        message = self._new_message(None)
        message.location = {"latitude": latitude, "longitude": longitude}
        message.forward_origin = {"type": "user", "sender_user": written_by.json(),
                                  "date": int(message.date.timestamp()) - 60}
        await self._send_message(message)
        return message

    async def share_location(
        self,
        latitude: float,
        longitude: float,
        live_period: int | None = None,
        horizontal_accuracy: float | None = None,
    ) -> FakeMessage:
        """Share a location; with live_period it is a live location that can be updated."""
        message = self._new_message()
        message.location = {"latitude": latitude, "longitude": longitude}
        if horizontal_accuracy is not None:
            message.location["horizontal_accuracy"] = horizontal_accuracy
        if live_period is not None:
            message.location["live_period"] = live_period
            self._live = message
        await self._send_message(message)
        return message

    async def update_live_location(self, latitude: float, longitude: float) -> FakeMessage:
        """Move the current live location: Telegram sends an edited_message."""
        message = self._live
        if message is None or message.location is None:
            raise AssertionError(f"user {self.id} is not sharing a live location")
        message.history.append(message.snapshot())
        message.location = {**message.location, "latitude": latitude, "longitude": longitude}
        message.edit_date = self.fake.now()
        self._action_mark = self.mark()
        await self._deliver({"edited_message": self.fake.message_json(message)})
        return message

    async def share_contact(
        self,
        phone_number: str,
        first_name: str,
        last_name: str | None = None,
        contact_user_id: int | None = None,
    ) -> FakeMessage:
        """Share a contact card (the user's own when contact_user_id is their id)."""
        message = self._new_message()
        contact: dict[str, Any] = {"phone_number": phone_number, "first_name": first_name}
        if last_name is not None:
            contact["last_name"] = last_name
        if contact_user_id is not None:
            contact["user_id"] = contact_user_id
        message.contact = contact
        await self._send_message(message)
        return message

    async def send_photo(
        self, data: bytes, caption: str | None = None, width: int = 1280, height: int = 960
    ) -> FakeMessage:
        """Send a compressed photo: several PhotoSizes, all serving data."""
        message = self._new_message()
        message.photo = photo_sizes(self.fake, data, width, height)
        message.photo_bytes = data
        message.caption = caption
        await self._send_message(message)
        return message

    async def send_document(
        self,
        data: bytes,
        file_name: str,
        mime_type: str,
        caption: str | None = None,
        file_size: int | None = None,
    ) -> FakeMessage:
        """Send a file uncompressed; file_size can claim more than len(data) (e.g. > 20 MB)."""
        extension = file_name.rsplit(".", 1)[-1] if "." in file_name else "bin"
        stored = self.fake.store_file(
            data, "documents", extension, file_size, file_name, mime_type
        )
        message = self._new_message()
        message.document = document_json(stored)
        message.document_bytes = data
        message.caption = caption
        await self._send_message(message)
        return message

    async def send_update(self, raw: dict[str, Any]) -> dict[str, Any]:
        """Deliver an arbitrary update (an update_id is added if missing)."""
        update = copy.deepcopy(raw)
        update.setdefault("update_id", self.fake.next_update_id())
        self.started = True
        self._action_mark = self.mark()
        self._last_update = update
        await self.fake.deliver(update)
        return update

    async def resend_last_update(self) -> dict[str, Any]:
        """Deliver this user's last update again, same update_id, as Telegram may."""
        if self._last_update is None:
            raise AssertionError(f"user {self.id} has sent nothing yet")
        self._action_mark = self.mark()
        await self.fake.deliver(copy.deepcopy(self._last_update))
        return self._last_update

    async def block(self) -> None:
        """Block the bot: later sends get 403 and the bot gets a my_chat_member update."""
        self.blocked = True
        await self._member_update("member", "kicked")

    async def unblock(self) -> None:
        """Unblock the bot: the bot gets a my_chat_member update."""
        self.blocked = False
        await self._member_update("kicked", "member")

    # -- internals ------------------------------------------------------------------------

    def _new_message(self, reply_to: FakeMessage | None = None) -> FakeMessage:
        self._action_mark = self.mark()
        message = self.fake.new_message(self.chat, False, self.id)
        message.reply_to_message_id = reply_to.message_id if reply_to else None
        return message

    async def _send_message(self, message: FakeMessage) -> None:
        await self._deliver({"message": self.fake.message_json(message)})

    async def _deliver(self, body: dict[str, Any]) -> None:
        self.started = True
        update = {"update_id": self.fake.next_update_id(), **body}
        self._last_update = update
        await self.fake.deliver(copy.deepcopy(update))

    async def _member_update(self, old: str, new: str) -> None:
        """Send the my_chat_member update the Bot API sends when a private chat's user blocks
        or unblocks the bot: a ChatMemberUpdated with both ChatMembers in full (a "kicked"
        member always carries until_date, 0 meaning for ever)."""
        update = {
            "update_id": self.fake.next_update_id(),
            "my_chat_member": {
                "chat": self.fake.chat_json(self.chat),
                "from": self.json(),
                "date": int(self.fake.now().timestamp()),
                "old_chat_member": self._bot_as_member(old),
                "new_chat_member": self._bot_as_member(new),
            },
        }
        self._action_mark = self.mark()
        await self.fake.deliver(copy.deepcopy(update))

    def _bot_as_member(self, status: str) -> dict[str, Any]:
        """The bot as a ChatMember of this private chat: "member", or "kicked" (blocked)."""
        member: dict[str, Any] = {"status": status, "user": self.fake.bot_json()}
        if status == "kicked":
            member["until_date"] = 0
        return member
