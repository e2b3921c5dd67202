"""/privacy (what is kept about me) and /forgetme (erase it after confirmation). An admin may
erase a departed employee with /forgetme <user id>. Replies that show personal data are sent
with protect_content, so they cannot be forwarded or saved."""

from __future__ import annotations

import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Update
from telegram.ext import Application, CallbackQueryHandler

from conversations.context import BotContext
from conversations.flows.base import Command, forget_in_memory
from conversations.flows.start import role_name
from conversations.i18n import Raw, Texts
from conversations.render import contacts as contacts_render
from conversations.render import visit as visit_render
from conversations.render.formatting import bounded, day, local_time, map_link, places_label
from fieldbot.services.privacy import ErasureRefused, PersonalData, StoredTrip

_DIGITS = re.compile(r"[0-9]{1,19}")
_FULL_WIDTH_DIGITS = {0xFF10 + d: ord("0") + d for d in range(10)}  # ０-９, a Chinese keyboard
MAX_USER_ID = 2**63 - 1  # SQLite's INTEGER; Telegram's ids are far below it
# Trips with five long legs, a long lodging and a contact take ~1,500 characters each: the
# newest that fit are shown, then "and K more", so /privacy stays one message.
TRIPS_BUDGET = 2400
# Client notes (up to 500 characters each, five kept) the same way: with the trips' budget and
# the fixed sections the message stays under Telegram's 4,096 characters.
NOTES_BUDGET = 700


def _trip_lines(t: Texts, trip: StoredTrip) -> list[str]:
    lines = [t("privacy.trip", id=trip.id, places=places_label(trip.legs, t.language),
               start=day(trip.start, t.language), end=day(trip.end, t.language),
               status=t(f"trips.status.{trip.status}"))]
    if trip.purged:
        lines.append(t("privacy.trip_purged"))
    else:
        comma = "，" if t.language == "zh" else ", "
        contact = comma.join(p for p in (trip.contact_name, trip.contact_phone) if p)
        lines.append(t("privacy.trip_personal", lodging=trip.lodging or t("privacy.nothing"),
                       contact=contact or t("privacy.nothing")))
    return lines


def personal_data_text(t: Texts, data: PersonalData) -> str:
    """Render everything kept about a person, section by section."""
    if data.member is None:
        return t("privacy.not_enrolled")
    m = data.member
    enrolled = day(data.enrolled_at.date(), t.language) if data.enrolled_at else "—"
    parts = [t("privacy.title"),
             t("privacy.member", name=m.name, role=role_name(t, m.role), team=m.team or "—",
               lang=Texts(m.language)("language.name"), enrolled=enrolled)]
    trips = [t("privacy.trips_newest", count=data.trip_count, shown=len(data.trips))
             if data.trip_count > len(data.trips) else t("privacy.trips", count=data.trip_count)]
    trips += bounded(["\n".join(_trip_lines(t, trip)) for trip in data.trips],
                     lambda more: t("list.more", count=more),
                     most=len(data.trips), budget=TRIPS_BUDGET)
    parts.append("\n".join(trips))
    facts = [t("privacy.nights", checkins=data.checkins, skipped=data.skipped)]
    if data.last_location is not None:
        lat, lon, at = data.last_location
        facts.append(t("privacy.locations", count=data.locations,
                       at=local_time(at, "UTC", t.language), link=map_link(lat, lon)))
    else:
        facts.append(t("privacy.no_locations"))
    facts.append(t("privacy.alerts", count=data.alerts_about, open=len(data.open_alerts)))
    facts.append(t("privacy.hazards", count=data.hazards, photos=data.photos))
    facts.append(t("privacy.visits", count=data.visits, notes=data.note_count))
    facts += bounded([visit_render.note_line(t, n.category.value, n.body,
                                             n.created_at.date().isoformat())
                      for n in data.notes],
                     lambda more: t("list.more", count=more),
                     most=len(data.notes), budget=NOTES_BUDGET)
    facts.append(t("privacy.audit", count=data.audit_entries))
    facts.append(t("privacy.contacts", points=Raw(contacts_render.lines(t, data.contacts))))
    parts.append("\n".join(facts))
    parts.append(t("privacy.protection", days=data.retention.days))
    return "\n\n".join(parts)


def _confirm_keyboard(t: Texts, subject_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(t("forgetme.button_erase"),
                             callback_data=f"forgetme:yes:{subject_id}"),
        InlineKeyboardButton(t("forgetme.button_keep"), callback_data="forgetme:no"),
    ]])


def _user_id(text: str) -> int | None:
    """Parse a Telegram user id typed (full-width digits too) or carried by a button; None if
    it cannot be one."""
    text = text.translate(_FULL_WIDTH_DIGITS)  # not NFKC: "²" is no user id
    if not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if value <= MAX_USER_ID else None


def _blocked(t: Texts, subject: int, me: int, alert_ids: tuple[int, ...]) -> str:
    """Why nothing can be erased while an alert about the person is open."""
    key = "forgetme.blocked" if subject == me else "forgetme.blocked_other"
    return t(key, alerts=", ".join(f"A-{a}" for a in alert_ids), user_id=subject)


async def privacy_command(update: Update, context: BotContext) -> None:
    """Show the sender everything kept about them."""
    assert update.effective_message
    data = await context.services.privacy.personal_data(context.member.id)
    text = personal_data_text(context.t, data)
    crisis = await context.services.incidents.counts_for(context.member.id)
    if any(crisis.values()):  # DESIGN.md §12: incidents opened or owned, lessons written
        text += "\n\n" + context.t("privacy.incidents", **crisis)
    await update.effective_message.reply_html(
        text, protect_content=True,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )


async def forgetme_command(update: Update, context: BotContext) -> None:
    """Ask to confirm erasing my data (an admin: the data of the user id given)."""
    assert update.effective_message
    message, t, me = update.effective_message, context.t, context.member
    args = context.args or []
    subject = _user_id(args[0]) if args else me.id
    if subject is None:
        await message.reply_html(t("forgetme.usage"))
        return
    try:
        blockers = await context.services.privacy.erasure_blockers(subject, me)
    except ErasureRefused as refused:
        await message.reply_html(t("forgetme.busy" if refused.reason == "busy"
                                   else "forgetme.admins_only"))
        return
    if blockers:
        await message.reply_html(_blocked(t, subject, me.id, blockers))
        return
    if subject == me.id:
        text = t("forgetme.confirm")
    else:
        other = await context.services.enrolment.member(subject)
        text = t("forgetme.confirm_other", name=other.name if other else "?", user_id=subject)
    await message.reply_html(text, reply_markup=_confirm_keyboard(t, subject))


async def forgetme_confirmed(update: Update, context: BotContext) -> None:
    """Erase (the guard let only a member through; the service checks who may erase whom)."""
    query = update.callback_query
    assert query and query.data
    t, me = context.t, context.member
    subject = _user_id(query.data.rsplit(":", 1)[1])
    await query.answer()
    if subject is None:  # forged: the pattern admits digits only, not their size
        return
    try:
        erased = await context.services.privacy.erase(subject, me)
    except ErasureRefused as refused:
        text = (_blocked(t, subject, me.id, refused.alert_ids) if refused.alert_ids
                else t("forgetme.busy" if refused.reason == "busy" else "forgetme.admins_only"))
        await query.edit_message_text(text, parse_mode="HTML")
        return
    forget_in_memory(context.application, subject)  # drafts, questions open in memory
    if subject == me.id:
        text = t("forgetme.done")
    elif erased.stand_in == 0:
        text = t("forgetme.nothing_other", user_id=subject)
    else:
        text = t("forgetme.done_other", user_id=subject, trips=erased.trips,
                 locations=erased.locations)
    await query.edit_message_text(text, parse_mode="HTML")
    await context.services.deliver()  # the managers' notice, an alert back on its ladder


async def forgetme_kept(update: Update, context: BotContext) -> None:
    """"Keep": nothing happens."""
    query = update.callback_query
    assert query
    await query.answer()
    await query.edit_message_text(context.t("forgetme.kept"))


def register(app: Application) -> None:
    app.add_handler(Command("privacy", privacy_command))
    app.add_handler(Command("forgetme", forgetme_command))
    app.add_handler(CallbackQueryHandler(forgetme_confirmed, pattern=r"^forgetme:yes:\d+$"))
    app.add_handler(CallbackQueryHandler(forgetme_kept, pattern=r"^forgetme:no$"))

