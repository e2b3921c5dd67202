"""Drafts: typed pydantic models kept as JSON in the person's user_data (which the persistence
stores encrypted, so a restart mid-conversation resumes them), and the handlers every flow
with a draft shares — start or offer the draft put aside, Continue / Start over, Cancel,
input that answers nothing, and buttons of old messages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar
from uuid import uuid4

from pydantic import BaseModel, Field
from telegram import Update
from telegram.ext import BaseHandler, ConversationHandler

from conversations.context import BotContext
from conversations.flows import common
from conversations.flows.base import Command
from conversations.render import keyboards


class DraftModel(BaseModel):
    """A draft: its key makes a second Confirm harmless; `step` is the question it is at."""

    draft_key: str = Field(default_factory=lambda: uuid4().hex)
    step: int = 0


Draft = TypeVar("Draft", bound=BaseModel)
D = TypeVar("D", bound=DraftModel)


def store(context: BotContext) -> dict[Any, Any]:
    """Return the person's user_data (always there in a private chat)."""
    assert context.user_data is not None
    return context.user_data


def load(context: BotContext, key: str, model: type[Draft]) -> Draft:
    """Return the stored draft, or a fresh one."""
    raw = store(context).get(key)
    return model.model_validate(raw) if raw else model()


def save(context: BotContext, key: str, draft: BaseModel) -> None:
    store(context)[key] = draft.model_dump(mode="json")


def forget(context: BotContext, key: str) -> None:
    store(context).pop(key, None)


async def _keep(context: BotContext, draft: Any) -> None:
    return None


# Every draft flow by name: what answers a person who writes while a draft is put aside.
PUT_ASIDE_BY: dict[str, DraftFlow[Any]] = {}


async def offer_put_aside(update: Update, context: BotContext) -> bool:
    """Offer the person's put-aside draft (Continue / Start over), if there is one: someone
    who answers that offer by typing (a place, "接着填") is shown it again, not a command list."""
    for flow in PUT_ASIDE_BY.values():
        if flow.has_draft(context):
            await flow.again(update, context)
            return True
    return False


async def cancel_put_aside(update: Update, context: BotContext) -> bool:
    """/cancel with no flow open drops the draft put aside that free text offers (someone
    the offer kept answering was told "nothing to cancel", and offered it again)."""
    for flow in PUT_ASIDE_BY.values():
        if flow.has_draft(context):
            await flow.cancel(update, context)
            return True
    return False


class DraftFlow(Generic[D]):
    """One flow's draft and its shared handlers. `name` ("trip") is the command, the prefix of
    the flow's buttons and catalog keys ("trip.open", "trip.unexpected", "trip.already_saved",
    "trip.button.resume", "trip.button.restart") and of its user_data keys.

    `ask(update, context, draft, step)` stores the step and asks its question; `discard`
    drops what only an abandoned draft used (a hazard report's photos).
    """

    def __init__(
        self, name: str, model: type[D], first: Any,
        ask: Callable[[Update, BotContext, D, Any], Awaitable[Any]],
        discard: Callable[[BotContext, D], Awaitable[None]] = _keep,
    ) -> None:
        self.name, self.model, self.first = name, model, first
        self.key, self.saved_key = f"{name}_draft", f"{name}_saved"
        self._ask, self._discard = ask, discard
        PUT_ASIDE_BY[name] = self

    def has_draft(self, context: BotContext) -> bool:
        return bool(store(context).get(self.key))

    def load(self, context: BotContext) -> D:
        return load(context, self.key, self.model)

    def save(self, context: BotContext, draft: D) -> None:
        save(context, self.key, draft)

    async def drop(self, context: BotContext) -> None:
        """Drop the open draft, and what only it used."""
        raw = store(context).pop(self.key, None)
        if raw:
            await self._discard(context, self.model.model_validate(raw))

    def mark_saved(self, context: BotContext, draft_key: str, **more: Any) -> None:
        """Drop the draft the service has saved; its old Confirm will say so."""
        store(context).pop(self.key, None)
        store(context)[self.saved_key] = {"key": draft_key, **more}

    async def start(self, update: Update, context: BotContext) -> Any:
        """Start a new draft and ask its first question; a draft put aside is offered first."""
        if store(context).get(self.key):
            await self.again(update, context)
            return ConversationHandler.END
        return await self._ask(update, context, self.model(), self.first)

    async def again(self, update: Update, context: BotContext) -> None:
        """The command while a draft is open: offer to continue it or to start over."""
        assert update.effective_message
        t, name = context.t, self.name
        await update.effective_message.reply_html(t(f"{name}.open"), reply_markup=keyboards.rows(
            [(t(f"{name}.button.resume"), f"{name}:resume"),
             (t(f"{name}.button.restart"), f"{name}:restart")]))

    async def resume(self, update: Update, context: BotContext) -> Any:
        """Ask the open draft's current question again. An old offer's Continue, pressed after
        its draft was sent or cancelled, says so (it used to begin a new draft)."""
        query = update.callback_query
        if query is not None and not self.has_draft(context):
            await query.answer(context.t.toast("guard.stale_button"), show_alert=True)
            return ConversationHandler.END
        await keyboards.take_buttons_off(update)
        return await self.ask_again(update, context)

    async def restart(self, update: Update, context: BotContext) -> Any:
        """Drop the open draft and ask the first question of a new one."""
        await keyboards.take_buttons_off(update)
        await self.drop(context)
        return await self._ask(update, context, self.model(), self.first)

    async def cancel(self, update: Update, context: BotContext) -> int:
        """/cancel or the Cancel button: drop the draft; nothing is saved."""
        await self.drop(context)
        return await common.cancelled(update, context)

    async def unexpected(self, update: Update, context: BotContext) -> Any:
        """Something that does not answer the question (a photo, text where buttons are): say
        so and ask again."""
        assert update.effective_message
        await update.effective_message.reply_html(context.t(f"{self.name}.unexpected"))
        return await self.ask_again(update, context)

    async def ask_again(self, update: Update, context: BotContext) -> Any:
        """Ask the open draft's current question again."""
        draft = self.load(context)
        return await self._ask(update, context, draft, draft.step)

    async def stale_button(self, update: Update, context: BotContext) -> None:
        """A button of an old message: an old summary's Confirm is told it is saved already."""
        query = update.callback_query
        assert query
        assert query.data
        saved = store(context).get(self.saved_key)
        key = saved.get("key") if isinstance(saved, dict) else saved  # a bare key: older form
        if query.data == f"{self.name}:confirm:{key}":
            await query.answer(context.t.toast(f"{self.name}.already_saved"), show_alert=True)
        else:
            await query.answer(context.t.toast("guard.stale_button"), show_alert=True)

    def entry_points(self, *more: BaseHandler[Update, BotContext, Any]
                     ) -> list[BaseHandler[Update, BotContext, Any]]:
        """The command, `more`, and Continue / Start over (a draft put aside is offered by the
        command, outside the conversation)."""
        return [Command(self.name, self.start), *more,
                common.pressed(self.resume, rf"^{self.name}:resume$"),
                common.pressed(self.restart, rf"^{self.name}:restart$")]

    def fallbacks(self) -> list[BaseHandler[Update, BotContext, Any]]:
        """/cancel, the command again, Cancel, Continue / Start over, and stale buttons."""
        name = self.name
        return [Command("cancel", self.cancel), Command(name, self.again),
                common.pressed(self.cancel, rf"^{name}:cancel$"),
                common.pressed(self.resume, rf"^{name}:resume$"),
                common.pressed(self.restart, rf"^{name}:restart$"),
                common.pressed(self.stale_button, rf"^{name}:")]
