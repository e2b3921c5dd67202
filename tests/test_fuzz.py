"""Hostile input, fuzzed, through the real Application: nothing crashes, nothing is lost, every
reply is well-formed.

Each example is a fresh World (real Application, fake Telegram, fake clock, a new SQLite file)
where Rita already has an approved trip and a hazard report on file. Then she (or a stranger)
sends generated text into one field of one conversation — arbitrary Unicode, right-to-left
overrides, 4,096 characters, HTML and MarkdownV2 specials — forged callback data, impossible
coordinates, or random bytes as a photo or a file. Afterwards:

- no handler raised (the application's error handler logs "handler failed" at ERROR);
- the fake Telegram accepted every call the bot made (it answers 400 to HTML Telegram would not
  parse, to texts over 4,096 characters, to an empty text, to callback data over 64 bytes);
- the trip and the hazard report filed before are still there, unchanged.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import tempfile
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faketelegram.users import FakeUser
from tests.builders import BERLIN, ROAD, SEND, SPOT, YELLOW, plan_trip
from tests.harness import World

FUZZ = settings(max_examples=20, deadline=None, derandomize=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

SPECIALS = ["<", ">", "&", "&amp;", "<b>", "</b>", "<a href='x'>", "<script>", "\"", "'",
            "_", "*", "[", "]", "(", ")", "~", "`", "#", "+", "-", "=", "|", "{", "}", ".",
            "!", "\\", "\u202e", "\u202d", "\u200f", "\u2066", "\ufeff", "\u0000", "\n",
            "🆘", "👩‍👩‍👧", "ا", "中", "%s", "{0}", "%(name)s", "/cancel", "@fieldbot"]


def _nonblank(text: str) -> bool:
    return bool(text.strip())


hostile_text = st.one_of(
    st.text(min_size=1, max_size=300),
    st.lists(st.sampled_from(SPECIALS), min_size=1, max_size=40).map("".join),
    st.text(min_size=1, max_size=40).map(lambda s: "\u202e" + s + "\u202c"),
    st.text(min_size=1, max_size=12).map(lambda s: (s * 4096)[:4096]),
    st.lists(st.sampled_from(SPECIALS), min_size=1, max_size=8)
    .map(lambda parts: ("".join(parts) * 4096)[:4096]),
).filter(_nonblank)


class Errors(logging.Handler):
    """Collects ERROR records from anywhere (the app's error handler, PTB, the jobs)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def press_if_shown(user: FakeUser, button: str) -> None:
    """Press the button if any message shows it; hostile input may have led elsewhere."""
    if any(b == button for m in user.messages for row in m.buttons for b in row):
        await user.press(button)


async def saved_state(world: World) -> tuple[Any, ...]:
    async with world.services.db.read() as conn:
        async with conn.execute(
            "SELECT id, user_id, status FROM trips ORDER BY id") as cur:
            trips = [tuple(row) for row in await cur.fetchall()]
        async with conn.execute("SELECT id, reporter_id, state FROM hazards ORDER BY id") as cur:
            hazards = [tuple(row) for row in await cur.fetchall()]
        async with conn.execute("SELECT id, role, team FROM users ORDER BY id") as cur:
            people = [tuple(row) for row in await cur.fetchall()]
    return trips, hazards, people


Act = Callable[[World], Awaitable[None]]


async def play(tmp: Path, act: Act, *, ends_trip: bool = False) -> None:
    errors = Errors()
    logging.getLogger().addHandler(errors)
    world = World(tmp)
    await world.start()
    try:
        await world.enrol_team()
        trip_id = await plan_trip(world, BERLIN, date(2026, 12, 1), date(2026, 12, 4))
        await world.rep.send("/hazard")
        for step in ("No photo", ROAD, YELLOW):
            await world.rep.press(step)
        await world.rep.share_location(*SPOT)
        await world.rep.send("Loose paving stones by the tram stop")
        await world.rep.press(SEND)
        trip_before = await world.services.trips.get(trip_id)
        before = await saved_state(world)
        calls_before = len(world.fake.calls)

        await act(world)
        await world.tick()

        rejected = [(c.method, c.status, str(c.params)[:200])
                    for c in world.fake.calls[calls_before:] if c.status not in (None, 200)]
        assert not rejected, f"Telegram rejected what the bot sent: {rejected}"
        failures = [r.getMessage() + " " + repr(r.exc_info[1] if r.exc_info else None)
                    for r in errors.records]
        assert not failures, f"errors logged: {failures}"
        trips, hazards, people = await saved_state(world)
        old_trips, old_hazards, old_people = before
        # A forged press may legitimately verify or dismiss it (Mia may): it must still exist.
        assert [h[:2] for h in hazards[:len(old_hazards)]] == [h[:2] for h in old_hazards]
        assert people == old_people, "an enrolled person changed"
        assert [t[:2] for t in trips[:len(old_trips)]] == [t[:2] for t in old_trips]
        trip_after = await world.services.trips.get(trip_id)
        assert trip_after is not None and trip_before is not None
        assert (trip_after.lodging, trip_after.contact_name) == (
            trip_before.lodging, trip_before.contact_name), "the saved trip's details changed"
        if not ends_trip:
            assert trips[:len(old_trips)] == old_trips, "a saved trip changed"
    finally:
        await world.stop()
        logging.getLogger().removeHandler(errors)


def run(act: Act, *, ends_trip: bool = False) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(play(Path(tmp), act, ends_trip=ends_trip))


# --- the text fields of every conversation --------------------------------------------------

TRIP_FIELDS = ("destination", "start", "end", "lodging", "contact", "companion")


async def trip_with(world: World, field: str, text: str) -> None:
    """/trip with `text` in one field and sensible answers elsewhere, to the summary."""
    user = world.rep
    answers = {"destination": "Paris", "start": "2026-12-10", "end": "2026-12-12",
               "lodging": "Hotel Fixture", "contact": "Sam Fixture +33 1 00 00 00 00",
               "companion": "Jo Fixture"}
    answers[field] = text
    await user.send("/trip")
    await user.send(answers["destination"])
    await user.send(answers["start"])
    await user.send(answers["end"])
    await press_if_shown(user, "No, that's all")
    await user.send(answers["lodging"])
    await user.send(answers["contact"])
    await press_if_shown(user, "Yes")
    await user.send(answers["companion"])
    await press_if_shown(user, "✅ Confirm")


@FUZZ
@given(field=st.sampled_from(TRIP_FIELDS), text=hostile_text)
def test_hostile_text_in_any_trip_field(field: str, text: str) -> None:
    run(lambda world: trip_with(world, field, text))


async def other_flows(world: World, flow: str, text: str) -> None:
    rep = world.rep
    if flow == "hazard":
        await rep.send("/hazard")
        for step in ("No photo", ROAD, YELLOW):
            await press_if_shown(rep, step)
        await rep.share_location(*SPOT)
        await rep.send(text)
        await press_if_shown(rep, SEND)
    elif flow == "skip":
        await rep.send("/checkin")
        await press_if_shown(rep, "Skip tonight")
        await rep.send(text)
    elif flow == "endtrip":
        await rep.send("/endtrip")
        await press_if_shown(rep, "🏁 End the trip")
        await rep.send(text)
        await rep.send(text)
    elif flow == "visit":  # client, companion, end time, then the note afterwards
        await rep.send("/visit")
        await rep.send(text)
        await rep.send(text)
        await press_if_shown(rep, "Take the name anyway")
        await rep.send(text)
        await press_if_shown(rep, "+1 h")
        await press_if_shown(rep, "▶️ Start")
        await rep.send("/done")
        await press_if_shown(rep, "Other")
        await rep.send(text)
    elif flow == "risk":
        await rep.send(f"/risk {text}")
    elif flow == "invite":
        await world.manager.send(f"/invite {text}")
        await world.admin.send(f"/invite manager {text}")
    elif flow == "rollcall":  # the place, then the officer's message with the question
        officer = world.officer
        await officer.send("/rollcall")
        await press_if_shown(officer, "📍 A place")
        await officer.send(text)
        await officer.send("/rollcall")
        await press_if_shown(officer, "🌍 Everyone travelling")
        await press_if_shown(officer, "💬 Add a message")
        await officer.send(text)
        go = [b for m in officer.messages[-1:] for row in m.buttons for b in row
              if b.startswith("📣")]
        if go:
            await officer.press(go[0])
            await press_if_shown(rep, "✅ I'm safe")
    elif flow == "start":
        await world.fake.user(777_001, "Stranger").send(f"/start {text}")
        await rep.send(f"/start {text}")
    elif flow == "incident":  # every free-text answer of /incident and of its review
        lead = world.manager
        await lead.send("/incident")
        await press_if_shown(lead, "🔴 Red (level one)")
        for _ in range(3):  # place, people, description: each may be refused and asked again
            await lead.send(text)
            await lead.send("Berlin")
        await press_if_shown(lead, "✅ Record the incident")
        await press_if_shown(lead, "📝 Write the review")
        for _ in range(4):
            await lead.send(text)
        await lead.send(f"/lessons {text}")
    elif flow == "drill":
        await world.officer.send(f"/drill {text}")
    else:  # a plain message outside any conversation, and one to a cancelled flow
        await rep.send(text)
        await rep.send("/cancel")


@FUZZ
@given(flow=st.sampled_from(["hazard", "skip", "endtrip", "risk", "invite", "start", "plain",
                             "visit", "incident", "drill",
                             "rollcall"]),
       text=hostile_text)
def test_hostile_text_in_every_other_conversation(flow: str, text: str) -> None:
    run(lambda world: other_flows(world, flow, text), ends_trip=flow == "endtrip")


# --- forged callback data, impossible coordinates, hostile files -----------------------------

PREFIXES = ["", "checkin:", "checkin:skip", "escalation:ack:", "escalation:resolve:",
            "escalation:res:", "hazards:verify:", "hazards:dismiss:", "hazard:", "trip:",
            "forgetme:yes:", "language:", "team:", "approve:", "visit:done:", "visit:extend:",
            "visit:note:1:", "visit:rmnote:", "visit:with:", "visit:end:", "visit:",
            "incident:", "incidents:show:",
            "incidents:owner:1:", "review:start:", "review:close:", "lessons:page:", "drill:",
            "drill:go:team:", "drillsafe:", "rollcall:", "rollcall:names:1:",
            "rollcall:closeyes:", "rc:", "rc:1:"]
callback_data = st.builds(
    lambda prefix, tail: (prefix + tail).encode()[:64].decode("utf-8", "ignore") or "x",
    st.sampled_from(PREFIXES),
    st.one_of(st.text(max_size=64), st.integers().map(str),
              st.sampled_from(["1", "0", "-1", "999999999999999999999", "1:2:3", "NaN"])),
)


async def forged_presses(world: World, data: list[str]) -> None:
    for i, value in enumerate(data):
        user = (world.rep, world.manager, world.officer)[i % 3]
        await user.send("/checkin" if user is world.rep else "/help")
        await user.press_data(value)


@FUZZ
@given(data=st.lists(callback_data, min_size=1, max_size=6))
def test_forged_callback_data(data: list[str]) -> None:
    run(lambda world: forged_presses(world, data))


def location_update(user: FakeUser, latitude: Any, longitude: Any) -> dict[str, Any]:
    message = user.fake.new_message(user.chat, False, user.id)
    body = user.fake.message_json(message)
    body["location"] = {"latitude": latitude, "longitude": longitude}
    return {"message": body}


# Telegram sends floats; a pin outside the globe is what a modified client can forge.
coordinate = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([123.0, -123.0, 91.0, 181.0, -181.0, 1e308, -0.0, 0.0]),
)


async def bad_locations(world: World, where: str, points: list[tuple[Any, Any]]) -> None:
    rep = world.rep
    if where == "trip":
        await rep.send("/trip")
    elif where == "hazard":
        await rep.send("/hazard")
        for step in ("No photo", ROAD, YELLOW):
            await press_if_shown(rep, step)
    elif where == "checkin":
        await rep.send("/checkin")
    elif where == "visit":
        await rep.send("/visit")
    for latitude, longitude in points:
        await rep.send_update(location_update(rep, latitude, longitude))
    await rep.send("/cancel")


@FUZZ
@given(where=st.sampled_from(["trip", "hazard", "checkin", "idle", "visit"]),
       points=st.lists(st.tuples(coordinate, coordinate), min_size=1, max_size=3))
def test_impossible_coordinates(where: str, points: list[tuple[Any, Any]]) -> None:
    run(lambda world: bad_locations(world, where, points))


JPEG_HEAD = base64.b64decode("/9j/4AAQSkZJRgABAQAAAQABAAD/")
PNG_HEAD = b"\x89PNG\r\n\x1a\n"
hostile_bytes = st.one_of(
    st.binary(min_size=1, max_size=4096),
    st.binary(max_size=2048).map(lambda b: JPEG_HEAD + b),
    st.binary(max_size=2048).map(lambda b: PNG_HEAD + b),
    st.binary(max_size=256).map(lambda b: b"GIF89a" + b),
)


async def hostile_files(world: World, as_document: bool, in_hazard: bool,
                        blobs: list[bytes], name: str) -> None:
    rep = world.rep
    if in_hazard:
        await rep.send("/hazard")
    for blob in blobs:
        if as_document:
            await rep.send_document(blob, file_name=name, mime_type="image/jpeg")
        else:
            await rep.send_photo(blob, caption=name)
    if in_hazard:
        await press_if_shown(rep, "Done")
        await press_if_shown(rep, ROAD)
        await press_if_shown(rep, YELLOW)
        await rep.share_location(*SPOT)
        await rep.send("Fuzzed picture")
        await press_if_shown(rep, SEND)


@FUZZ
@given(as_document=st.booleans(), in_hazard=st.booleans(),
       blobs=st.lists(hostile_bytes, min_size=1, max_size=3),
       name=st.one_of(st.just("photo.jpg"), hostile_text.map(lambda s: s[:60] + ".jpg")))
def test_hostile_images(as_document: bool, in_hazard: bool, blobs: list[bytes],
                        name: str) -> None:
    run(lambda world: hostile_files(world, as_document, in_hazard, blobs, name))
