"""A person's contact points: a phone number (shared through Telegram, or typed and confirmed
by an SMS code) and an e-mail address (confirmed by an e-mailed code).

Codes are six digits, stored only as a keyed hash, valid for ten minutes; five wrong codes
lock the kind for an hour; at most five codes a day per person and kind (an SMS costs money,
and a form that sends SMS to any typed number is what toll fraud looks for). Numbers, addresses
and codes never reach a log: ids, kinds and reasons only.
"""

from __future__ import annotations

import logging
import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from fieldbot.channels.base import Channels
from fieldbot.clock import Clock
from fieldbot.crypto import Cipher
from fieldbot.domain.contacts import ContactPoints
from fieldbot.domain.roles import Role
from fieldbot.storage import audit, outbox, users
from fieldbot.storage import contacts as store
from fieldbot.storage.db import Database

log = logging.getLogger(__name__)

CODE_TTL = timedelta(minutes=10)
MAX_TRIES = 5
LOCK_FOR = timedelta(hours=1)
RESEND_AFTER = timedelta(seconds=60)
SEND_WINDOW = timedelta(days=1)
MAX_SENDS = 5
REMINDED_ROLES = (Role.MANAGER.value, Role.OFFICER.value)
WEEK_TURNS = timedelta(days=0, hours=8)  # after Monday 00:00 UTC
FIRST_DAY = timedelta(days=1)
NAMES_SHOWN = 10  # the admins' list: these names, then "and K more"
LONGEST_PHONE = 40  # characters typed, spaces and dashes included
LONGEST_EMAIL = 254
_PHONE_CHARS = re.compile(r"[0-9+()\-. /]+")
_EMAIL = re.compile(r"[^@\s<>(),;:\"\[\]\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+")

# What a code message says, in the person's language: given the code and the minutes it is
# valid, the (subject, text) to send. The Telegram layer owns the wording (its catalogs).
Compose = Callable[[str, int], tuple[str, str]]


class ContactRefused(Exception):
    """Why a contact point was not taken; `reason` names a catalog text."""

    def __init__(self, reason: str, **details: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


@dataclass(frozen=True, slots=True)
class CodeSent:
    kind: str  # "phone" | "email"
    target: str  # the number or address (for the person's own eyes, masked when shown)
    minutes: int


def _ascii_digits(text: str) -> str:
    """Full-width digits and punctuation (＋８６ １３８…) read as their ASCII forms."""
    return unicodedata.normalize("NFKC", text)


def parse_phone(text: str, region: str | None) -> str:
    """Return a typed number in E.164 form, or raise ContactRefused saying what is wrong.

    A number without a country code is read in `region` (the country of the person's current
    number); with no region known, the person is asked for the +country form."""
    import phonenumbers  # 18 ms: loaded with the first number, not at every start

    typed = _ascii_digits(text).strip()
    if len(typed) > LONGEST_PHONE:
        raise ContactRefused("phone_too_long", max=LONGEST_PHONE)
    if any(ch.isalpha() for ch in typed):
        raise ContactRefused("phone_letters")
    if not typed or not _PHONE_CHARS.fullmatch(typed):
        raise ContactRefused("phone_invalid")
    digits = sum(ch.isdigit() for ch in typed)
    if digits < 6:
        raise ContactRefused("phone_too_short")
    if typed.startswith("00"):
        typed = "+" + typed[2:]
    if not typed.startswith("+") and region is None:
        raise ContactRefused("phone_needs_plus")
    try:
        number = phonenumbers.parse(typed, None if typed.startswith("+") else region)
    except phonenumbers.NumberParseException:
        raise ContactRefused("phone_invalid") from None
    if not phonenumbers.is_valid_number(number):
        raise ContactRefused("phone_invalid")
    if phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.FIXED_LINE:
        raise ContactRefused("phone_landline")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _telegram_number(text: str) -> str:
    """The number of a shared contact (Telegram sends it without "+"). Telegram vouches for
    it: a number that is possible is taken even where the library's ranges are out of date."""
    import phonenumbers  # 18 ms: loaded with the first number, not at every start

    typed = "+" + _ascii_digits(text).strip().lstrip("+")
    if len(typed) > LONGEST_PHONE or not typed[1:].isdigit():
        raise ContactRefused("phone_invalid")
    try:
        number = phonenumbers.parse(typed, None)
    except phonenumbers.NumberParseException:
        raise ContactRefused("phone_invalid") from None
    if not phonenumbers.is_possible_number(number):
        raise ContactRefused("phone_invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def region_of(phone: str | None) -> str | None:
    """The country of a number in E.164 form (e.g. "DE"), to read national numbers in."""
    import phonenumbers  # 18 ms: loaded with the first number, not at every start

    if not phone:
        return None
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(phone, None)) or None
    except phonenumbers.NumberParseException:
        return None


def parse_email(text: str) -> str:
    """Read a typed address: full-width (a Chinese keyboard's "ｍｉａ＠ｅｘａｍｐｌｅ．ｏｒｇ") as
    meant; invisible or control characters (an address that reads as another) refused."""
    typed = unicodedata.normalize("NFKC", text).strip()
    if any(unicodedata.category(ch).startswith("C") for ch in typed):
        raise ContactRefused("email_invalid")
    if len(typed) > LONGEST_EMAIL:
        raise ContactRefused("email_too_long", max=LONGEST_EMAIL)
    if not _EMAIL.fullmatch(typed):
        raise ContactRefused("email_invalid")
    local, _, domain = typed.rpartition("@")
    return f"{local}@{domain.lower()}"


def _code_shape(text: str) -> str | None:
    code = "".join(_ascii_digits(text).split())
    return code if len(code) == 6 and code.isdigit() else None


class ContactService:
    def __init__(self, db: Database, clock: Clock, cipher: Cipher, channels: Channels) -> None:
        self._db = db
        self._clock = clock
        self._cipher = cipher
        self.channels = channels
        self._next_check: datetime | None = None

    async def points(self, user_id: int) -> ContactPoints:
        async with self._db.read() as conn:
            return await store.get(conn, user_id, self._cipher)

    async def user_by_phone(self, phone_e164: str) -> int | None:
        """Whose confirmed number this is (an SMS reply's sender); None if nobody's."""
        async with self._db.read() as conn:
            return await store.user_by_phone(conn, phone_e164, self._cipher)

    async def region(self, user_id: int) -> str | None:
        return region_of((await self.points(user_id)).phone)

    async def share_phone(self, user_id: int, owner_id: int | None, phone_number: str) -> str:
        """Take a number shared with Telegram's contact button. Telegram vouches for it only
        when the contact is the sender's own (its user id is the sender's): anyone else's
        card, or a typed one, is refused."""
        if owner_id != user_id:
            log.info("user %s shared a contact that is not their own", user_id)
            raise ContactRefused("not_yours")
        phone = _telegram_number(phone_number)
        await self._keep_phone(user_id, phone, via="telegram")
        return phone

    async def request_phone_code(self, user_id: int, text: str, compose: Compose) -> CodeSent:
        """Check a typed number and send it a code by SMS (raises ContactRefused)."""
        phone = parse_phone(text, await self.region(user_id))
        if self.channels.sms is None:
            raise ContactRefused("sms_unavailable")
        async with self._db.read() as conn:
            if await store.others_with_phone(conn, user_id, phone, self._cipher):
                raise ContactRefused("phone_taken")
        return await self._send_code(user_id, "phone", phone, compose)

    async def request_email_code(self, user_id: int, text: str, compose: Compose) -> CodeSent:
        """Check a typed address and send it a code by e-mail (raises ContactRefused)."""
        email = parse_email(text)
        if self.channels.email is None:
            raise ContactRefused("email_unavailable")
        return await self._send_code(user_id, "email", email, compose)

    async def resend(self, user_id: int, kind: str, compose: Compose) -> CodeSent:
        """Send a new code to the number or address waiting for one."""
        async with self._db.read() as conn:
            code = await store.pending(conn, user_id, kind, self._cipher)
        if code is None or not code.target:
            raise ContactRefused("no_code")
        return await self._send_code(user_id, kind, code.target, compose)

    async def confirm(self, user_id: int, kind: str, typed: str) -> str:
        """Check a typed code; on success keep the number or address and return it."""
        now = self._clock.now()
        code = _code_shape(typed)
        refused: ContactRefused | None = None  # raised after the commit: a wrong try counts
        async with self._db.transaction() as conn:
            pending = await store.pending(conn, user_id, kind, self._cipher)
            if pending is not None and pending.locked_until and now < pending.locked_until:
                raise ContactRefused("locked", minutes=_minutes(pending.locked_until - now))
            if pending is None or not pending.code_hash:
                raise ContactRefused("no_code")
            if code is None:
                raise ContactRefused("code_format")
            if now >= pending.expires_at:
                await store.put_code(conn, user_id, replace(pending, code_hash=""), self._cipher)
                refused = ContactRefused("expired")
            elif not secrets.compare_digest(
                    await store.code_hash(conn, user_id, kind, pending.target, code,
                                          self._cipher), pending.code_hash):
                tries = pending.tries + 1
                if tries >= MAX_TRIES:
                    pending = replace(pending, code_hash="", tries=tries,
                                      locked_until=now + LOCK_FOR)
                    refused = ContactRefused("locked", minutes=_minutes(LOCK_FOR))
                    await audit.record(conn, user_id, "contact_code_locked", user_id,
                                       f"kind={kind} tries={tries}", now)
                    log.info("user %s: %s code locked after %s wrong tries", user_id, kind,
                             tries)
                else:
                    pending = replace(pending, tries=tries)
                    refused = ContactRefused("wrong_code", left=MAX_TRIES - tries)
                await store.put_code(conn, user_id, pending, self._cipher)
            else:
                await store.put_code(conn, user_id, replace(pending, code_hash="", target=""),
                                     self._cipher)
        if refused is not None:
            raise refused
        target = pending.target
        if kind == "phone":
            await self._keep_phone(user_id, target, via="sms")
        else:
            async with self._db.transaction() as conn:
                await store.set_email(conn, user_id, target, cipher=self._cipher, now=now)
                await audit.record(conn, user_id, "contact_set", user_id,
                                   "kind=email via=code", now)
        log.info("user %s confirmed a %s", user_id, kind)
        return target

    async def remove(self, user_id: int, kind: str) -> None:
        now = self._clock.now()
        async with self._db.transaction() as conn:
            if kind == "phone":
                await store.set_phone(conn, user_id, None, via=None, cipher=self._cipher,
                                      now=now)
            else:
                await store.set_email(conn, user_id, None, cipher=self._cipher, now=now)
            await audit.record(conn, user_id, "contact_removed", user_id, f"kind={kind}", now)
        log.info("user %s removed their %s", user_id, kind)

    # --- the weekly reminder ------------------------------------------------------------------

    async def remind_if_due(self) -> int:
        """Once a week: remind managers and officers who have no confirmed phone, and tell the
        admins who they are (one message each, the first names then "and K more"). Called from
        every sweep; the outbox's dedupe key (the week) makes it once a week across restarts.
        Only where SMS or calls are configured: otherwise a phone number reaches nobody."""
        now = self._clock.now()
        if self._next_check is not None and now < self._next_check:
            return 0
        self._next_check = now + timedelta(hours=1)
        if self.channels.sms is None and self.channels.call is None:
            return 0
        # The week turns on Monday 08:00 UTC, not at midnight: a reminder is no alarm.
        year, week, _ = (now - WEEK_TURNS).isocalendar()
        stamp = f"{year}-W{week:02d}"
        async with self._db.transaction() as conn:
            # Not on their first day: the welcome is enough for now.
            missing = await store.without_phone(conn, REMINDED_ROLES, now - FIRST_DAY)
            if not missing:
                return 0
            for uid in missing:
                await outbox.enqueue(conn, dedupe=f"contacts:remind:{stamp}:to:{uid}",
                                     recipient=uid, kind="contacts_reminder", params={},
                                     priority=outbox.PRIORITY_NOTICE, now=now)
            people = await users.by_ids(conn, missing[:NAMES_SHOWN], cipher=self._cipher)
            names = [m.name for m in people]
            for admin in await users.with_role(conn, [Role.ADMIN], cipher=self._cipher):
                if admin.unreachable:
                    continue
                await outbox.enqueue(
                    conn, cipher=self._cipher, dedupe=f"contacts:missing:{stamp}:to:{admin.id}",
                    recipient=admin.id, kind="contacts_missing",
                    params={"names": names, "more": len(missing) - len(names)},
                    priority=outbox.PRIORITY_NOTICE, now=now, about=[m.id for m in people])
        log.info("contacts: %s managers/officers without a confirmed phone (%s)", len(missing),
                 stamp)
        return len(missing)

    # --- internals --------------------------------------------------------------------------

    async def _keep_phone(self, user_id: int, phone: str, *, via: str) -> None:
        now = self._clock.now()
        async with self._db.transaction() as conn:
            if await store.others_with_phone(conn, user_id, phone, self._cipher):
                raise ContactRefused("phone_taken")
            await store.set_phone(conn, user_id, phone, via=via, cipher=self._cipher, now=now)
            await audit.record(conn, user_id, "contact_set", user_id,
                               f"kind=phone via={via}", now)
        log.info("user %s confirmed a phone (%s)", user_id, via)

    async def _send_code(self, user_id: int, kind: str, target: str,
                         compose: Compose) -> CodeSent:
        now = self._clock.now()
        code = f"{secrets.randbelow(10**6):06d}"
        async with self._db.transaction() as conn:
            old = await store.pending(conn, user_id, kind, self._cipher)
            if old is not None and old.locked_until and now < old.locked_until:
                raise ContactRefused("locked", minutes=_minutes(old.locked_until - now))
            window, sends = now, 0
            if old is not None and now - old.window_start < SEND_WINDOW:
                window, sends = old.window_start, old.sends
                if now - old.last_sent_at < RESEND_AFTER:
                    raise ContactRefused("wait", seconds=_seconds(
                        old.last_sent_at + RESEND_AFTER - now))
            if sends >= MAX_SENDS:
                raise ContactRefused("too_many")
            await store.put_code(conn, user_id, store.PendingCode(
                kind=kind, target=target,
                code_hash=await store.code_hash(conn, user_id, kind, target, code, self._cipher),
                expires_at=now + CODE_TTL, tries=0, sends=sends + 1, window_start=window,
                last_sent_at=now, locked_until=None), self._cipher)
        minutes = _minutes(CODE_TTL)
        subject, text = compose(code, minutes)
        if kind == "phone":
            assert self.channels.sms is not None
            sent = await self.channels.sms.send_sms(target, text)
        else:
            assert self.channels.email is not None
            sent = await self.channels.email.send_mail(target, subject, text)
        if not sent.accepted:
            log.warning("user %s: %s code not sent (%s)", user_id, kind, sent.error)
            async with self._db.transaction() as conn:  # an unsent code cannot be typed
                pending = await store.pending(conn, user_id, kind, self._cipher)
                if pending is not None:
                    await store.put_code(conn, user_id, replace(pending, code_hash=""),
                                         self._cipher)
            raise ContactRefused(f"{kind}_refused" if sent.permanent else "send_failed")
        log.info("user %s: %s code sent (%s)", user_id, kind, sent.provider_id)
        return CodeSent(kind, target, minutes)


def _minutes(delta: timedelta) -> int:
    return max(1, -(-int(delta.total_seconds()) // 60))


def _seconds(delta: timedelta) -> int:
    return max(1, int(delta.total_seconds() + 0.999))
