"""/team (the board, paged), /alerts (open alerts) and /report (the monthly summary)."""

from __future__ import annotations

import logging
import re

from telegram import Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, CallbackQueryHandler

from conversations.context import BotContext
from conversations.flows.base import Command
from conversations.render.chart import chart_words
from conversations.render.formatting import month
from conversations.render.team import alerts_text, board_markup, board_text, report_text, team_key
from fieldbot.domain.report import Month, as_params
from fieldbot.services.board import BoardAccessError

log = logging.getLogger(__name__)

_PAGE = re.compile(r"^team:p:([0-9a-f]{12}):(\d{1,4})$")


async def team_command(update: Update, context: BotContext) -> None:
    """Send one board per team the sender may see, urgent first (personal data: protected)."""
    assert update.effective_message
    boards = await context.services.board.boards(context.member)
    now, t = context.services.clock.now(), context.t
    if not boards:
        await update.effective_message.reply_html(t("team.nobody"))
        return
    for b in boards:
        await update.effective_message.reply_html(
            board_text(t, b, 0, now), reply_markup=board_markup(t, b, 0) if b.entries else None,
            protect_content=True)


async def team_page(update: Update, context: BotContext) -> None:
    """Show another page of a board (or the same page, refreshed) in the same message."""
    query = update.callback_query
    assert query and query.data
    match = _PAGE.match(query.data)
    teams = await context.services.board.teams(context.member)
    team = next((tm for tm in teams if match and team_key(tm) == match.group(1)), None)
    if match is None or team is None:
        await query.answer(context.t.toast("team.gone"), show_alert=True)
        return
    try:
        b = await context.services.board.board(context.member, team)
    except BoardAccessError:
        await query.answer(context.t.toast("team.gone"), show_alert=True)
        return
    number, t = int(match.group(2)), context.t
    await query.answer()
    try:
        await query.edit_message_text(
            board_text(t, b, number, context.services.clock.now()), parse_mode="HTML",
            reply_markup=board_markup(t, b, number) if b.entries else None)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():  # a Refresh with nothing new is fine
            raise


async def alerts_command(update: Update, context: BotContext) -> None:
    """List the open alerts: ladder step, who acknowledged and when (protected)."""
    assert update.effective_message
    views = await context.services.board.open_alerts(context.member)
    await update.effective_message.reply_html(
        alerts_text(context.t, views, context.services.clock.now()), protect_content=True)


async def report_command(update: Update, context: BotContext) -> None:
    """Send the monthly summary for /report [YYYY-MM] (default: this month so far)."""
    assert update.effective_message
    reports = context.services.reports
    try:
        chosen = Month.parse(" ".join(context.args)) if context.args else reports.current_month()
    except ValueError:
        await update.effective_message.reply_html(context.t("report.usage"))
        return
    if chosen > reports.current_month():
        await update.effective_message.reply_html(context.t("report.future"))
        return
    summary = await reports.for_member(context.member, chosen)
    params = as_params(summary, complete=reports.is_complete(chosen))
    # The chart first, the numbers last: the summary is what the chat ends on.
    chart = await reports.chart(context.member, chosen, chart_words(context.t))
    try:  # the numbers come all the same: a chart Telegram refused or lost took them along
        await update.effective_message.reply_photo(
            chart, caption=context.t("report.chart_caption", month=month(chosen.first_day,
                                                                          context.t.language)),
            parse_mode="HTML", protect_content=True)
    except TelegramError as failed:
        log.warning("report chart to user %s not sent: %s", context.member.id,
                    type(failed).__name__)
    await update.effective_message.reply_html(report_text(context.t, params))


def register(app: Application) -> None:
    app.add_handler(Command("team", team_command))
    app.add_handler(CallbackQueryHandler(team_page, pattern=r"^team:"))
    app.add_handler(Command("alerts", alerts_command))
    app.add_handler(Command("report", report_command))


async def send_monthly_reports(context: BotContext) -> None:
    """The hourly job: queue last month's summary for the leads once, then deliver."""
    services = context.bot_data.services
    if await services.reports.send_monthly():
        await services.deliver()
