"""The outbox's Telegram side: render each message for its recipient, send, sort failures."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from telegram import Chat, InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter
from telegram.ext import ExtBot

from conversations.i18n import Raw, Texts
from conversations.render import contacts as contacts_render
from conversations.render import crisis as crisis_render
from conversations.render import hazard as hazard_render
from conversations.render import keyboards, plain
from conversations.render import rollcall as rollcall_render
from conversations.render import team as team_render
from conversations.render import visit as visit_render
from conversations.render.formatting import (
    day,
    local_time,
    map_link,
    sos_receipt,
    trip_places,
)
from fieldbot.domain.alerts import Alerted
from fieldbot.domain.ladder import AlertKind, Tier
from fieldbot.domain.roles import Role
from fieldbot.domain.trips import TripStatus
from fieldbot.services.enrolment import EnrolmentService
from fieldbot.services.hazards import HazardService
from fieldbot.services.outbox import Delivery, Outcome
from fieldbot.services.outgoing import OutboxMessage
from fieldbot.services.trips import TripService

log = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # the date of a message we did not need to change

_PERMANENT_BAD_REQUESTS = (
    "chat not found",
    "user not found",
    "peer_id_invalid",
    "chat_id is empty",
    "bot was blocked",
    "user is deactivated",
)

# text, buttons, protect_content[, a photo to send with the text as its caption]
Rendered = (tuple[str, InlineKeyboardMarkup | None, bool]
            | tuple[str, InlineKeyboardMarkup | None, bool, Path | None])


class TelegramMessenger:
    def __init__(
        self, bot: ExtBot[Any], enrolment: EnrolmentService, trips: TripService,
        hazards: HazardService,
    ) -> None:
        self._bot = bot
        self._enrolment = enrolment
        self._trips = trips
        self._hazards = hazards  # stored photos are encrypted: it opens them
        self._renderers: dict[str, Callable[[Texts, dict[str, Any]], Rendered]] = {
            "reminder": self._reminder,
            "alert_rep": self._alert_rep,
            "alert": self._alert,
            "ack_notice": lambda t, p: (t("alert.ack_notice", **p), None, False),
            "ack_released": lambda t, p: (t("alert.ack_released", **p), None, False),
            "ack_rep": lambda t, p: (t("alert.ack_rep.missed", alert=p["alert"],
                                       by_name=p["by_name"]), None, False),
            "erasure_notice": self._erasure_notice,
            "trip_report": self._trip_report,
            "resolved": self._resolved,
            "all_clear": lambda t, p: (t("alert.all_clear.visit" if p.get("kind") == "visit"
                                         else "alert.all_clear", **p), None, False),
            "sos_seen": lambda t, p: (t("sos.seen", **p), None, False),
            "sos_closed": lambda t, p: (t("sos.closed", **p), None, False),
            "sos_mistake": lambda t, p: (t("sos.mistake_notice", **p), None, False),
            "sos_receipt": lambda t, p: (t(sos_receipt(bool(p.get("created")), Alerted(
                p.get("alerted", Alerted.LEADS.value)))), None, False),
            "skip_notice": self._skip_notice,
            "admin_unreachable": _notice("admin.unreachable"),
            "admin_empty_tier": _notice("admin.empty_tier"),
            "admin_step_failed": _notice("admin.step_failed"),
            "admin_no_manager": _notice("admin.no_manager", protect=True),
            "trip_decision": self._trip_decision,
            "trip_manager_unreachable": lambda t, p: (t("trip.manager_unreachable"), None, False),
            "trip_withdrawn": lambda t, p: (t("trip.withdrawn_notice", name=p["name"],
                                              places=trip_places(p, t.language),
                                              start=day(p["start"], t.language),
                                              end=day(p["end"], t.language)), None, False),
        }
        self._renderers.update(hazard_render.RENDERERS)
        self._renderers.update(team_render.RENDERERS)
        self._renderers.update(contacts_render.RENDERERS)
        self._renderers.update(visit_render.RENDERERS)
        self._renderers.update(crisis_render.RENDERERS)
        self._renderers.update(rollcall_render.RENDERERS)

    async def deliver(self, message: OutboxMessage) -> Delivery:
        member = await self._enrolment.member(message.recipient)
        t = Texts(member.language if member else "en")
        if message.kind == "trip_approval":
            rendered = await self._trip_approval(t, message.params)
        elif message.kind == "alert" and member is not None and member.role is Role.STAFF:
            # Only an emergency contact who is enrolled as staff gets a lead's alert: its
            # buttons are not theirs to press, and it is written for the desk, not for family.
            rendered = self._alert_family(t, message.params)
        else:
            rendered = self._renderers[message.kind](t, message.params)
        text, markup, protect, *photo = rendered
        if message.params.get("drill"):  # a practice alert never reads like a real one
            text = f"{t('drill.label')}\n{text}"
        edit = message.params.get("edit") if message.kind in rollcall_render.EDITS else None
        try:
            if edit:
                sent = await self._edit_or_send(message.recipient, int(edit), text, markup,
                                                protect, message.priority)
            elif photo and photo[0] is not None:
                sent = await self._send_photo(message.recipient, photo[0], text, markup, protect,
                                              message.priority)
            else:
                sent = await self._bot.send_message(
                    message.recipient,
                    text,
                    parse_mode="HTML",
                    reply_markup=markup,
                    protect_content=protect,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                    rate_limit_args=message.priority,  # SOS overtakes replies and reminders
                )
        except RetryAfter as exc:
            retry = exc.retry_after
            delay = retry if isinstance(retry, timedelta) else timedelta(seconds=float(retry))
            return Delivery(Outcome.TRANSIENT, retry_after=delay, error="429")
        except ChatMigrated as exc:
            return Delivery(Outcome.MIGRATED, new_chat_id=exc.new_chat_id, error="migrated")
        except Forbidden as exc:
            return Delivery(Outcome.PERMANENT, error=_short(exc))
        except BadRequest as exc:
            lowered = str(exc).lower()
            if any(marker in lowered for marker in _PERMANENT_BAD_REQUESTS):
                return Delivery(Outcome.PERMANENT, error=_short(exc))
            log.error(
                "outbox %s (%s) rejected by Telegram: %s", message.id, message.kind, _short(exc)
            )
            return Delivery(Outcome.PERMANENT, error=_short(exc))
        except NetworkError as exc:  # includes TimedOut and 5xx
            return Delivery(Outcome.TRANSIENT, error=_short(exc))
        return Delivery(Outcome.SENT, message_id=sent.message_id)

    # --- renderers --------------------------------------------------------------------

    def _reminder(self, t: Texts, p: dict[str, Any]) -> Rendered:
        deadline = local_time(p["deadline"], p["tz"], t.language)
        return (t("checkin.reminder", deadline=deadline),
                keyboards.checkin(t, p.get("night_id")), False)

    def _alert_rep(self, t: Texts, p: dict[str, Any]) -> Rendered:
        if p.get("kind") == AlertKind.VISIT.value and "visit" in p:
            return visit_render.alert_rep(t, p)
        if p.get("kind") == AlertKind.DRILL.value:
            return crisis_render.drill_rep(t, p)
        text = t("checkin.urgent", alert=p["alert"], attempt=p["attempt"])
        return text, keyboards.checkin(t), False

    def _alert(self, t: Texts, p: dict[str, Any]) -> Rendered:
        kind = AlertKind(p["kind"])
        head = t(
            f"alert.head.{kind.value}",
            alert=p["alert"],
            attempt=p["attempt"],
            name=p["subject_name"],
        )
        lines = [head]
        if p.get("late"):
            # in the alert's own zone, as its deadline: two "21:00"s must not mean two instants
            due = local_time(p["due_at"], p.get("tz", "UTC"), t.language)
            lines.append(t("alert.late", due=due))
        if "places" in p:
            lines.append(
                t(
                    "alert.trip",
                    places=trip_places(p, t.language),
                    start=day(p["start"], t.language),
                    end=day(p["end"], t.language),
                )
            )
            if kind in (AlertKind.MISSED, AlertKind.EMERGENCY):
                lines.append(
                    t("alert.deadline", deadline=local_time(p["anchor"], p["tz"], t.language))
                )
            lines.append(t("alert.lodging", lodging=p["lodging"] or t("trip.lodging_unknown")))
            lines.append(t("alert.contact", name=p["contact_name"], phone=p["contact_phone"]))
        if "visit" in p:
            lines.extend(visit_render.alert_lines(t, p["visit"]))
        where = p.get("last_location")
        if where:
            lines.append(
                t(
                    "alert.location",
                    link=map_link(where["lat"], where["lon"]),
                    at=local_time(where["at"], p.get("tz", "UTC"), t.language),
                )
            )
        else:
            lines.append(t("alert.no_location"))
        if Tier(p["tier"]) is Tier.EMERGENCY:
            lines.append(t("alert.emergency_procedure"))
        if kind in (AlertKind.SOS, AlertKind.DURESS):
            lines.append(t("alert.sos_action"))
        lines.append(t("alert.buttons_hint"))
        return "\n".join(lines), keyboards.alert(t, int(p["alert_id"])), True

    def _alert_family(self, t: Texts, p: dict[str, Any]) -> Rendered:
        """The alert for an emergency contact: what happened, who handles it; no buttons."""
        return plain.family_alert(t, p), None, True

    def _resolved(self, t: Texts, p: dict[str, Any]) -> Rendered:
        reason = t(f"resolve.{p['reason']}") if p["reason"] in keyboards.RESOLVE_REASONS else ""
        return (
            t("alert.resolved", alert=p["alert"], by_name=p["by_name"], reason=reason),
            None,
            False,
        )

    def _skip_notice(self, t: Texts, p: dict[str, Any]) -> Rendered:
        text = t(
            "checkin.skip_notice",
            name=p["subject_name"],
            reason=p["reason"],
            day=day(p["day"], t.language),
        )
        return text, None, False

    def _trip_decision(self, t: Texts, p: dict[str, Any]) -> Rendered:
        key = "trip.approved" if p["approved"] else "trip.rejected"
        return t(key, by_name=p["by_name"], reason=p["reason"] or "—"), None, False

    def _erasure_notice(self, t: Texts, p: dict[str, Any]) -> Rendered:
        lines = [t("forgetme.manager_notice.trip", places=trip_places(trip, t.language),
                   start=day(trip["start"], t.language), end=day(trip["end"], t.language))
                 for trip in p["trips"]]
        if p["more"]:
            lines.append(t("forgetme.manager_notice.more", count=p["more"]))
        return t("forgetme.manager_notice", trips=Raw("\n".join(lines))), None, False

    def _trip_report(self, t: Texts, p: dict[str, Any]) -> Rendered:
        where = {"name": p["name"], "places": trip_places(p, t.language),
                 "start": day(p["start"], t.language), "end": day(p["end"], t.language)}
        if not p["given"]:
            return t("endtrip.report_none", **where), None, True
        return (t("endtrip.report", what=p["what"] or "—", warn=p["warn"] or "—", **where),
                None, True)

    async def _trip_approval(self, t: Texts, p: dict[str, Any]) -> Rendered:
        from conversations.render.trip import trip_summary

        trip = await self._trips.get(int(p["trip_id"]))
        if trip is None or trip.status is TripStatus.CANCELLED:  # withdrawn, or rep erased
            return t("trip.gone"), None, False
        rep = await self._enrolment.member(trip.user_id)
        summary = trip_summary(t, trip)
        text = t("trip.approval_request", name=rep.name if rep else "?", summary=Raw(summary))
        return text, keyboards.approval(t, trip.id), True

    async def _edit_or_send(
        self, chat_id: int, message_id: int, text: str, markup: InlineKeyboardMarkup | None,
        protect: bool, priority: int,
    ) -> Message:
        """Edit an earlier message (a live tally); one deleted or too old is sent anew."""
        try:
            edited = await self._bot.edit_message_text(
                text, chat_id=chat_id, message_id=message_id, parse_mode="HTML",
                reply_markup=markup, link_preview_options=LinkPreviewOptions(is_disabled=True),
                rate_limit_args=priority)
            if isinstance(edited, Message):
                return edited
        except BadRequest as exc:
            lowered = str(exc).lower()
            if "not modified" in lowered:  # already shows this: nothing to do
                return Message(message_id, _EPOCH, Chat(chat_id, "private"))
            if "message to edit not found" not in lowered and "can't be edited" not in lowered:
                raise
        return await self._bot.send_message(
            chat_id, text, parse_mode="HTML", reply_markup=markup, protect_content=protect,
            link_preview_options=LinkPreviewOptions(is_disabled=True), rate_limit_args=priority)

    async def _send_photo(
        self, chat_id: int, photo: Path, caption: str, markup: InlineKeyboardMarkup | None,
        protect: bool, priority: int,
    ) -> Message:
        """Send the photo with the text as caption; the text alone if the photo cannot go."""
        data = await self._hazards.photo_file_bytes(photo)
        if data is not None:
            try:
                return await self._bot.send_photo(
                    chat_id, data, caption=caption, parse_mode="HTML", reply_markup=markup,
                    protect_content=protect, rate_limit_args=priority,
                )
            except BadRequest as exc:
                if any(marker in str(exc).lower() for marker in _PERMANENT_BAD_REQUESTS):
                    raise
                log.warning("photo refused by Telegram, sending the text alone: %s", _short(exc))
        return await self._bot.send_message(
            chat_id, caption, parse_mode="HTML", reply_markup=markup, protect_content=protect,
            link_preview_options=LinkPreviewOptions(is_disabled=True), rate_limit_args=priority,
        )


def _notice(key: str, protect: bool = False) -> Callable[[Texts, dict[str, Any]], Rendered]:
    """An admin notice; one that stands for several (collapsed, see `enqueue_notice`) says
    how many."""

    def render(t: Texts, p: dict[str, Any]) -> Rendered:
        text = t(key, **p)
        count = int(p.get("count", 1))
        if count > 1:
            text += "\n" + t("admin.repeated", count=count)
        return text, None, protect

    return render


def _short(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:200]
