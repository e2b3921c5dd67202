"""Every place a Chinese reader is shown is named in Chinese: the last check-in on /team, a
hazard report's spot (the alert, /risk), and no English US state in a Chinese label."""

from __future__ import annotations

from datetime import UTC, date, datetime

from conversations.i18n import Texts
from conversations.render.hazard import severity_text
from faketelegram.users import FakeUser
from fieldbot.domain.places import Place
from tests.builders import BERLIN, SPOT, at, plan_for, report
from tests.harness import World

BANGKOK = Place("Bangkok", "TH", "Thailand", "", 13.7540, 100.5014, "Asia/Bangkok", 1609350,
                "曼谷")


async def chinese(world: World, user_id: int, name: str, role: str, team: str = "") -> FakeUser:
    user = world.fake.user(user_id, name, "zh-hans")
    await world.enrol(user, role, team)
    return user


def line_starting(text: str, head: str) -> str:
    [line] = [line for line in text.splitlines() if line.startswith(head)]
    return line


async def test_a_chinese_managers_team_names_the_last_check_in_in_chinese(team: World) -> None:
    mei = await chinese(team, 2022, "梅", "manager", "north")
    await plan_for(team, team.rep, BANGKOK, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, datetime(2026, 12, 1, 13, 0, tzinfo=UTC))  # 20:00 in Bangkok
    await team.services.checkins.check_in(team.rep.id, location=(13.75, 100.50))

    await mei.send("/team")
    await team.manager.send("/team")

    seen = line_starting(mei.last.body or "", "✅ 最近一次报平安")
    assert seen == "✅ 最近一次报平安：12月1日 周二 20:00（泰国时间），曼谷"
    assert "Bangkok" not in (mei.last.body or "")
    assert line_starting(team.manager.last.body or "", "✅ Last check-in").endswith(", Bangkok")


async def test_a_chinese_officer_reads_the_hazards_spot_in_chinese(team: World) -> None:
    zhou = await chinese(team, 3033, "周", "officer")

    await report(team.rep)

    alert = zhou.last.body or ""
    assert "位置：柏林，德国（52.52050, 13.40950）" in alert, alert
    assert "Berlin" not in alert and "Germany" not in alert
    assert "Berlin, Germany (52.52050, 13.40950)" in (team.manager.last.body or "")
    async with team.services.db.read() as conn, conn.execute(
            "SELECT place_zh FROM hazards") as cur:
        [(stored,)] = [tuple(row) for row in await cur.fetchall()]
    assert "柏林" not in stored  # encrypted like the English label
    assert team.services.cipher.decrypt(stored) == "柏林，德国（52.52050, 13.40950）"

    await team.manager.press("✅ Verify")
    await zhou.send("/risk 柏林，德国")

    risk = zhou.last.body or ""
    assert "柏林，德国（52.52050, 13.40950）：Open manhole" in risk, risk
    assert "Berlin" not in risk


async def test_a_chinese_rep_reports_a_hazard_and_reads_its_place_in_chinese(
    team: World,
) -> None:
    li = await chinese(team, 5005, "Li", "staff", "north")
    await plan_for(team, li, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    zh = Texts("zh")
    await li.send("/hazard")
    await li.press(zh("hazard.button.no_photo"))
    await li.press(zh("hazard.category.road"))
    await li.press(severity_text(zh, 4))

    await li.tap(zh("hazard.button.trip", place="柏林"))
    await li.send("路面塌陷")

    assert "柏林，德国" in (li.last.body or "")
    assert not any("Berlin" in text for text in li.texts())
    await li.press(zh("hazard.button.confirm"))
    assert "Berlin, Germany" in (team.manager.last.body or "")


async def test_no_english_state_in_a_chinese_label(team: World) -> None:
    li = await chinese(team, 5005, "Li", "staff", "north")
    await li.send("/trip")

    await li.send("Portland, Oregon")

    assert any("波特兰，美国" in text for text in li.texts())
    assert not any("Oregon" in text for text in li.texts())


async def test_in_english_the_state_stays(team: World) -> None:
    await team.rep.send("/trip")
    await team.rep.send("Portland, Oregon")
    assert any("Portland, Oregon, United States" in text for text in team.rep.texts())


async def test_a_chinese_manager_reads_a_pinned_visit_in_chinese(team: World) -> None:
    mei = await chinese(team, 2022, "梅", "manager", "north")
    team.clock.set(datetime(2026, 12, 1, 18, 30, tzinfo=UTC))  # 19:30 in Berlin: dark
    await team.rep.send("/visit")
    await team.rep.share_location(*SPOT)
    await team.rep.send("Acme GmbH")
    await team.rep.press("Alone")
    await team.rep.press("+1 h")
    await team.rep.press("▶️ Start")

    assert "Berlin, Germany" in (team.manager.last.body or "")
    notice = mei.last.body or ""
    assert "柏林，德国" in notice and "Berlin" not in notice, notice
