"""Importers for official travel advisories, in the formats their publishers really use.

- US State Department: an RSS 2.0 feed. Each <item> has a title such as
  "Country - Level 2: Exercise Increased Caution" (older items: "Country Travel Advisory -
  Level 2: ..."), a <pubDate> that is often a bare date ("Mon, 10 Feb 2026"), and
  <category domain="Threat-Level">Level 2: ...</category>. Countries are NAMES in the
  Department's own spelling ("Burma (Myanmar)", "Korea, South", "Mainland China, Hong Kong &
  Macau"); some items carry no level ("Worldwide Caution") and some list a country twice.
- Government of Canada: JSON {"metadata": {...}, "data": {"<ISO>": {"country-iso",
  "advisory-state": 0-3, "date-published": {"timestamp", "date", "asp"},
  "has-regional-advisory", "eng": {"name", "url-slug", "advisory-text"}}}}.

Nothing here invents a level: an item whose country or level cannot be read is reported in
`unmapped` (and logged), never guessed.
"""

from __future__ import annotations

import json
import logging
import re
import xml.etree.ElementTree as ET  # noqa: S405 - DTDs are refused before parsing, see _xml_root
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from fieldbot.domain.risk import Advisory, RiskLevel
from fieldbot.geo.names import Countries

log = logging.getLogger(__name__)

US_STATE_RSS_URL = "https://travel.state.gov/_res/rss/TAsTWs.xml"
CANADA_JSON_URL = "https://data.international.gc.ca/travel-voyage/index-alpha-eng.json"
FEED_URLS = (US_STATE_RSS_URL, CANADA_JSON_URL)

US_SOURCE = "US State Department"
CANADA_SOURCE = "Government of Canada"
US_ADVISORIES_PAGE = (
    "https://travel.state.gov/content/travel/en/traveladvisories/traveladvisories.html"
)
CANADA_ADVISORIES_PAGE = "https://travel.gc.ca/travelling/advisories"
CANADA_DESTINATION_URL = "https://travel.gc.ca/destinations/{slug}"
# Canada's "date" field has no offset; Global Affairs publishes from Ottawa (the "asp" form
# of the same field carries -04:00/-05:00). Used only when neither timestamp nor asp exist.
CANADA_LOCAL_ZONE = ZoneInfo("America/Toronto")

MAX_FEED_BYTES = 20 * 1024 * 1024  # the real feeds are a few MB at most
FETCH_TIMEOUT_S = 30.0

_LEVEL = re.compile(r"\bLevel\s*([1-4])\b", re.IGNORECASE)
_NAME_BEFORE_LEVEL = re.compile(r"^(?P<name>.*?)\s*[-\u2013\u2014:]?\s*\bLevel\s*[1-4]\b", re.I)
_SUMMARIES = re.compile(r"\s*[-\u2013\u2014]\s*See\b.*$", re.IGNORECASE)
_TRAVEL_ADVISORY = re.compile(r"\s*\bTravel Advisory\s*$", re.IGNORECASE)
_PARENTHETICAL = re.compile(r"\s*\(([^)]*)\)")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,80}$")
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)


class AdvisoryFormatError(ValueError):
    """The data is not a feed in a format we know; nothing was imported."""


# -- US State Department RSS ---------------------------------------------------------------------


def parse_us_state_rss(
    data: bytes, *, countries: Countries | None = None, unmapped: list[str] | None = None
) -> list[Advisory]:
    """Read the State Department's advisory RSS; one advisory per country, newest first.

    Items that name no known country or carry no level are appended to `unmapped`
    ("<title or name>: <why>") and logged, never guessed.
    """
    root = _xml_root(data)
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise AdvisoryFormatError("not an RSS feed (no <rss><channel>)")
    countries = countries or Countries()
    problems: list[str] = []
    found: list[Advisory] = []
    for item in channel.iter("item"):
        title = " ".join((item.findtext("title") or "").split())
        level = _us_level(item, title)
        if level is None:
            problems.append(f"{title or '(untitled item)'}: no advisory level")
            continue
        name = _us_country_name(title)
        codes = _codes_for(countries, name) if name else ()
        if not codes:
            problems.append(f"{name or title}: unknown country name")
            continue
        published = _rss_date(item.findtext("pubDate"))
        if published is None:
            problems.append(f"{title}: no readable publication date")
            continue
        link = (item.findtext("link") or "").strip() or US_ADVISORIES_PAGE
        for code in codes:
            found.append(Advisory(code, level, US_SOURCE, title, link, published))
    _report(US_SOURCE, problems, unmapped)
    return _newest_per_country(found)


def _us_level(item: ET.Element, title: str) -> RiskLevel | None:
    levels: list[int] = []
    for category in item.findall("category"):
        if (category.get("domain") or "").casefold() == "threat-level":
            match = _LEVEL.search(category.text or "")
            if match:
                levels.append(int(match.group(1)))
    match = _LEVEL.search(title)
    if match:
        levels.append(int(match.group(1)))
    if not levels:
        return None
    if len(set(levels)) > 1:
        # The title and the Threat-Level category disagree: keep the stricter one.
        log.warning("State Department item %r has conflicting levels %s", title, levels)
    return RiskLevel(max(levels))


def _us_country_name(title: str) -> str:
    match = _NAME_BEFORE_LEVEL.match(title)
    name = match.group("name") if match else title.split(" - ")[0]
    name = _SUMMARIES.sub("", name)
    name = _TRAVEL_ADVISORY.sub("", name)
    return name.strip(" -\u2013\u2014:")


def _codes_for(countries: Countries, name: str) -> tuple[str, ...]:
    """Return the ISO codes of a feed's country name: as written, then without or only
    its parenthetical ("Burma (Myanmar)")."""
    codes = countries.codes_for(name)
    if codes:
        return codes
    inner = _PARENTHETICAL.search(name)
    if inner:
        codes = countries.codes_for(_PARENTHETICAL.sub("", name))
        if not codes:
            codes = countries.codes_for(inner.group(1))
    return codes


def _rss_date(text: str | None) -> datetime | None:
    """Parse an RFC 822 date, with or without the time (the feed often omits it)."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        parsed = None
        for fmt in ("%a, %d %b %Y", "%d %b %Y"):
            try:
                parsed = datetime.strptime(text, fmt).replace(tzinfo=UTC)
                break
            except ValueError:
                continue
    if parsed is None:
        return None
    if parsed.tzinfo is None:  # "-0000" means "UTC, origin unknown"
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _xml_root(data: bytes) -> ET.Element:
    # A feed has no business declaring a DTD; refusing one rules out entity expansion
    # attacks (billion laughs) and external entities before the parser sees the data.
    if _DTD.search(data):
        raise AdvisoryFormatError("XML with a DTD is refused")
    # Saved copies sometimes gain a BOM or a blank line before the XML declaration.
    data = data.removeprefix(b"\xef\xbb\xbf").lstrip()
    try:
        return ET.fromstring(data)  # noqa: S314 - DTD refused above
    except ET.ParseError as exc:
        raise AdvisoryFormatError(f"malformed XML: {exc}") from None


# -- Government of Canada JSON -------------------------------------------------------------------


def parse_canada_json(
    data: bytes, *, countries: Countries | None = None, unmapped: list[str] | None = None
) -> list[Advisory]:
    """Read Canada's advisory JSON; advisory-state 0-3 becomes level 1-4."""
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AdvisoryFormatError(f"malformed JSON: {exc}") from None
    entries = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(entries, dict):
        raise AdvisoryFormatError("not Canada's advisory JSON (no 'data' object)")
    countries = countries or Countries()
    generated = _canada_date((doc.get("metadata") or {}).get("generated"))
    problems: list[str] = []
    found: list[Advisory] = []
    for key, entry in entries.items():
        if not isinstance(entry, dict):
            problems.append(f"{key}: malformed entry")
            continue
        code = str(entry.get("country-iso") or key).strip().upper()
        if code not in countries:
            problems.append(f"{code}: unknown country code")
            continue
        state = _int_or_none(entry.get("advisory-state"))
        if state is None or not 0 <= state <= 3:
            problems.append(f"{code}: no advisory state 0-3")
            continue
        published = _canada_date(entry.get("date-published")) or generated
        if published is None:
            problems.append(f"{code}: no readable publication date")
            continue
        eng_raw = entry.get("eng")
        eng: dict[str, Any] = eng_raw if isinstance(eng_raw, dict) else {}
        name = str(eng.get("name") or entry.get("country-eng") or countries.name(code))
        text = " ".join(str(eng.get("advisory-text") or "").split())
        if _int_or_none(entry.get("has-regional-advisory")) and "regional" not in text.lower():
            text = f"{text} (regional advisories apply)".strip()
        slug = str(eng.get("url-slug") or "")
        url = (
            CANADA_DESTINATION_URL.format(slug=slug)
            if _SLUG.match(slug)
            else CANADA_ADVISORIES_PAGE
        )
        title = f"{name}: {text}" if text else name
        found.append(Advisory(code, RiskLevel(state + 1), CANADA_SOURCE, title, url, published))
    _report(CANADA_SOURCE, problems, unmapped)
    return _newest_per_country(found)


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _canada_date(value: Any) -> datetime | None:
    """Read {"timestamp": epoch, "asp": ISO with offset, "date": Ottawa local time}."""
    if not isinstance(value, dict):
        return None
    timestamp = _int_or_none(value.get("timestamp"))
    if timestamp is not None and timestamp > 0:
        return datetime.fromtimestamp(timestamp, UTC)
    asp = value.get("asp")
    if isinstance(asp, str) and asp:
        try:
            parsed = datetime.fromisoformat(asp.strip())
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed.astimezone(UTC)
    date_text = value.get("date")
    if isinstance(date_text, str) and date_text:
        try:
            local = datetime.strptime(date_text.strip(), "%Y-%m-%d %H:%M:%S").replace(
                tzinfo=CANADA_LOCAL_ZONE
            )
        except ValueError:
            return None
        return local.astimezone(UTC)
    return None


# -- common --------------------------------------------------------------------------------------


def _newest_per_country(advisories: Iterable[Advisory]) -> list[Advisory]:
    """Keep one advisory per country: the newest, the stricter on the same day."""
    best: dict[str, Advisory] = {}
    for advisory in advisories:
        held = best.get(advisory.country_code)
        if held is None or (advisory.published, advisory.level) > (held.published, held.level):
            best[advisory.country_code] = advisory
    return sorted(best.values(), key=lambda a: a.country_code)


def _report(source: str, problems: list[str], unmapped: list[str] | None) -> None:
    if problems:
        log.warning(
            "%s feed: %d item(s) not imported: %s", source, len(problems), "; ".join(problems)
        )
    if unmapped is not None:
        unmapped.extend(problems)


def parse_feed(
    data: bytes, *, countries: Countries | None = None, unmapped: list[str] | None = None
) -> list[Advisory]:
    """Parse either feed, recognised by content (XML: State Department; JSON: Canada)."""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head == b"<":
        return parse_us_state_rss(data, countries=countries, unmapped=unmapped)
    if head == b"{":
        return parse_canada_json(data, countries=countries, unmapped=unmapped)
    raise AdvisoryFormatError("neither XML (State Department RSS) nor JSON (Canada)")


def import_file(
    path: str | Path, *, countries: Countries | None = None, unmapped: list[str] | None = None
) -> list[Advisory]:
    """Load a saved copy of either feed (`fieldbot risk import FILE`)."""
    file = Path(path)
    if file.stat().st_size > MAX_FEED_BYTES:
        raise AdvisoryFormatError(f"{file.name} is larger than {MAX_FEED_BYTES} bytes")
    return parse_feed(file.read_bytes(), countries=countries, unmapped=unmapped)


async def fetch(url: str, client: httpx.AsyncClient, *, max_bytes: int = MAX_FEED_BYTES) -> bytes:
    """Download a feed (redirects followed, size capped); raises httpx errors on failure."""
    async with client.stream("GET", url, follow_redirects=True, timeout=FETCH_TIMEOUT_S) as resp:
        resp.raise_for_status()
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.aiter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise AdvisoryFormatError(f"{url} sent more than {max_bytes} bytes")
            chunks.append(chunk)
    return b"".join(chunks)
