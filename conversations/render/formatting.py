"""Dates, times and places as a person reads them, in their language (Babel)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import (
    format_date,
    format_datetime,
    format_skeleton,
    format_timedelta,
    get_timezone_location,
)
from babel.numbers import format_percent

from fieldbot.domain.alerts import Alerted
from fieldbot.domain.places import Place


class HasPlace(Protocol):
    @property
    def place(self) -> Place: ...

# Parsed once: a locale named by a string is looked up again at every call.
_BABEL = {"en": Locale.parse("en_GB"), "zh": Locale.parse("zh_Hans_CN")}

# Telegram refuses a message over 4096 characters (of its text after parsing; the HTML source
# is never shorter, so counting the source is safe). The margin leaves room for a heading.
MAX_MESSAGE = 4096
MESSAGE_BUDGET = 3800


# What Chinese speakers call these zones, where Babel's country-and-city name is not it.
_ZH_ZONE_NAMES = {"Asia/Shanghai": "北京时间", "Asia/Chongqing": "北京时间",
                  "Asia/Harbin": "北京时间"}
_ZH_CITY = re.compile(r"^.+（(.+)）时间$")
_AT_SEA = re.compile(r"^Etc/GMT([+-])(\d{1,2})$")
_UTC = frozenset({"UTC", "Etc/UTC", "Etc/GMT", "GMT", "Etc/Universal", "Universal", "Etc/Zulu",
                  "Zulu", "Etc/UCT", "UCT", "Etc/Greenwich", "Greenwich"})


def zone_name(tz_name: str, language: str) -> str:
    """Return a time zone as people name it: in Chinese the country's or city's time
    ('泰国时间', '柏林时间', '北京时间', from Babel/CLDR), in English its city's ('Berlin
    time'); a zone at sea as its offset in both ('UTC+5': the id Etc/GMT-5 has the POSIX sign,
    backwards)."""
    if tz_name in _UTC:
        return "UTC"
    at_sea = _AT_SEA.match(tz_name)
    if at_sea:
        hours = int(at_sea.group(2))  # Etc/GMT+0 and Etc/GMT-0 are UTC itself, not 'UTC-0'
        return f"UTC{'-' if at_sea.group(1) == '+' else '+'}{hours}" if hours else "UTC"
    if language != "zh":
        return _english_zone(tz_name)
    if tz_name in _ZH_ZONE_NAMES:
        return _ZH_ZONE_NAMES[tz_name]
    try:
        named = get_timezone_location(tz_name, locale=_BABEL["zh"])
    except LookupError:
        return tz_name
    if named.startswith("未知地区"):  # UTC, Etc/GMT: no country to name
        return tz_name
    city = _ZH_CITY.match(named)  # 德国（柏林）时间: a country of several zones
    return f"{city.group(1)}时间" if city else named


def _english_zone(tz_name: str) -> str:
    """'Berlin time', 'Buenos Aires time' (the zone's city as CLDR spells it), not the
    database id 'Europe/Berlin'; UTC stays UTC."""
    try:
        city = get_timezone_location(tz_name, locale=_BABEL["en"], return_city=True)
    except LookupError:
        return tz_name
    city = city.rsplit("/", 1)[-1]  # 'Indiana/Indianapolis': CLDR's fallback keeps the path
    return city if city == "UTC" else f"{city} time"


def country_name(code: str, fallback: str, language: str) -> str:
    """A country's name in the reader's language (CLDR), else the stored name."""
    if language != "zh" or not code:
        return fallback
    return str(_BABEL["zh"].territories.get(code.upper(), fallback))


def place_name(place: Place, language: str) -> str:
    """Just the place's own name, for a button: "Bangkok" or "曼谷"."""
    return place.name_zh if language == "zh" and place.name_zh else place.name


def place_label(place: Place, language: str) -> str:
    """A place as its reader names it: "Beijing, China" or "北京，中国".

    The region (a US state) stays out of the Chinese label: none of our data names the states
    in Chinese, and "波特兰，Oregon，美国" is not Chinese. Where two places offered together
    would then read the same, `place_choices` tells them apart.
    """
    return place.label() if language != "zh" else _chinese_label(place, with_region=False)


def place_choices(places: Sequence[Place], language: str) -> list[str]:
    """The labels of places offered to choose from, told apart: in Chinese, places that would
    read the same ("斯普林菲尔德，美国") keep their region in its only known spelling
    ("斯普林菲尔德（Illinois），美国") rather than offer two equal buttons."""
    labels = [place_label(p, language) for p in places]
    if language != "zh":
        return labels
    return [_chinese_label(p, with_region=True) if labels.count(label) > 1 else label
            for p, label in zip(places, labels, strict=True)]


def _chinese_label(place: Place, *, with_region: bool) -> str:
    country = country_name(place.country_code, place.country_name, "zh")
    if place.name and place.name == place.country_name:  # a country as a whole: "德国"
        return country
    name = place_name(place, "zh")
    if with_region and place.region and place.region not in (place.name, place.name_zh):
        name = f"{name}（{place.region}）"
    return f"{name}，{country}" if country and country != name else name


def kept_label(label: str, label_zh: str, language: str) -> str:
    """A place's label as stored with a record (a hazard, a visit), in the reader's language:
    the Chinese one where it was kept, else the English one."""
    return label_zh if language == "zh" and label_zh else label


def places_label(legs: Sequence[HasPlace], language: str) -> str:
    """The places of a trip's legs: "Bangkok, Thailand, Hanoi, Vietnam" or
    "曼谷，泰国、河内，越南"."""
    return ("、" if language == "zh" else ", ").join(place_label(leg.place, language)
                                                    for leg in legs)


def trip_places(params: Mapping[str, Any], language: str) -> str:
    """A trip's places as a message's params carry them, in the reader's language (messages
    queued before `named_places` name them in English only)."""
    if "named_places" in params:
        return places_label([_Named(Place.from_named(n)) for n in params["named_places"]],
                            language)
    return ", ".join(params.get("places", []))


@dataclass(frozen=True, slots=True)
class _Named:
    place: Place


@lru_cache(maxsize=4096)
def local_time(instant: datetime | str, tz_name: str, language: str) -> str:
    """Return e.g. '21:00 Fri 4 Dec (Berlin time)' / '12月4日 周五 21:00（柏林时间）' in the
    destination's zone.

    Kept for the evening rush: most reps in one zone share tonight's deadline, and Babel takes
    ~40 µs to format it afresh for every receipt."""
    when = datetime.fromisoformat(instant) if isinstance(instant, str) else instant
    local = when.astimezone(ZoneInfo(tz_name))
    if language == "zh":
        shown = format_datetime(local, "M月d日 EEE HH:mm", locale=_BABEL["zh"])
        return f"{shown}（{zone_name(tz_name, language)}）"
    shown = format_datetime(local, "HH:mm EEE d MMM", locale=_BABEL.get(language, _BABEL["en"]))
    return f"{shown} ({zone_name(tz_name, language)})"


def day(value: date | str, language: str) -> str:
    d = date.fromisoformat(value) if isinstance(value, str) else value
    return format_date(d, "medium", locale=_BABEL.get(language, _BABEL["en"]))


def button_day(value: date, language: str) -> str:
    """Return a date short enough for a button: '12月3日 周四' in Chinese, '3 Dec 2026' in
    English (the year stays: a plan may run into the next one)."""
    if language == "zh":
        return format_date(value, "M月d日 EEE", locale=_BABEL["zh"])
    return day(value, language)


def map_link(lat: float, lon: float) -> str:
    return f"https://www.openstreetmap.org/?mlat={lat:.5f}&mlon={lon:.5f}#map=15/{lat:.5f}/{lon:.5f}"


def month(value: date, language: str) -> str:
    """Return e.g. 'December 2026' / '2026年12月'."""
    return format_skeleton("yMMMM", value, locale=_BABEL.get(language, _BABEL["en"]))


def duration(value: timedelta, language: str) -> str:
    """Return e.g. '40 minutes' / '40分钟' (rounded to the largest sensible unit)."""
    return format_timedelta(value, threshold=2, locale=_BABEL.get(language, _BABEL["en"]))


def percent(value: float, language: str) -> str:
    """Return e.g. '50%'."""
    return format_percent(value, locale=_BABEL.get(language, _BABEL["en"]))


def cut(text: str, limit: int) -> str:
    """Return text cut to `limit` characters, with an ellipsis when something was cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def bounded(
    items: Sequence[str], more: Callable[[int], str], *, most: int,
    budget: int = MESSAGE_BUDGET, sep: str = "\n",
) -> list[str]:
    """Return the first items (most important first) that fit, then 'and K more' for the rest.

    At most `most` items are kept, and together with the 'and K more' line and the separators
    they take at most `budget` characters: a list that grows with data never breaks the message.
    """
    kept: list[str] = []
    used = 0
    for index, item in enumerate(items):
        left = len(items) - index - 1
        note = len(sep) + len(more(left)) if left else 0
        if index >= most or used + len(item) + note > budget:
            break
        kept.append(item)
        used += len(item) + len(sep)
    if len(kept) < len(items):
        kept.append(more(len(items) - len(kept)))
    return kept


def sos_receipt(created: bool, alerted: Alerted) -> str:
    """The text key of the rep's SOS receipt: raised now or already active, and who it is
    reaching (never "your manager and the safety officers" when there are none)."""
    return f"sos.{'sent' if created else 'already'}.{alerted.value}"
