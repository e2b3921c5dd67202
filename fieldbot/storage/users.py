"""Users and invites. A person's name is stored encrypted (the cipher is given)."""

from __future__ import annotations

from datetime import datetime

from fieldbot.crypto import Cipher
from fieldbot.domain import alerts
from fieldbot.domain.members import Member
from fieldbot.domain.roles import Role
from fieldbot.storage.codec import ts
from fieldbot.storage.db import Row, Tx

_COLUMNS = "id, name, role, team, language, unreachable"
ERASED = "erased"  # the `unreachable` mark of an erased person's anonymous stand-in
NOT_ERASED = f"unreachable IS NOT '{ERASED}'"


def _member(row: Row, cipher: Cipher) -> Member:
    return Member(
        id=row["id"],
        name_or_opener=cipher.opener(row["name"]),  # opened only if shown
        role=Role(row["role"]),
        team=row["team"],
        language=row["language"],
        unreachable=row["unreachable"],
    )


async def get(conn: Tx, user_id: int, *, cipher: Cipher) -> Member | None:
    # One trip to the database thread (execute, fetch and close at once), not three: this
    # runs for every update (the guard), and each trip is a thread hand-over both ways.
    rows = await conn.execute_fetchall(f"SELECT {_COLUMNS} FROM users WHERE id = ?", (user_id,))
    return next((_member(row, cipher) for row in rows), None)


async def by_ids(conn: Tx, ids: list[int], *, cipher: Cipher) -> list[Member]:
    if not ids:  # "IN ()" is SQLite's alone
        return []
    marks = ",".join("?" * len(ids))
    async with conn.execute(f"SELECT {_COLUMNS} FROM users WHERE id IN ({marks})", ids) as cur:
        return [_member(r, cipher) for r in await cur.fetchall()]


async def with_role(
    conn: Tx, roles: list[Role], team: str | None = None, *, cipher: Cipher
) -> list[Member]:
    """People holding one of `roles` (in `team`). An erased person's stand-in holds no role:
    it is never among them, so it is never the recipient of a step or a notice."""
    marks = ",".join("?" * len(roles))
    sql = f"SELECT {_COLUMNS} FROM users WHERE role IN ({marks}) AND {NOT_ERASED}"
    args: list[object] = [r.value for r in roles]
    if team is not None:
        sql += " AND team = ?"
        args.append(team)
    async with conn.execute(sql + " ORDER BY id", args) as cur:
        return [_member(r, cipher) for r in await cur.fetchall()]


async def reachable(
    conn: Tx, roles: list[Role], team: str | None = None, *, but: int | None = None,
    cipher: Cipher,
) -> list[Member]:
    """Those of `with_role` who can be told now: not marked unreachable (blocked the bot, left
    it), and not `but` (the person the message is about)."""
    return [m for m in await with_role(conn, roles, team, cipher=cipher)
            if m.id != but and not m.unreachable]


async def notice_recipients(conn: Tx, *, cipher: Cipher) -> list[Member]:
    """Who hears of the bot's own troubles: the rule is `domain.alerts.notice_recipients`
    (an erased person's stand-in holds no role and is marked unreachable)."""
    return alerts.notice_recipients(await with_role(conn, list(alerts.NOTICE_ROLES),
                                                    cipher=cipher))


async def upsert(
    conn: Tx, member: Member, at: datetime, *, cipher: Cipher
) -> None:
    await conn.execute(
        "INSERT INTO users (id, name, role, team, language, enrolled_at) VALUES (?,?,?,?,?,?)"
        " ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role,"
        " team = excluded.team, unreachable = NULL",
        (member.id, cipher.encrypt(member.name), member.role.value, member.team,
         member.language, ts(at)),
    )


async def set_role(conn: Tx, user_id: int, role: Role, team: str) -> bool:
    """Change a person's role and team; False if there is no such (non-erased) person."""
    cur = await conn.execute(
        f"UPDATE users SET role = ?, team = ? WHERE id = ? AND {NOT_ERASED}",
        (role.value, team, user_id),
    )
    return cur.rowcount == 1


async def set_language(conn: Tx, user_id: int, language: str) -> None:
    await conn.execute("UPDATE users SET language = ? WHERE id = ?", (language, user_id))


async def set_unreachable(conn: Tx, user_id: int, why: str | None) -> None:
    """Mark why a person cannot be reached; an erased person's stand-in stays erased (it
    would otherwise count as a member again)."""
    await conn.execute(f"UPDATE users SET unreachable = ? WHERE id = ? AND {NOT_ERASED}",
                       (why, user_id))


async def set_reachable(conn: Tx, user_id: int) -> bool:
    """Clear a person's unreachable mark (they wrote to the bot, or unblocked it); True if
    there was one. An erased person's stand-in stays as it is."""
    cur = await conn.execute(
        "UPDATE users SET unreachable = NULL WHERE id = ? AND unreachable IS NOT NULL"
        " AND unreachable != 'erased'",
        (user_id,),
    )
    return cur.rowcount == 1


async def add_invite(
    conn: Tx,
    code_hash: str,
    role: Role,
    team: str,
    created_by: int | None,
    at: datetime,
    expires_at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO invites (code_hash, role, team, created_by, created_at, expires_at)"
        " VALUES (?,?,?,?,?,?)",
        (code_hash, role.value, team, created_by, ts(at), ts(expires_at)),
    )


async def get_invite(conn: Tx, code_hash: str) -> Row | None:
    async with conn.execute("SELECT * FROM invites WHERE code_hash = ?", (code_hash,)) as cur:
        return await cur.fetchone()


async def use_invite(
    conn: Tx, code_hash: str, user_id: int, at: datetime
) -> bool:
    """Mark an invite used; False if someone else used it first (compare-and-set)."""
    cur = await conn.execute(
        "UPDATE invites SET used_by = ?, used_at = ? WHERE code_hash = ? AND used_by IS NULL",
        (user_id, ts(at), code_hash),
    )
    return cur.rowcount == 1


async def count_stranger(
    conn: Tx, user_id: int, now: datetime, window_start: datetime
) -> int:
    """Count a message from an unenrolled user in the current window; return the count."""
    await conn.execute(
        "INSERT INTO stranger_hits (user_id, window_start, hits) VALUES (?, ?, 1)"
        " ON CONFLICT (user_id) DO UPDATE SET"
        " hits = CASE WHEN stranger_hits.window_start < ? THEN 1"
        " ELSE stranger_hits.hits + 1 END,"
        " window_start = CASE WHEN stranger_hits.window_start < ? THEN excluded.window_start"
        " ELSE stranger_hits.window_start END",
        (user_id, ts(now), ts(window_start), ts(window_start)),
    )
    async with conn.execute(
        "SELECT hits FROM stranger_hits WHERE user_id = ?", (user_id,)
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0
