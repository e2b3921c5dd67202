"""The monthly safety summary: on demand, scheduled to the leads, and as files for auditors."""

from __future__ import annotations

import asyncio
import csv
import io
import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from fieldbot.clock import Clock
from fieldbot.crypto import Cipher
from fieldbot.domain import report, trend
from fieldbot.domain.members import Member
from fieldbot.domain.report import Month, MonthReport
from fieldbot.domain.roles import Role
from fieldbot.domain.trend import ChartData
from fieldbot.services.charts import ChartWords, write_chart
from fieldbot.storage import audit, kv, outbox, users
from fieldbot.storage import board as store
from fieldbot.storage import drills as drill_store
from fieldbot.storage.db import Database, Tx

log = logging.getLogger(__name__)

# A month is over everywhere on Earth 12 hours after it ends in UTC (UTC-12 is the last zone
# to leave it), and its last nights are settled soon after: the scheduled summary of last
# month goes out from then on, still within SEND_WITHIN after downtime, and never twice
# (a kv marker, and the outbox's dedupe key per recipient).
SETTLED_AFTER = timedelta(hours=12)
SEND_WITHIN = timedelta(days=7)
_KV_KIND = "fieldbot"
_KV_KEY = "monthly_report_sent"


@dataclass(frozen=True, slots=True)
class Exported:
    csv: Path
    chart: Path
    rows: list[MonthReport]


class ReportService:
    def __init__(self, db: Database, clock: Clock, cipher: Cipher) -> None:
        self._db = db
        self._cipher = cipher  # names are stored encrypted
        self._clock = clock

    def current_month(self) -> Month:
        return Month.of(self._clock.now().date())

    def is_complete(self, month: Month) -> bool:
        """Return whether the month is over (everywhere on Earth, UTC-12 included)."""
        return self._clock.now() >= month.end + SETTLED_AFTER

    async def for_member(self, viewer: Member, month: Month) -> MonthReport:
        """Return the summary a lead may see: a manager's team, or the whole organisation."""
        if not viewer.is_lead:
            raise PermissionError("the monthly summary is for managers and the safety desk")
        async with self._db.read() as conn:
            return await _summary(conn, month, _scope(viewer), viewer.id)

    async def table(self, month: Month, viewer: int | None = None) -> list[MonthReport]:
        """Return one row per team with anything in the month, then the organisation's row
        (as `viewer` may see it: without the duress alerts about them)."""
        async with self._db.read() as conn:
            nights = await store.month_nights(conn, month)
            alerts = await store.month_alerts(conn, month, viewer)
            hazards = await store.month_hazards(conn, month)
            visits = await store.month_visits(conn, month)
            drills = await drill_store.month_records(conn, month)
        return report.by_team(month, nights, alerts, hazards, visits, drills)

    async def export(self, month: Month, out: Path, actor: int | None = None,
                     words: ChartWords | None = None) -> Exported:
        """Write the month's table as CSV and a PNG chart (in `words`' language) into `out`;
        the export is audited."""
        rows = await self.table(month, actor)
        csv_path = out / f"fieldbot-report-{month}.csv"
        png_path = out / f"fieldbot-report-{month}.png"
        await asyncio.to_thread(write_csv, rows, csv_path)
        data = await self._chart_data(month, None, rows, actor)
        await asyncio.to_thread(write_chart, data, png_path, words or ChartWords())
        async with self._db.transaction() as conn:
            await audit.record(conn, actor, "export_report", None,
                               f"month={month} rows={len(rows)} files=csv,png",
                               self._clock.now())
        return Exported(csv_path, png_path, rows)

    async def chart(self, viewer: Member, month: Month,
                    words: ChartWords | None = None) -> bytes:
        """Return the month's chart (PNG) as a lead may see it: a manager's own team, an
        officer's or admin's every team; the view is audited."""
        data = await self.chart_data(viewer, month)
        out = io.BytesIO()
        await asyncio.to_thread(write_chart, data, out, words or ChartWords())
        async with self._db.transaction() as conn:
            await audit.record(conn, viewer.id, "view_report", None, f"month={month}",
                               self._clock.now())
        return out.getvalue()

    async def chart_data(self, viewer: Member, month: Month) -> ChartData:
        """Return what the month's chart shows to a lead: a manager's own team, an officer's
        or admin's every team; the twelve months' trend and the times to acknowledge are of
        the same scope."""
        if not viewer.is_lead:
            raise PermissionError("the monthly charts are for managers and the safety desk")
        rows = await self.table(month, viewer.id)
        if viewer.role is Role.MANAGER:
            async with self._db.read() as conn:
                own = await _summary(conn, month, viewer.team, viewer.id)
            rows = [r for r in rows[:-1] if r.team == viewer.team] + [own]
        return await self._chart_data(month, _scope(viewer), rows, viewer.id)

    async def _chart_data(self, month: Month, team: str | None, rows: list[MonthReport],
                          viewer: int | None) -> ChartData:
        first = trend.trend_months(month)[0]
        async with self._db.read() as conn:
            nights = await store.trend_nights(conn, first, month, team)
            alerts = await store.trend_alerts(conn, first, month, team, viewer)
            raised = await store.month_alerts(conn, month, viewer)
        return ChartData(rows, trend.trend(month, nights, alerts),
                         trend.ack_bins(report.ack_times(month, team, raised)))

    async def send_monthly(self) -> int:
        """Queue last month's summary for every manager and officer, once; return how many.

        Safe to call often (the scheduler calls it hourly): it acts only early in a month,
        only once per month, and each message has its own dedupe key.
        """
        now = self._clock.now()
        month = Month.of(now.date()).previous()
        if not month.end + SETTLED_AFTER <= now < month.end + SEND_WITHIN:
            return 0
        queued = 0
        async with self._db.transaction() as conn:
            done = await kv.load(conn, _KV_KIND)
            if done.get(_KV_KEY) == str(month):
                return 0
            leads = await users.with_role(conn, [Role.MANAGER, Role.OFFICER],
                                          cipher=self._cipher)
            for lead in leads:
                summary = await _summary(conn, month, _scope(lead), lead.id)
                queued += await outbox.enqueue(
                    conn, dedupe=f"monthly:{month}:to:{lead.id}", recipient=lead.id,
                    kind="monthly_report", params=report.as_params(summary, complete=True),
                    priority=outbox.PRIORITY_REMINDER, now=now,
                )
            await kv.put(conn, _KV_KIND, _KV_KEY, str(month))
        log.info("monthly summary for %s queued for %s leads", month, queued)
        return queued


def _scope(viewer: Member) -> str | None:
    """A manager's summary covers their team; an officer's or admin's the organisation."""
    return viewer.team if viewer.role is Role.MANAGER else None


async def _summary(conn: Tx, month: Month, team: str | None, viewer: int | None
                   ) -> MonthReport:
    nights = await store.month_nights(conn, month)
    alerts = await store.month_alerts(conn, month, viewer)
    hazards = await store.month_hazards(conn, month)
    visits = await store.month_visits(conn, month)
    drills = await drill_store.month_records(conn, month)
    return report.summarise(month, team, nights, alerts, hazards, visits, drills)


def write_csv(rows: list[MonthReport], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=report.CSV_FIELDS)
        writer.writeheader()
        for row in rows:
            writer.writerow(report.csv_row(row))
