"""An enrolled person: identity is the numeric Telegram user id, never the username."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from fieldbot.domain.roles import Role


@dataclass(frozen=True, slots=True)
class Member:
    """`name` is given as it is, or sealed: a function that opens it (storage decrypts it),
    called the first time the name is used. Who is asking is read for every update, and most
    updates (a check-in, a button) never show a name: they need not pay for opening one. The
    name is not part of a member's repr (logs carry ids, never names) nor of its equality."""

    id: int
    name_or_opener: str | Callable[[], str] = field(repr=False, compare=False)
    role: Role
    team: str
    language: str
    unreachable: str | None = None

    @property
    def name(self) -> str:
        given = self.name_or_opener
        if isinstance(given, str):
            return given
        opened = given()
        object.__setattr__(self, "name_or_opener", opened)  # opened once (frozen otherwise)
        return opened

    @property
    def is_lead(self) -> bool:
        return self.role in (Role.MANAGER, Role.OFFICER, Role.ADMIN)


def language_from_telegram(language_code: str | None) -> str:
    """Map Telegram's language_code to a supported language: zh* -> zh, anything else -> en."""
    if language_code and language_code.lower().startswith("zh"):
        return "zh"
    return "en"
