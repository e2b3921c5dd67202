"""How contact points read in a chat: masked (a screenshot of /contacts or /privacy must not
give the number away), and the reminders about them the outbox sends."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup

from conversations.i18n import Raw, Texts
from conversations.render import keyboards
from fieldbot.domain.contacts import ContactPoints

DOTS = "•••"


def mask_phone(phone: str) -> str:
    """"+4915123456789" → "+491•••89": the country, then only the last two digits."""
    if len(phone) <= 6:
        return DOTS
    return f"{phone[:4]}{DOTS}{phone[-2:]}"


def mask_email(email: str) -> str:
    """"mia.k@example.org" → "m•••@example.org"."""
    local, _, domain = email.rpartition("@")
    return f"{local[:1]}{DOTS}@{domain}" if local else DOTS


def lines(t: Texts, points: ContactPoints) -> str:
    """The person's two contact points, masked, one line each."""
    phone, email = points.reachable_phone, points.reachable_email
    phone_line = t("contacts.phone", phone=mask_phone(phone)) if phone else t(
        "contacts.phone_none")
    email_line = t("contacts.email", email=mask_email(email)) if email else t(
        "contacts.email_none")
    return f"{phone_line}\n{email_line}"


def overview(t: Texts, points: ContactPoints, *, sms: bool, email: bool) -> str:
    """/contacts: what is kept, what it is for, and what this deployment can confirm."""
    parts = [t("contacts.title"), lines(t, points), t("contacts.why")]
    if not sms:
        parts.append(t("contacts.no_sms_here"))
    if not email:
        parts.append(t("contacts.no_email_here"))
    return "\n\n".join(parts)


def menu(t: Texts, points: ContactPoints) -> InlineKeyboardMarkup:
    rows = [[(t("contacts.button.share"), "contacts:share")],
            [(t("contacts.button.type"), "contacts:type")],
            [(t("contacts.button.email"), "contacts:email")]]
    removes = []
    if points.phone:
        removes.append((t("contacts.button.remove_phone"), "contacts:rm:phone"))
    if points.email:
        removes.append((t("contacts.button.remove_email"), "contacts:rm:email"))
    if removes:
        rows.append(removes)
    return keyboards.rows(*rows)


def code_keyboard(t: Texts) -> InlineKeyboardMarkup:
    return keyboards.rows([(t("contacts.button.resend"), "contacts:resend"),
                           (t("contacts.button.cancel"), "contacts:cancel")])


def _missing(t: Texts, params: dict[str, Any]) -> tuple[str, None, bool]:
    names = t("contacts.name_separator").join(params.get("names", []))
    more = int(params.get("more", 0))
    if more:  # the names are escaped inside "missing_more" already
        return t("contacts.missing", names=Raw(t("contacts.missing_more", names=names,
                                                 count=more))), None, True
    return t("contacts.missing", names=names), None, True


RENDERERS = {
    "contacts_reminder": lambda t, p: (t("contacts.reminder"), None, False),
    "contacts_missing": _missing,
}
