"""How incidents, reviews, lessons and drills read in a chat (DESIGN.md §12)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from telegram import InlineKeyboardMarkup

from conversations.i18n import Raw, Texts
from conversations.render import keyboards
from conversations.render.formatting import (
    bounded,
    cut,
    duration,
    kept_label,
    local_time,
    percent,
)
from fieldbot.domain.crisis_policy import Grade
from fieldbot.domain.incidents import IncidentState, Responsibility
from fieldbot.domain.members import Member
from fieldbot.domain.roles import Role
from fieldbot.services.incidents import AlertRow, DeadlineRow, IncidentRow
from fieldbot.services.lessons import LessonPage

Rendered = tuple[str, InlineKeyboardMarkup | None, bool]
_MARKERS = {"red": "🔴", "orange": "🟠", "yellow": "🟡", "blue": "🔵"}
LESSON_TEXT = 300  # characters of a lesson's cause or measures shown in a list
ANSWER_SHOWN = 350  # of an answer in the review's summary: eight answers fit 4,096


def minutes(value: timedelta) -> int:
    return int(value.total_seconds() // 60)


def place_named(t: Texts, label: str, label_zh: str) -> str:
    """An incident's or a lesson's place as its reader names it ("曼谷，泰国" in Chinese)."""
    return kept_label(label, label_zh, t.language)


def grade_badge(t: Texts, grade: Grade | str | None) -> str:
    if grade is None:
        return "—"
    value = Grade(grade).value
    return f"{_MARKERS[value]} {t(f'incident.grade.{value}')}"


# --- /incident -------------------------------------------------------------------------------


def incident_question(t: Texts, step: str, alert_label: str
                      ) -> tuple[str, InlineKeyboardMarkup | None]:
    """The question of one step of the /incident draft, with its buttons."""
    if step == "grade":
        head = t("incident.from_alert", alert=alert_label) + "\n" if alert_label else ""
        rows = [[(grade_badge(t, g), f"incident:grade:{g.value}")] for g in reversed(Grade)]
        rows.append([(t("incident.button.grades_help"), "incident:grades")])
        return head + t("incident.ask.grade"), keyboards.rows(*rows)
    if step == "people":
        return t("incident.ask.people"), keyboards.rows(
            [(t("incident.button.nobody"), "incident:nobody")])
    return t(f"incident.ask.{step}"), None


def incident_summary(t: Texts, grade: Grade | None, place: str, people: str, description: str,
                     alert_label: str) -> str:
    lines = [t("incident.summary.head"),
             t("incident.summary.grade", grade=Raw(grade_badge(t, grade))),
             t("incident.summary.place", place=place or "—"),
             t("incident.summary.people", people=people or "—"),
             t("incident.summary.description", description=description)]
    if alert_label:
        lines.append(t("incident.summary.alert", alert=alert_label))
    return "\n".join(lines)


def _deadline_lines(t: Texts, deadlines: Sequence[DeadlineRow], tz: str) -> list[str]:
    """Each deadline in the desk's own zone (settings.default_tz), as its reminders say it."""
    lines = []
    for d in deadlines:
        when = local_time(d.due_at, tz, t.language)
        key = "incident.deadline.met" if d.met_at else "incident.deadline.due"
        lines.append(t(key, what=t(f"incident.what.{d.kind.value}"), when=when))
    return lines


def incident_opened(t: Texts, incident: IncidentRow, deadlines: Sequence[DeadlineRow],
                    tz: str) -> str:
    return "\n".join([t("incident.opened", incident=incident.label,
                        grade=Raw(grade_badge(t, incident.grade))),
                      *_deadline_lines(t, deadlines, tz), t("incident.opened_hint")])


def incident_card(t: Texts, incident: IncidentRow, owner: str | None,
                  deadlines: Sequence[DeadlineRow], tz: str) -> str:
    return "\n".join([
        t("incident.card.head", incident=incident.label, grade=Raw(grade_badge(t, incident.grade)),
          state=t(f"incident.state.{incident.state.value}")),
        t("incident.summary.place",
          place=place_named(t, incident.place, incident.place_zh) or "—"),
        t("incident.summary.people", people=incident.people or "—"),
        t("incident.summary.description", description=incident.description or "—"),
        t("incident.card.owner", name=owner) if owner is not None
        else t("incident.card.no_owner"),
        *_deadline_lines(t, deadlines, tz),
    ])


def card_buttons(t: Texts, incident: IncidentRow, viewer: Member) -> InlineKeyboardMarkup | None:
    """The owner writes the review; an officer may hand the incident over."""
    if incident.state is IncidentState.CLOSED:
        return None
    rows = []
    if viewer.id == incident.owner_id:
        rows.append([(t("incident.button.review"), f"review:start:{incident.id}")])
    if viewer.role is Role.OFFICER:
        rows.append([(t("incident.button.handover"), f"incidents:handover:{incident.id}")])
    return keyboards.rows(*rows) if rows else None


def incident_list(t: Texts, incidents: Sequence[IncidentRow], total: int,
                  unrecorded: Sequence[AlertRow] = ()) -> str:
    lines = []
    if unrecorded:
        lines.append(t("incident.list.unrecorded",
                       alerts=", ".join(a.label for a in unrecorded)))
    if incidents:
        lines.append(t("incident.list.head", count=total))
    if total > len(incidents):
        lines.append(t("incident.list.more", shown=len(incidents)))
    return "\n".join(lines)


def incident_list_buttons(t: Texts, incidents: Sequence[IncidentRow],
                          unrecorded: Sequence[AlertRow] = ()) -> InlineKeyboardMarkup:
    rows = [[(t("incident.button.from_alert", alert=a.label), f"incident:alert:{a.id}")]
            for a in unrecorded]
    rows += [[(f"{_MARKERS[i.grade.value]} {i.label} "
              f"{cut(place_named(t, i.place, i.place_zh), 30)}".strip(),
              f"incidents:show:{i.id}")] for i in incidents]
    rows.append([(t("incident.button.new"), "incident:new")])
    return keyboards.rows(*rows)


# --- the review ------------------------------------------------------------------------------


def review_summary(t: Texts, label: str, what: str, loss: str, whys: Sequence[str],
                   responsibility: Responsibility | None, measures: str) -> str:
    chain = "\n".join(t("review.summary.why", n=n, answer=cut(why, ANSWER_SHOWN))
                      for n, why in enumerate(whys, start=1))
    return "\n".join([
        t("review.summary.head", incident=label),
        t("review.summary.what", answer=cut(what, ANSWER_SHOWN)),
        t("review.summary.loss", answer=cut(loss, ANSWER_SHOWN)),
        chain,
        t("review.summary.responsibility", answer=t(
            f"review.responsibility.{responsibility.value}") if responsibility else "—"),
        t("review.summary.measures", answer=cut(measures, ANSWER_SHOWN)),
    ])


# --- lessons ---------------------------------------------------------------------------------


def lessons_page(t: Texts, page: LessonPage, query: str, tag: str
                 ) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of lessons (no names: they were taken out when each was written)."""
    if not page.total:
        return (t("lessons.none", query=query) if query.strip() else t("lessons.empty")), None
    head = t("lessons.head", count=page.total, page=page.page + 1, pages=page.pages)
    items = [t("lessons.item", grade=Raw(grade_badge(t, lesson.grade)),
               place=place_named(t, lesson.place, lesson.place_zh) or "—",
               month=lesson.created_at.strftime("%Y-%m"),
               cause=cut(lesson.cause, LESSON_TEXT) or "—",
               measures=cut(lesson.measures, LESSON_TEXT))
             for lesson in page.lessons]
    buttons = []
    if page.page > 0:
        buttons.append(("◀", f"lessons:page:{page.page - 1}:{tag}"))
    if page.page + 1 < page.pages:
        buttons.append(("▶", f"lessons:page:{page.page + 1}:{tag}"))
    return "\n\n".join([head, *items]), keyboards.rows(buttons) if buttons else None


def lessons_near(t: Texts, count: int, place_name: str) -> str:
    """The one line /risk and the /trip summary add: how many lessons near here."""
    return t("lessons.near", count=count, query=place_name)


# --- drills ----------------------------------------------------------------------------------


def drill_rep(t: Texts, p: dict[str, Any]) -> Rendered:
    """A person's DRILL message: the practice question and its own "I'm safe" button."""
    return (t("drill.rep", alert=p["alert"], attempt=p["attempt"]),
            keyboards.rows([(t("drill.button.safe"), f"drillsafe:{int(p['alert_id'])}")]),
            False)


def drill_result(t: Texts, p: dict[str, Any]) -> Rendered:
    lang = t.language
    lines = []
    for line in p["lines"]:
        after = line["after"]
        lines.append(t(f"drill.result.{line['outcome']}", name=line["name"],
                       by_name=line["by_name"],
                       after="" if after is None else duration(timedelta(seconds=after),
                                                               lang)))
    shown = bounded(lines, lambda k: t("drill.result.more", count=k), most=len(lines))
    if p["more"]:
        shown.append(t("drill.result.more", count=p["more"]))
    rate = p["answered"] / p["asked"] if p["asked"] else 0
    head = t("drill.result.head", drill=p["label"], answered=p["answered"], asked=p["asked"],
             rate=percent(rate, lang))
    times = t("drill.result.times",
              median=duration(timedelta(seconds=p["median"]), lang),
              worst=duration(timedelta(seconds=p["worst"]), lang)) \
        if p["median"] is not None else ""
    return "\n".join(x for x in [head, times, *shown] if x), None, True


def report_drills(t: Texts, p: dict[str, Any]) -> str | None:
    """The monthly summary's line on drills (None: none held this month)."""
    drills = p.get("drills")
    if not drills or not drills["held"]:
        return None
    lang = t.language
    rate = drills["answered"] / drills["asked"] if drills["asked"] else 0
    median, worst = drills["median"], drills["worst"]
    return t("report.drills", held=drills["held"], rate=percent(rate, lang),
             median="—" if median is None else duration(timedelta(seconds=median), lang),
             worst="—" if worst is None else duration(timedelta(seconds=worst), lang))


# --- outbox messages -------------------------------------------------------------------------


def _incident_due(t: Texts, p: dict[str, Any]) -> Rendered:
    what = t(f"incident.what.{p['what']}")
    when = local_time(p["due_at"], p.get("tz", "UTC"), t.language)
    key = "incident.due.overdue" if p["overdue"] else "incident.due.soon"
    text = t(key, incident=p["incident"], grade=Raw(grade_badge(t, p["grade"])), what=what,
             when=when)
    if int(p["tier"]) > 1:
        text += "\n" + t("incident.due.officers")
    if p.get("late"):
        text += "\n" + t("incident.due.late")
    markup = keyboards.rows([(t("incident.button.open"), f"incidents:show:{p['incident_id']}")])
    return text, markup, False


def _incident_event(key: str) -> Callable[[Texts, dict[str, Any]], Rendered]:
    def render(t: Texts, p: dict[str, Any]) -> Rendered:
        text = t(key, incident=p["incident"], grade=Raw(grade_badge(t, p["grade"])),
                 place=place_named(t, p["place"], p.get("place_zh", "")) or "—",
                 by_name=p["by_name"], to_name=p.get("to_name", ""))
        markup = keyboards.rows([(t("incident.button.open"),
                                  f"incidents:show:{p['incident_id']}")])
        return text, markup, False
    return render


RENDERERS: dict[str, Callable[[Texts, dict[str, Any]], Rendered]] = {
    "incident_due": _incident_due,
    "incident_opened": _incident_event("incident.event.opened"),
    "incident_closed": _incident_event("incident.event.closed"),
    "incident_assigned": _incident_event("incident.event.assigned"),
    "incident_taken": _incident_event("incident.event.taken"),
    "drill_result": drill_result,
}
