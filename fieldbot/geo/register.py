"""The organisation's risk register: a TOML or CSV file the safety officer edits.

Reloaded whenever the file changes (no restart). A file that does not parse or validate
is rejected as a whole: the last good entries stay in force and `last_error` says why.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fieldbot.domain.risk import RegisterEntry, RiskLevel
from fieldbot.geo.timezones import valid_coordinates

log = logging.getLogger(__name__)

COLUMNS = ("country", "region", "city", "lat", "lon", "radius_km", "level", "note", "expires")
MAX_REGISTER_BYTES = 5 * 1024 * 1024


class RegisterError(ValueError):
    """The register file is malformed; the message names the entry and the field."""


@dataclass(frozen=True, slots=True)
class _Signature:
    mtime_ns: int
    size: int
    inode: int


class RiskRegister:
    """Read the register file, re-reading it when its mtime, size or inode changes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._signature: _Signature | None = None
        self._entries: tuple[RegisterEntry, ...] = ()
        self.last_error: str | None = None

    def entries(self, now: datetime) -> list[RegisterEntry]:
        """Return the entries in force at `now` (expired ones dropped)."""
        self._reload_if_changed()
        return [entry for entry in self._entries if entry.is_active(now)]

    def all_entries(self) -> list[RegisterEntry]:
        """Return every loaded entry, expired or not (for the safety officer's view)."""
        self._reload_if_changed()
        return list(self._entries)

    def _reload_if_changed(self) -> None:
        try:
            stat = self.path.stat()
        except OSError as exc:
            self._fail(f"{self.path}: cannot read ({exc.strerror or exc})")
            self._signature = None
            return
        signature = _Signature(stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if signature == self._signature:
            return
        self._signature = signature
        try:
            if stat.st_size > MAX_REGISTER_BYTES:
                raise RegisterError(f"larger than {MAX_REGISTER_BYTES} bytes")
            entries = load_register(self.path)
        except (OSError, RegisterError) as exc:
            self._fail(f"{self.path}: {exc}")
            return
        self._entries = tuple(entries)
        self.last_error = None
        log.info("risk register loaded: %d entries", len(entries))

    def _fail(self, message: str) -> None:
        if message != self.last_error:
            log.warning(
                "risk register not (re)loaded, keeping %d previous entries: %s",
                len(self._entries),
                message,
            )
        self.last_error = message


def load_register(path: str | Path) -> list[RegisterEntry]:
    """Parse a register file (.csv as CSV, anything else as TOML); raises RegisterError."""
    file = Path(path)
    data = file.read_bytes()
    if file.suffix.lower() == ".csv":
        return parse_register_csv(data)
    return parse_register_toml(data)


def parse_register_toml(data: bytes) -> list[RegisterEntry]:
    """Parse `[[entry]]` tables."""
    try:
        doc = tomllib.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RegisterError(f"not valid TOML: {exc}") from None
    unknown = set(doc) - {"entry"}
    if unknown:
        raise RegisterError(f"unknown top-level key(s): {', '.join(sorted(unknown))}")
    tables = doc.get("entry", [])
    if not isinstance(tables, list):
        raise RegisterError("'entry' must be an array of tables: write [[entry]]")
    return [_entry(table, f"entry {n}") for n, table in enumerate(tables, start=1)]


def parse_register_csv(data: bytes) -> list[RegisterEntry]:
    """Parse CSV with a header row of COLUMNS (any order; missing optional columns allowed)."""
    try:
        text = data.decode("utf-8-sig")  # a BOM if saved from Excel
    except UnicodeDecodeError as exc:
        raise RegisterError(f"not UTF-8: {exc}") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if not header:
        return []
    unknown = set(header) - set(COLUMNS)
    if unknown:
        raise RegisterError(f"unknown column(s): {', '.join(sorted(unknown))}")
    for required in ("country", "level"):
        if required not in header:
            raise RegisterError(f"missing column '{required}'")
    reader.fieldnames = header
    entries: list[RegisterEntry] = []
    try:
        for row in reader:
            if None in row:
                raise RegisterError(f"line {reader.line_num}: more fields than columns")
            values = {k: (v or "").strip() for k, v in row.items()}
            if not any(values.values()):
                continue
            cleaned = {k: v for k, v in values.items() if v != ""}
            entries.append(_entry(cleaned, f"line {reader.line_num}"))
    except csv.Error as exc:
        raise RegisterError(f"line {reader.line_num}: {exc}") from None
    return entries


def _entry(raw: Any, where: str) -> RegisterEntry:
    if not isinstance(raw, Mapping):
        raise RegisterError(f"{where}: not a table")
    unknown = set(raw) - set(COLUMNS)
    if unknown:
        raise RegisterError(f"{where}: unknown field(s): {', '.join(sorted(unknown))}")
    country = str(raw.get("country", "")).strip().upper()
    if len(country) != 2 or not country.isascii() or not country.isalpha():
        raise RegisterError(f"{where}: country must be an ISO 3166 alpha-2 code like 'NG'")
    level = _number(raw.get("level"), where, "level")
    if level is None or level != int(level) or not 1 <= level <= 4:
        raise RegisterError(f"{where}: level must be 1, 2, 3 or 4")
    lat = _number(raw.get("lat"), where, "lat")
    lon = _number(raw.get("lon"), where, "lon")
    radius = _number(raw.get("radius_km"), where, "radius_km")
    if (lat is None) != (lon is None):
        raise RegisterError(f"{where}: give both lat and lon, or neither")
    if lat is not None and lon is not None:
        if not valid_coordinates(lat, lon):
            raise RegisterError(f"{where}: lat/lon out of range")
        if radius is None or radius <= 0:
            raise RegisterError(f"{where}: lat/lon need a positive radius_km")
    elif radius is not None:
        raise RegisterError(f"{where}: radius_km needs lat and lon")
    return RegisterEntry(
        country_code=country,
        level=RiskLevel(int(level)),
        note=_text(raw.get("note")),
        region=_text(raw.get("region")),
        city=_text(raw.get("city")),
        lat=lat,
        lon=lon,
        radius_km=radius,
        expires=_date(raw.get("expires"), where),
    )


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def _number(value: Any, where: str, field: str) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise RegisterError(f"{where}: {field} must be a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RegisterError(f"{where}: {field} must be a number, not {value!r}") from None
    if not math.isfinite(number):
        raise RegisterError(f"{where}: {field} must be a finite number")
    return number


def _date(value: Any, where: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        raise RegisterError(f"{where}: expires is a date (YYYY-MM-DD), not a date-time")
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise RegisterError(f"{where}: expires must be a date like 2030-12-31") from None
