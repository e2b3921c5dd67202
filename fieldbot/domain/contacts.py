"""A person's contact points beyond Telegram: a phone number and an e-mail address.

Only a confirmed point is used to reach someone: a phone shared through Telegram's own
contact button or confirmed by an SMS code, an address confirmed by an e-mailed code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ContactPoints:
    phone: str | None = None  # E.164, e.g. +4915550100
    phone_verified: bool = False
    email: str | None = None
    email_verified: bool = False

    @property
    def reachable_phone(self) -> str | None:
        return self.phone if self.phone and self.phone_verified else None

    @property
    def reachable_email(self) -> str | None:
        return self.email if self.email and self.email_verified else None
