"""Dates and places as Chinese users type them: 12月3日, 2026年12月3日, 12/3, 后天, 下周一,
full-width digits and punctuation; dates on buttons short ("12月3日 周四")."""

from __future__ import annotations

from datetime import date

import pytest

from conversations.render.formatting import button_day
from fieldbot.domain.dates import normalise, parse_day
from fieldbot.domain.trips import DateProblem
from fieldbot.domain.trips import parse_day as parse_trip_day
from fieldbot.geo.resolver import clean_query
from tests.harness import GAZETTEER, World
from tests.test_trip_flow import trips_of

TODAY = date(2026, 11, 30)  # a Monday


@pytest.mark.parametrize(("typed", "meant"), [
    ("2026-12-03", date(2026, 12, 3)),
    ("2026/12/3", date(2026, 12, 3)),
    ("2026.12.03", date(2026, 12, 3)),
    ("20261203", date(2026, 12, 3)),
    ("２０２６－１２－０３", date(2026, 12, 3)),  # full-width digits and hyphen
    ("12月3日", date(2026, 12, 3)),
    ("12月3号", date(2026, 12, 3)),
    ("12 月 3 日", date(2026, 12, 3)),
    ("１２月３日", date(2026, 12, 3)),
    ("2026年12月3日", date(2026, 12, 3)),  # as the bot shows a date
    ("２０２６年１２月３日。", date(2026, 12, 3)),
    ("12月3日 周四", date(2026, 12, 3)),  # as a button shows it
    ("12月3日（星期四）", date(2026, 12, 3)),
    ("1月5日", date(2027, 1, 5)),  # the nearest: next January
    ("11月29日", date(2026, 11, 29)),  # just past stays past (the flow says so)
    ("今天", TODAY), ("今日", TODAY), ("today", TODAY), ("Today", TODAY),
    ("明天", date(2026, 12, 1)), ("tomorrow", date(2026, 12, 1)),
    ("后天", date(2026, 12, 2)), ("後天", date(2026, 12, 2)),
    ("the day after tomorrow", date(2026, 12, 2)),
    ("大后天", date(2026, 12, 3)),
    ("下周一", date(2026, 12, 7)), ("下星期一", date(2026, 12, 7)),
    ("下礼拜五", date(2026, 12, 11)), ("下周日", date(2026, 12, 13)),
    ("下周天", date(2026, 12, 13)),
    ("周四", date(2026, 12, 3)), ("星期一", TODAY), ("礼拜天", date(2026, 12, 6)),
    ("本周五", date(2026, 12, 4)), ("这周一", TODAY),
    ("3 Dec 2026", date(2026, 12, 3)), ("3 Dec", date(2026, 12, 3)),
    ("Thu 3 Dec", date(2026, 12, 3)), ("December 3", date(2026, 12, 3)),
    ("dec 3, 2026", date(2026, 12, 3)),
])
def test_every_accepted_form(typed: str, meant: date) -> None:
    assert parse_day(typed, TODAY, month_first=True) == meant
    assert parse_trip_day(typed, TODAY, month_first=True) == meant


@pytest.mark.parametrize(("typed", "meant"), [
    ("12/3", date(2026, 12, 3)), ("１２／３", date(2026, 12, 3)), ("1/5", date(2027, 1, 5)),
])
def test_month_first_for_chinese_users_only(typed: str, meant: date) -> None:
    assert parse_day(typed, TODAY, month_first=True) == meant
    assert parse_day(typed, TODAY) is None  # 12/3 is 12 March to many English readers


@pytest.mark.parametrize("typed", [
    "", "   ", "2月30日", "13月1日", "2026-02-30", "12/33", "下周八", "next week", "3 Foo",
    "12月3日 下午", "明天见", "9999999-12-03", "２０２６年１３月１日",
])
def test_what_is_not_a_date(typed: str) -> None:
    assert parse_day(typed, TODAY, month_first=True) is None
    assert parse_trip_day(typed, TODAY, month_first=True) is DateProblem.NOT_A_DATE


def test_normalise_folds_width_case_and_spaces() -> None:
    assert normalise(" １２ 月　３日。") == "12 月 3日"
    assert normalise("TOMORROW.") == "tomorrow"


def test_dates_on_chinese_buttons_are_short() -> None:
    assert button_day(date(2026, 12, 3), "zh") == "12月3日 周四"
    assert button_day(date(2026, 12, 3), "en") == "3 Dec 2026"


@pytest.mark.parametrize("typed", ["巴黎，法国", "巴黎、法国", "巴黎 ， 法国", "Paris，France",
                                   "Ｐａｒｉｓ，Ｆｒａｎｃｅ", "巴黎（法国）", "巴黎 法国",
                                   "Paris (France)"])
def test_full_width_punctuation_in_place_search(typed: str) -> None:
    query = clean_query(typed)
    assert "，" not in query and "、" not in query
    [paris] = GAZETTEER.search(query)
    assert str(paris.address) == "Paris, France"


# --- end to end through /trip ---------------------------------------------------------------


async def _plan_in_chinese(team: World, where: str, start: str, end: str) -> list[str]:
    li = team.fake.user(5005, "Li", "zh-hans")
    await team.enrol(li, "staff", "north")
    await li.send("/trip")
    await li.send(where)
    assert li.last.buttons[0] == ["12月1日 周二", "12月2日 周三", "12月3日 周四"]
    await li.send(start)
    await li.send(end)
    await li.press("没有了")
    await li.press("暂不确定")
    await li.send("王芳 13800138000")
    await li.press("否")
    summary = li.last.body or ""
    await li.press("✅ 确认")
    assert (li.last.body or "").startswith("✅ 行程计划已保存")
    [trip] = await trips_of(team, li)
    return [summary, str(trip.legs[0].place.name), str(trip.start), str(trip.end)]


async def test_a_trip_planned_with_full_width_place_and_chinese_dates(team: World) -> None:
    # 1 December 2026 is a Tuesday: 下周一 is 7 December.
    summary, place, start, end = await _plan_in_chinese(team, "巴黎，法国", "１２月３日", "下周一")
    assert (place, start, end) == ("Paris", "2026-12-03", "2026-12-07")
    assert "2026年12月3日 – 2026年12月7日" in summary


async def test_a_trip_planned_with_month_first_and_the_bots_own_date_form(team: World) -> None:
    summary, place, start, end = await _plan_in_chinese(team, "北京", "12/3", "2026年12月5日")
    assert (place, start, end) == ("Beijing", "2026-12-03", "2026-12-05")
    assert "2026年12月3日 – 2026年12月5日" in summary


async def test_a_place_typed_with_its_country_in_brackets_as_the_buttons_write_it(
        team: World) -> None:
    _, place, _, _ = await _plan_in_chinese(team, "巴黎（法国）", "１２月３日", "下周一")
    assert place == "Paris"
