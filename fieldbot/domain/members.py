"""An enrolled person: identity is the numeric Telegram user id, never the username."""

from __future__ import annotations

from dataclasses import dataclass

from fieldbot.domain.roles import Role


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    name: str
    role: Role
    team: str
    language: str
    unreachable: str | None = None

    @property
    def is_lead(self) -> bool:
        return self.role in (Role.MANAGER, Role.OFFICER, Role.ADMIN)


def language_from_telegram(language_code: str | None) -> str:
    """Map Telegram's language_code to a supported language: zh* -> zh, anything else -> en."""
    if language_code and language_code.lower().startswith("zh"):
        return "zh"
    return "en"
