"""The fake Bot API, driven by the real python-telegram-bot client."""

from __future__ import annotations

import asyncio
import html
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes
from telegram.request import HTTPXRequest

from faketelegram import (
    Blocked,
    ChatNotFound,
    FakeError,
    FakeTelegram,
    FakeTransport,
    FakeUser,
    Flood,
    Migrated,
    ServerError,
    Timeout,
)
from faketelegram.client import ControlClient
from faketelegram.html import parse_html
from faketelegram.server import serve
from tests.builders import ANA, BASE, make_bot

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) + b"\r\n--not-a-boundary\r\n"


@pytest.fixture
def fake() -> FakeTelegram:
    return FakeTelegram(clock=lambda: NOW)


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with make_bot(fake) as bot:
        yield bot


@pytest.fixture
async def ana(fake: FakeTelegram) -> FakeUser:
    """A rep who has started the bot."""
    user = fake.user(ANA, "Ana", username="ana_field")
    await user.send("/start")
    return user


async def test_get_me_describes_the_bot(bot: Bot, fake: FakeTelegram) -> None:
    me = await bot.get_me()

    assert (me.id, me.username, me.is_bot) == (123456, "fieldbot_test_bot", True)
    assert fake.calls[0].method == "getMe"


async def test_a_sent_message_reaches_the_user_with_its_keyboard(
    bot: Bot, fake: FakeTelegram, ana: FakeUser
) -> None:
    mark = ana.mark()
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("I'm safe", callback_data="ok:7")]])

    sent = await bot.send_message(
        ANA,
        "<b>Check in</b>, Ana",
        parse_mode="HTML",
        reply_markup=keyboard,
        protect_content=True,
    )

    assert sent.text == "Check in, Ana"
    assert sent.date == NOW
    assert sent.from_user is not None
    assert sent.from_user.is_bot
    [message] = ana.since(mark)
    assert message.html == "<b>Check in</b>, Ana"
    assert message.buttons == [["I'm safe"]]
    assert message.button_data("I'm safe") == "ok:7"
    assert message.protect_content
    record = fake.sent_to(ANA)[-1]
    assert (record.method, record.message_id, record.parse_mode) == ("sendMessage", 2, "HTML")
    assert fake.calls[-1].params["chat_id"] == ANA


@pytest.mark.parametrize(
    "text",
    ["<b>unclosed", "a < b", "AT&T", "<script>x</script>", "<b><i>x</b></i>", "x</b>"],
)
async def test_malformed_html_is_rejected_like_telegram(
    bot: Bot, ana: FakeUser, text: str
) -> None:
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_message(ANA, text, parse_mode="HTML")


async def test_escaped_user_text_is_accepted_verbatim(bot: Bot, ana: FakeUser) -> None:
    name = '<Tom & "Jerry">'

    sent = await bot.send_message(ANA, f"Hi <i>{html.escape(name)}</i>", parse_mode="HTML")

    assert sent.text == f"Hi {name}"
    assert ana.last.html == f"Hi <i>{html.escape(name)}</i>"


def test_entities_use_utf16_offsets_and_decode_attributes() -> None:
    text, entities = parse_html('<b>héllo 👋</b> <a href="https://x.y/?a=1&amp;b=2">link</a>')

    assert text == "héllo 👋 link"
    assert entities == [
        {"type": "bold", "offset": 0, "length": 8},
        {"type": "text_link", "offset": 9, "length": 4, "url": "https://x.y/?a=1&b=2"},
    ]


async def test_text_limits_count_the_parsed_text(bot: Bot, ana: FakeUser) -> None:
    await bot.send_message(ANA, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")

    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(ANA, "x" * 4097)
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(ANA, "   ")


async def test_callback_data_over_64_bytes_is_invalid(bot: Bot, ana: FakeUser) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="é" * 33)]])

    with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(ANA, "hi", reply_markup=keyboard)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (Blocked(), Forbidden),
        (ChatNotFound(), BadRequest),
        (ServerError(), NetworkError),
        (ServerError(status=500), NetworkError),
        (Timeout(), TimedOut),
    ],
)
async def test_injected_errors_surface_as_ptb_exceptions(
    bot: Bot, fake: FakeTelegram, ana: FakeUser, error: FakeError, expected: type[Exception]
) -> None:
    fake.fail_next("sendMessage", error)

    with pytest.raises(expected):
        await bot.send_message(ANA, "hi")
    await bot.send_message(ANA, "again")
    assert ana.texts() == ["again"]


async def test_flood_carries_retry_after(
    bot: Bot, fake: FakeTelegram, ana: FakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # PTB warns about int retry_after otherwise
    fake.fail_next("SENDMESSAGE", Flood(retry_after=7))

    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(ANA, "hi")

    assert raised.value.retry_after.total_seconds() == 7  # type: ignore[union-attr]
    assert fake.calls[-1].status == 429


async def test_migrated_group_names_the_new_chat(bot: Bot, fake: FakeTelegram) -> None:
    fake.group(-100, "Safety officers")
    fake.fail_next("sendMessage", Migrated(-1009), chat_id=-100)

    with pytest.raises(ChatMigrated) as raised:
        await bot.send_message(-100, "hi")

    assert raised.value.new_chat_id == -1009
    fake.migrate(-100, -1009)
    with pytest.raises(ChatMigrated):
        await bot.send_message(-100, "hi")
    assert (await bot.send_message(-1009, "hi")).chat.type == "supergroup"


async def test_faults_respect_chat_filter_count_and_persistence(
    bot: Bot, fake: FakeTelegram, ana: FakeUser
) -> None:
    boss = fake.user(2002, "Bea")
    await boss.send("hello")
    fake.fail_next("sendMessage", Blocked(), times=2, chat_id=2002)
    fake.fail_always("*", ServerError())

    expected_errors = [Forbidden, Forbidden, NetworkError]
    for expected in expected_errors:
        with pytest.raises(expected):
            await bot.send_message(2002, "alert")
    with pytest.raises(NetworkError):
        await bot.send_message(ANA, "hi")
    fake.clear_failures()
    await bot.send_message(ANA, "hi")


async def test_a_timeout_after_execution_delivers_but_loses_the_answer(
    bot: Bot, fake: FakeTelegram, ana: FakeUser
) -> None:
    fake.fail_next("sendMessage", Timeout(executed=True))

    with pytest.raises(TimedOut):
        await bot.send_message(ANA, "maybe")

    assert ana.texts() == ["maybe"]
    assert fake.calls[-1].status is None


async def test_the_bot_cannot_write_first_or_after_a_block(bot: Bot, fake: FakeTelegram) -> None:
    bea = fake.user(2002, "Bea")

    with pytest.raises(Forbidden, match="(?i)bot can't initiate conversation with a user"):
        await bot.send_message(2002, "hi")
    await bea.send("hello")
    await bot.send_message(2002, "hi")
    await bea.block()
    with pytest.raises(Forbidden, match="(?i)bot was blocked by the user"):
        await bot.send_message(2002, "hi")
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(999, "hi")
    assert fake.updates[-1]["my_chat_member"]["new_chat_member"]["status"] == "kicked"


async def test_user_photo_round_trips_through_get_file(bot: Bot, fake: FakeTelegram) -> None:
    ana = fake.user(ANA, "Ana")
    await ana.send_photo(PNG, caption="hotel")
    [update] = await bot.get_updates()
    assert update.message is not None
    assert update.message.caption == "hotel"

    file = await bot.get_file(update.message.photo[-1].file_id)

    assert bytes(await file.download_as_bytearray()) == PNG
    assert file.file_size == len(PNG)


async def test_files_over_20_mb_cannot_be_fetched(bot: Bot, fake: FakeTelegram) -> None:
    ana = fake.user(ANA, "Ana")
    sent = await ana.send_document(b"%PDF", "scan.pdf", "application/pdf", file_size=21_000_000)
    assert sent.document is not None

    with pytest.raises(BadRequest, match="(?i)file is too big"):
        await bot.get_file(sent.document["file_id"])


async def test_uploads_arrive_byte_for_byte_and_non_images_fail(
    bot: Bot, fake: FakeTelegram, ana: FakeUser
) -> None:
    sent = await bot.send_photo(ANA, PNG, caption="<b>map</b>", parse_mode="HTML")

    assert ana.last.photo_bytes == PNG
    assert fake.sent[-1].photo == PNG
    assert sent.caption == "map"
    doc = await bot.send_document(ANA, b"a,b\r\n1,2\r\n", filename="trip.csv")
    assert doc.document is not None
    assert doc.document.file_name == "trip.csv"
    assert ana.last.document_bytes == b"a,b\r\n1,2\r\n"
    with pytest.raises(BadRequest, match="(?i)IMAGE_PROCESS_FAILED"):
        await bot.send_photo(ANA, b"MZ not an image")


async def test_edits_keep_history_and_reject_no_ops(bot: Bot, ana: FakeUser) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("OK", callback_data="ok")]])
    sent = await bot.send_message(ANA, "Due at 20:00", reply_markup=keyboard)

    await bot.edit_message_text("Checked in", chat_id=ANA, message_id=sent.message_id)

    assert ana.last.text == "Checked in"
    assert ana.last.buttons == []
    assert [v.text for v in ana.last.history] == ["Due at 20:00"]
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text("Checked in", chat_id=ANA, message_id=sent.message_id)
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=ANA, message_id=99)
    await bot.delete_message(ANA, sent.message_id)
    assert ana.messages == []


async def test_replies_locations_actions_and_chat_info(
    bot: Bot, fake: FakeTelegram, ana: FakeUser
) -> None:
    [start] = fake.messages_in(ANA)

    reply = await bot.send_message(ANA, "Got it", reply_to_message_id=start.message_id)
    await bot.send_location(ANA, 48.2, 16.37, live_period=600)
    assert await bot.send_chat_action(ANA, "find_location")
    chat = await bot.get_chat(ANA)

    assert reply.reply_to_message is not None
    assert reply.reply_to_message.text == "/start"
    assert ana.last.location == {"latitude": 48.2, "longitude": 16.37, "live_period": 600}
    assert (chat.first_name, chat.username) == ("Ana", "ana_field")
    with pytest.raises(BadRequest, match="(?i)message to be replied not found"):
        await bot.send_message(ANA, "x", reply_to_message_id=99)
    assert [s.method for s in fake.sent] == ["sendMessage", "sendLocation"]
    assert fake.calls_to("sendChatAction")[0].params == {"chat_id": ANA, "action": "find_location"}


async def test_get_updates_with_offsets_over_loopback(fake: FakeTelegram) -> None:
    ana = fake.user(ANA, "Ana")
    for text in ("one", "two", "three"):
        await ana.send(text)
    async with serve(fake) as base_url, make_bot(fake, base_url) as bot:
        updates = await bot.get_updates(timeout=0)
        assert [u.message.text for u in updates if u.message] == ["one", "two", "three"]
        rest = await bot.get_updates(offset=updates[1].update_id + 1)
        assert [u.update_id for u in rest] == [updates[2].update_id]
        next_offset = updates[2].update_id + 1

        poll = asyncio.create_task(bot.get_updates(offset=next_offset, timeout=10))
        await fake.wait_for(lambda: len(fake.calls_to("getUpdates")) == 3)
        await ana.send("four")

        [four] = await poll
        assert four.message is not None
        assert four.message.text == "four"


async def test_a_second_poller_terminates_the_first(bot: Bot, fake: FakeTelegram) -> None:
    async with make_bot(fake) as other:
        first = asyncio.create_task(bot.get_updates(timeout=10))
        await fake.wait_for(lambda: len(fake.calls_to("getUpdates")) == 1)

        assert await other.get_updates(timeout=0) == ()
        with pytest.raises(Conflict, match="(?i)terminated by other getUpdates request"):
            await first


async def test_webhook_delivery_carries_the_secret_and_blocks_polling(
    bot: Bot, fake: FakeTelegram
) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []

    def hook(request: httpx.Request) -> httpx.Response:
        secret = request.headers.get("x-telegram-bot-api-secret-token")
        received.append((secret, json.loads(request.content)))
        return httpx.Response(200 if len(received) == 1 else 500)

    fake.webhook_transport = httpx.MockTransport(hook)
    fake.deliver_webhooks = True
    await bot.set_webhook("https://bot.example/hook", secret_token="s3cret")
    ana = fake.user(ANA, "Ana")

    await ana.send("hi")
    await ana.send("again")

    assert [(s, u["message"]["text"]) for s, u in received] == [
        ("s3cret", "hi"),
        ("s3cret", "again"),
    ]
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 1
    assert info.last_error_message is not None
    with pytest.raises(Conflict, match="(?i)webhook is active"):
        await bot.get_updates()


async def test_unknown_method_and_wrong_token(bot: Bot, fake: FakeTelegram) -> None:
    async with httpx.AsyncClient(transport=FakeTransport(fake)) as client:
        answer = await client.post(f"{BASE}/bot{fake.token}/fooBar", json={})
        wrong = await client.post(f"{BASE}/bot1:nope/getMe")

    assert (answer.status_code, answer.json()) == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )
    assert wrong.status_code == 401
    with pytest.raises(InvalidToken):
        await Bot(
            "1:nope",
            base_url=f"{BASE}/bot",
            request=HTTPXRequest(httpx_kwargs={"transport": FakeTransport(fake)}),
        ).get_me()


async def test_json_and_form_bodies_are_read_alike(fake: FakeTelegram, ana: FakeUser) -> None:
    url = f"{BASE}/bot{fake.token}/sendMessage"
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
    async with httpx.AsyncClient(transport=FakeTransport(fake)) as client:
        await client.post(url, json={"chat_id": ANA, "text": "json", "reply_markup": markup})
        await client.post(
            url, data={"chat_id": str(ANA), "text": "form", "reply_markup": json.dumps(markup)}
        )

    assert [m.buttons for m in ana.messages] == [[["Go"]], [["Go"]]]
    assert fake.calls[-1].params["reply_markup"] == markup


async def test_commands_and_menu_button_are_stored(bot: Bot, fake: FakeTelegram) -> None:
    await bot.set_my_commands([("trip", "Plan a trip"), ("sos", "Send an SOS")])
    await bot.set_chat_menu_button()

    assert [c.command for c in await bot.get_my_commands()] == ["trip", "sos"]
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    with pytest.raises(BadRequest, match="(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([("Trip!", "bad")])


async def test_user_actions_produce_updates_ptb_accepts(bot: Bot, fake: FakeTelegram) -> None:
    ana = fake.user(ANA, "Ana", language_code="de")
    await ana.send("/start@fieldbot_test_bot deep")
    await ana.share_location(48.2, 16.37, live_period=900)
    await ana.update_live_location(48.3, 16.4)
    await ana.share_contact("+431234", "Ana", contact_user_id=ANA)
    await ana.send_document(b"%PDF-1.7", "visa.pdf", "application/pdf", caption="visa")
    await ana.resend_last_update()

    updates = await bot.get_updates()

    command, live, moved, contact, document, again = updates
    assert command.message is not None
    assert command.message.entities[0].length == 24
    assert command.message.from_user is not None
    assert command.message.from_user.language_code == "de"
    assert live.message is not None
    assert live.message.location is not None
    assert moved.edited_message is not None
    assert moved.edited_message.location is not None
    assert moved.edited_message.location.latitude == 48.3
    assert contact.message is not None
    assert contact.message.contact is not None
    assert document.message is not None
    assert document.message.document is not None
    assert again.update_id == document.update_id


async def test_reply_keyboard_taps_and_location_buttons(bot: Bot, ana: FakeUser) -> None:
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton("Share location", request_location=True)], ["Cancel"]]
    )
    await bot.send_message(ANA, "Where are you?", reply_markup=keyboard)

    assert ana.keyboard is not None
    assert ana.keyboard[0][0]["request_location"] is True
    await ana.tap("Cancel")
    with pytest.raises(AssertionError, match="(?i)location"):
        await ana.tap("Share location")
    with pytest.raises(AssertionError, match="(?i)no reply keyboard button"):
        await ana.tap("Nope")


async def test_dispatch_mode_handles_each_action_before_returning(fake: FakeTelegram) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("OK", callback_data="ok")]])
        await update.effective_message.reply_text("Ready?", reply_markup=keyboard)

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer("Noted", show_alert=True)
        await update.callback_query.edit_message_text("Done")

    app = Application.builder().bot(make_bot(fake)).updater(None).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))

    async def dispatch(data: dict[str, Any]) -> None:
        await app.process_update(Update.de_json(data, app.bot))

    fake.dispatch = dispatch
    async with app:
        ana = fake.user(ANA, "Ana")
        await ana.send("/start")
        assert ana.texts() == ["Ready?"]

        toast = await ana.press("OK")

        assert toast is not None
        assert (toast.text, toast.show_alert) == ("Noted", True)
        assert ana.last.text == "Done"
        assert ana.last.history[0].text == "Ready?"
        with pytest.raises(AssertionError, match="(?i)no inline button 'Nope'"):
            await ana.press("Nope")


async def test_a_callback_query_can_be_answered_once(bot: Bot, fake: FakeTelegram) -> None:
    ana = fake.user(ANA, "Ana")
    await ana.send("/start")
    await bot.send_message(
        ANA,
        "x",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("OK", callback_data="ok")]]),
    )
    await ana.press("OK")
    query = (await bot.get_updates())[-1].callback_query
    assert query is not None
    assert query.data == "ok"

    await query.answer("fine")
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await query.answer("again")
    assert [t.text for t in ana.toasts] == ["fine"]


async def test_loopback_timeout_hangs_until_the_client_gives_up(fake: FakeTelegram) -> None:
    ana = fake.user(ANA, "Ana")
    await ana.send("hi")
    async with serve(fake) as base_url, make_bot(fake, base_url, read_timeout=0.1) as bot:
        fake.fail_next("sendMessage", Timeout())
        with pytest.raises(TimedOut):
            await bot.send_message(ANA, "lost")

        fake.fail_next("sendMessage", Timeout())
        pending = asyncio.create_task(bot.send_message(ANA, "held", read_timeout=30))
        await fake.wait_for(lambda: fake.calls[-1].params.get("text") == "held")
        fake.release_timeouts()
        with pytest.raises(NetworkError):
            await pending

        assert (await bot.send_message(ANA, "fine")).text == "fine"


async def test_control_api_drives_users_and_faults(
    fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    async with (
        serve(fake) as base_url,
        ControlClient(base_url) as control,
        make_bot(fake, base_url) as bot,
    ):
        await control.send(ANA, "/start")
        [update] = await bot.get_updates()
        await control.fail_next("sendMessage", Flood(3))
        with pytest.raises(RetryAfter):
            await bot.send_message(ANA, "flooded")
        await bot.send_message(
            ANA,
            "Hello",
            reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("OK", callback_data="ok")]]),
        )

        [sent] = await control.wait_sent(1, chat_id=ANA)
        assert sent["text"] == "Hello"
        await control.press(ANA, "OK")
        [_, pressed] = await bot.get_updates(offset=update.update_id)
        assert pressed.callback_query is not None
        assert pressed.callback_query.data == "ok"
        assert [m["text"] for m in await control.messages(ANA)] == ["Hello"]
        assert (await control.state())["users"][str(ANA)]["started"] is True
