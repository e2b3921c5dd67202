"""/team and /alerts: the view of managers and safety officers of who is out and what is open."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from conversations.render.team import team_key
from fieldbot.domain import board
from fieldbot.domain.board import BoardState, Entry, OpenAlert, Tonight
from fieldbot.domain.ladder import AlertKind
from fieldbot.domain.places import Place
from fieldbot.domain.trips import Leg, Trip, TripStatus
from fieldbot.storage import audit
from tests.builders import BERLIN, DEADLINE, at, enrol_south, plan_for
from tests.harness import World

KATHMANDU = Place("Kathmandu", "NP", "Nepal", "Bagmati", 27.7017, 85.3206, "Asia/Kathmandu")
NAIROBI = Place("Nairobi", "KE", "Kenya", "Nairobi", -1.2864, 36.8172, "Africa/Nairobi")

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


# --- the pure rules -------------------------------------------------------------------------


def test_the_most_urgent_state_wins() -> None:
    missed_told = OpenAlert(AlertKind.MISSED, leads_alerted=True)
    missed_rep_only = OpenAlert(AlertKind.MISSED, leads_alerted=False)
    sos = OpenAlert(AlertKind.SOS, leads_alerted=True)
    pending = Tonight(DEADLINE, "pending")
    soon = DEADLINE - timedelta(minutes=30)

    assert board.board_state(soon, [sos, missed_told], pending, DEADLINE) is BoardState.SOS
    assert board.board_state(soon, [missed_told], pending, DEADLINE) is BoardState.ALERT
    assert board.board_state(DEADLINE, [missed_rep_only], None, None) is BoardState.OVERDUE
    assert board.board_state(DEADLINE, [], pending, None) is BoardState.OVERDUE
    assert board.board_state(soon, [], pending, DEADLINE) is BoardState.DUE_SOON
    assert board.board_state(NOW, [], pending, DEADLINE) is BoardState.OK
    checked = Tonight(DEADLINE, "checked_in")
    assert board.board_state(DEADLINE, [], checked, DEADLINE + timedelta(days=1)) is (
        BoardState.OK)


def test_a_duress_alert_stays_invisible_to_its_subject_only() -> None:
    assert not board.visible_alert(7, 7, AlertKind.DURESS)
    assert board.visible_alert(8, 7, AlertKind.DURESS)
    assert board.visible_alert(7, 7, AlertKind.SOS)


def test_urgent_first_then_nearest_deadline_then_name() -> None:
    def entry(name: str, state: BoardState, deadline: datetime | None) -> Entry:
        return Entry(len(name), name, state, None, None, deadline, "UTC", None, None)

    entries = [
        entry("Ann", BoardState.OK, DEADLINE),
        entry("Bo", BoardState.DUE_SOON, DEADLINE + timedelta(hours=1)),
        entry("Cy", BoardState.DUE_SOON, DEADLINE),
        entry("Di", BoardState.SOS, None),
        entry("Ed", BoardState.OVERDUE, DEADLINE),
    ]
    assert [e.name for e in board.urgent_first(entries)] == ["Di", "Ed", "Cy", "Bo", "Ann"]


def test_pages_are_clamped_to_what_exists() -> None:
    items = list(range(13))
    assert board.paginate(items, 0, 6).items == (0, 1, 2, 3, 4, 5)
    last = board.paginate(items, 9, 6)
    assert (last.items, last.number, last.count) == ((12,), 2, 3)
    assert board.paginate([], 3, 6).count == 1


def test_a_trip_is_under_way_by_the_date_at_its_destination() -> None:
    kathmandu = Leg(KATHMANDU, date(2026, 12, 2), date(2026, 12, 3))
    trip = Trip(1, 1, (kathmandu,), TripStatus.APPROVED)
    # 18:20 UTC on the 1st is already 00:05 on the 2nd in Kathmandu (UTC+5:45).
    assert board.under_way(trip, datetime(2026, 12, 1, 18, 20, tzinfo=UTC))
    assert not board.under_way(trip, datetime(2026, 12, 1, 18, 10, tzinfo=UTC))


# --- /team end to end -----------------------------------------------------------------------


async def test_a_manager_sees_her_team_urgent_first_in_english(team: World) -> None:
    ben = team.fake.user(4024, "Ben")
    await team.enrol(ben, "staff", "north")
    await plan_for(team, team.rep, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await plan_for(team, ben, KATHMANDU, date(2026, 12, 1), date(2026, 12, 2))
    await at(team, datetime(2026, 12, 1, 14, 0, tzinfo=UTC))  # 19:45 in Kathmandu
    await team.services.checkins.check_in(ben.id, location=(27.70, 85.32))
    await at(team, DEADLINE + timedelta(minutes=31))

    await team.manager.send("/team")

    board_message = team.manager.last
    assert board_message.protect_content
    text = board_message.body or ""
    assert text.startswith("👥 Team north: 2 travelling")
    rita, ben_part = text.split("\n\n")[1:3]
    assert rita.splitlines() == [
        "🚨 alert open · Rita",
        "📍 Berlin, Germany · local time 21:31 Tue 1 Dec (Berlin time)",
        "🗓 Trip 1 Dec 2026 – 3 Dec 2026",
        "✅ No check-in yet",
        "⏰ Next deadline: 21:00 Wed 2 Dec (Berlin time)",
    ]
    assert ben_part.splitlines()[0] == "🟢 OK · Ben"
    assert "✅ Last check-in: 19:45 Tue 1 Dec (Kathmandu time), Kathmandu" in ben_part
    assert "📌 Last known location: map (19:45 Tue 1 Dec (Kathmandu time))" in ben_part
    assert board_message.buttons == [["🔄 Refresh"]]

    async with team.services.db.read() as conn:
        views = [e for e in await audit.since(conn, NOW) if e.action == "view_board"]
    assert {(e.actor, e.subject) for e in views} == {(team.manager.id, team.rep.id),
                                                     (team.manager.id, ben.id)}


async def test_the_board_in_chinese(team: World) -> None:
    mei = team.fake.user(2022, "梅", "zh")
    await team.enrol(mei, "manager", "north")
    await plan_for(team, team.rep, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, DEADLINE + timedelta(minutes=5))

    await mei.send("/team")

    lines = (mei.last.body or "").splitlines()
    assert lines[0].startswith("👥 north 团队：1 人在出差或有未处理的警报（第 1/1 页）")
    assert lines[2:] == [
        "🟠 超时未报 · Rita",
        "📍 柏林，德国 · 当地时间 12月1日 周二 21:05（柏林时间）",
        "🗓 行程：2026年12月1日 至 2026年12月3日",
        "✅ 尚未报平安",
        "⏰ 下次报平安截止时间：12月2日 周三 21:00（柏林时间）",
    ]
    assert mei.last.buttons == [["🔄 刷新"]]


async def test_sos_goes_to_the_top_and_due_soon_is_shown(team: World) -> None:
    ben = team.fake.user(4024, "Ben")
    await team.enrol(ben, "staff", "north")
    await plan_for(team, team.rep, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await plan_for(team, ben, NAIROBI, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, DEADLINE - timedelta(minutes=30))
    await ben.send("/sos")

    await team.officer.send("/team")

    heads = [line for line in (team.officer.last.body or "").splitlines() if " · " in line
             and not line.startswith(("📍", "🗓", "✅", "⏰", "📌"))]
    assert heads == ["🆘 SOS · Ben", "🟡 check-in due soon · Rita"]


async def test_managers_see_only_their_team_and_officers_see_every_team(team: World) -> None:
    sol, sven = await enrol_south(team)
    await plan_for(team, team.rep, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await plan_for(team, sven, NAIROBI, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, NOW)

    await team.manager.send("/team")
    await sol.send("/team")
    mark = team.officer.mark()
    await team.officer.send("/team")

    assert "Rita" in (team.manager.last.body or "")
    assert "Sven" not in "".join(team.manager.texts())
    assert "Sven" in (sol.last.body or "")
    assert "Rita" not in "".join(sol.texts())
    screens = [m.body or "" for m in team.officer.since(mark)]
    assert [s.splitlines()[0].split(":")[0] for s in screens] == ["👥 Team north",
                                                                  "👥 Team south"]
    assert all(m.protect_content for m in team.officer.since(mark))


async def test_a_manager_cannot_page_into_another_team(team: World) -> None:
    await enrol_south(team)
    await plan_for(team, team.rep, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, NOW)
    await team.manager.send("/team")
    own = team.manager.last

    toast = await team.manager.press_data(f"team:p:{team_key('south')}:0", own)

    assert toast is not None and "not available to you" in toast.text
    assert "Sven" not in (team.manager.last.body or "")


async def test_staff_cannot_use_team_alerts_or_report(team: World) -> None:
    for command in ("/team", "/alerts", "/report"):
        await team.rep.send(command)
        assert "managers" in (team.rep.last.body or "").lower(), command
    toast = await team.rep.press_data(f"team:p:{team_key('north')}:0")
    assert toast is not None and "Rita" not in toast.text


async def test_a_long_team_is_paged_with_buttons(team: World) -> None:
    people = [team.rep]
    for i in range(board.PAGE_SIZE):
        person = team.fake.user(5000 + i, f"Rep{i:02d}")
        await team.enrol(person, "staff", "north")
        people.append(person)
    for person in people:
        await plan_for(team, person, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, NOW)

    await team.manager.send("/team")
    first = team.manager.last
    assert "(page 1 of 2)" in (first.body or "")
    assert first.buttons == [["🔄 Refresh", "Next ▶"]]
    assert (first.body or "").count("🟢 OK") == board.PAGE_SIZE

    await team.manager.press("Next ▶", first)
    assert "(page 2 of 2)" in (first.body or "")
    assert (first.body or "").count("🟢 OK") == 1
    assert "Rita" in (first.body or "")  # "Rep00".."Rep05" sort before "Rita"
    assert first.buttons == [["◀ Previous", "🔄 Refresh"]]


# --- /alerts --------------------------------------------------------------------------------


async def test_open_alerts_show_the_ladder_step_and_who_acknowledged(team: World) -> None:
    await plan_for(team, team.rep, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, DEADLINE)
    await at(team, DEADLINE + timedelta(minutes=15))
    await at(team, DEADLINE + timedelta(minutes=30))

    await team.manager.send("/alerts")
    assert team.manager.last.protect_content
    assert (team.manager.last.body or "").splitlines() == [
        "🚨 Open alerts: 1 (SOS first, then the oldest)",
        "",
        "A-1 · missed check-in · Rita (team north)",
        "Since 21:00 Tue 1 Dec (Berlin time)",
        "Last: the manager, just now",
        "Next: the safety officers and all managers of the team, at 22:00 Tue 1 Dec"
        " (Berlin time), unless someone acknowledges first",
        "⏳ Not acknowledged yet",
    ]
    await at(team, DEADLINE + timedelta(minutes=50))
    await team.manager.send("/alerts")
    assert "Last: the manager, 20 minutes ago" in (team.manager.last.body or "")

    await at(team, DEADLINE + timedelta(minutes=35))
    await team.manager.press("Acknowledge")
    await team.officer.send("/alerts")
    assert "✔️ Acknowledged by Mia at 21:35 Tue 1 Dec (Berlin time)" in (
        team.officer.last.body or "")

    await team.rep.send("/checkin")  # a late check-in closes it
    await team.manager.send("/alerts")
    assert team.manager.last.body == "✅ No open alerts."


async def test_a_manager_does_not_see_another_teams_alerts(team: World) -> None:
    sol, sven = await enrol_south(team)
    await plan_for(team, sven, NAIROBI, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, NOW)
    await sven.send("/sos")

    await team.manager.send("/alerts")
    await sol.send("/alerts")
    await team.officer.send("/alerts")

    assert team.manager.last.body == "✅ No open alerts."
    assert "A-1 · 🆘 SOS · Sven (team south)" in (sol.last.body or "")
    assert "A-1 · 🆘 SOS · Sven (team south)" in (team.officer.last.body or "")
