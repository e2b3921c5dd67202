"""Who may do what: roles and the permissions that follow from them."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    STAFF = "staff"
    MANAGER = "manager"
    OFFICER = "officer"
    ADMIN = "admin"


# Each command's minimum set of roles. Anything not listed here is denied (deny by default).
_EVERYONE = frozenset(Role)
_LEADS = frozenset({Role.MANAGER, Role.OFFICER, Role.ADMIN})
_OFFICERS = frozenset({Role.OFFICER})

PERMISSIONS: dict[str, frozenset[Role]] = {
    "start": _EVERYONE,
    "help": _EVERYONE,
    "language": _EVERYONE,
    "cancel": _EVERYONE,
    "trip": _EVERYONE,
    "trips": _EVERYONE,
    "endtrip": _EVERYONE,
    "checkin": _EVERYONE,
    "sos": _EVERYONE,
    "visit": _EVERYONE,
    "done": _EVERYONE,
    "risk": _EVERYONE,
    "hazard": _EVERYONE,
    "points": _EVERYONE,
    "privacy": _EVERYONE,
    "forgetme": _EVERYONE,
    "contacts": _EVERYONE,
    "team": _LEADS,
    "alerts": _LEADS,
    "dashboard": _LEADS,
    "report": _LEADS,
    "hazards": _LEADS,
    "approve": _LEADS,
    "escalation": _LEADS,
    "invite": _LEADS,
    # Crisis response (DESIGN.md §12): incidents for officers and managers (admins configure,
    # they do not run incidents), lessons for everyone (anonymised), drills for officers.
    "incident": frozenset({Role.MANAGER, Role.OFFICER}),
    "incidents": frozenset({Role.MANAGER, Role.OFFICER}),
    "review": frozenset({Role.MANAGER, Role.OFFICER}),
    "lessons": _EVERYONE,
    "drill": _OFFICERS,
    "drillsafe": _EVERYONE,  # the person's own answer to a drill
    # A manager only for their own team: `domain.rollcall.may_start` / `may_manage`.
    "rollcall": _LEADS,
    "rc": _EVERYONE,  # the answer to a roll-call: ✅ I'm safe / 🆘 I need help
}


def officers_only(action: str) -> bool:
    """Return whether only safety officers may perform `action` (what a refusal says)."""
    return PERMISSIONS.get(action) == _OFFICERS


def may(role: Role, action: str) -> bool:
    """Return whether someone with `role` may perform `action`; unknown actions are denied."""
    return role in PERMISSIONS.get(action, frozenset())


def invitable_roles(inviter: Role) -> frozenset[Role]:
    """Return the roles an inviter may hand out: admins any, managers only staff."""
    if inviter is Role.ADMIN:
        return frozenset(Role)
    if inviter is Role.MANAGER:
        return frozenset({Role.STAFF})
    return frozenset()
