"""Local times named the Chinese way in Chinese texts ("泰国时间"), from Babel/CLDR, in the one
shared formatting function; English keeps the zone id."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from conversations.render.formatting import local_time, zone_name
from tests.harness import World

AT = datetime(2026, 12, 4, 20, 0, tzinfo=UTC)  # a Friday


@pytest.mark.parametrize(("tz_name", "named"), [
    ("Asia/Bangkok", "泰国时间"),  # one zone in the country: the country
    ("Africa/Lagos", "尼日利亚时间"),
    ("Europe/Berlin", "柏林时间"),  # a country of several zones: the city
    ("America/New_York", "纽约时间"),
    ("Asia/Shanghai", "北京时间"),  # what everyone in China calls it
    ("UTC", "UTC"),  # no country: the id
])
def test_chinese_zone_names(tz_name: str, named: str) -> None:
    assert zone_name(tz_name, "zh") == named
    city = tz_name.rsplit("/", 1)[-1].replace("_", " ")  # the city's time, not the database id
    assert zone_name(tz_name, "en") == (city if city == "UTC" else f"{city} time")


@pytest.mark.parametrize(("tz_name", "named"), [
    ("Etc/GMT+5", "UTC-5"), ("Etc/GMT-5", "UTC+5"), ("Etc/GMT-12", "UTC+12"),
    ("Etc/GMT", "UTC"), ("Etc/UTC", "UTC"), ("UTC", "UTC"),
])
def test_a_zone_at_sea_is_its_offset_with_the_sign_people_read(tz_name: str, named: str) -> None:
    assert zone_name(tz_name, "zh") == zone_name(tz_name, "en") == named


def test_local_time_in_both_languages() -> None:
    assert local_time(AT, "Asia/Bangkok", "zh") == "12月5日 周六 03:00（泰国时间）"
    assert local_time(AT, "Europe/Berlin", "zh") == "12月4日 周五 21:00（柏林时间）"
    assert local_time(AT, "Europe/Berlin", "en") == "21:00 Fri 4 Dec (Berlin time)"


async def test_a_chinese_rep_reads_thai_time_for_bangkok(team: World) -> None:
    li = team.fake.user(5005, "Li", "zh-hans")
    await team.enrol(li, "staff", "north")
    await li.send("/risk 曼谷")
    body = li.last.body or ""
    # 09:00 UTC on 1 December is 16:00 in Bangkok
    assert "🕒 当地时间：12月1日 周二 16:00（泰国时间）" in body
    assert "Asia/Bangkok" not in body
    await li.send("/trip")
    await li.send("曼谷")
    assert any("（泰国时间）" in text and "目的地" in text for text in li.texts())
