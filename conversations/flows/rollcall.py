"""/rollcall: the open roll-calls, or a new one — whom to ask (a place and a radius, a country,
a team, everyone travelling), how many people that is, an optional short message, then ask.

The draft lives in `user_data["rollcall"]` (plain JSON); the question itself, the tally and
chasing the silent are the core's (`RollcallService`). Answers, names and Close are in
`rollcall_actions.py`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict
from enum import IntEnum
from typing import Any
from uuid import uuid4

from telegram import ReplyKeyboardRemove, Update
from telegram.ext import Application, ConversationHandler, MessageHandler

from conversations.context import BotContext
from conversations.flows import common, drafts
from conversations.flows.base import Command, Flow
from conversations.flows.common import NEW_MESSAGE, NEW_PIN, NEW_TEXT, pressed
from conversations.flows.rollcall_actions import tally_view
from conversations.i18n import Raw
from conversations.render import keyboards
from conversations.render import rollcall as render
from conversations.render.formatting import place_label
from fieldbot.domain.places import Place
from fieldbot.domain.rollcall import (
    DEFAULT_RADIUS_KM,
    MAX_MESSAGE,
    RADII_KM,
    Scope,
    ScopeKind,
    may_start,
)
from fieldbot.services.rollcall import RollcallRefused, scope_params

DRAFT = "rollcall"
MAX_PLACE = 200
MAX_SHOWN = 3  # open roll-calls shown by /rollcall, newest first


class Ask(IntEnum):
    SCOPE = 1
    PLACE = 2
    RADIUS = 3
    COUNTRY = 4
    TEAM = 5
    CONFIRM = 6
    MESSAGE = 7


PLACE = common.PlaceQuestion(
    empty="rollcall.place.bad", too_long="rollcall.place.bad", not_found="rollcall.place.none",
    pick="rollcall.place.pick", button="rollcall:place:", longest=MAX_PLACE)


def _draft(context: BotContext) -> dict[str, Any]:
    found: dict[str, Any] = drafts.store(context).setdefault(DRAFT, {})
    return found


async def _forget(context: BotContext) -> None:
    drafts.store(context).pop(DRAFT, None)


async def _say(update: Update, text: str, markup: Any = None) -> None:
    assert update.effective_message
    await update.effective_message.reply_html(text, reply_markup=markup)


async def rollcall_command(update: Update, context: BotContext) -> int:
    """Show the open roll-calls I may see (with Names / Close), else ask whom to ask."""
    await _forget(context)
    if not may_start(context.member):  # a manager without a team has nobody to ask
        await _say(update, context.t("rollcall.refused.not_allowed"))
        return ConversationHandler.END
    views = await context.services.rollcall.open_for(context.member)
    if not views:
        return await _ask_scope(update, context)
    t = context.t
    for view in views[:MAX_SHOWN]:
        text, markup = tally_view(t, view)
        await _say(update, text, markup)
    await _say(update, t("rollcall.open_ones", count=len(views)),
               keyboards.rows([(t("rollcall.button.new"), "rollcall:new")]))
    return ConversationHandler.END


async def new_pressed(update: Update, context: BotContext) -> int:
    """"New roll-call" under the open ones: ask whom to ask."""
    await keyboards.take_buttons_off(update)
    await _forget(context)
    return await _ask_scope(update, context)


async def _ask_scope(update: Update, context: BotContext) -> int:
    t = context.t
    await _say(update, t("rollcall.scope.ask"), keyboards.rows(
        [(t("rollcall.button.place"), "rollcall:scope:place"),
         (t("rollcall.button.country"), "rollcall:scope:country")],
        [(t("rollcall.button.team"), "rollcall:scope:team"),
         (t("rollcall.button.everyone"), "rollcall:scope:everyone")],
        [(t("rollcall.button.cancel"), "rollcall:cancel")]))
    return Ask.SCOPE


async def scope_picked(update: Update, context: BotContext) -> int:
    """Ask for the place, the country or the team; everyone travelling goes to the count."""
    await keyboards.take_buttons_off(update)
    kind, t = keyboards.chosen(update), context.t
    if kind == ScopeKind.PLACE:
        await _say(update, t("rollcall.place.ask"), common.location_keyboard(t))
        return Ask.PLACE
    if kind == ScopeKind.COUNTRY:
        await _say(update, t("rollcall.country.ask"))
        return Ask.COUNTRY
    if kind == ScopeKind.TEAM:
        teams = await context.services.rollcall.teams(context.member)
        _draft(context)["teams"] = teams
        if not teams:
            await _say(update, t("rollcall.team.none"))
            return ConversationHandler.END
        await _say(update, t("rollcall.team.ask"), keyboards.rows(
            *([(team, f"rollcall:team:{i}")] for i, team in enumerate(teams))))
        return Ask.TEAM
    return await _confirm(update, context, Scope(ScopeKind.EVERYONE))


async def place_typed(update: Update, context: BotContext) -> int:
    """Find the place typed: the one meant, or matches as buttons."""
    assert update.effective_message and update.effective_message.text is not None
    found = await common.search_place(update, context, update.effective_message.text, PLACE)
    if found is None:
        return Ask.PLACE
    if isinstance(found, Place):
        return await _ask_radius(update, context, found)
    _draft(context)["choices"] = [asdict(p) for p in found]
    return Ask.PLACE


async def place_pinned(update: Update, context: BotContext) -> int:
    place = await common.pinned_place(update, context)
    return Ask.PLACE if place is None else await _ask_radius(update, context, place)


async def place_chosen(update: Update, context: BotContext) -> int:
    choices = _draft(context).get("choices") or []
    index = common.picked_place(update, context, PLACE, len(choices))
    if index is None:
        await common.stale_button(update, context)
        return Ask.PLACE
    await keyboards.take_buttons_off(update)
    return await _ask_radius(update, context, Place(**choices[index]))


async def place_other(update: Update, context: BotContext) -> int:
    await _say(update, context.t("rollcall.place.ask"))
    return Ask.PLACE


async def _ask_radius(update: Update, context: BotContext, place: Place) -> int:
    _draft(context)["place"] = asdict(place)
    t = context.t
    await _say(update, t("rollcall.radius.ask", place=place_label(place, t.language)),
               ReplyKeyboardRemove())
    await _say(update, t("rollcall.radius.pick", default=DEFAULT_RADIUS_KM), keyboards.rows(
        [(t("rollcall.radius.km", km=km), f"rollcall:radius:{km}") for km in RADII_KM]))
    return Ask.RADIUS


async def radius_picked(update: Update, context: BotContext) -> int:
    radius = int(keyboards.chosen(update))
    place = _draft(context).get("place")
    if radius not in RADII_KM or not place:
        await common.stale_button(update, context)
        return ConversationHandler.END
    await keyboards.take_buttons_off(update)
    return await _take_radius(update, context, Place(**place), radius)


async def radius_typed(update: Update, context: BotContext) -> int:
    """A button's radius typed ("50", "５０ 公里", "50km"); anything else: press a button."""
    assert update.effective_message and update.effective_message.text is not None
    typed = unicodedata.normalize("NFKC", update.effective_message.text).casefold()
    number = typed.replace("公里", "").replace("千米", "").replace("km", "").strip()
    place = _draft(context).get("place")
    if not place or not number.isascii() or not number.isdigit() or int(number) not in RADII_KM:
        await _say(update, context.t("rollcall.press_button"))
        return Ask.RADIUS
    return await _take_radius(update, context, Place(**place), int(number))


async def _take_radius(update: Update, context: BotContext, picked: Place, radius: int) -> int:
    scope = Scope(ScopeKind.PLACE, place_label(picked, "en"), picked.lat, picked.lon, radius,
                  label_zh=place_label(picked, "zh"))
    return await _confirm(update, context, scope)


async def country_typed(update: Update, context: BotContext) -> int:
    assert update.effective_message and update.effective_message.text is not None
    found = await context.services.rollcall.find_country(update.effective_message.text)
    if found is None:
        await _say(update, context.t("rollcall.country.none"))
        return Ask.COUNTRY
    code, name = found
    return await _confirm(update, context, Scope(ScopeKind.COUNTRY, name, country_code=code))


async def team_picked(update: Update, context: BotContext) -> int:
    teams = _draft(context).get("teams") or []
    index = common.picked_index(update, len(teams))
    if index is None:
        await common.stale_button(update, context)
        return ConversationHandler.END
    await keyboards.take_buttons_off(update)
    return await _confirm(update, context, Scope(ScopeKind.TEAM, team=teams[index]))


async def team_typed(update: Update, context: BotContext) -> int:
    """A team typed instead of pressed (an officer with more teams than buttons)."""
    assert update.effective_message and update.effective_message.text is not None
    typed = update.effective_message.text.strip().casefold()
    teams = await context.services.rollcall.teams(context.member, everyone=True)
    team = next((tm for tm in teams if tm.casefold() == typed), None)
    if team is None:
        await _say(update, context.t("rollcall.team.unknown"))
        return Ask.TEAM
    return await _confirm(update, context, Scope(ScopeKind.TEAM, team=team))


async def _confirm(update: Update, context: BotContext, scope: Scope) -> int:
    """Say how many people this asks (and why), and offer a message, Ask now, Cancel."""
    draft, t = _draft(context), context.t
    draft["scope"] = {**asdict(scope), "kind": scope.kind.value}
    preview = await context.services.rollcall.preview(context.member, scope)
    scope_text = render.scope_text(t, scope_params(scope))
    if preview.count == 0:
        key = "rollcall.nobody" if scope.is_area else f"rollcall.nobody.{scope.kind.value}"
        await _say(update, t(key, scope=Raw(scope_text), team=scope.team))
        await _forget(context)
        return ConversationHandler.END
    text = t("rollcall.confirm", count=preview.count, scope=Raw(scope_text))
    if scope.is_area:
        text += "\n" + t("rollcall.confirm.why", trip=preview.by_trip,
                         location=preview.by_location)
    if draft.get("message"):
        text += "\n" + t("rollcall.ask.message", message=draft["message"])
    message_key = "rollcall.button.edit_message" if draft.get("message") else \
        "rollcall.button.message"
    # Only the newest count may ask: an older one (another place, another message) is stale.
    nonce = draft["nonce"] = uuid4().hex[:8]
    await _say(update, text, keyboards.rows(
        [(t("rollcall.button.go", count=preview.count), f"rollcall:go:{nonce}")],
        [(t(message_key), "rollcall:msg"), (t("rollcall.button.cancel"), "rollcall:cancel")]))
    return Ask.CONFIRM


async def message_pressed(update: Update, context: BotContext) -> int:
    await keyboards.take_buttons_off(update)
    await _say(update, context.t("rollcall.message.ask", max=MAX_MESSAGE))
    return Ask.MESSAGE


async def message_typed(update: Update, context: BotContext) -> int:
    """Keep the short message (bounded), then show the count again."""
    assert update.effective_message and update.effective_message.text is not None
    text = update.effective_message.text.strip()
    if not text or len(text) > MAX_MESSAGE:
        key = "rollcall.message.too_long" if text else "rollcall.message.empty"
        await _say(update, context.t(key, max=MAX_MESSAGE, length=len(text)))
        return Ask.MESSAGE
    draft = _draft(context)
    draft["message"] = text
    scope = draft["scope"]
    return await _confirm(update, context, Scope(**{**scope, "kind": ScopeKind(scope["kind"])}))


async def go_pressed(update: Update, context: BotContext) -> int:
    """Ask everyone in scope now; this message becomes the live tally."""
    query = update.callback_query
    assert query and query.message
    draft, t = _draft(context), context.t
    if "scope" not in draft or query.data != f"rollcall:go:{draft.get('nonce')}":
        await query.answer(t.toast("guard.stale_button"), show_alert=True)
        return Ask.CONFIRM if "scope" in draft else ConversationHandler.END
    scope = Scope(**{**draft["scope"], "kind": ScopeKind(draft["scope"]["kind"])})
    try:
        view = await context.services.rollcall.start(
            context.member, scope, draft.get("message", ""), query.message.message_id)
    except RollcallRefused as refused:
        await query.answer(t.toast(f"rollcall.refused.{refused.reason}",
                                   rollcall=render.label(refused.rollcall_id or 0)),
                           show_alert=True)
        return ConversationHandler.END
    await query.answer(t.toast("rollcall.started", count=view.tally.asked))
    text, markup = tally_view(t, view)
    await query.edit_message_text(text, parse_mode="HTML", reply_markup=markup)
    await _forget(context)
    services = context.services
    context.bot_data.followups.start(services.deliver(), name=f"roll-call {view.id} questions")
    return ConversationHandler.END


def _again(key: str, state: Ask) -> MessageHandler[BotContext, int]:
    """Anything else than what the open question takes: ask it again (the flow stays)."""

    async def ask_again(update: Update, context: BotContext) -> int:
        await _say(update, context.t(key, max=MAX_MESSAGE))
        return state

    return MessageHandler(NEW_MESSAGE, ask_again)


async def cancel_pressed(update: Update, context: BotContext) -> int:
    await _forget(context)
    return await common.cancelled(update, context)


def build_rollcall() -> Flow:
    return Flow(
        entry_points=[Command("rollcall", rollcall_command),
                      pressed(new_pressed, r"^rollcall:new$")],
        states={
            Ask.SCOPE: [pressed(scope_picked, r"^rollcall:scope:(place|country|team|everyone)$"),
                        _again("rollcall.press_button", Ask.SCOPE)],
            Ask.PLACE: [MessageHandler(NEW_TEXT, place_typed),
                        MessageHandler(NEW_PIN, place_pinned),
                        pressed(place_chosen, r"^rollcall:place:\d{1,2}:[0-9a-f]{6}$"),
                        MessageHandler(NEW_MESSAGE, place_other)],
            Ask.RADIUS: [pressed(radius_picked, r"^rollcall:radius:\d{1,4}$"),
                         MessageHandler(NEW_TEXT, radius_typed),
                         _again("rollcall.press_button", Ask.RADIUS)],
            Ask.COUNTRY: [MessageHandler(NEW_TEXT, country_typed),
                          _again("rollcall.country.ask", Ask.COUNTRY)],
            Ask.TEAM: [pressed(team_picked, r"^rollcall:team:\d{1,2}$"),
                       MessageHandler(NEW_TEXT, team_typed),
                       _again("rollcall.team.ask", Ask.TEAM)],
            Ask.CONFIRM: [pressed(go_pressed, r"^rollcall:go:[0-9a-f]{8}$"),
                          pressed(message_pressed, r"^rollcall:msg$"),
                          _again("rollcall.press_button", Ask.CONFIRM)],
            Ask.MESSAGE: [MessageHandler(NEW_TEXT, message_typed),
                          _again("rollcall.message.ask", Ask.MESSAGE)],
        },
        fallbacks=[Command("cancel", cancel_pressed),
                   pressed(cancel_pressed, r"^rollcall:cancel$")],
        name="rollcall", cleanup=_forget, allow_reentry=True,
    )


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(build_rollcall())
