"""/drill [name] (safety officers): pick a team (or a person by name), confirm, and a
practice alert labelled DRILL goes through the real ladder to each person; and the person's
own "I'm safe (drill)" button."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from telegram import Update

from conversations.context import BotContext
from conversations.flows import drafts
from conversations.flows.base import Command
from conversations.flows.common import pressed
from conversations.i18n import Texts
from conversations.render import crisis, keyboards
from fieldbot.services.drills import DrillError

CHOICES = "drill_teams"  # user_data: the teams offered, by index (team names can be long),
# with the nonce their buttons carry: a team button of an earlier list is stale
NONCE = "drill_nonce"  # user_data: the one Start button that may still start a drill
CONFIRMED = "drill_confirmed"  # user_data: the team that Start button's confirmation named


async def drill_command(update: Update, context: BotContext) -> None:
    """Offer the teams (or, with a name, the teams and people so named) to drill."""
    message = update.effective_message
    assert message
    t, drills = context.t, context.services.drills
    name = " ".join(context.args or []).strip()
    if name:
        people = await drills.find_people(name, context.member)
        teams, _ = await drills.teams(name)
        if not people and not teams:
            await message.reply_html(t("drill.nobody_named", name=name[:64]))
            return
        listed = _offer(context, teams)
        await message.reply_html(t("drill.pick_person"), reply_markup=keyboards.rows(
            *_team_rows(t, teams, listed), *([(p.name, f"drill:person:{p.id}")] for p in people)))
        return
    teams, total = await drills.teams()
    if not teams:
        await message.reply_html(t("drill.no_teams"))
        return
    listed = _offer(context, teams)
    text = t("drill.pick_team")
    if total > len(teams):  # the others are a /drill <team> away
        text += "\n" + t("drill.more_teams", count=total - len(teams))
    await message.reply_html(text, reply_markup=keyboards.rows(*_team_rows(t, teams, listed)))


def _offer(context: BotContext, teams: list[tuple[str, int]]) -> str:
    """Remember the teams offered now, and return the nonce their buttons carry."""
    listed = uuid4().hex[:8]
    drafts.store(context)[CHOICES] = {"nonce": listed, "teams": [team for team, _ in teams]}
    return listed


def _team_rows(t: Texts, teams: list[tuple[str, int]],
               listed: str) -> list[list[tuple[str, str]]]:
    return [[(t("drill.team_button", team=team, count=count), f"drill:team:{i}:{listed}")]
            for i, (team, count) in enumerate(teams)]


def _team(context: BotContext, index: int, listed: str) -> str | None:
    """The team a button of the list `listed` offered; None for a button of another list
    (a later /drill offered others: its index would name another team)."""
    offered = drafts.store(context).get(CHOICES)
    if not isinstance(offered, dict) or offered.get("nonce") != listed:
        return None
    teams = offered.get("teams") or []
    return str(teams[index]) if index < len(teams) else None


async def chosen(update: Update, context: BotContext) -> None:
    """Ask to confirm: who will get a practice alert, labelled DRILL."""
    query = update.callback_query
    assert query and query.data
    _, kind, number, *listed = query.data.split(":")
    t = context.t
    team = None
    if kind == "team":
        team = _team(context, int(number), listed[0] if listed else "")
        if team is None:
            await query.answer(t.toast("guard.stale_button"), show_alert=True)
            return
        what = t("drill.scope.team", team=team)
    else:
        person = await context.services.enrolment.member(int(number))
        what = t("drill.scope.person", name=person.name if person else "?")
    await keyboards.take_buttons_off(update)
    nonce = drafts.store(context)[NONCE] = uuid4().hex[:8]
    drafts.store(context)[CONFIRMED] = team  # Start drills the team named here, no other
    assert update.effective_message
    await update.effective_message.reply_html(
        t("drill.confirm", what=what, minutes=crisis.minutes(
            context.services.policy.drill.ends_after)),
        reply_markup=keyboards.rows(
            [(t("drill.button.start"), f"drill:go:{kind}:{number}:{nonce}")],
            [(t("crisis.button.cancel"), "drill:cancel")]))


async def go(update: Update, context: BotContext) -> None:
    """Start the drill: each person's first DRILL message goes out at once."""
    query = update.callback_query
    assert query and query.data
    _, _, kind, number, nonce = query.data.split(":")
    confirmed = drafts.store(context).pop(CONFIRMED, None)
    team = str(confirmed) if kind == "team" and confirmed else None
    if drafts.store(context).pop(NONCE, None) != nonce or (kind == "team" and team is None):
        await query.answer(context.t.toast("guard.stale_button"), show_alert=True)
        return
    try:
        started = await context.services.drills.start(
            context.member, team=team, user_id=int(number) if kind == "person" else None)
    except DrillError as error:
        await query.answer(context.t.toast(f"drill.err.{error.reason}", name=""),
                           show_alert=True)
        return
    await keyboards.take_buttons_off(update)
    drafts.store(context).pop(CHOICES, None)
    assert update.effective_message
    text = context.t("drill.started", drill=started.drill.label, count=started.asked,
                     minutes=crisis.minutes(context.services.policy.drill.ends_after))
    if started.left_out:
        text += "\n" + context.t("drill.left_out", count=started.left_out)
    await update.effective_message.reply_html(text)
    await context.services.deliver()


async def cancelled(update: Update, context: BotContext) -> None:
    await keyboards.take_buttons_off(update)
    drafts.store(context).pop(CHOICES, None)
    assert update.effective_message
    await update.effective_message.reply_html(context.t("drill.cancelled"))


async def drill_safe(update: Update, context: BotContext) -> None:
    """The person answers their drill: "I'm safe"."""
    query = update.callback_query
    assert query and query.data
    try:
        missed = await context.services.drills.safe(int(query.data.split(":")[1]),
                                                    context.member)
    except DrillError as error:
        name = ""
        if error.by is not None:
            by = await context.services.enrolment.member(error.by)
            name = by.name if by else ""
        await query.answer(context.t.toast(f"drill.err.{error.reason}", name=name),
                           show_alert=True)
        if error.missed:  # a late press is still no check-in: say so where it stays
            assert update.effective_message
            await update.effective_message.reply_html(context.t("drill.real_still_open"))
        return
    await keyboards.take_buttons_off(update)
    assert update.effective_message
    text = context.t("drill.safe_thanks")
    if missed:  # the drill's answer is not tonight's check-in
        text += "\n" + context.t("drill.real_still_open")
    await update.effective_message.reply_html(text)
    await context.services.deliver()


def register(app: Any) -> None:
    app.add_handler(Command("drill", drill_command))
    app.add_handler(pressed(chosen, r"^drill:(team:\d{1,3}:[0-9a-f]{8}|person:\d{1,18})$"))
    app.add_handler(pressed(go, r"^drill:go:(team:\d{1,3}|person:\d{1,18}):[0-9a-f]{8}$"))
    app.add_handler(pressed(cancelled, r"^drill:cancel$"))
    app.add_handler(pressed(drill_safe, r"^drillsafe:\d{1,18}$"))
