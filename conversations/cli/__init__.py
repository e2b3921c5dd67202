"""The `fieldbot` command: run, demo, invite, and the operator's maintenance commands."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from conversations.cli import privacy as privacy_cli
from conversations.i18n import LANGUAGES
from fieldbot.clock import SystemClock
from fieldbot.config import CHANNEL_SETTINGS, ConfigError, Settings, load_settings
from fieldbot.dburl import is_postgres_url
from fieldbot.domain.roles import Role
from fieldbot.logs import setup_logging
from fieldbot.policy_file import PolicyError
from fieldbot.services.errors import DatabaseRefused, StorageUnavailable

if TYPE_CHECKING:
    from fieldbot.services.enrolment import InviteRefused

log = logging.getLogger("fieldbot")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fieldbot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the bot (long polling unless --webhook)")
    run.add_argument("--webhook", action="store_true",
                     help="receive updates on FIELDBOT_WEBHOOK_URL instead of polling")
    demo = sub.add_parser("demo", help="run a scripted scenario against a built-in fake Telegram")
    demo.add_argument("--db", default=None, help="database file (default: a temporary one)")
    demo.add_argument("--lang", default="en", choices=LANGUAGES,
                      help="the language the people of the demo use (default: en)")
    inv = sub.add_parser("invite", help="create a single-use invite link")
    inv.add_argument("--role", required=True, choices=[r.value for r in Role])
    inv.add_argument("--team", default="")
    role = sub.add_parser("set-role", help="give an enrolled person another role or team")
    role.add_argument("--user", required=True, type=int, help="numeric Telegram user id")
    role.add_argument("--role", required=True, choices=[r.value for r in Role])
    role.add_argument("--team", default="", help="required for staff and managers")
    risk = sub.add_parser("risk", help="official travel advisories")
    risk_sub = risk.add_subparsers(dest="risk_command", required=True)
    imp = risk_sub.add_parser("import", help="load a saved copy of a feed (RSS or JSON)")
    imp.add_argument("file")
    risk_sub.add_parser("refresh", help="fetch the official feeds online now")
    geo = sub.add_parser("geo", help="the offline place index")
    geo_sub = geo.add_subparsers(dest="geo_command", required=True)
    geo_build = geo_sub.add_parser(
        "build", help="build the place index in the data folder now (else: at first start)")
    geo_build.add_argument("--force", action="store_true", help="rebuild even if up to date")
    sub.add_parser("check-config", help="validate the configuration and the policy file")
    sub.add_parser("health", help="exit 0 if the sweep ran recently (container HEALTHCHECK)")
    mig = sub.add_parser("migrate-db", help="copy this SQLite database into an empty PostgreSQL")
    mig.add_argument("--to", required=True, help="postgresql://user:pass@host:5432/name")
    privacy_cli.add_parsers(sub)
    rep = sub.add_parser("report", help="write a month's safety summary as CSV and a PNG chart")
    rep.add_argument("--month", required=True, help="YYYY-MM")
    rep.add_argument("--out", default=".", help="directory for the files (default: here)")
    rep.add_argument("--lang", choices=("en", "zh"), default="en",
                     help="the chart's language (default: en)")
    return parser


# The operator's commands on the bot's own data: none of them makes a database.
KEEPING = frozenset({"rotate-key", "audit", "erase", "set-role"})


def main(argv: Sequence[str] | None = None) -> int:
    # PTB 22: durations such as RetryAfter.retry_after as timedelta (the future default).
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
        setup_logging(settings.log_level, settings.library_log_level)
        if args.command == "demo":
            from conversations.cli.demo import run_demo

            setup_logging("WARNING", settings.library_log_level)  # the transcript is the output
            return asyncio.run(run_demo(args.db, args.lang))
        if args.command == "check-config":
            from fieldbot.services.container import build_services

            services = build_services(settings, SystemClock())
            print("configuration OK")
            print("channels live: " + ", ".join(services.channels.live()))
            absent = [name for name in CHANNEL_SETTINGS if not settings.channel_configured(name)]
            if absent:
                print("not configured: " + ", ".join(absent))
            from fieldbot.services.reach import setup_warnings

            for warning in setup_warnings(services.reach.live, settings.public_url,
                                          settings.http_port, bool(settings.webhook_url)):
                print(f"warning: {warning}")
            for warning in asyncio.run(_start_warnings(settings)):
                print(f"warning: {warning}")
            return 0
        if args.command == "risk":
            return asyncio.run(_risk(settings, args.risk_command, getattr(args, "file", None)))
        if args.command == "geo":
            return _geo_build(settings, force=args.force)
        if args.command == "health":
            return _health(settings)
        if args.command in KEEPING and not settings.postgres and not Path(settings.db).exists():
            # Run in another folder than the bot's (or with another FIELDBOT_DB), the command
            # would make an empty database and a new key there, and "succeed" on nothing.
            print(f"fieldbot: no database at {settings.db}: run this where the bot runs, or set"
                  " FIELDBOT_DB to its file", file=sys.stderr)
            return 2
        if args.command == "migrate-db":
            from conversations.cli.migrate import migrate_db

            return asyncio.run(migrate_db(settings, args.to))
        if args.command in privacy_cli.COMMANDS:
            return asyncio.run(privacy_cli.run(settings, args))
        if args.command == "report":
            return asyncio.run(_report(settings, args.month, Path(args.out), args.lang))
        if args.command == "invite":
            return asyncio.run(_invite(settings, Role(args.role), args.team))
        if args.command == "set-role":
            return asyncio.run(_set_role(settings, args.user, Role(args.role), args.team))
        return _run_bot(settings, webhook=args.webhook)
    except (ConfigError, PolicyError) as exc:
        print(f"fieldbot: {exc}", file=sys.stderr)
        return 2

    except DatabaseRefused as exc:
        print(f"fieldbot: the database server refused {exc}", file=sys.stderr)
        return 2
    except StorageUnavailable as exc:
        print(f"fieldbot: the database {settings.db_label} cannot be used now: {exc}",
              file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"fieldbot: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a folder that cannot be written, a file where a folder goes, ...
        where = f": {exc.filename}" if exc.filename else ""
        print(f"fieldbot: {exc.strerror or type(exc).__name__}{where}", file=sys.stderr)
        return 2


def _run_bot(settings: Settings, *, webhook: bool) -> int:
    from telegram.error import InvalidToken

    try:
        return asyncio.run(_run(settings, webhook=webhook))
    except InvalidToken:  # its message holds the token: never printed
        print("fieldbot: Telegram refused FIELDBOT_TOKEN (not a bot's token, or revoked):"
              " copy it again from @BotFather", file=sys.stderr)
        return 2


async def _start_warnings(settings: Settings) -> list[str]:
    """What would stop `fieldbot run` that the settings alone do not show."""
    out = []
    if settings.token is None:
        out.append("FIELDBOT_TOKEN is not set: `fieldbot run` needs it (`fieldbot demo` does not)")
    if settings.risk_register is not None and not settings.risk_register.is_file():
        out.append(f"FIELDBOT_RISK_REGISTER: no file at {settings.risk_register}")
    public = urlsplit(settings.public_url) if settings.public_url else None
    if public is not None and public.scheme == "http" and public.hostname not in (
            "localhost", "127.0.0.1", "::1"):
        out.append("FIELDBOT_PUBLIC_URL is http: the e-mailed acknowledgement links and the desk"
                   " sign-in travel in clear; give the https address")
    if is_postgres_url(settings.db):
        from fieldbot.services.errors import probe_database

        wrong = await probe_database(str(settings.db))
        if wrong is not None:
            out.append(f"FIELDBOT_DB: {wrong}")
    return out


async def _run(settings: Settings, *, webhook: bool) -> int:
    from conversations.runtime.bootstrap import build_application
    from conversations.runtime.runner import run_polling, run_webhook

    if settings.postgres:
        return await _run_ha(settings, webhook=webhook)
    app = build_application(settings, SystemClock())
    if not webhook:
        http = (settings.http_listen, settings.http_port) if settings.http_port is not None \
            else None
        return await run_polling(app, http=http)
    if not settings.webhook_url:
        raise ConfigError("FIELDBOT_WEBHOOK_URL: required with --webhook (https://host/path)")
    secret = (settings.webhook_secret.get_secret_value() if settings.webhook_secret
              else secrets.token_urlsafe(32))
    path = urlsplit(settings.webhook_url).path or "/telegram"
    # One server: the webhook shares FIELDBOT_HTTP_PORT with the rest when it is set.
    listen, port = ((settings.http_listen, settings.http_port) if settings.http_port is not None
                    else (settings.webhook_listen, settings.webhook_port))
    log.info("webhook mode on port %s, path %s", port, path)
    return await run_webhook(app, settings.webhook_url, secret, listen, port, path=path)


async def _run_ha(settings: Settings, *, webhook: bool) -> int:
    """PostgreSQL: one of possibly several instances; it acts only while it is the leader."""
    from conversations.runtime.bootstrap import build_application
    from conversations.runtime.ha import Webhook, run_with_leadership

    hook = None
    if webhook:
        if not settings.webhook_url:
            raise ConfigError("FIELDBOT_WEBHOOK_URL: required with --webhook (https://host/path)")
        if settings.webhook_secret is None:  # every instance must check the same secret
            raise ConfigError("FIELDBOT_WEBHOOK_SECRET: required with --webhook on PostgreSQL"
                              " (all instances share it)")
        # One server: the webhook shares FIELDBOT_HTTP_PORT with the rest when it is set.
        listen, port = ((settings.http_listen, settings.http_port)
                        if settings.http_port is not None
                        else (settings.webhook_listen, settings.webhook_port))
        hook = Webhook(settings.webhook_url, settings.webhook_secret.get_secret_value(),
                       listen, port, urlsplit(settings.webhook_url).path or "/telegram")
    log.info("PostgreSQL at %s: leader election on", settings.db_label)
    return await run_with_leadership(
        settings, lambda leadership: build_application(settings, SystemClock(),
                                                       leadership=leadership), hook)


def _geo_build(settings: Settings, *, force: bool) -> int:
    from fieldbot.geo.gazetteer import INDEX_FILE, build_index, index_is_current

    path = settings.data_dir / INDEX_FILE
    if index_is_current(path) and not force:
        print(f"place index up to date: {path}")
        return 0
    build_index(path)
    print(f"place index built: {path} ({path.stat().st_size // 1_000_000} MB)")
    return 0


async def _risk(settings: Settings, command: str, file: str | None) -> int:
    import httpx

    from fieldbot.services.advisories import AdvisoryService
    from fieldbot.services.container import opened

    async with opened(settings, SystemClock()) as services:
        loader = AdvisoryService(services.advisories, services.clock)
        if command == "import":
            assert file is not None
            try:
                counts = await loader.import_path(Path(file))
            except (OSError, ValueError) as exc:
                print(f"fieldbot: cannot import {file}: {exc}", file=sys.stderr)
                return 2
        else:
            async with httpx.AsyncClient(headers={"User-Agent": "fieldbot/0.1"}) as client:
                counts = await loader.refresh(client)
    if not counts:
        print("no advisories loaded", file=sys.stderr)
        return 1
    for source, count in sorted(counts.items()):
        print(f"{source}: {count} countries")
    return 0


async def _report(settings: Settings, month_text: str, out: Path, language: str) -> int:
    from conversations.i18n import Texts
    from conversations.render.chart import chart_words
    from fieldbot.domain.report import Month
    from fieldbot.services.container import opened

    month = Month.parse(month_text)  # a ValueError is reported as a usage error
    clock = SystemClock()
    if month > Month.of(clock.now().date()):  # as /report says: no files of nothing
        raise ValueError(f"{month} has not started yet: there is nothing to report")
    async with opened(settings, clock) as services:
        exported = await services.reports.export(month, out,
                                                 words=chart_words(Texts(language)))
    print(f"{exported.csv}\n{exported.chart}")
    total = exported.rows[-1]
    print(f"{month}: {total.trips} trips, {total.nights} nights, {total.alerts} alerts")
    drills = total.drills
    if drills is not None and drills.held:  # the policy's drill KPIs (DESIGN.md §12)
        share = "n/a" if drills.participation is None else f"{drills.participation:.0%}"
        median = "n/a" if drills.median is None else f"{drills.median.total_seconds():.0f} s"
        worst = "n/a" if drills.worst is None else f"{drills.worst.total_seconds():.0f} s"
        print(f"drills: {drills.held} held, participation {share}, time to acknowledge "
              f"median {median}, worst {worst}")
    return 0


def _health(settings: Settings) -> int:
    from datetime import datetime, timedelta

    from fieldbot.services.leadership import read_role

    said = read_role(settings.data_dir / "role")
    role = said[0] if said else ("single" if not settings.postgres else "starting")
    try:
        last = datetime.fromisoformat(settings.heartbeat_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        print(f"unhealthy: not running (stopped, or not swept yet): no heartbeat at"
              f" {settings.heartbeat_file}", file=sys.stderr)
        return 1
    age = SystemClock().now() - last
    what = "waiting for the leader's lock" if role == "standby" else "last sweep"
    if age > 3 * settings.sweep_interval + timedelta(minutes=1):
        print(f"unhealthy: role {role}, {what} {int(age.total_seconds())} s ago",
              file=sys.stderr)
        return 1
    print(f"healthy: role {role}, {what} {int(age.total_seconds())} s ago")
    return 0


def _refusal(reason: InviteRefused, user_id: int | None = None) -> str:
    """What an operator reads, and does, when an invite or a role change is refused."""
    from fieldbot.services.enrolment import InviteRefused

    return {
        InviteRefused.NO_TEAM: "field reps and managers need a team: add --team NAME",
        InviteRefused.NOT_ENROLLED: f"user {user_id} has not enrolled here: invite them"
                                    " first (fieldbot invite --role ROLE --team NAME)",
        InviteRefused.ROLE_NOT_ALLOWED: "that role cannot be given this way",
    }.get(reason, reason.value.replace("_", " "))


async def _set_role(settings: Settings, user_id: int, role: Role, team: str) -> int:
    from fieldbot.services.container import opened
    from fieldbot.services.enrolment import EnrolmentError

    try:
        async with opened(settings, SystemClock()) as services:
            member = await services.enrolment.change_role(user_id, role, team)
    except EnrolmentError as exc:
        print(f"fieldbot: cannot change that role: {_refusal(exc.reason, user_id)}",
              file=sys.stderr)
        return 2
    print(f"user {member.id} is now {member.role.value}"
          + (f" in team {member.team}" if member.team else ""))
    return 0


async def _invite(settings: Settings, role: Role, team: str) -> int:
    from telegram import Bot

    from fieldbot.services.container import opened
    from fieldbot.services.enrolment import EnrolmentError

    try:
        async with opened(settings, SystemClock()) as services:
            invite = await services.enrolment.create_invite(None, role, team)
    except EnrolmentError as exc:
        print(f"fieldbot: cannot create that invite: {_refusal(exc.reason)}", file=sys.stderr)
        return 2
    username = None
    if settings.token is not None:
        try:
            async with Bot(settings.token.get_secret_value(),
                           base_url=settings.bot_base_url) as bot:
                username = bot.username
        except Exception:  # noqa: BLE001 - offline: print the code instead of a link
            username = None
    minutes = int(invite.expires_in.total_seconds() // 60)
    if username:
        print(f"https://t.me/{username}?start={invite.code}")
    else:
        print(f"invite code: {invite.code}  (the person sends: /start {invite.code})")
    lasts = f"{minutes // 60} h" if minutes >= 60 else f"{minutes} min"  # never "0 h"
    print(f"role {role.value}, team {invite.team or '-'}, single use, expires in {lasts}")
    return 0
