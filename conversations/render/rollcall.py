"""Roll-calls as people read them: the question and its two buttons, the initiator's tally
(edited in place), the names per state, the notices about silence, the closing summary.
Built from outbox params or the service's views."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from conversations.i18n import Raw, Texts
from conversations.render.formatting import bounded, country_name, local_time

Rendered = tuple[str, InlineKeyboardMarkup | None, bool]
STATES = ("help", "silent", "safe")  # the names view's tabs, most urgent first
EDITS = frozenset({"rollcall_tally"})  # kinds delivered as an edit of an earlier message


def label(rollcall_id: int) -> str:
    return f"R-{rollcall_id}"


def scope_text(t: Texts, scope: dict[str, Any]) -> str:
    """Whom a roll-call asks, the place or country named in the reader's language."""
    kind, place = scope["kind"], scope.get("label", "")
    if t.language == "zh" and scope.get("label_zh"):
        place = scope["label_zh"]
    elif kind == "country":
        place = country_name(scope.get("country_code", ""), place, t.language)
    return t(f"rollcall.scope.{kind}", place=place,
             radius=scope.get("radius", 0), team=scope.get("team", ""))


def answer_buttons(t: Texts, rollcall_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(t("rollcall.button.safe"), callback_data=f"rc:{rollcall_id}:ok"),
        InlineKeyboardButton(t("rollcall.button.help"), callback_data=f"rc:{rollcall_id}:help"),
    ]])


def tally_buttons(t: Texts, rollcall_id: int, is_open: bool) -> InlineKeyboardMarkup:
    row = [InlineKeyboardButton(t("rollcall.button.names"),
                                callback_data=f"rollcall:names:{rollcall_id}:-:0")]
    if is_open:
        row.append(InlineKeyboardButton(t("rollcall.button.close"),
                                        callback_data=f"rollcall:close:{rollcall_id}"))
    return InlineKeyboardMarkup([row])


def close_confirm_buttons(t: Texts, rollcall_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(t("rollcall.button.close_yes"),
                             callback_data=f"rollcall:closeyes:{rollcall_id}"),
        InlineKeyboardButton(t("rollcall.button.close_no"),
                             callback_data=f"rollcall:keep:{rollcall_id}"),
    ]])


def tally_text(t: Texts, p: dict[str, Any]) -> str:
    """The initiator's one message: what was asked, of whom, and the answers so far."""
    silent = p["asked"] - p["safe"] - p["help"]
    lines = [t("rollcall.tally.head", rollcall=label(p["rollcall"]),
               scope=Raw(scope_text(t, p["scope"]))),
             t("rollcall.tally.counts", asked=p["asked"], safe=p["safe"], help=p["help"],
               silent=silent),
             t("rollcall.tally.started", by_name=p["by_name"],
               at=local_time(p["started_at"], p.get("tz", "UTC"), t.language))]
    if not p["open"] and p.get("closed_at"):
        lines.append(t("rollcall.tally.closed",
                       at=local_time(p["closed_at"], p.get("tz", "UTC"), t.language)))
    return "\n".join(lines)


def tally(t: Texts, p: dict[str, Any]) -> Rendered:
    return tally_text(t, p), tally_buttons(t, int(p["rollcall"]), bool(p["open"])), True


def ask(t: Texts, p: dict[str, Any]) -> Rendered:
    key = "rollcall.ask.again" if p.get("again") else \
        "rollcall.ask.by_manager" if p.get("by_manager") else "rollcall.ask"
    lines = [t(key, rollcall=label(p["rollcall"]), scope=Raw(scope_text(t, p["scope"])),
               by_name=p.get("by_name", ""))]
    if p.get("message"):
        lines.append(t("rollcall.ask.message", message=p["message"]))
    lines.append(t("rollcall.ask.hint"))
    return "\n".join(lines), answer_buttons(t, int(p["rollcall"])), False


def silent(t: Texts, p: dict[str, Any]) -> Rendered:
    if p.get("names"):  # several silent people of one sweep, in one message
        return (t("rollcall.silent.many", rollcall=label(p["rollcall"]),
                  count=len(p["names"]) + p.get("more", 0),
                  names=_names(t, p["names"], p.get("more", 0)),
                  scope=Raw(scope_text(t, p["scope"])),
                  since=local_time(p["since"], p.get("tz", "UTC"), t.language)), None, True)
    key = "rollcall.unreachable" if p.get("unreachable") else "rollcall.silent"
    return (t(key, rollcall=label(p["rollcall"]), name=p["name"],
              scope=Raw(scope_text(t, p["scope"])),
              since=local_time(p["since"], p.get("tz", "UTC"), t.language)), None, True)


def late(t: Texts, p: dict[str, Any]) -> Rendered:
    return (t(f"rollcall.late.{p['answer']}", rollcall=label(p["rollcall"]), name=p["name"]),
            None, True)


def answered(t: Texts, p: dict[str, Any]) -> Rendered:
    return (t(f"rollcall.answered_after.{p['answer']}", rollcall=label(p["rollcall"]),
              name=p["name"]), None, True)


def _names(t: Texts, names: list[str], more: int) -> str:
    if not names:
        return "—"
    names = [n or t("rollcall.names.erased") for n in names]
    items = bounded(names, lambda k: t("rollcall.more", count=k + more), most=len(names),
                    budget=1200, sep=_sep(t))
    if more and len(items) == len(names):
        items.append(t("rollcall.more", count=more))
    return _sep(t).join(items)


def _sep(t: Texts) -> str:
    return "、" if t.language == "zh" else ", "  # a Chinese list reads 甲、乙、丙


def summary(t: Texts, p: dict[str, Any]) -> Rendered:
    lines = [t("rollcall.summary.head", rollcall=label(p["rollcall"]), by_name=p["closed_by"],
               scope=Raw(scope_text(t, p["scope"]))),
             t("rollcall.tally.counts", asked=p["asked"], safe=p["safe"], help=p["help"],
               silent=p["asked"] - p["safe"] - p["help"])]
    for state in ("help", "silent"):
        found = p[f"{state}_names"]
        if found["names"]:
            lines.append(t(f"rollcall.summary.{state}",
                           names=_names(t, found["names"], found["more"])))
    return "\n".join(lines), None, True


def names_text(t: Texts, rollcall_id: int, state: str, names: list[str], total: int,
               page: int, pages: int) -> str:
    head = t(f"rollcall.names.{state}", rollcall=label(rollcall_id), count=total,
             page=page + 1, pages=pages)
    body = "\n".join(f"• {t('rollcall.names.item', name=n or t('rollcall.names.erased'))}"
                     for n in names) or "—"
    return f"{head}\n{body}"


def names_buttons(t: Texts, rollcall_id: int, state: str, page: int, pages: int,
                  counts: dict[str, int]) -> InlineKeyboardMarkup:
    tabs = [InlineKeyboardButton(t(f"rollcall.tab.{s}", count=counts[s]),
                                 callback_data=f"rollcall:names:{rollcall_id}:{s}:0")
            for s in STATES]
    rows = [tabs]
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton(
            "◀", callback_data=f"rollcall:names:{rollcall_id}:{state}:{page - 1}"))
    if page + 1 < pages:
        nav.append(InlineKeyboardButton(
            "▶", callback_data=f"rollcall:names:{rollcall_id}:{state}:{page + 1}"))
    if nav:
        rows.append(nav)
    return InlineKeyboardMarkup(rows)


RENDERERS: dict[str, Callable[[Texts, dict[str, Any]], Rendered]] = {
    "rollcall_ask": ask,
    "rollcall_tally": tally,
    "rollcall_silent": silent,
    "rollcall_late": late,
    "rollcall_answered": answered,
    "rollcall_summary": summary,
}
