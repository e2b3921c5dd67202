"""/hazards (leads: each open report with Verify / Dismiss) and /points (mine and the
leaderboard). Reporting a hazard is `hazard.py`."""

from __future__ import annotations

from typing import Any

from telegram import Message, Update
from telegram.ext import Application, CallbackQueryHandler

from conversations.context import BotContext
from conversations.flows.base import Command
from conversations.i18n import Raw
from conversations.render import hazard as hazard_render
from conversations.render import keyboards
from fieldbot.domain.hazards import Hazard
from fieldbot.services.hazards import HazardDecisionError

_take_buttons_off = keyboards.take_buttons_off


async def list_open(update: Update, context: BotContext) -> None:
    """/hazards: the open reports this lead may decide, each with Verify / Dismiss."""
    message = update.effective_message
    assert message
    found, total = await context.services.hazards.open_for(context.member)
    if not found:
        await message.reply_html(context.t("hazards.none"))
        return
    await message.reply_html(context.t("hazards.head", shown=len(found), total=total))
    for hazard, reporter in found:
        await _send_card(message, context, hazard, reporter)


async def _send_card(message: Message, context: BotContext, hazard: Hazard,
                     reporter: str) -> None:
    """Send one open report: its first photo with the card and buttons, then the others."""
    t, hazards = context.t, context.services.hazards
    text = hazard_render.hazard_card(t, hazards.params_for_lead(hazard, reporter),
                                     "hazard.card.head_open")
    buttons = hazard_render.lead_buttons(t, hazard.id)
    photos = [data for ref in hazard.photos if (data := await hazards.photo_bytes(ref))]
    if not photos:
        await message.reply_html(text, reply_markup=buttons, protect_content=True)
        return
    await message.reply_photo(photos[0], caption=text, parse_mode="HTML", reply_markup=buttons,
                              protect_content=True)
    for n, data in enumerate(photos[1:], start=2):
        await message.reply_photo(data, caption=t("hazard.card.photo_n", id=hazard.id, n=n,
                                                  count=len(photos)), protect_content=True)


async def decide(update: Update, context: BotContext) -> None:
    """Verify (points to the reporter, colleagues nearby told) or dismiss a report."""
    query = update.callback_query
    assert query
    assert query.data
    _, action, number = query.data.split(":")
    t = context.t
    try:
        done = await context.services.hazards.decide(int(number), context.member,
                                                     action == "verify")
    except HazardDecisionError as refused:
        await query.answer(t.toast(f"hazards.err.{refused.reason}", by_name=refused.by_name),
                           show_alert=True)
        if refused.reason.startswith("already") and getattr(query.message, "reply_markup", None):
            await query.edit_message_reply_markup(None)
        return
    await _take_buttons_off(update)
    key = "hazards.done.verified" if action == "verify" else "hazards.done.dismissed"
    if done.reporter_gone and action == "verify":
        key = "hazards.done.verified_anonymous"  # nobody earns the points
    assert update.effective_message
    await update.effective_message.reply_html(t(key, id=done.hazard.id, points=done.points,
                                                notified=done.notified))
    await context.services.deliver()


async def show_points(update: Update, context: BotContext) -> None:
    """/points: mine, and the leaderboard of my team (of everyone for officers and admins)."""
    assert update.effective_message
    t = context.t
    standing = await context.services.hazards.standing(context.member)
    rows = "\n".join(t("points.row", rank=i, name=name, points=points)
                     for i, (_, name, points) in enumerate(standing.board, start=1))
    await update.effective_message.reply_html(
        t("points.mine", points=standing.mine) + "\n\n"
        + (t("points.board", rows=Raw(rows)) if rows else t("points.board_empty")))


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Register /hazards with its Verify / Dismiss buttons, and /points."""
    app.add_handler(Command("hazards", list_open))
    app.add_handler(Command("points", show_points))
    app.add_handler(CallbackQueryHandler(decide, pattern=r"^hazards:(verify|dismiss):\d{1,18}$"))
