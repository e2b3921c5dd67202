"""The operator's commands never touch the running bot's sender (issue 10, item 17).

`fieldbot invite` opened the database like the bot does, and with it ran the bot's start-up
recovery: every message the running bot had claimed went back to the queue and was sent twice.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.builders import fieldbot


def outbox_states(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT state FROM outbox ORDER BY id")]


def test_an_invite_from_the_command_line_leaves_the_bots_claims_alone(tmp_path: Path) -> None:
    assert fieldbot(tmp_path, "invite", "--role", "officer").returncode == 0  # creates the db
    db = tmp_path / "fieldbot.db"
    with sqlite3.connect(db) as conn:  # the running bot is sending this SOS message right now
        conn.execute(
            "INSERT INTO outbox (dedupe, recipient, kind, params, priority, created_at, due_at,"
            " attempts, state, claimed_at) VALUES ('alert:1:step:0:to:5', 5, 'alert', '{}',"
            " 100, '2026-12-01T09:00:00.000000+00:00', '2026-12-01T09:00:00.000000+00:00', 1,"
            " 'sending', '2026-12-01T09:00:00.000000+00:00')"
        )
    result = fieldbot(tmp_path, "invite", "--role", "manager", "--team", "north")
    assert result.returncode == 0, result.stderr
    assert outbox_states(db) == ["sending"]
