"""Try-it tests (issue 18, second look): the monthly chart and Chinese place names, used as a
new, careless and hostile user would — odd months typed at /report, teams named with emoji,
bidi controls and HTML, forty teams, a Chinese reader's months."""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime, timedelta

import pytest

from conversations.i18n import Texts
from conversations.render.chart import chart_words
from conversations.render.hazard import severity_text
from fieldbot.domain.report import Month
from fieldbot.domain.trend import ChartData
from fieldbot.services.charts import chart_figure
from tests.builders import BERLIN, DEADLINE, at, lone_visit, plan_for
from tests.harness import World

DECEMBER = Month(2026, 12)
SEA = (-20.0, 75.0)  # the Indian Ocean, far from any town: UTC+5, the zone Etc/GMT-5
ODD_MONTHS = ["0", "13", "2026-13", "2026-00", "0000-01", "2026年13月", "99999999999999999-01",
              "２０２６－１３", "-1", "2026-1-1", "<b>2026-11</b>", "2026年", "2026-11 extra"]


@pytest.mark.parametrize("typed", ODD_MONTHS)
async def test_report_with_an_odd_month_answers_with_the_usage(team: World, typed: str) -> None:
    await team.officer.send(f"/report {typed}")
    assert team.officer.last.body == Texts("en").toast("report.usage")


async def test_report_of_a_month_not_begun_or_long_past(team: World) -> None:
    for typed, head in (("2027-01", "That month has not started yet."),
                        ("9998-12", "That month has not started yet."),
                        ("1999-01", "📊 Monthly safety summary: January 1999"),
                        ("２０２６年１１月", "📊 Monthly safety summary: November 2026")):
        await team.officer.send(f"/report {typed}")
        assert (team.officer.last.body or "").startswith(head), typed
    await team.rep.send("/report")
    assert "managers and safety officers" in (team.rep.last.body or "")


async def travellers(world: World, teams: list[str], first_id: int = 6000) -> None:
    """A manager and a rep per team, enrolled by invitation; each rep has a night in Berlin
    on 1 December."""
    for i, name in enumerate(teams):
        await world.enrol(world.fake.user(first_id + 500 + i, f"Manager {i}", "en"), "manager",
                          name)
        rep = world.fake.user(first_id + i, f"Rep {i}", "en")
        await world.enrol(rep, "staff", name)
        member = await world.services.enrolment.member(rep.id)
        assert member is not None and member.team == name, (name, member)
        await plan_for(world, rep, BERLIN, date(2026, 12, 1), date(2026, 12, 1))


async def officers_chart(world: World) -> ChartData:
    officer = await world.services.enrolment.member(world.officer.id)
    assert officer is not None
    return await world.services.reports.chart_data(officer, DECEMBER)


def drawn(data: ChartData, language: str) -> tuple[list[str], list[str], str]:
    """Draw the chart as the desk and the CLI do, warnings as errors (a glyph our fonts lack
    is a warning, and an empty box in the PNG); return the teams' labels, the months' labels
    and the title. No two team labels may overlap."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with chart_figure(data, chart_words(Texts(language))) as fig:
            fig.canvas.draw()
            renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
            teams_ax = next(ax for ax in fig.axes
                            if ax.get_title() == Texts(language).toast("chart.nights_title"))
            labels = [t for t in teams_ax.yaxis.get_ticklabels() if t.get_text()]
            boxes = [t.get_window_extent(renderer) for t in labels]
            for a, b in zip(boxes, boxes[1:], strict=False):
                assert not a.overlaps(b), "team names written over each other"
            months = [t.get_text() for t in fig.axes[0].xaxis.get_ticklabels()]
            return [t.get_text() for t in labels], months, fig.get_suptitle()


async def test_teams_named_with_emoji_bidi_controls_and_html_are_drawn_as_typed(
    team: World,
) -> None:
    names = ["🚀 rockets", "\u202eevil", "<b>bold</b> & co", "فريق الشمال", "华" * 30, "🛡️"]
    await travellers(team, names)
    await at(team, datetime(2026, 12, 1, 19, tzinfo=UTC))
    for i in range(len(names)):
        await team.services.checkins.check_in(6000 + i)

    data = await officers_chart(team)
    for language in ("en", "zh"):
        labels, _, _ = drawn(data, language)
        assert "rockets" in labels and "<b>bold</b> & co" in labels
        assert "evil" in labels  # not drawn backwards by the override
        assert "?" in labels  # a name of emoji only: drawn as a mark, not as "(no team)"
        assert not any(c in label for label in labels for c in "\u202e\ufe0f")
    # The summary in the chat, to the managers of "\u202eevil" and "<b>bold</b> & co".
    await team.fake.user(6501, "Manager 1", "en").send("/report")
    await team.fake.user(6502, "Manager 2", "en").send("/report")
    evil, bold = (team.fake.user(i, "", "en").last.body or "" for i in (6501, 6502))
    assert "Team evil" in evil and "\u202e" not in evil, evil
    assert "Team &lt;b&gt;bold&lt;/b&gt; &amp; co" in bold, bold


async def test_forty_teams_keep_their_names_apart_and_a_missed_night_its_own_bar(
    team: World,
) -> None:
    names = [f"team {i:02d}" for i in range(40)]
    await travellers(team, names)
    await at(team, datetime(2026, 12, 1, 19, tzinfo=UTC))
    for i in range(40):
        if i != 37:  # team 37's rep misses the night
            await team.services.checkins.check_in(6000 + i)
    await at(team, DEADLINE + timedelta(minutes=1))

    data = await officers_chart(team)
    assert len(data.rows) == 41
    for language, others in (("en", "17 other teams"), ("zh", "其他 17 个团队")):
        labels, _, _ = drawn(data, language)
        assert len(labels) == 24 and labels[-1] == others
        assert "team 37" in labels  # the team with a missed night is never lumped


async def test_a_chinese_readers_chart_names_the_months_the_chinese_way(team: World) -> None:
    await travellers(team, ["north"])
    data = await officers_chart(team)

    _, months, title = drawn(data, "zh")
    assert title.startswith("2026年12月 安全月报"), title
    assert months[0] == "2026年1月" and months[-1] == "2026年12月"
    _, months, title = drawn(data, "en")
    assert months[-1] == "2026-12" and "2026-12" in title



async def test_an_alert_acknowledged_days_later_reads_in_days_not_thousands_of_minutes(
    team: World,
) -> None:
    await plan_for(team, team.rep, BERLIN, date(2026, 12, 1), date(2026, 12, 1))
    for minutes in (0, 15, 30):  # missed; Mia is told 30 minutes after the deadline
        await at(team, DEADLINE + timedelta(minutes=minutes))
    mia = await team.services.enrolment.member(team.manager.id)
    assert mia is not None
    async with team.services.db.read() as conn, conn.execute("SELECT MAX(id) FROM alerts") as cur:
        row = await cur.fetchone()
    assert row is not None
    await at(team, DEADLINE + timedelta(days=3, minutes=30))
    await team.services.escalation.acknowledge(int(row[0]), mia)
    await at(team, datetime(2027, 1, 5, 9, tzinfo=UTC))

    data = await officers_chart(team)
    _, _, title = drawn(data, "en")
    assert "median time to acknowledge 3 days" in title, title
    _, _, title = drawn(data, "zh")
    assert "确认收到用时中位数 3 天" in title, title
    await team.officer.send("/report 2026-12")  # the summary in the chat says it alike
    assert "median 3 days" in (team.officer.last.body or "")


async def test_a_rep_who_erased_herself_still_counts_in_her_teams_chart(team: World) -> None:
    await plan_for(team, team.rep, BERLIN, date(2026, 12, 1), date(2026, 12, 1))
    await at(team, DEADLINE + timedelta(minutes=30))  # missed; Mia is told
    await at(team, DEADLINE + timedelta(minutes=34))
    await team.manager.press("Resolve")
    await team.manager.press("Reached by phone")
    await team.rep.send("/forgetme")
    await team.rep.press("🗑 Erase")
    assert "Your personal data has been erased" in (team.rep.last.body or "")

    mia = await team.services.enrolment.member(team.manager.id)
    assert mia is not None
    for data in (await officers_chart(team),
                 await team.services.reports.chart_data(mia, DECEMBER)):
        assert [(r.team, r.nights, r.missed) for r in data.rows[:-1]] == [("north", 1, 1)]
        assert (data.trend[-1].nights, data.trend[-1].alerts) == (1, 1)
        assert data.ack_bins == (1, 0, 0, 0, 0)  # resolved 4 minutes after Mia was told
        drawn(data, "zh")


# --- places -------------------------------------------------------------------------------------


async def test_a_pin_far_from_any_town_is_named_once_with_the_offset_people_read(
    team: World,
) -> None:
    li = team.fake.user(5005, "Li", "zh-hans")
    await team.enrol(li, "staff", "north")
    mei = team.fake.user(2022, "梅", "zh-hans")
    await team.enrol(mei, "manager", "north")
    zh = Texts("zh")
    await li.send("/hazard")
    await li.press(zh("hazard.button.no_photo"))
    await li.press(zh("hazard.category.road"))
    await li.press(severity_text(zh, 4))
    await li.share_location(*SEA)
    await li.send("海上有浮木")
    await li.press(zh("hazard.button.confirm"))

    # The pin's numbers were given twice: "-20.0000, 75.0000（-20.00000, 75.00000）".
    assert "位置：（-20.00000, 75.00000）" in (mei.last.body or ""), mei.last.body
    assert "Where: (-20.00000, 75.00000) (map)" in (team.manager.last.body or "")

    # At sea the zone is named by its offset, with the sign people read (Etc/GMT-5 is UTC+5).
    await li.send("/trip")
    await li.share_location(*SEA)
    assert any("（UTC+5）" in text for text in li.texts()), li.texts()[-2:]
    await lone_visit(team.rep, pin=SEA)  # 09:00 UTC: 14:00 there
    started = team.rep.texts()[-1]
    assert "Expected end: 15:00 Tue 1 Dec (UTC+5)" in started, started
    assert not any("Etc/GMT" in text for user in (li, team.rep, mei) for text in user.texts())

