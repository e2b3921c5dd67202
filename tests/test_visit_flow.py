"""Client visits end to end: the real bot, the fake Telegram, a fake clock (DESIGN.md §11)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from faketelegram.users import FakeUser
from fieldbot.domain.report import Month
from tests.builders import BERLIN, SPOT, alerts_in, plan_trip, rows, said
from tests.harness import World

START = "▶️ Start"
DONE = "✅ I'm done, safe"
EXTEND = "⏱ +30 min"
MIN = timedelta(minutes=1)


async def visit(user: FakeUser, client: str = "Acme GmbH", who: str = "Alone",
                end: str = "+1 h") -> None:
    """/visit in four answers: client, who, expected end, Start."""
    await user.send("/visit")
    await user.send(client)
    await user.press(who)
    await user.press(end)
    await user.press(START)


async def test_a_visit_ended_on_time_raises_nothing(team: World) -> None:
    await visit(team.rep)
    assert said("visit.started", ends="x", remind="y").split(".")[0] in team.rep.last.body
    await team.advance(50 * MIN)
    reminder = team.rep.last
    assert "due to end at" in reminder.body and "Acme GmbH" in reminder.body
    assert reminder.buttons == [[DONE], [EXTEND, "🆘 Need help"]]
    await team.rep.press(DONE)
    assert any("Visit ended. Thank you" in m for m in team.rep.texts()[-2:])
    assert "Anything colleagues should know" in team.rep.last.body
    await team.advance(timedelta(hours=3))
    assert not alerts_in(team.manager.texts(), "Alert")
    assert not alerts_in(team.officer.texts(), "Alert")
    [row] = await rows(team, "SELECT state FROM visits")
    assert row["state"] == "ended"


async def test_an_extended_visit_escalates_only_after_its_new_end(team: World) -> None:
    await visit(team.rep)
    await team.advance(50 * MIN)
    await team.rep.press(EXTEND)
    assert "Extended" in team.rep.last.body and "10:30" in team.rep.last.body
    await team.advance(30 * MIN)  # 10:20: the first end (10:00) plus 20 minutes: nothing
    assert not alerts_in(team.manager.texts(), "Alert")
    assert "due to end at" in team.rep.last.body  # asked again, before the new end
    await team.advance(10 * MIN)  # 10:30, the new end: the rep is asked urgently
    assert "was due to end at" in team.rep.last.body
    await team.advance(10 * MIN)
    assert alerts_in(team.manager.texts(), "has not ended a client visit")


async def test_a_missed_visit_end_climbs_to_the_manager_and_the_officers(team: World) -> None:
    await visit(team.rep, client="Acme GmbH")
    await team.rep.share_location(*SPOT)  # the last known location on the alert
    await team.advance(60 * MIN)
    assert "was due to end at" in team.rep.last.body and "reminder 1" in team.rep.last.body
    assert team.rep.last.buttons == [[DONE], [EXTEND, "🆘 Need help"]]
    await team.advance(5 * MIN)
    assert "reminder 2" in team.rep.last.body
    assert not alerts_in(team.manager.texts(), "Alert A-1")
    await team.advance(5 * MIN)
    alert = team.manager.last
    assert "Alert A-1" in alert.body and "Rita has not ended a client visit" in alert.body
    assert "Acme GmbH" in alert.body and "nobody (alone)" in alert.body
    assert "openstreetmap.org" in alert.body  # the last known location
    assert alert.buttons == [["Acknowledge", "Resolve"]]
    assert not alerts_in(team.officer.texts(), "Alert A-1")
    await team.advance(10 * MIN)
    assert "Alert A-1" in team.officer.last.body
    await team.officer.send("/alerts")
    assert "client visit overdue" in team.officer.last.body
    await team.advance(10 * MIN)
    assert len(alerts_in(team.officer.texts(), "Alert A-1")) == 2  # repeats every 10 min

    await team.officer.press("Acknowledge")
    assert "Olu has acknowledged" in team.manager.last.body
    before = len(team.manager.messages) + len(team.officer.messages)
    await team.advance(timedelta(hours=2))
    assert len(team.manager.messages) + len(team.officer.messages) == before


async def test_a_late_im_done_sends_the_all_clear(team: World) -> None:
    await visit(team.rep)
    await team.advance(81 * MIN)  # end + 21 min: manager and officers alerted
    assert alerts_in(team.officer.texts(), "Alert A-1")
    await team.rep.send("/done")
    assert any("has been told you are safe" in m for m in team.rep.texts()[-2:])
    assert "All clear" in team.manager.last.body
    assert "ended the client visit and is safe" in team.officer.last.body
    before = len(team.manager.messages)
    await team.advance(timedelta(hours=2))
    assert len(team.manager.messages) == before
    [row] = await rows(team, "SELECT state FROM alerts")
    assert row["state"] == "closed"


async def test_alone_after_dark_the_manager_is_told_and_the_rep_reminded(team: World) -> None:
    team.clock.set(datetime(2026, 12, 1, 18, 30, tzinfo=UTC))  # UTC is the default zone
    await visit(team.rep, client="Night Client")
    assert "pairs" in team.rep.last.body
    notice = team.manager.last
    assert "alone after dark" in notice.body and "Rita" in notice.body
    assert "Night Client" in notice.body and notice.buttons == []


async def test_a_visit_with_a_colleague_after_dark_tells_nobody(team: World) -> None:
    tom = team.fake.user(4005, "Tom", "en")
    await team.enrol(tom, "staff", "north")
    team.clock.set(datetime(2026, 12, 1, 18, 30, tzinfo=UTC))
    before = len(team.manager.messages)
    await visit(team.rep, client="Night Client", who="Tom")
    assert "pairs" not in team.rep.last.body
    assert len(team.manager.messages) == before
    [row] = await rows(team, "SELECT alone, companion_id FROM visits")
    assert row == {"alone": 0, "companion_id": 4005}


async def test_team_board_and_monthly_report_count_visits(team: World) -> None:
    team.clock.set(datetime(2026, 12, 1, 18, 30, tzinfo=UTC))
    await visit(team.rep, client="Night Client")
    await team.manager.send("/team")
    assert "On a client visit until 19:30" in team.manager.last.body
    assert "alone" in team.manager.last.body
    await team.advance(70 * MIN)  # end + 10 min: a visit alert reaches the manager
    await team.rep.send("/done")
    rows_ = await team.services.reports.table(Month(2026, 12))
    everyone = rows_[-1]
    assert (everyone.visits, everyone.visits_alone_after_dark, everyone.visit_alerts) == (
        1, 1, 1)
    await team.manager.send("/report")
    assert "Client visits: 1 · alone after dark: 1 · visit alerts: 1" in team.manager.last.body


async def test_need_help_on_the_visit_is_an_sos_showing_the_visit(team: World) -> None:
    await visit(team.rep, client="Acme GmbH")
    await team.advance(50 * MIN)
    await team.rep.press("🆘 Need help")
    sos = team.manager.last
    assert "SOS A-1" in sos.body and "Acme GmbH" in sos.body
    assert "SOS A-1" in team.officer.last.body


async def test_the_latest_live_location_point_is_on_the_visit_alert(team: World) -> None:
    await visit(team.rep)
    await team.rep.share_location(52.50, 13.40, live_period=3600)
    await team.rep.update_live_location(52.5101, 13.4102)  # an edit, kept silently
    await team.advance(70 * MIN)
    assert "mlat=52.51010&amp;mlon=13.41020" in team.manager.last.html


async def test_a_restart_in_the_middle_of_the_questions_resumes_them(team: World) -> None:
    await team.rep.send("/visit")
    await team.rep.send("Acme GmbH")
    await team.restart()
    await team.rep.press("Alone")
    await team.rep.press("+2 h")
    assert "11:00" in team.rep.last.body and "Acme GmbH" in team.rep.last.body
    await team.rep.press(START)
    [row] = await rows(team, "SELECT state FROM visits")
    assert row["state"] == "active"


async def test_a_visit_in_chinese_reads_in_chinese(team: World) -> None:
    lin = team.fake.user(4006, "Lin", "zh")
    await team.enrol(lin, "staff", "north")
    await lin.send("/visit")
    assert "拜访客户" in lin.last.body
    await lin.send("华为技术有限公司")
    await lin.press("独自前往")
    await lin.press("+1 小时")
    assert "您的客户拜访" in lin.last.body and "10:00" in lin.last.body
    await lin.press("▶️ 开始计时")
    assert "拜访已开始计时" in lin.last.body
    await team.advance(50 * MIN)
    assert "结束了吗" in lin.last.body
    assert lin.last.buttons == [["✅ 已结束，我很安全"], ["⏱ +30 分钟", "🆘 紧急求助"]]
    await team.advance(20 * MIN)
    assert "Lin has not ended a client visit" in team.manager.last.body  # his own language


async def test_a_typed_end_is_local_time_of_the_trip_under_way(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await team.rep.send("/visit")
    await team.rep.send("Acme GmbH")
    await team.rep.press("Alone")
    assert "Berlin time" in team.rep.last.body
    await team.rep.send("12:30")  # Berlin is UTC+1: 11:30 UTC
    assert "Berlin, Germany" in team.rep.last.body  # the destination's risk, as /risk shows
    await team.rep.press(START)
    [row] = await rows(team, "SELECT ends_at, tz_name FROM visits")
    assert row == {"ends_at": "2026-12-01T11:30:00.000000+00:00", "tz_name": "Europe/Berlin"}


async def test_extensions_are_limited(team: World) -> None:
    await visit(team.rep)
    for _ in range(4):  # the fourth "+30 min" is refused
        await team.rep.press_data("visit:extend:1")
    assert "at most 3 times" in team.rep.last.body
    [row] = await rows(team, "SELECT extensions, ends_at FROM visits")
    assert row == {"extensions": 3, "ends_at": "2026-12-01T11:30:00.000000+00:00"}
