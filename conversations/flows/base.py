"""One open question per person, and questions that expire.

Every conversation that asks the person something (a /trip draft, a hazard report, "why skip
tonight?", a reject reason, the post-trip report, /risk's place) is a `Flow`. The gate runs after
the guard and before every handler, and keeps two promises:

- **One open question.** A command or a button press that the open flow does not take itself
  ends it, visibly, before the update goes on to whatever it starts. /trip and /hazard drafts
  are put aside (their command offers to continue them); the other questions are closed. So a
  reply can only ever answer the question the person was asked last.
- **Questions expire.** Whenever a flow asks, it stamps in user_data when the question lapses
  (the injected Clock). The first update after that moment ends the flow, visibly, before any
  handler sees the update. The stamp lives in the persisted user_data, so it survives a restart
  and follows the tests' fake clock; PTB's own conversation_timeout runs on the real clock and
  its jobs are lost on restart, which is why it is not used.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from telegram import MessageEntity, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ConversationHandler
from telegram.warnings import PTBUserWarning

from conversations.context import BotContext
from conversations.flows import common

log = logging.getLogger(__name__)

EXPIRES = "flow_expires"  # user_data: {flow name: ISO instant its open question lapses}
QUESTION_LIFETIME = timedelta(minutes=30)
DRAFT_LIFETIME = timedelta(hours=2)  # a trip plan or a hazard report takes looking things up

Cleanup = Callable[[BotContext], Awaitable[None]]


async def _nothing(context: BotContext) -> None:
    return None


class Flow(ConversationHandler[BotContext]):
    """A persistent per-person conversation that the gate may end (put aside or closed).

    `command` (e.g. "/trip") marks a flow whose draft is put aside rather than dropped: the
    command offers to continue it. `cleanup` drops what a closed question kept in user_data.
    """

    def __init__(
        self,
        *,
        name: str,
        lifetime: timedelta = QUESTION_LIFETIME,
        command: str | None = None,
        cleanup: Cleanup = _nothing,
        **kwargs: Any,
    ) -> None:
        with warnings.catch_warnings():
            # per_message=False with buttons is intended: a draft is per chat, and a button of
            # an old message is recognised by its data (a stale Confirm carries its draft key).
            warnings.filterwarnings("ignore", message="If 'per_message=False'",
                                    category=PTBUserWarning)
            super().__init__(name=name, persistent=True, **kwargs)
        self.lifetime = lifetime
        self.command = command
        self.cleanup = cleanup
        self._entries = _Entries.read(self.entry_points)

    def check_update(self, update: object) -> Any:
        """PTB's check, skipped when it could only say no: no question of this flow is open
        for the person and none of its entry points could take the update (every update
        passes a dozen flows on its way to its handler; in the rush that adds up)."""
        if (self._entries is not None and isinstance(update, Update)
                and update.effective_chat is not None and update.effective_user is not None
                and self._conversations.get(self.key_of(update)) is None
                and not self._entries.may_take(update)):
            return None
        return super().check_update(update)

    @property
    def flow_name(self) -> str:
        assert self.name is not None
        return self.name

    def key_of(self, update: Update) -> tuple[int | str, ...]:
        """PTB's key of the person's conversation, read once per update for every flow that
        keys alike (the gate and a dozen flows ask for it, for each update)."""
        if self.per_message:
            return self._get_key(update)
        keys = _reading(update).keys
        how = (self.per_chat, self.per_user)
        key = keys.get(how)
        if key is None:
            key = keys[how] = self._get_key(update)
        return key

    def is_open(self, key: tuple[int | str, ...]) -> bool:
        return self._conversations.get(key) is not None

    def takes(self, update: Update) -> bool:
        """Whether this open flow handles the update itself: an answer, its own buttons or
        commands, or starting itself again if it allows re-entry (each flow decides what a
        restart means). An entry point of a flow without re-entry is not taken while it is
        open (PTB would pass it on, e.g. to "not available"): the gate closes the open
        question, and the entry point then starts the flow afresh."""
        return self.check_update(update) not in (None, False)

    def end(self, key: tuple[int | str, ...]) -> None:
        self._update_state(self.END, key)

    def end_all_of(self, user_id: int) -> None:
        """End every open question of one person (their data was erased: no old step may
        take their next message)."""
        for key in [key for key in self._conversations if user_id in key]:
            self.end(key)

    async def handle_update(
        self, update: Update, application: Application[Any, Any, Any, Any, Any, Any],
        check_result: Any, context: BotContext,
    ) -> object | None:
        """Handle as PTB does, then stamp (or clear) when the open question lapses."""
        try:
            return await super().handle_update(update, application, check_result, context)
        finally:
            with _stamps(context) as stamps:
                if stamps is not None:
                    if self.is_open(check_result[1]):
                        lapses = context.services.clock.now() + self.lifetime
                        stamps[self.flow_name] = lapses.isoformat()
                    else:
                        stamps.pop(self.flow_name, None)


def forget_in_memory(application: Application[Any, Any, Any, Any, Any, Any],
                     user_id: int) -> None:
    """Drop what this process keeps of a person: their user_data and every question open to
    them. After /forgetme, and for someone the storage does not know (erased by the operator's
    CLI or another instance, which cannot reach this process's memory), who must find no draft
    of theirs and no question open when they are invited again."""
    if application.user_data.get(user_id):  # an empty one costs no write to drop
        log.info("dropped in-memory state of user %s", user_id)
        application.drop_user_data(user_id)
    for group in application.handlers.values():
        for handler in group:
            if isinstance(handler, Flow):
                handler.end_all_of(user_id)


class _Entries:
    """What a flow's entry points could take, read ahead: commands by name, buttons by their
    data's pattern. Only ever errs towards "could": then PTB's own check decides."""

    __slots__ = ("commands", "patterns")

    def __init__(self, commands: frozenset[str], patterns: tuple[re.Pattern[str], ...]) -> None:
        self.commands = commands
        self.patterns = patterns

    @classmethod
    def read(cls, entry_points: Sequence[object]) -> _Entries | None:
        """None when an entry point is of a kind not read ahead (a message filter, a button
        matched by anything but a regular expression): the flow is always checked in full."""
        commands: set[str] = set()
        patterns: list[re.Pattern[str]] = []
        for entry in entry_points:
            if isinstance(entry, CommandHandler):
                commands |= entry.commands
            elif (isinstance(entry, CallbackQueryHandler) and entry.game_pattern is None
                  and isinstance(entry.pattern, re.Pattern)):
                patterns.append(entry.pattern)
            else:
                return None
        return cls(frozenset(commands), tuple(patterns))

    def may_take(self, update: Update) -> bool:
        query = update.callback_query
        if query is not None and self.patterns:
            data = query.data
            # PTB's reading: a press without data or a game matches any pattern.
            if not isinstance(data, str) or not data or any(p.match(data) for p in self.patterns):
                return True
        return _reading(update).command in self.commands


class Command(CommandHandler[BotContext, Any]):
    """PTB's CommandHandler, saying no at once when the message holds another command or none
    (every update passes a score of them on its way to its handler). The command is read once
    per update, as PTB reads it; PTB's own check decides the rest (filters).

    The bot's name after the command is not checked: only private chats reach the handlers,
    where the bot is the only reader, so "/sos@acme_safety_bot" (a card printed before the bot
    was renamed, an instruction copied from a group) is ours. PTB would refuse it, and the rep
    would be told that /sos is not available."""

    def check_update(self, update: object) -> Any:
        if not isinstance(update, Update):
            return super().check_update(update)
        if _reading(update).command not in self.commands:
            return None
        found = super().check_update(update)
        if found is not None:
            return found
        message = update.effective_message
        assert message is not None and message.text is not None  # it holds the command
        args = message.text.split()[1:]
        if not self._check_correct_args(args):
            return None
        filtered = self.filters.check_update(update)
        return (args, filtered) if filtered else False


class _Reading:
    """What the handlers read from one update, read once: its command, its conversation keys.
    An update never changes, and PTB checks the handlers of a group one after another without
    pausing, so the reading of the update read last is kept. It holds its update, so a new one
    at the same address is never taken for it; and a reading is never changed to another
    update's, so two loops in two threads at most read an update twice, never wrongly."""

    __slots__ = ("command", "keys", "update")

    def __init__(self, update: Update) -> None:
        self.update = update
        self.command = _command_name(update)
        self.keys: dict[tuple[bool, bool], tuple[int | str, ...]] = {}


_last: _Reading | None = None


def _reading(update: Update) -> _Reading:
    global _last
    last = _last
    if last is None or last.update is not update:
        last = _last = _Reading(update)
    return last


def _command_name(update: Update) -> str | None:
    """The command as PTB's CommandHandler reads it: the message's first entity, a bot command
    at its start (a button's message too), lower case, without @bot."""
    message = update.effective_message
    if message is None or not message.entities or not message.text:
        return None
    first = message.entities[0]
    if first.type != MessageEntity.BOT_COMMAND or first.offset != 0:
        return None
    return message.text[1:first.length].split("@", 1)[0].lower()


@contextmanager
def _stamps(context: BotContext) -> Iterator[dict[str, str] | None]:
    """The person's open questions' stamps, kept in user_data only while there is one: an
    empty entry would give everyone who ever sent an update a stored (encrypted) row."""
    user_data = context.user_data
    if user_data is None:
        yield None
        return
    stamps: dict[str, str] = user_data.setdefault(EXPIRES, {})
    try:
        yield stamps
    finally:
        if not stamps and user_data.get(EXPIRES) is stamps:
            del user_data[EXPIRES]


def _starts_something(update: Update) -> bool:
    """A button press or a new command: the person has moved on to something else."""
    if update.callback_query is not None:
        return True
    message = update.message
    return bool(message and message.text and message.text.startswith("/"))


async def _answers_reminder(update: Update, context: BotContext) -> bool:
    """ "I'm safe" typed while tonight's reminder waits for an answer: the reminder is the
    question it answers (it came in the middle of a trip plan's questions, say), never a
    lodging address or a client's name. "救命" or "need help" typed at any question is an
    SOS (`checkin.text_reply`), never an answer to it."""
    message = update.message
    if message is None or not message.text or common.forwarded(update):
        return False
    if common.says_help(message.text):  # "救命" is never a lodging or a client's name
        return True
    if not common.says_safe(message.text):
        return False
    return await context.services.checkins.awaits_reply(context.member.id)


def _lapsed(stamp: str, now: datetime) -> bool:
    try:
        return now >= datetime.fromisoformat(stamp)
    except ValueError:
        return True


def gate(flows: Sequence[Flow]) -> Callable[[Update, BotContext], Coroutine[Any, Any, None]]:
    """Return the handler that ends lapsed or superseded questions before anything else runs."""

    async def end_stale_questions(update: Update, context: BotContext) -> None:
        if not context.has_member or update.effective_chat is None:
            return  # the guard let it through for enrolment: no question can be open
        with _stamps(context) as stamps:
            if stamps is not None:
                await _end_stale(update, context, flows, stamps)

    return end_stale_questions


async def _end_stale(update: Update, context: BotContext, flows: Sequence[Flow],
                     stamps: dict[str, str]) -> None:
    now = context.services.clock.now()
    answers_reminder: bool | None = None  # asked once, and only when a question is open
    for flow in flows:
        key = flow.key_of(update)
        if not flow.is_open(key):
            stamps.pop(flow.flow_name, None)
            continue
        # No stamp (user_data erased, or a question from before stamps): it lapses one
        # lifetime from now; a skip question of that age names no night and skips nothing.
        stamp = stamps.setdefault(flow.flow_name, (now + flow.lifetime).isoformat())
        if _lapsed(stamp, now):
            reason = "expired"
        elif _starts_something(update) and not flow.takes(update):
            reason = "interrupted"
        else:
            if answers_reminder is None:
                answers_reminder = await _answers_reminder(update, context)
            if not answers_reminder:
                continue
            reason = "interrupted"
        flow.end(key)
        stamps.pop(flow.flow_name, None)
        if flow.command is None:
            await flow.cleanup(context)
        await _tell(update, context, flow, reason)
        context.answered = True
        log.info("flow %s of user %s ended: %s", flow.flow_name, context.member.id, reason)


async def _tell(update: Update, context: BotContext, flow: Flow, reason: str) -> None:
    t = context.t
    what = t(f"flow.what.{flow.flow_name}")
    minutes = int(flow.lifetime.total_seconds() // 60)
    if flow.command is not None:
        key = "flow.expired_put_aside" if reason == "expired" else "flow.put_aside"
    else:
        key = "flow.expired" if reason == "expired" else "flow.cancelled"
    assert update.effective_chat
    await context.bot.send_message(
        update.effective_chat.id,
        t(key, what=what, minutes=minutes, command=flow.command or ""),
        parse_mode="HTML",
    )
