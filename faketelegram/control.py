"""The JSON control API: lets scripts in other processes act as users and inject faults."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from faketelegram.errors import error_from_json
from faketelegram.models import FakeMessage, Sent
from faketelegram.routing import Reply, json_reply
from faketelegram.users import FakeUser

if TYPE_CHECKING:
    from faketelegram.api import FakeTelegram

_USER = re.compile(r"^/_control/user/(?P<id>-?\d+)(?:/(?P<action>[a-z_]+))?$")
UserAction = Callable[[FakeUser, dict[str, Any]], Awaitable[Any]]


def message_info(fake: FakeTelegram, message: FakeMessage) -> dict[str, Any]:
    """Return a message as Telegram JSON plus what the fake knows about it."""
    return {
        **fake.message_json(message),
        "source": message.source,
        "parse_mode": message.parse_mode,
        "protect_content": message.protect_content,
        "all_reply_markup": message.reply_markup,
        "buttons": message.buttons,
        "deleted": message.deleted,
        "history": [version.text or version.caption for version in message.history],
    }


def sent_info(index: int, sent: Sent) -> dict[str, Any]:
    """Return one record of `fake.sent` as JSON."""
    return {
        "index": index,
        "method": sent.method,
        "chat_id": sent.chat_id,
        "message_id": sent.message_id,
        "text": sent.text,
        "parse_mode": sent.parse_mode,
        "reply_markup": sent.reply_markup,
        "protect_content": sent.protect_content,
        "file_id": sent.file_id,
        "at": sent.at.isoformat(),
    }


def _message(user: FakeUser, body: dict[str, Any]) -> FakeMessage | None:
    message_id = body.get("message_id")
    return None if message_id is None else user.chat.messages[int(message_id)]


def _bytes(body: dict[str, Any]) -> bytes:
    return base64.b64decode(body["data_b64"])


async def _send(user: FakeUser, body: dict[str, Any]) -> Any:
    return (await user.send(body["text"])).message_id


async def _press(user: FakeUser, body: dict[str, Any]) -> Any:
    toast = await user.press(body["text"], _message(user, body))
    return None if toast is None else toast.text


async def _press_data(user: FakeUser, body: dict[str, Any]) -> Any:
    await user.press_data(body["data"], _message(user, body))


async def _location(user: FakeUser, body: dict[str, Any]) -> Any:
    message = await user.share_location(
        body["latitude"], body["longitude"], body.get("live_period")
    )
    return message.message_id


async def _live_location(user: FakeUser, body: dict[str, Any]) -> Any:
    return (await user.update_live_location(body["latitude"], body["longitude"])).message_id


async def _contact(user: FakeUser, body: dict[str, Any]) -> Any:
    message = await user.share_contact(
        body["phone_number"], body["first_name"], body.get("last_name"), body.get("user_id")
    )
    return message.message_id


async def _photo(user: FakeUser, body: dict[str, Any]) -> Any:
    return (await user.send_photo(_bytes(body), body.get("caption"))).message_id


async def _document(user: FakeUser, body: dict[str, Any]) -> Any:
    message = await user.send_document(
        _bytes(body),
        body["file_name"],
        body["mime_type"],
        body.get("caption"),
        body.get("file_size"),
    )
    return message.message_id


async def _update(user: FakeUser, body: dict[str, Any]) -> Any:
    return (await user.send_update(body["update"]))["update_id"]


async def _resend(user: FakeUser, body: dict[str, Any]) -> Any:
    return (await user.resend_last_update())["update_id"]


async def _block(user: FakeUser, body: dict[str, Any]) -> Any:
    await user.block()


async def _unblock(user: FakeUser, body: dict[str, Any]) -> Any:
    await user.unblock()


USER_ACTIONS: dict[str, UserAction] = {
    "send": _send,
    "press": _press,
    "press_data": _press_data,
    "location": _location,
    "live_location": _live_location,
    "contact": _contact,
    "photo": _photo,
    "document": _document,
    "update": _update,
    "resend": _resend,
    "block": _block,
    "unblock": _unblock,
}


async def handle_control(
    fake: FakeTelegram, http_method: str, path: str, query: str, body: bytes
) -> Reply:
    """Answer one control request; client mistakes are 400 with {"error": ...}."""
    try:
        data = json.loads(body) if body.strip() else {}
        args = dict(parse_qsl(query))
        return await _dispatch(fake, http_method, path, args, data)
    except (AssertionError, KeyError, ValueError, TypeError) as exc:
        return json_reply(400, {"error": f"{type(exc).__name__}: {exc}"})


async def _dispatch(
    fake: FakeTelegram, http_method: str, path: str, args: dict[str, str], data: Any
) -> Reply:
    match = _USER.match(path)
    if match:
        user_id, action = int(match["id"]), match["action"]
        if action == "messages" and http_method == "GET":
            user = fake.users.get(user_id) or fake.user(user_id, f"User {user_id}")
            since = user.since(int(args.get("since", "0")))
            return json_reply(200, [message_info(fake, m) for m in since])
        return await _user_request(fake, user_id, action, http_method, data)
    route = f"{http_method} {path.removeprefix('/_control')}"
    if route == "GET /sent":
        return json_reply(200, _sent(fake, args))
    if route == "GET /wait_sent":
        count = int(args.get("count", "1"))
        await fake.wait_for(
            lambda: len(_sent(fake, args)) >= count, float(args.get("timeout", "10"))
        )
        return json_reply(200, _sent(fake, args))
    if route == "GET /calls":
        return json_reply(200, _calls(fake, args))
    if route == "GET /state":
        return json_reply(200, _state(fake))
    if http_method == "POST":
        return _fault_request(fake, path.removeprefix("/_control"), data)
    return json_reply(404, {"error": "no such control endpoint"})


def _fault_request(fake: FakeTelegram, path: str, data: dict[str, Any]) -> Reply:
    if path == "/fail_next":
        error = error_from_json(data["error"])
        fake.fail_next(data["method"], error, int(data.get("times", 1)), data.get("chat_id"))
    elif path == "/fail_always":
        fake.fail_always(data["method"], error_from_json(data["error"]), data.get("chat_id"))
    elif path == "/clear_failures":
        fake.clear_failures()
    elif path == "/block":
        fake.block(int(data["user_id"]))
    elif path == "/unblock":
        fake.unblock(int(data["user_id"]))
    elif path == "/release_timeouts":
        fake.release_timeouts()
    else:
        return json_reply(404, {"error": "no such control endpoint"})
    return json_reply(200, {"ok": True})


async def _user_request(
    fake: FakeTelegram, user_id: int, action: str | None, http_method: str, data: Any
) -> Reply:
    if action is None and http_method == "POST":
        user = fake.user(
            user_id,
            data.get("first_name", f"User {user_id}"),
            data.get("language_code", "en"),
            data.get("username"),
            data.get("last_name"),
        )
        return json_reply(200, user.json())
    user = fake.users.get(user_id) or fake.user(user_id, f"User {user_id}")
    handler = USER_ACTIONS.get(action or "")
    if handler is None or http_method != "POST":
        return json_reply(404, {"error": "no such user action"})
    return json_reply(200, {"ok": True, "result": await handler(user, data)})


def _sent(fake: FakeTelegram, args: dict[str, str]) -> list[dict[str, Any]]:
    since = int(args.get("since", "0"))
    chat_id = int(args["chat_id"]) if "chat_id" in args else None
    return [
        sent_info(index, sent)
        for index, sent in enumerate(fake.sent)
        if index >= since and (chat_id is None or sent.chat_id == chat_id)
    ]


def _calls(fake: FakeTelegram, args: dict[str, str]) -> list[dict[str, Any]]:
    since = int(args.get("since", "0"))
    method = args.get("method", "").lower()
    return [
        {
            "index": index,
            "method": call.method,
            "params": call.params,
            "status": call.status,
            "at": call.at.isoformat(),
        }
        for index, call in enumerate(fake.calls)
        if index >= since and (not method or call.method.lower() == method)
    ]


def _state(fake: FakeTelegram) -> dict[str, Any]:
    return {
        "bot": fake.bot_json(),
        "token": fake.token,
        "users": {
            str(uid): {"started": u.started, "blocked": u.blocked} for uid, u in fake.users.items()
        },
        "pending_updates": len(fake.pending),
        "webhook": fake.webhook.url if fake.webhook else None,
        "sent": len(fake.sent),
        "calls": len(fake.calls),
    }
