"""What the conversations share: drafts (typed pydantic models kept as JSON in the person's
user_data, which the persistence stores encrypted, so a restart mid-conversation resumes
them) and resolving a shared pin."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel
from telegram import Update

from conversations.context import BotContext
from fieldbot.domain.places import Place

Draft = TypeVar("Draft", bound=BaseModel)


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


async def pinned_place(update: Update, context: BotContext) -> Place | None:
    """Resolve the shared pin of this message; None (after a clear reply) if it is invalid."""
    message = update.effective_message
    assert message
    assert message.location
    try:
        return await context.services.risk.place_at(message.location.latitude,
                                                    message.location.longitude)
    except ValueError:
        await message.reply_html(context.t("trip.destination.bad_pin"))
        return None
