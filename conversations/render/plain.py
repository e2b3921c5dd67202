"""Outbox messages as they read beyond Telegram: a short SMS, a spoken call (TwiML), an e-mail.

Texts come from the catalogs in the recipient's language, as plain text (no HTML, entities
undone); the call speaks English or Mandarin. Only messages that may leave Telegram have a
rendering here: ladder messages, how an alert ended, the admins' Telegram notices, and a
roll-call's question asked again and its "has not answered" notice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from conversations.i18n import Raw, Texts, catalog, plain
from conversations.render import rollcall, visit
from conversations.render.formatting import day, local_time, map_link, trip_places
from conversations.render.keyboards import RESOLVE_REASONS
from fieldbot.domain.policy import EmergencyContactPolicy
from fieldbot.services.outgoing import OutboxMessage

LONG = 100_000  # plain() cuts to a toast's length by default; these are not toasts
SMS_LIMIT = 320  # two SMS segments of Latin text; one long Chinese SMS is 70 per segment
VOICES = {"en": ("en-US", "alice"), "zh": ("zh-CN", "alice")}  # Twilio's voice for Mandarin
DRILL_LABEL = "drill.label"  # the crisis catalog's (issue 14): absent, nothing is added
# The roll-call's notices beyond Telegram: its question again, "has not answered", "answered".
ROLLCALL = ("rollcall_ask", "rollcall_silent", "rollcall_answered")
ENDINGS = {"ack_notice": "alert.ack_notice", "resolved": "alert.resolved",
           "all_clear": "alert.all_clear"}


def _p(text: str) -> str:
    return plain(text, LONG)


def plain_text(text: str) -> str:
    """Return a catalog text without markup or entities (for SMS, calls, mail, pages)."""
    return _p(text)


def xml(text: str) -> str:
    """Return text safe inside a TwiML element."""
    return escape(text)


def _what(message: OutboxMessage) -> str:
    """The alert's kind as the texts name it (missed, emergency, sos, sos_visit, duress, visit,
    drill); rep, visit_rep or drill_rep for the rep's own reminder. A kind without texts of its
    own reads as a missed check-in rather than failing to send."""
    if message.kind == "alert_rep":  # the rep's own: answer in Telegram, as what it is
        if message.params.get("drill"):
            return "drill_rep"
        return "visit_rep" if message.params.get("kind") == "visit" else "rep"
    what = str(message.params.get("kind", "missed"))
    if what == "sos" and message.params.get("visit"):
        what = "sos_visit"  # "Need help" on a client visit: the texts say so
    return what if f"channel.sms.{what}" in catalog("en") else "missed"


def sms(t: Texts, message: OutboxMessage) -> str:
    """Return an SMS for a ladder message or for how an alert ended."""
    p = message.params
    if message.kind in ENDINGS:
        return _ending(t, message)
    if message.kind in ROLLCALL:
        return cut_sms(_rollcall(t, message))
    text = _p(t(f"channel.sms.{_what(message)}", alert=p["alert"],
                name=p.get("subject_name", "?")))
    if p.get("late") and p.get("due_at"):
        text += " " + _p(t("channel.sms.late",
                               due=local_time(p["due_at"], p.get("tz", "UTC"), t.language)))
    return cut_sms(text)


def cut_sms(text: str) -> str:
    """Return text cut to what one SMS of ours may be."""
    return text if len(text) <= SMS_LIMIT else text[: SMS_LIMIT - 1] + "…"


def _rollcall(t: Texts, message: OutboxMessage) -> str:
    """A roll-call's question asked again (answered in Telegram, with its buttons), a
    manager's "has not answered" notice, or that they answered after all, as plain text."""
    p = message.params
    if message.kind == "rollcall_ask":
        return _p(t("channel.sms.rollcall_ask", rollcall=rollcall.label(int(p["rollcall"]))))
    if message.kind == "rollcall_answered":
        return _p(rollcall.answered(t, p)[0])
    return _p(rollcall.silent(t, p)[0])


def _ending(t: Texts, message: OutboxMessage) -> str:
    p = dict(message.params)
    if message.kind == "resolved":
        reason = p.get("reason", "")
        p["reason"] = t(f"resolve.{reason}") if reason in RESOLVE_REASONS else reason
        p.pop("note", None)
    text = _p(t(ENDINGS[message.kind], **p))
    if p.get("drill") and DRILL_LABEL in catalog("en"):  # a drill says so everywhere
        text = _p(t(DRILL_LABEL)) + " " + text
    return text


def twiml(t: Texts, message: OutboxMessage, action: str | None) -> str:
    """Return the TwiML of a call: the alert spoken twice in the person's language, and
    "press 1 to acknowledge" gathered (`action`: where Twilio posts the key pressed)."""
    p = message.params
    number = str(p.get("alert", "")).removeprefix("A-")
    spoken = _p(t(f"channel.call.{_what(message)}", number=number,
                  name=p.get("subject_name", "?")))
    press = _p(t("channel.call.press"))
    language, voice = VOICES.get(t.language, VOICES["en"])
    say = f"<Say language={quoteattr(language)} voice={quoteattr(voice)}>{{}}</Say>"
    gap = "" if t.language == "zh" else " "
    inner = say.format(escape(f"{spoken}{gap}{press}")) * 2
    if action is None or message.kind == "alert_rep":  # the rep checks in with Telegram
        return f"<Response>{say.format(escape(spoken))}</Response>"
    gather = (f'<Gather numDigits="1" timeout="8" action={quoteattr(action)} method="POST">'
              f"{inner}</Gather>")
    return f"<Response>{gather}{say.format(escape(_p(t('channel.call.no_key'))))}</Response>"


def ask_again(t: Texts, action: str) -> str:
    """Return TwiML for a key that was not 1: say so and ask once more (a person woken at
    night presses the wrong key); no key at all ends the call as the first ask does."""
    language, voice = VOICES.get(t.language, VOICES["en"])
    say = f"<Say language={quoteattr(language)} voice={quoteattr(voice)}>{{}}</Say>"
    gather = (f'<Gather numDigits="1" timeout="8" action={quoteattr(action)} method="POST">'
              f"{say.format(escape(_p(t('channel.call.press'))))}</Gather>")
    return (f"<Response>{say.format(escape(_p(t('channel.call.not_understood'))))}{gather}"
            f"{say.format(escape(_p(t('channel.call.no_key'))))}</Response>")


def family_alert(t: Texts, p: dict[str, Any]) -> str:
    """An alert as an emergency contact who enrolled in the bot (as staff) reads it, in HTML:
    what happened and where; never "reply 1" or "press 1", which are the leads' to do.

    A duress alert reads like an emergency: family may call the rep, and whoever holds the
    rep's phone must not learn that the duress word was used."""
    kind = str(p.get("kind", "missed"))
    what = "emergency" if kind == "duress" else kind
    key = f"alert.family.{what}"
    if key not in catalog("en"):
        key = "alert.family.missed"
    name = p.get("subject_name", "?")
    return t("alert.family", name=name, what=Raw(t(key, name=name)),
             places=trip_places(p, t.language) or "—")


def family(policy: EmergencyContactPolicy, language: str, params: dict[str, Any]) -> str:
    """The organisation's own message to an emergency contact, in the rep's language."""
    template = policy.message_zh if language == "zh" else policy.message_en
    return template.format(name=params.get("name", ""), company_phone=policy.company_phone)


def spoken_twiml(language: str, text: str) -> str:
    """TwiML that says `text` twice (a call to someone who may not expect it)."""
    lang, voice = VOICES.get(language, VOICES["en"])
    say_once = f"<Say language={quoteattr(lang)} voice={quoteattr(voice)}>{escape(text)}</Say>"
    return f"<Response>{say_once}<Pause length=\"1\"/>{say_once}</Response>"


def say(t: Texts, key: str, **params: object) -> str:
    """Return TwiML that speaks one catalog text (the answer to a key pressed)."""
    language, voice = VOICES.get(t.language, VOICES["en"])
    text = escape(_p(t(key, **params)))
    return (f"<Response><Say language={quoteattr(language)} voice={quoteattr(voice)}>{text}"
            "</Say></Response>")


@dataclass(frozen=True, slots=True)
class Mail:
    subject: str
    text: str


def mail(t: Texts, message: OutboxMessage, link: str | None) -> Mail:
    """Return an e-mail for a ladder message (with the acknowledgement link when the bot has
    a public address), how an alert ended, or an admin's Telegram notice."""
    p = message.params
    if message.kind in ("admin_telegram_down", "admin_telegram_up"):
        name = message.kind.removeprefix("admin_")
        at = {"since": local_time(p["since"], "UTC", t.language),
              "at": local_time(p["at"], "UTC", t.language)}
        return Mail(_p(t(f"channel.mail.{name}.subject")),
                    _p(t(f"channel.mail.{name}", **at)))
    if message.kind in ROLLCALL:
        return Mail(_p(t(f"channel.mail.subject.{message.kind}",
                         rollcall=rollcall.label(int(p["rollcall"])))),
                    _rollcall(t, message) + "\n\n" + _p(t("channel.mail.footer")))
    if message.kind in ENDINGS:
        update = "channel.mail.subject.update" + (".drill" if p.get("drill") else "")
        return Mail(_p(t(update, alert=p["alert"])),
                    _ending(t, message) + "\n\n" + _p(t("channel.mail.footer")))
    what = _what(message)
    subject = _p(t(f"channel.mail.subject.{what}", alert=p["alert"],
                   name=p.get("subject_name", "?")))
    if message.kind == "alert":
        head = f"alert.head.{p.get('kind')}" if f"alert.head.{p.get('kind')}" in catalog("en") \
            else f"alert.head.{what}"
        lines = [_p(t(head, alert=p["alert"], attempt=p.get("attempt", 1),
                      name=p.get("subject_name", "?")))]
        lines += _details(t, p)
    else:
        urgent = {"drill_rep": "drill.rep", "visit_rep": "channel.sms.visit_rep"}.get(
            what, "checkin.urgent")
        lines = [_p(t(urgent, alert=p["alert"], attempt=p.get("attempt", 1)))]
    lines.append("")
    if link and message.kind == "alert":
        lines.append(_p(t("channel.mail.ack_link", link=link)))
    elif message.kind == "alert":
        lines.append(_p(t("channel.mail.ack_telegram")))
    lines += ["", _p(t("channel.mail.footer"))]
    return Mail(subject, "\n".join(lines))


def _details(t: Texts, p: dict[str, Any]) -> list[str]:
    """The alert's facts, as the Telegram message gives them (visit, trip, lodging, contact,
    place)."""
    lines = []
    if "visit" in p:  # a visit's alert, or an SOS during one: client, place, with whom, until
        lines += [_p(line) for line in visit.alert_lines(t, p["visit"])]
    if "places" in p:
        lines.append(_p(t("alert.trip", places=trip_places(p, t.language),
                          start=day(p["start"], t.language), end=day(p["end"], t.language))))
        lines.append(_p(t("alert.lodging", lodging=p.get("lodging") or "—")))
        lines.append(_p(t("alert.contact", name=p.get("contact_name", ""),
                          phone=p.get("contact_phone", ""))))
    where = p.get("last_location")
    if where:
        lines.append(_p(t("alert.location", link=map_link(where["lat"], where["lon"]),
                          at=local_time(where["at"], p.get("tz", "UTC"), t.language))))
    else:
        lines.append(_p(t("alert.no_location")))
    return lines
