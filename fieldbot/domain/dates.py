"""Dates as people type them, in English and in Chinese.

Accepted: 2026-12-03 (also with / or . and in full-width digits), today / tomorrow / the day
after tomorrow (今天, 明天, 后天, 大后天), 12月3日 / 12月3号 / 2026年12月3日, weekdays (周四,
星期四, 礼拜四; 本周四 / 这周四 = this week's, 下周一 = next week's; weeks start on Monday,
as in China; in English "Thursday" / "thu" is the coming one), a day of the month alone (3号,
3日: the nearest), and, for people who write month first (Chinese), 12/3 and 12.3.

Pure: standard library only. A date without a year is the one nearest to today (12月3日 typed
on 30 November is this year's; 1月5日 is next year's; a day just past stays in the past, so the
caller can say so rather than silently planning a year ahead).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

_TODAY = {"today", "今天", "今日"}
_TOMORROW = {"tomorrow", "明天", "明日"}
_IN_TWO_DAYS = {"the day after tomorrow", "day after tomorrow", "后天", "後天"}
_IN_THREE_DAYS = {"大后天", "大後天"}

_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_YMD = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
# 12月3日, as the bot shows it on buttons too: "12月3日 周四" (the weekday is not checked).
_CHINESE = re.compile(r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})[日号號]?"
                      r"(?:[,，(（]?(?:周|週|星期|礼拜|禮拜)[一二三四五六日天][)）]?)?")
# 3 Dec 2026 (as the bot shows it), 3 december, dec 3, thu 3 dec.
_DAY_MONTH = re.compile(r"(?:[a-z]{3,9},? )?(\d{1,2}) ([a-z]{3,9}),?(?: (\d{4}))?")
_MONTH_DAY = re.compile(r"(?:[a-z]{3,9},? )?([a-z]{3,9}) (\d{1,2}),?(?: (\d{4}))?")
_MONTH_FIRST = re.compile(r"(\d{1,2})[/.](\d{1,2})")
_DAY_ONLY = re.compile(r"(\d{1,2})[日号號]")
_WEEKDAYS_EN = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_WORD = re.compile(r"(本|这|這|下)?(?:周|週|星期|礼拜|禮拜)([一二三四五六日天])")


def normalise(text: str) -> str:
    """Fold what people type into one form: full-width digits and punctuation (NFKC), case,
    spaces and a final full stop."""
    folded = unicodedata.normalize("NFKC", text).strip().lower().rstrip(".。")
    return re.sub(r"\s+", " ", folded)


def parse_day(text: str, today: date, *, month_first: bool = False) -> date | None:
    """Return the date `text` names, seen from `today`, or None if it names none.

    `month_first` reads 12/3 as 3 December (as Chinese users write it); otherwise a bare
    day/month pair is refused as ambiguous (3 December or 12 March).
    """
    word = normalise(text)
    relative = _relative(word, today)
    if relative is not None:
        return relative
    compact = word.replace(" ", "")
    if match := _YMD.fullmatch(compact):
        return _valid(int(match[1]), int(match[2]), int(match[3]))
    if match := _CHINESE.fullmatch(compact):
        if match[1]:
            return _valid(int(match[1]), int(match[2]), int(match[3]))
        return _nearest(int(match[2]), int(match[3]), today)
    if month_first and (match := _MONTH_FIRST.fullmatch(compact)):
        return _nearest(int(match[1]), int(match[2]), today)
    if match := _WEEKDAY_WORD.fullmatch(compact):
        return _weekday(match[1], _WEEKDAY[match[2]], today)
    if match := _DAY_ONLY.fullmatch(compact):
        return _nearest_day(int(match[1]), today)
    named = [i for i, name in enumerate(_WEEKDAYS_EN) if word in (name, name[:3])]
    if named:  # "friday", "fri": the coming one, as 周五
        return _weekday(None, named[0], today)
    if match := _DAY_MONTH.fullmatch(word):
        return _english(match[2], match[1], match[3], today)
    if match := _MONTH_DAY.fullmatch(word):
        return _english(match[1], match[2], match[3], today)
    try:
        return date.fromisoformat(compact)  # also 20261203
    except ValueError:
        return None


def _english(month_name: str, day: str, year: str | None, today: date) -> date | None:
    if month_name[:3] not in _MONTHS:
        return None
    month = _MONTHS.index(month_name[:3]) + 1
    return _valid(int(year), month, int(day)) if year else _nearest(month, int(day), today)


def _relative(word: str, today: date) -> date | None:
    for words, days in ((_TODAY, 0), (_TOMORROW, 1), (_IN_TWO_DAYS, 2), (_IN_THREE_DAYS, 3)):
        if word in words:
            return today + timedelta(days=days)
    return None


def _weekday(which: str | None, weekday: int, today: date) -> date:
    monday = today - timedelta(days=today.weekday())
    if which == "下":  # next week's: the week after this one
        return monday + timedelta(days=7 + weekday)
    if which:  # 本周 / 这周: this week's, even if it is past
        return monday + timedelta(days=weekday)
    return today + timedelta(days=(weekday - today.weekday()) % 7)  # the coming one


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _nearest(month: int, day: int, today: date) -> date | None:
    candidates = [d for year in (today.year - 1, today.year, today.year + 1)
                  if (d := _valid(year, month, day)) is not None]
    if not candidates:
        return None
    return min(candidates, key=lambda d: (abs((d - today).days), d < today))


def _nearest_day(day: int, today: date) -> date | None:
    """3号: that day of this month, the last or the next, whichever is nearest."""
    months = [(today.year * 12 + today.month - 1 + step) for step in (-1, 0, 1)]
    candidates = [d for m in months if (d := _valid(m // 12, m % 12 + 1, day)) is not None]
    if not candidates:
        return None
    return min(candidates, key=lambda d: (abs((d - today).days), d < today))
