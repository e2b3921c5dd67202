"""Persisted conversation state: every row names the person it belongs to, and erasing a person
deletes their drafts and open conversations, nobody else's — the core never decodes PTB's keys.
Rita (the rep) and Mia (her manager) each leave a conversation open."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from fieldbot.storage.db import Database
from tests.builders import BERLIN, REMINDER, at, plan_trip, rows
from tests.harness import MANAGER_ID, REP_ID, World


async def open_two_conversations(team: World) -> None:
    """Rita is asked for her arrival date on /trip; Mia is asked for photos on /hazard."""
    await team.rep.send("/trip")
    await team.rep.send("Berlin")
    await team.manager.send("/hazard")
    assert team.app is not None
    await team.app.update_persistence()


async def test_every_persisted_conversation_and_draft_names_its_owner(team: World) -> None:
    await open_two_conversations(team)

    stored = await rows(team, "SELECT kind, key, owner FROM ptb_state"
                              " WHERE kind = 'user' OR kind LIKE 'conversation:%'")

    owners = {(row["kind"], row["owner"]) for row in stored}
    assert {("user", REP_ID), ("user", MANAGER_ID), ("conversation:trip", REP_ID),
            ("conversation:hazard", MANAGER_ID)} <= owners
    for row in stored:
        key = json.loads(row["key"]) if row["kind"] != "user" else [int(row["key"])]
        assert row["owner"] == key[-1], row


async def test_erasing_a_person_deletes_their_drafts_and_conversations_and_no_one_elses(
    team: World,
) -> None:
    await open_two_conversations(team)

    await team.services.privacy.erase(REP_ID, by=None)

    left = await rows(team, "SELECT kind, owner FROM ptb_state")
    assert [row for row in left if row["owner"] == REP_ID] == []
    assert {(row["kind"], row["owner"]) for row in left} >= {
        ("user", MANAGER_ID), ("conversation:hazard", MANAGER_ID)}


async def test_rows_from_before_owners_are_given_their_owner_by_the_upgrade(
    tmp_path: Path,
) -> None:
    db = Database(tmp_path / "old.db")
    await db.connect(target_version=7)
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO ptb_state (kind, key, value) VALUES (?, ?, '1')",
            [("user", str(REP_ID)), ("conversation:trip", json.dumps([REP_ID, REP_ID])),
             ("conversation:risk", json.dumps([MANAGER_ID]))])
    await db.close()

    await db.connect()
    async with db.read() as conn, conn.execute(
            "SELECT kind, owner FROM ptb_state ORDER BY kind") as cur:
        owners = [tuple(row) for row in await cur.fetchall()]
    await db.close()

    assert owners == [("conversation:risk", MANAGER_ID), ("conversation:trip", REP_ID),
                      ("user", REP_ID)]


async def test_user_data_is_written_again_only_when_it_changed(team: World) -> None:
    """PTB hands over the user_data of everyone who wrote since its last look; unchanged, it
    is not encrypted and written again (in the rush: one write per check-in, each holding the
    write lock the check-ins wait for). Fernet tokens differ at every write, so an unchanged
    token means no write."""
    await team.rep.send("/trip")
    await team.rep.send("Berlin")
    await team.rep.send("/help")  # the draft is put aside, and stays so

    async def stored() -> str:
        [row] = await rows(team, "SELECT value FROM ptb_state WHERE kind = 'user' AND key = ?",
                           str(REP_ID))
        return str(row["value"])

    before = await stored()
    await team.rep.send("/help")
    await team.rep.send("/help")
    assert await stored() == before

    await team.rep.send("/trip")  # changed: offered to go on with it
    await team.rep.press(team.rep.last.buttons[0][0])
    assert await stored() != before


async def test_a_check_in_with_no_question_open_stores_nothing(team: World) -> None:
    """In the rush every rep's first update since the bot's start gave them a stored row of
    nothing (no open question's stamp) or a delete of a row they did not have: one write each,
    holding the write lock the check-ins wait for."""
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await team.rep.send("/trip")  # a question open, then put aside and ended: a row, then none
    await team.rep.send("/cancel")
    await at(team, REMINDER)
    await team.restart()  # the bot knows who has a row from what it reads at its start
    assert team.app is not None
    async with team.statements() as seen:
        await team.rep.press("✅ I'm safe")
        await team.manager.send("/checkin")
        await team.app.update_persistence()
    assert "checked in for tonight" in (team.rep.last.body or "")
    assert [sql for sql in seen if "ptb_state" in sql] == []
    assert await rows(team, "SELECT key FROM ptb_state WHERE kind = 'user'") == []
