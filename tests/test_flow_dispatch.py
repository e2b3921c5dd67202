"""The handlers' quick "no": every update passes a dozen flows and a score of commands on its way
to its handler. A flow with no question open for the person answers from what its entry points
could take, and a command from the command the update holds, both read once per update, without
PTB's full check. Each must answer exactly as PTB's check would, for every kind of update,
but one: a command naming another bot is ours (only private chats reach the handlers)."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ConversationHandler

from conversations.flows.base import Command, Flow
from fieldbot.domain.roles import PERMISSIONS
from tests.harness import REP_ID, World

BUTTONS = [
    "trip:resume", "trip:restart", "trip:dest:1", "endtrip:end:5", "endtrip:keep", "risk:pick:3",
    "approve:no:7", "approve:yes:7", "hazard:resume", "contacts:share", "contacts:type",
    "contacts:email", "contacts:rm:phone", "visit:resume", "visit:note:3:other", "visit:done:3",
    "incident:new", "incident:alert:9", "escalation:res:4:incident", "escalation:ack:4",
    "review:start:2", "rollcall:new", "rc:5:safe", "checkin:skip", "checkin:skip:12",
    "checkin:safe", "checkin:help", "language:zh", "nonsense", "x" * 64,
]


def message(text: str | None, *, command_length: int | None = None,
            photo: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "message_id": 10, "date": 1764615600,
        "chat": {"id": REP_ID, "type": "private", "first_name": "Rita"},
        "from": {"id": REP_ID, "is_bot": False, "first_name": "Rita"},
    }
    if text is not None:
        body["text"] = text
        if command_length is not None:
            body["entities"] = [{"type": "bot_command", "offset": 0, "length": command_length}]
    if photo:
        body["photo"] = [{"file_id": "made-up", "file_unique_id": "u", "width": 1, "height": 1}]
    return body


def updates(username: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for command in [*PERMISSIONS, "unknown", "TRIP", "Checkin"]:
        for text in (f"/{command}", f"/{command} some words", f"/{command}@{username}",
                     f"/{command}@someone_else_bot"):
            found.append({"message": message(text, command_length=len(text.split()[0]))})
        # A command not marked as one (no entity) is text to PTB.
        found.append({"message": message(f"/{command}")})
    found += [{"message": message("I'm safe")}, {"message": message("   ")},
              {"message": message(None, photo=True)}, {"message": message(None)}]
    bot_message = message("🌙 Evening check-in")
    bot_message["from"] = {"id": 1, "is_bot": True, "first_name": "fieldbot"}
    command_message = message("/trip starts this text", command_length=5)
    for data in BUTTONS:
        for on in (bot_message, command_message):
            found.append({"callback_query": {
                "id": "1", "chat_instance": "c", "data": data, "message": on,
                "from": {"id": REP_ID, "is_bot": False, "first_name": "Rita"}}})
    found.append({"callback_query": {"id": "2", "chat_instance": "c", "message": bot_message,
                                     "from": {"id": REP_ID, "is_bot": False,
                                              "first_name": "Rita"}}})  # no data at all
    found.append({"callback_query": {"id": "3", "chat_instance": "c", "message": bot_message,
                                     "game_short_name": "a_game",
                                     "from": {"id": REP_ID, "is_bot": False,
                                              "first_name": "Rita"}}})
    found.append({"edited_message": message("/trip", command_length=5)})
    found.append({"my_chat_member": {
        "chat": {"id": REP_ID, "type": "private"}, "date": 1764615600,
        "from": {"id": REP_ID, "is_bot": False, "first_name": "Rita"},
        "old_chat_member": {"status": "member", "user": {"id": 1, "is_bot": True,
                                                          "first_name": "fieldbot"}},
        "new_chat_member": {"status": "kicked", "until_date": 0,
                            "user": {"id": 1, "is_bot": True, "first_name": "fieldbot"}}}})
    return [{"update_id": n, **body} for n, body in enumerate(found, start=1)]


def taken_by(result: Any) -> object:
    """Which handler PTB's check picked (None: the flow does not take the update)."""
    return None if result is None or result is False else result[2]


async def test_a_flow_with_no_open_question_answers_as_ptbs_full_check(world: World) -> None:
    assert world.app is not None
    bot = world.app.bot
    flows = [h for h in world.app.handlers[0] if isinstance(h, Flow)]
    assert len(flows) >= 12
    checked = took = 0
    for data in updates(bot.username):
        update = Update.de_json(data, bot)
        for flow in flows:
            quick = flow.check_update(update)
            full = ConversationHandler.check_update(flow, update)
            assert taken_by(quick) is taken_by(full), (flow.name, data)
            checked += 1
            took += taken_by(full) is not None
    # The updates reach every flow's entry points, not only its "no".
    assert took >= len(flows) and checked == len(flows) * len(updates(bot.username))


async def test_an_open_question_still_takes_its_answer(team: World) -> None:
    await team.rep.send("/trip")
    asked = team.rep.last.body or ""
    await team.rep.send("Berlin")  # the trip flow's answer, not the check-in's "safe" words
    assert team.rep.last.body != asked and "Berlin" in (team.rep.last.body or "")


def every_handler(handlers: list[Any]) -> list[BaseHandler[Any, Any, Any]]:
    """The handlers and, within each conversation, its entry points, states and fallbacks."""
    found: list[BaseHandler[Any, Any, Any]] = []
    for handler in handlers:
        found.append(handler)
        if isinstance(handler, ConversationHandler):
            nested = [*handler.entry_points, *handler.fallbacks,
                      *(h for state in handler.states.values() for h in state)]
            found += every_handler(nested)
    return found


def ptbs_check(command: Command, update: Update) -> Any:
    """PTB's check, the bot's name after a command taken as ours whatever it says."""
    found = update.effective_message
    if found is not None and found.text and "@someone_else_bot" in found.text:
        text = found.text.replace("@someone_else_bot", f"@{found.get_bot().username}", 1)
        update = Update.de_json({"update_id": update.update_id, "message": message(
            text, command_length=len(text.split()[0]))}, found.get_bot())
    return CommandHandler.check_update(command, update)


async def test_every_command_is_read_once_and_answers_as_ptbs_check(world: World) -> None:
    assert world.app is not None
    bot = world.app.bot
    handlers = every_handler([h for group in world.app.handlers.values() for h in group])
    assert not [h for h in handlers if type(h) is CommandHandler], "use flows.base.Command"
    commands = [h for h in handlers if isinstance(h, Command)]
    assert len(commands) >= 30
    decoded = [Update.de_json(data, bot) for data in updates(bot.username)]
    took = 0
    # Each update read for every command, then each command asked of every update in turn:
    # the reading kept for the update read last must never answer for another.
    for update in decoded:
        for command in commands:
            assert command.check_update(update) == ptbs_check(command, update)
    for command in commands:
        for update in decoded:
            quick = command.check_update(update)
            assert quick == ptbs_check(command, update), command.commands
            took += quick not in (None, False)
    assert took >= 2 * len(commands)  # the updates reach every command, not only its "no"


async def test_a_flows_key_is_read_once_and_is_ptbs_key(world: World) -> None:
    assert world.app is not None
    bot = world.app.bot
    flows = [h for h in world.app.handlers[0] if isinstance(h, Flow)]
    decoded = [Update.de_json(data, bot) for data in updates(bot.username)]
    for update in decoded:
        if update.effective_chat is None or update.effective_user is None:
            continue
        for flow in flows:
            assert flow.key_of(update) == ConversationHandler._get_key(flow, update)
    other = Update.de_json({"update_id": 99, "message": {**message("/trip", command_length=5),
                            "chat": {"id": 777, "type": "private", "first_name": "Otto"},
                            "from": {"id": 777, "is_bot": False, "first_name": "Otto"}}}, bot)
    assert flows[0].key_of(decoded[0]) != flows[0].key_of(other) == (777, 777)


async def test_a_press_that_no_handler_takes_is_answered_not_left_spinning(team: World) -> None:
    # A button of an older version of the bot, or forged data under a prefix the person may use.
    await team.rep.send("/help")
    for data in ("checkin:safe:9999", "checkin:", "checkin:snooze:-1", "trip:nothing", "x" * 64):
        toast = await team.rep.press_data(data)
        assert toast is not None, data
        assert toast.text == "This button is no longer valid." and toast.show_alert, data
