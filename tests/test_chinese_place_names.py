"""Places named the Chinese way for Chinese readers: "北京，中国", not "Beijing, China"."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from conversations.render.formatting import place_label
from fieldbot.domain.places import Place
from fieldbot.geo.chinese import chinese_name
from tests.builders import at, plan_trip, trips_of
from tests.harness import World


@pytest.mark.parametrize(("aliases", "named"), [
    (["Beijing", "北京", "北京市", "Pekin"], "北京"),
    (["Tokyo", "东京", "東京", "東京都", "トウキョウ"], "东京"),
    (["San Francisco", "三藩市", "旧金山", "舊金山"], "旧金山"),
    (["Shanghai", "上海", "上海市", "中国上海", "沪"], "上海"),
    (["Taipei", "臺北", "臺北市"], "台北"),  # only traditional names: shown simplified
    (["Springfield", "Спрингфилд"], ""),  # no Chinese name: none is made up
    (["Ōsaka", "おおさか"], ""),  # kana is Japanese, not Chinese
])
def test_the_name_most_others_agree_on_in_simplified_characters(
    aliases: list[str], named: str
) -> None:
    assert chinese_name(aliases) == named


# --- end to end: what a Chinese rep reads, what an English manager reads ---------------------

async def test_a_chinese_rep_reads_beijing_in_chinese_and_the_manager_in_english(
    team: World,
) -> None:
    li = team.fake.user(5005, "Li", "zh-hans")
    await team.enrol(li, "staff", "north")
    await li.send("/trip")
    await li.send("北京")
    assert any("北京，中国" in text for text in li.texts())
    assert not any("Beijing" in text for text in li.texts())
    await li.send("今天")
    await li.send("2026年12月5日")
    await li.press("没有了")
    await li.press("暂不确定")
    await li.send("王芳 13800138000")
    await li.press("否")
    assert "北京，中国" in (li.last.body or "")
    await li.press("✅ 确认")
    [trip] = await trips_of(team, li)
    assert (trip.legs[0].place.name, trip.legs[0].place.name_zh) == ("Beijing", "北京")
    await li.send("/trips")
    assert "北京，中国" in (li.last.body or "")

    manager = team.manager
    await manager.send("/team")
    board = "\n".join(manager.texts()[-3:])
    assert "Beijing" in board and "北京" not in board


async def test_places_of_one_name_stay_apart_in_chinese(team: World) -> None:
    li = team.fake.user(5005, "Li", "zh-hans")
    await team.enrol(li, "staff", "north")
    await li.send("/trip")
    await li.send("Springfield")
    labels = [label for row in li.last.buttons for label in row]
    assert "斯普林菲尔德（Illinois），美国" in labels
    assert "斯普林菲尔德（Missouri），美国" in labels
    assert len(set(labels)) == len(labels)


def test_labels_in_both_languages() -> None:
    beijing = Place("Beijing", "CN", "China", "", 39.9, 116.4, "Asia/Shanghai", 1816670, "北京")
    osaka = Place("Osaka", "JP", "Japan", "", 34.7, 135.5, "Asia/Tokyo", 1853909, "")
    singapore = Place("Singapore", "SG", "Singapore", "", 1.3, 103.8, "Asia/Singapore", 1,
                      "新加坡")
    pin = Place("47.0000, 8.0000", "", "", "", 47.0, 8.0, "Europe/Zurich")
    assert [place_label(p, "zh") for p in (beijing, osaka, singapore, pin)] == [
        "北京，中国", "Osaka，日本", "新加坡", "47.0000, 8.0000"]
    assert [place_label(p, "en") for p in (beijing, osaka, singapore)] == [
        "Beijing, China", "Osaka, Japan", "Singapore"]


async def test_an_alert_names_the_place_in_each_readers_language(team: World) -> None:
    wang = team.fake.user(6006, "Wang", "zh-hans")
    await team.enrol(wang, "manager", "north")
    beijing = Place("Beijing", "CN", "China", "", 39.9075, 116.3972, "Asia/Shanghai", 1816670,
                    "北京")
    await plan_trip(team, beijing, date(2026, 12, 1), date(2026, 12, 3))
    deadline = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)  # 21:00 in Beijing
    await at(team, deadline + timedelta(minutes=30))
    assert "Beijing, China" in team.manager.last.body
    assert "北京，中国" in (wang.last.body or "") and "Beijing" not in (wang.last.body or "")
