"""The Bot API methods the fake implements, one small function each."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from faketelegram.errors import ApiError, bad_request
from faketelegram.markup import parse_markup
from faketelegram.media import document_from, photo_from
from faketelegram.models import Chat, FakeMessage, Toast, Webhook
from faketelegram.params import Params

if TYPE_CHECKING:
    from faketelegram.api import FakeTelegram

Handler = Callable[["FakeTelegram", Params], Awaitable[Any]]
METHODS: dict[str, tuple[str, Handler]] = {}

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_TOAST = 200
MAX_DOWNLOAD = 20 * 1024 * 1024
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"


def method(name: str) -> Callable[[Handler], Handler]:
    """Register a handler under its Bot API name (looked up case-insensitively)."""

    def register(handler: Handler) -> Handler:
        METHODS[name.lower()] = (name, handler)
        return handler

    return register


# -- bot and session ----------------------------------------------------------------------


@method("getMe")
async def get_me(fake: FakeTelegram, p: Params) -> Any:
    """Return the bot's User object."""
    return {
        **fake.bot_json(),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@method("logOut")
async def log_out(fake: FakeTelegram, p: Params) -> Any:
    """Accept; the fake keeps serving."""
    return True


@method("close")
async def close(fake: FakeTelegram, p: Params) -> Any:
    """Accept; the fake keeps serving."""
    return True


@method("getUpdates")
async def get_updates(fake: FakeTelegram, p: Params) -> Any:
    """Long-poll the update queue; a webhook or a newer poll makes this a 409."""
    if fake.webhook is not None:
        raise ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    limit = min(max(p.get_int("limit") or 100, 1), 100)
    timeout = max(p.get_float("timeout") or 0.0, 0.0)
    return await fake.poll(p.get_int("offset"), limit, timeout)


@method("setWebhook")
async def set_webhook(fake: FakeTelegram, p: Params) -> Any:
    """Set (or with an empty url remove) the webhook."""
    url = p.get_str("url") or ""
    secret = p.get_str("secret_token")
    if url and not url.startswith(("http://", "https://")):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if secret is not None and not _SECRET.match(secret):
        raise bad_request("secret token contains unallowed characters")
    if p.get_bool("drop_pending_updates"):
        fake.pending.clear()
    allowed = p.get_json("allowed_updates")
    fake.webhook = (
        Webhook(url, secret, p.get_int("max_connections") or 40, allowed) if url else None
    )
    return True


@method("deleteWebhook")
async def delete_webhook(fake: FakeTelegram, p: Params) -> Any:
    """Remove the webhook, optionally dropping pending updates."""
    if p.get_bool("drop_pending_updates"):
        fake.pending.clear()
    fake.webhook = None
    return True


@method("getWebhookInfo")
async def get_webhook_info(fake: FakeTelegram, p: Params) -> Any:
    """Describe the webhook and the queue."""
    hook = fake.webhook
    info: dict[str, Any] = {
        "url": hook.url if hook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(fake.pending),
    }
    if hook is not None:
        info["max_connections"] = hook.max_connections
        if hook.allowed_updates is not None:
            info["allowed_updates"] = hook.allowed_updates
        if hook.last_error_date is not None:
            info["last_error_date"] = int(hook.last_error_date.timestamp())
            info["last_error_message"] = hook.last_error_message
    return info


# -- commands and menu --------------------------------------------------------------------


def _commands_key(p: Params) -> tuple[str, str]:
    scope = p.get_json("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), p.get_str("language_code") or ""


@method("setMyCommands")
async def set_my_commands(fake: FakeTelegram, p: Params) -> Any:
    """Store the command list for a scope and language."""
    commands = p.get_json("commands")
    if not isinstance(commands, list):
        raise bad_request("commands is empty")
    for command in commands:
        if not isinstance(command, dict) or not _COMMAND.match(str(command.get("command"))):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description") or "")) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    fake.commands[_commands_key(p)] = commands
    return True


@method("getMyCommands")
async def get_my_commands(fake: FakeTelegram, p: Params) -> Any:
    """Return the command list for a scope and language."""
    return fake.commands.get(_commands_key(p), [])


@method("deleteMyCommands")
async def delete_my_commands(fake: FakeTelegram, p: Params) -> Any:
    """Remove the command list for a scope and language."""
    fake.commands.pop(_commands_key(p), None)
    return True


@method("setChatMenuButton")
async def set_chat_menu_button(fake: FakeTelegram, p: Params) -> Any:
    """Store the menu button of a chat (or the default one)."""
    chat_id = p.get_int("chat_id")
    if chat_id is not None:
        fake.find_chat(p)
    fake.menu_buttons[chat_id] = p.get_json("menu_button") or {"type": "default"}
    return True


@method("getChatMenuButton")
async def get_chat_menu_button(fake: FakeTelegram, p: Params) -> Any:
    """Return the menu button of a chat (or the default one)."""
    chat_id = p.get_int("chat_id")
    return fake.menu_buttons.get(chat_id, fake.menu_buttons.get(None, {"type": "commands"}))


@method("setMyDescription")
async def set_my_description(fake: FakeTelegram, p: Params) -> Any:
    """Accept the bot's description."""
    return True


@method("setMyShortDescription")
async def set_my_short_description(fake: FakeTelegram, p: Params) -> Any:
    """Accept the bot's short description."""
    return True


# -- sending ------------------------------------------------------------------------------


def _text(fake: FakeTelegram, p: Params, name: str, limit: int) -> tuple[str, list[Any]]:
    """Return the parsed text or caption param, checked against Telegram's limits."""
    entities = p.get_json("entities" if name == "text" else "caption_entities")
    plain, parsed = fake.format(p.get_str(name) or "", p.get_str("parse_mode"), entities)
    if len(plain) > limit:
        raise bad_request(
            "message is too long" if name == "text" else "message caption is too long"
        )
    if name == "text" and not plain.strip():
        raise bad_request("message text is empty")
    return plain, parsed


def _reply_to(chat: Chat, p: Params) -> int | None:
    """Return the id of the message replied to; a missing one is a 400 unless allowed."""
    parameters = p.get_json("reply_parameters") or {}
    target = p.get_int("reply_to_message_id") or parameters.get("message_id")
    if target is None:
        return None
    allow = p.get_bool("allow_sending_without_reply") or parameters.get(
        "allow_sending_without_reply"
    )
    message = chat.messages.get(int(target))
    if message is None or message.deleted:
        if allow:
            return None
        raise bad_request("message to be replied not found")
    return message.message_id


def _outgoing(fake: FakeTelegram, p: Params, chat: Chat) -> FakeMessage:
    """Create the bot's message in chat with the common send options."""
    markup = parse_markup(p.get("reply_markup"))
    reply_to = _reply_to(chat, p)
    message = fake.new_message(chat, True, fake.bot_id)
    message.reply_markup = markup
    message.protect_content = p.get_bool("protect_content")
    message.reply_to_message_id = reply_to
    message.parse_mode = p.get_str("parse_mode")
    return message


@method("sendMessage")
async def send_message(fake: FakeTelegram, p: Params) -> Any:
    """Send a text message."""
    chat = fake.chat_for_send(p)
    plain, entities = _text(fake, p, "text", MAX_TEXT)
    message = _outgoing(fake, p, chat)
    message.text, message.entities, message.source = plain, entities, p.get_str("text")
    fake.record_sent("sendMessage", message, None)
    return fake.message_json(message)


@method("sendPhoto")
async def send_photo(fake: FakeTelegram, p: Params) -> Any:
    """Send a photo: an upload, a known file_id or a URL."""
    chat = fake.chat_for_send(p)
    caption = _caption(fake, p)
    photo = p.file("photo")
    if photo is None:
        raise bad_request("there is no photo in the request")
    media = photo_from(fake, photo)
    message = _outgoing(fake, p, chat)
    message.photo, message.photo_bytes = media.json, media.data
    _set_caption(message, p, caption)
    fake.record_sent("sendPhoto", message, media.file_id)
    return fake.message_json(message)


@method("sendDocument")
async def send_document(fake: FakeTelegram, p: Params) -> Any:
    """Send a file: an upload, a known file_id or a URL."""
    chat = fake.chat_for_send(p)
    caption = _caption(fake, p)
    document = p.file("document")
    if document is None:
        raise bad_request("there is no document in the request")
    media = document_from(fake, document)
    message = _outgoing(fake, p, chat)
    message.document, message.document_bytes = media.json, media.data
    _set_caption(message, p, caption)
    fake.record_sent("sendDocument", message, media.file_id)
    return fake.message_json(message)


def _caption(fake: FakeTelegram, p: Params) -> tuple[str, list[Any]] | None:
    return _text(fake, p, "caption", MAX_CAPTION) if p.get_str("caption") else None


def _set_caption(message: FakeMessage, p: Params, caption: tuple[str, list[Any]] | None) -> None:
    if caption is not None:
        message.caption, message.entities = caption
        message.source = p.get_str("caption")


@method("sendLocation")
async def send_location(fake: FakeTelegram, p: Params) -> Any:
    """Send a point on the map, possibly live."""
    chat = fake.chat_for_send(p)
    latitude, longitude = p.get_float("latitude"), p.get_float("longitude")
    if latitude is None or longitude is None:
        raise bad_request("latitude or longitude is empty")
    message = _outgoing(fake, p, chat)
    message.location = {"latitude": latitude, "longitude": longitude}
    for key in ("live_period", "heading", "proximity_alert_radius"):
        if p.get_int(key) is not None:
            message.location[key] = p.get_int(key)
    if p.get_float("horizontal_accuracy") is not None:
        message.location["horizontal_accuracy"] = p.get_float("horizontal_accuracy")
    fake.record_sent("sendLocation", message, None)
    return fake.message_json(message)


@method("sendChatAction")
async def send_chat_action(fake: FakeTelegram, p: Params) -> Any:
    """Show "typing…" and friends."""
    fake.chat_for_send(p)
    if p.get_str("action") not in _ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True


# -- changing sent messages ---------------------------------------------------------------


def _editable(fake: FakeTelegram, p: Params) -> FakeMessage:
    if p.has("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")
    chat = fake.chat_for_send(p)
    message = chat.messages.get(p.require_int("message_id"))
    if message is None or message.deleted:
        raise bad_request("message to edit not found")
    if not message.from_bot:
        raise bad_request("message can't be edited")
    return message


def _edit(
    fake: FakeTelegram, message: FakeMessage, p: Params, changes: dict[str, Any]
) -> dict[str, Any]:
    """Apply changes (a no-op is a 400), keep the old version, return the Message."""
    changes["reply_markup"] = parse_markup(p.get("reply_markup"))
    if all(getattr(message, key) == value for key, value in changes.items()):
        raise bad_request(_NOT_MODIFIED)
    message.history.append(message.snapshot())
    for key, value in changes.items():
        setattr(message, key, value)
    message.edit_date = fake.now()
    return fake.message_json(message)


@method("editMessageText")
async def edit_message_text(fake: FakeTelegram, p: Params) -> Any:
    """Replace the text (and inline keyboard) of a bot message."""
    message = _editable(fake, p)
    if message.text is None:
        raise bad_request("there is no text in the message to edit")
    plain, entities = _text(fake, p, "text", MAX_TEXT)
    changes = {"text": plain, "entities": entities, "source": p.get_str("text")}
    changes["parse_mode"] = p.get_str("parse_mode")
    return _edit(fake, message, p, changes)


@method("editMessageCaption")
async def edit_message_caption(fake: FakeTelegram, p: Params) -> Any:
    """Replace the caption (and inline keyboard) of a bot media message."""
    message = _editable(fake, p)
    if message.text is not None:
        raise bad_request("there is no caption in the message to edit")
    caption, entities = _caption(fake, p) or (None, [])
    changes = {"caption": caption, "entities": entities, "source": p.get_str("caption")}
    changes["parse_mode"] = p.get_str("parse_mode")
    return _edit(fake, message, p, changes)


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(fake: FakeTelegram, p: Params) -> Any:
    """Replace (or remove) the inline keyboard of a bot message."""
    return _edit(fake, _editable(fake, p), p, {})


@method("deleteMessage")
async def delete_message(fake: FakeTelegram, p: Params) -> Any:
    """Delete a message from a chat."""
    chat = fake.find_chat(p)
    message = chat.messages.get(p.require_int("message_id"))
    if message is None or message.deleted:
        raise bad_request("message to delete not found")
    message.deleted = True
    return True


@method("answerCallbackQuery")
async def answer_callback_query(fake: FakeTelegram, p: Params) -> Any:
    """Show the pressing user a toast or alert; each query can be answered once."""
    query = fake.callback_queries.get(p.get_str("callback_query_id") or "")
    if query is None or query.answer is not None:
        raise bad_request(_QUERY_TOO_OLD)
    if len(p.get_str("text") or "") > MAX_TOAST:  # the text is shown as typed, never parsed
        raise bad_request("MESSAGE_TOO_LONG")
    toast = Toast(
        query.id, p.get_str("text"), p.get_bool("show_alert"), p.get_str("url"), fake.now()
    )
    query.answer = toast
    fake.users[query.user_id].toasts.append(toast)
    return True


# -- files and chats ----------------------------------------------------------------------


@method("getFile")
async def get_file(fake: FakeTelegram, p: Params) -> Any:
    """Return a File with its download path; files over 20 MB cannot be downloaded."""
    stored = fake.files.get(p.get_str("file_id") or "")
    if stored is None:
        raise bad_request("invalid file_id")
    if stored.file_size > MAX_DOWNLOAD:
        raise bad_request("file is too big")
    return stored.json()


@method("getChat")
async def get_chat(fake: FakeTelegram, p: Params) -> Any:
    """Return a ChatFullInfo."""
    chat = fake.find_chat(p)
    return {
        **fake.chat_json(chat),
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    }
