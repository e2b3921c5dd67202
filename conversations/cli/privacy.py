"""The operator's personal-data commands: `rotate-key`, `audit --since`, `audit --verify`,
`erase --user`."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime

from fieldbot.clock import SystemClock
from fieldbot.config import Settings
from fieldbot.services.keys import KeyService, RotationRefused
from fieldbot.services.privacy import ErasureRefused, PrivacyService

COMMANDS = ("rotate-key", "audit", "erase")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub.add_parser("rotate-key", help="re-encrypt all personal data under a new key")
    audit = sub.add_parser("audit", help="print the audit log (the export is itself logged), "
                           "or check its chain")
    what = audit.add_mutually_exclusive_group(required=True)
    what.add_argument("--since", type=date.fromisoformat, help="YYYY-MM-DD")
    what.add_argument("--verify", action="store_true",
                      help="check that no entry was deleted, changed or reordered (exit 1 if so)")
    erase = sub.add_parser("erase", help="erase a departed employee's personal data")
    erase.add_argument("--user", required=True, type=_user_id, help="numeric Telegram user id")


def _user_id(text: str) -> int:
    if not text.isascii() or not text.isdigit() or int(text) >= 2**63:
        raise argparse.ArgumentTypeError(f"not a Telegram user id: {text!r}")
    return int(text)


async def run(settings: Settings, args: argparse.Namespace) -> int:
    """Open the database (which checks the key) and carry out one command."""
    from fieldbot.services.container import opened

    async with opened(settings, SystemClock()) as services:
        if args.command == "rotate-key":
            return await _rotate(services.keys)
        if args.command == "audit" and args.verify:
            return await _verify(services.privacy)
        if args.command == "audit":
            return await _audit(services.privacy, args.since)
        return await _erase(services.privacy, args.user, settings.db_label)


async def _rotate(keys: KeyService) -> int:
    try:
        done = await keys.rotate_key()
    except RotationRefused as refused:
        print(f"fieldbot: {refused}", file=sys.stderr)
        print(refused.new_key)
        return 1
    print(f"re-encrypted {done.values} values under a new key; {done.retired_keys} old key(s) "
          "no longer needed.")
    print("Back up the key again now, apart from the database and its backups.")
    return 0


async def _audit(privacy: PrivacyService, since: date) -> int:
    entries = await privacy.audit_log(datetime.combine(since, datetime.min.time(), UTC))
    for e in entries:
        actor = "-" if e.actor is None else str(e.actor)
        subject = "-" if e.subject is None else str(e.subject)
        print(f"{e.at.isoformat(timespec='seconds')}\t{e.action}\tactor={actor}"
              f"\tsubject={subject}\t{e.detail}")
    return 0


async def _verify(privacy: PrivacyService) -> int:
    check = await privacy.verify_audit()
    if check.intact:
        print(f"audit log intact: {check.entries} entries, chain and head match.")
        return 0
    where = f" (first bad entry: #{check.bad_id})" if check.bad_id is not None else ""
    print(f"fieldbot: the audit log was tampered with: {check.problem}{where}", file=sys.stderr)
    return 1


async def _erase(privacy: PrivacyService, user_id: int, db_label: str) -> int:
    try:
        erased = await privacy.erase(user_id, by=None)
    except ErasureRefused as refused:
        alerts = ", ".join(f"A-{a}" for a in refused.alert_ids)
        print(f"fieldbot: not erased: an alert about user {user_id} is still open ({alerts});"
              " resolve it first", file=sys.stderr)
        return 1
    if erased.stand_in == 0:  # a typo of the id, or another database than the bot's
        print(f"fieldbot: nobody with id {user_id} is stored in {db_label}: nothing erased"
              " (check the id, and FIELDBOT_DB / the folder you run this in)", file=sys.stderr)
        return 1
    print(f"user {user_id} erased: {erased.trips} trips anonymised, {erased.locations} "
          f"locations and {len(erased.photos)} photos deleted, {erased.messages} messages "
          "cleared; anonymised statistics kept.")
    return 0
