"""Who is asking is read for every update; their name is opened only when something shows it."""

from __future__ import annotations

from cryptography.fernet import Fernet
from pydantic import SecretStr

from fieldbot.crypto import Cipher, UnreadableValue
from fieldbot.domain.members import Member
from fieldbot.domain.roles import Role
from fieldbot.storage import users
from tests.harness import REP_ID, World


async def test_reading_a_member_does_not_open_the_name_until_it_is_used(team: World) -> None:
    # A cipher with another key cannot open the name: reading the member must not try.
    other = Cipher(key=SecretStr(Fernet.generate_key().decode("ascii")),
                   key_file=team.tmp / "unused.key")
    other.load(create=False)
    async with team.services.db.glance() as conn:
        sealed = await users.get(conn, REP_ID, cipher=other)
        member = await users.get(conn, REP_ID, cipher=team.services.cipher)
    assert sealed is not None and member is not None
    assert (sealed.id, sealed.role, sealed.team) == (REP_ID, Role.STAFF, "north")
    try:
        _ = sealed.name
    except UnreadableValue:
        pass
    else:
        raise AssertionError("a name opened with the wrong key")
    assert member.name == "Rita"
    assert member.name == "Rita"  # opened once, kept
    assert "Rita" not in repr(member)


async def test_the_guard_reads_the_rep_who_checks_in_without_opening_their_name(
        team: World) -> None:
    member = await team.services.enrolment.member(REP_ID)
    assert member is not None
    assert not isinstance(member.name_or_opener, str)  # sealed: nothing has shown it
    assert member.name == "Rita"
    assert member.name_or_opener == "Rita"


async def test_a_name_read_before_a_key_rotation_still_opens_after_it(team: World) -> None:
    # Read (sealed) under the old key; the rotation re-encrypts everything and drops that key
    # before anything shows the name.
    member = await team.services.enrolment.member(REP_ID)
    assert member is not None
    await team.services.keys.rotate_key()
    assert len(team.services.cipher.keys()) == 1
    assert member.name == "Rita"


def test_a_sealed_name_is_opened_once_and_left_out_of_equality_and_repr() -> None:
    opened: list[str] = []

    def opener() -> str:
        opened.append("Rita")
        return "Rita"

    sealed = Member(7, opener, Role.STAFF, "north", "en")
    assert opened == []
    assert (sealed.name, sealed.name) == ("Rita", "Rita")
    assert opened == ["Rita"]
    assert sealed == Member(7, "Rita", Role.STAFF, "north", "en")
    assert "Rita" not in repr(Member(7, "Rita", Role.STAFF, "north", "en"))
