"""What several test modules build: fixture places and times, trips filed directly or through
the chat, hazard reports, made-up pictures, the command line, a bare Bot against the fake API.

Test modules import these from here, never from each other.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import json
import os
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from PIL import Image
from pydantic import SecretStr
from telegram import Bot
from telegram.request import HTTPXRequest

from conversations.i18n import plain, text
from faketelegram import FakeTelegram, FakeTransport
from faketelegram.users import FakeUser
from fieldbot.crypto import Cipher, generate_key
from fieldbot.domain.places import Place
from fieldbot.domain.trips import Leg, Trip
from fieldbot.geo.advisories import US_SOURCE, import_file
from fieldbot.services.trips import TripPlan
from tests.harness import OTHER_MANAGER_ID, OTHER_REP_ID, TOKEN, World

FIXTURES = Path(__file__).parent / "fixtures"


# --- places, times and trips ---------------------------------------------------------------

# Fixture places: real coordinates and zones, made-up trips.
BERLIN = Place("Berlin", "DE", "Germany", "Berlin", 52.52, 13.405, "Europe/Berlin", 2950159,
               "柏林")


async def plan_trip(world: World, place: Place, start: date, end: date) -> int:
    member = await world.services.enrolment.member(world.rep.id)
    assert member is not None
    plan = TripPlan(
        legs=(Leg(place, start, end),),
        lodging="Hotel Fixture, Room 12",
        contact_name="Sam Fixture",
        contact_phone="+4917000000",
        contact_user_id=None,
        night_visits=False,
        companion="",
    )
    submitted = await world.services.trips.submit(member, plan, f"test-{start}-{place.name}")
    assert submitted.trip is not None and submitted.trip.status == "approved"
    return submitted.trip.id


def alerts_in(user_texts: list[str], label: str) -> list[str]:
    return [t for t in user_texts if label in t]


async def at(world: World, when: datetime) -> None:
    world.clock.set(when)
    await world.tick()


# Berlin is UTC+1 in December: reminder 20:00 local = 19:00 UTC, deadline 21:00 = 20:00 UTC.
REMINDER = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)


DEADLINE = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)


async def plan_for(world: World, user: FakeUser, place: Place, start: date, end: date) -> int:
    member = await world.services.enrolment.member(user.id)
    assert member is not None
    plan = TripPlan(legs=(Leg(place, start, end),), lodging="Hotel Fixture, Room 12",
                    contact_name="Sam Fixture", contact_phone="+4917000000",
                    contact_user_id=None, night_visits=False, companion="")
    submitted = await world.services.trips.submit(member, plan, f"test-{user.id}-{start}")
    assert submitted.trip is not None and submitted.trip.status == "approved"
    return submitted.trip.id


async def enrol_south(world: World) -> tuple[FakeUser, FakeUser]:
    """A second team: Sol manages team south, Sven travels for it."""
    sol = world.fake.user(OTHER_MANAGER_ID, "Sol")
    sven = world.fake.user(OTHER_REP_ID, "Sven")
    await world.enrol(sol, "manager", "south")
    await world.enrol(sven, "staff", "south")
    return sol, sven


# --- hazard reports --------------------------------------------------------------------------

# A spot in central Berlin (fixture coordinates) and a trip destination there.
SPOT = (52.5205, 13.4095)


ROAD = "🚧 Road / traffic"


RED, YELLOW = "🔴 Red", "🟡 Yellow"


SEND = "✅ Send report"


def jpeg(colour: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    return encoded(made_up(colour=colour), "JPEG")


async def report(
    user: FakeUser,
    *,
    photos: tuple[bytes, ...] = (),
    severity: str = RED,
    description: str = "Open manhole on the pavement, no cover, no cones",
) -> None:
    """Go through /hazard: photos, category, severity, a pin at SPOT, description, confirm."""
    await user.send("/hazard")
    for photo in photos:
        await user.send_photo(photo)
    await user.press("Done" if photos else "No photo")
    await user.press(ROAD)
    await user.press(severity)
    await user.share_location(*SPOT)
    await user.send(description)
    await user.press(SEND)


def stored_photos(world: World) -> list[Path]:
    folder = world.settings.data_dir / "photos"
    return sorted(folder.iterdir()) if folder.exists() else []


# --- /trip through the chat, and the database -------------------------------------------------

async def rows(world: World, sql: str, *params: Any) -> list[dict[str, Any]]:
    async with world.services.db.read() as conn, conn.execute(sql, params) as cur:
        return [dict(row) for row in await cur.fetchall()]


async def trips_of(world: World, user: FakeUser) -> list[Trip]:
    found = []
    for row in await rows(world, "SELECT id FROM trips WHERE user_id = ? ORDER BY id", user.id):
        trip = await world.services.trips.get(row["id"])
        assert trip is not None
        found.append(trip)
    return found


async def import_us_fixture(world: World) -> None:
    """Load the made-up State Department feed (Korea, South is level 4 in it)."""
    advisories = import_file(FIXTURES / "us_state_advisories.FIXTURE.xml")
    await world.services.advisories.replace(US_SOURCE, advisories, world.clock.now())


async def answer_up_to_summary(
    user: FakeUser,
    *,
    lodging: str = "Hotel Adlon, Unter den Linden 77",
    contact: str = "Sam Lee +49 170 1234567",
    companion: str | None = None,
) -> None:
    """Answer lodging, contact and night visits (dates and places done by the caller)."""
    await user.press("No, that's all")
    await user.send(lodging)
    await user.send(contact)
    if companion is None:
        await user.press("No")
    else:
        await user.press("Yes")
        if companion == "alone":
            await user.press("Alone")
        else:
            await user.send(companion)


async def plan(
    user: FakeUser, destination: str = "Berlin", start: str = "today", end: str = "2026-12-03",
    **answers: Any,
) -> None:
    """File a one-leg plan up to its summary."""
    await user.send("/trip")
    await user.send(destination)
    await user.send(start)
    await user.send(end)
    await answer_up_to_summary(user, **answers)


# --- files and the command line --------------------------------------------------------------

def pg_schema(url: str) -> tuple[str, str]:
    """A test's PostgreSQL URL as a plain connection string and the schema it works in."""
    parts = urlsplit(url)
    schema = parse_qs(parts.query).get("search_path", ["public"])[0]
    return urlunsplit(parts._replace(query="")), schema


def raw_bytes(world: World) -> bytes:
    """Everything stored for this database: on SQLite the file, its WAL and shared memory; on
    PostgreSQL a dump of the test's schema with its data (what a stolen backup would hold)."""
    db = world.settings.db
    if isinstance(db, str) and db.startswith(("postgresql:", "postgres:")):
        dsn, schema = pg_schema(db)
        dump = subprocess.run(
            ["pg_dump", "--data-only", f"--schema={schema}", "--dbname", dsn],
            capture_output=True, check=True, timeout=120).stdout
        assert b"COPY " in dump, "the dump holds no data: wrong schema?"
        return dump
    return b"".join(
        p.read_bytes() for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")) if p.exists()
    )


def file_keys(path: Path) -> list[str]:
    return [line for line in path.read_text("ascii").splitlines() if not line.startswith("#")]


def fieldbot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": os.environ.get("PATH", "/usr/bin"), "PTB_TIMEDELTA": "true",
                   "FIELDBOT_DB": str(tmp_path / "fieldbot.db"),
                   "FIELDBOT_DATA_DIR": str(tmp_path / "data"), **env}
    return subprocess.run([sys.executable, "-m", "conversations.cli", *args], cwd=tmp_path,
                          env=environment, capture_output=True, text=True, check=False,
                          timeout=120)


# --- a bare PTB Bot against the fake Bot API --------------------------------------------------

BASE = "http://fake.telegram"

ANA = 1001


def make_bot(fake: FakeTelegram, base_url: str = BASE, **request: Any) -> Bot:
    """A real PTB Bot talking to fake, in-process unless base_url is a loopback server."""
    in_process = base_url == BASE

    def new_request() -> HTTPXRequest:
        kwargs = {"transport": FakeTransport(fake)} if in_process else {}
        return HTTPXRequest(httpx_kwargs=kwargs, **request)

    return Bot(
        fake.token,
        base_url=f"{base_url}/bot",
        base_file_url=f"{base_url}/file/bot",
        request=new_request(),
        get_updates_request=new_request(),
    )


# --- made-up pictures ------------------------------------------------------------------------

GPS_IFD = 0x8825


MAKE = 0x010F


ORIENTATION = 0x0112


def loaded_cipher() -> Cipher:
    cipher = Cipher(key=SecretStr(generate_key()), key_file=Path("unused.key"))
    cipher.load(create=False)
    return cipher


def made_up(size: tuple[int, int] = (64, 48), colour: tuple[int, int, int] = (200, 40, 40),
            mode: str = "RGB") -> Image.Image:
    """A flat colour with a white stripe: obviously not a real photo."""
    image = Image.new(mode, size, colour if mode == "RGB" else (*colour, 128))
    for x in range(size[0] // 4, size[0] // 2):
        for y in range(size[1]):
            image.putpixel((x, y), (255, 255, 255) if mode == "RGB" else (255, 255, 255, 255))
    return image


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def with_gps() -> Image.Exif:
    """EXIF as a phone writes it "as file": a camera make and a GPS position (made up)."""
    exif = Image.Exif()
    exif[MAKE] = "FixtureCam"
    exif[GPS_IFD] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 18.0)}
    return exif


def png_declaring(width: int, height: int) -> bytes:
    """A PNG of a few dozen bytes whose header claims width x height pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


PDF = b"%PDF-1.4\n% FIXTURE, not a picture\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


# --- waiting without time passing -------------------------------------------------------------


async def until(condition: Callable[[], bool], what: str, turns: int = 10_000) -> None:
    """Let other tasks run until `condition` holds (no time passes); fail naming `what`."""
    for _ in range(turns):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"never happened: {what}")


# --- the desk page ----------------------------------------------------------------------------


def init_data(user_id: int, when: datetime, token: str = TOKEN, language: str = "en") -> str:
    """Return Mini App initData as a Telegram client passes it, signed as Telegram documents:
    key = HMAC-SHA256("WebAppData", token), hash = HMAC-SHA256(key, sorted lines but hash)."""
    fields = {"auth_date": str(int(when.timestamp())), "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
              "user": json.dumps({"id": user_id, "first_name": "X", "language_code": language},
                                 separators=(",", ":"))}
    check = "\n".join(f"{k}={fields[k]}" for k in sorted(fields))
    key = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(key, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


# --- what a person reads ----------------------------------------------------------------------


def said(key: str, language: str = "en", **params: object) -> str:
    """Return a catalog text as the person reads it: rendered, without tags or entities."""
    return plain(text(language, key, **params), limit=4096)


def first_line(key: str, language: str = "en", **params: object) -> str:
    """Return the first line a person reads of a catalog text (the rest names times etc.)."""
    return said(key, language, **params).split("\n", 1)[0]


# --- client visits and roll-calls through the chat ----------------------------------------------


async def lone_visit(user: FakeUser, *, pin: tuple[float, float] | None = None,
                     language: str = "en") -> None:
    """/visit: a pin of the place (or none), client Acme GmbH, alone, one hour, Start."""
    await user.send("/visit")
    if pin is not None:
        await user.share_location(*pin)
    await user.send("Acme GmbH")
    await user.press(said("visit.button.alone", language))
    await user.press(said("visit.button.plus.60", language))
    await user.press(said("visit.button.start", language))


async def rollcall_near_berlin(lead: FakeUser) -> None:
    """/rollcall in English: everyone within 50 km of Berlin, asked at once."""
    await lead.send("/rollcall")
    await lead.press("📍 A place")
    await lead.send("Berlin")
    await lead.press("50 km")
    go = next(b for row in lead.last.buttons for b in row if b.startswith("📣"))
    await lead.press(go)
