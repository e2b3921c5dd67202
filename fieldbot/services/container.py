"""The core's composition: every service built once from settings, a clock and a database."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fieldbot.clock import Clock
from fieldbot.config import ConfigError, Settings
from fieldbot.crypto import Cipher
from fieldbot.domain.policy import Policy
from fieldbot.domain.risk import RegisterEntry
from fieldbot.geo.gazetteer import INDEX_FILE, OfflineGeocoder
from fieldbot.geo.register import RiskRegister
from fieldbot.geo.resolver import PlaceResolver
from fieldbot.policy_file import load_policy
from fieldbot.services.board import BoardService
from fieldbot.services.checkins import CheckinService
from fieldbot.services.enrolment import EnrolmentService
from fieldbot.services.escalation import EscalationService
from fieldbot.services.hazards import HazardService, VerifiedHazards
from fieldbot.services.inbox import UpdateInbox
from fieldbot.services.outbox import Messenger, OutboxSender
from fieldbot.services.photos import PhotoStore
from fieldbot.services.privacy import PrivacyService
from fieldbot.services.report import ReportService
from fieldbot.services.risk import RiskService
from fieldbot.services.trips import TripService
from fieldbot.storage import outbox
from fieldbot.storage.advisories import AdvisoryStore
from fieldbot.storage.db import Database

MAX_TICK_ROUNDS = 5
MAX_SWEEP_BATCHES = 40
TICK_SECONDS = 30.0  # one tick's work budget; what is left is due at once (the next tick)
UNRECORDED_WARN_EVERY = timedelta(hours=1)


class NoRegister:
    """No register file configured: the organisation adds no entries of its own."""

    def entries(self, now: datetime) -> list[RegisterEntry]:
        return []


@dataclass
class Services:
    settings: Settings
    clock: Clock
    db: Database
    policy: Policy
    enrolment: EnrolmentService
    advisories: AdvisoryStore
    risk: RiskService
    trips: TripService
    escalation: EscalationService
    checkins: CheckinService
    resolver: PlaceResolver
    hazards: HazardService
    cipher: Cipher
    privacy: PrivacyService
    board: BoardService
    reports: ReportService
    inbox: UpdateInbox
    sender: OutboxSender | None = field(default=None)
    # When each alert's unrecordable failure was last told to the admins (in memory: the
    # database is what failed).
    _warned: dict[int, datetime] = field(default_factory=dict)

    async def start(self) -> None:
        """Open the database and apply migrations (idempotent); build the place index.

        Every process does this, the operator's commands too: it never touches the sender's
        state, which belongs to the running bot (see `recover_sender`)."""
        await self.db.connect()
        await asyncio.to_thread(self.resolver.gazetteer.warm)

    async def recover_sender(self) -> None:
        """The bot's start-up only: re-send what a crash cut off mid-send.

        One process sends (Telegram's 409 stops a second poller), so anything still marked
        "sending" when the bot starts was cut off by a crash: send it again now rather than
        after the claim timeout. At-least-once: the recipient may see it twice, labelled with
        its alert id. Any other process (`fieldbot invite`, ...) would take a running bot's
        claims away and make it send them twice."""
        async with self.db.transaction() as conn:
            await outbox.release_claims(conn)
        self.resolver.gazetteer.warm_in_background()  # a first start builds it: seconds

    async def stop(self) -> None:
        if self.db.is_open:
            await self.inbox.flush()
        await self.db.close()

    def attach_messenger(self, messenger: Messenger) -> OutboxSender:
        """Give the outbox its way out (the Telegram layer) once the bot exists."""
        sender = OutboxSender(self.db, self.clock, messenger, self.cipher)
        sender.on_permanent_failure += [self.escalation.on_delivery_failed,
                                        self.trips.on_delivery_failed]
        self.sender = sender
        return sender

    async def deliver(self) -> None:
        """Send what is waiting in the outbox now. If a bulk drain is under way, send the
        urgent rows (SOS, escalations) beside it rather than behind its current batch."""
        if self.sender is None:
            return
        if self.sender.busy:
            await self.sender.drain_urgent()
        else:
            await self.sender.drain()

    async def tick(self) -> datetime | None:
        """Sweep and deliver until nothing more is due now; return when to wake next.

        A permanent delivery failure can make a step due at once (skip to the next tier),
        hence the few rounds. The work is bounded (rounds, batches, TICK_SECONDS and the
        sender's own share): a tick always returns, and the heartbeat stays fresh.
        """
        await asyncio.to_thread(write_heartbeat, self.settings.heartbeat_file, self.clock.now())
        await self.privacy.purge_if_due()
        await self.inbox.flush()
        give_up_at = time.monotonic() + TICK_SECONDS  # a work budget, not a wall-clock time
        for _ in range(MAX_TICK_ROUNDS):
            # Everything due is turned into outbox rows before sending, so the outbox can
            # put SOS first across the whole backlog rather than within one batch; each
            # sweep decides alert steps whatever the number of nights due.
            for _ in range(MAX_SWEEP_BATCHES):
                report = await self.escalation.sweep()
                if report.unrecorded:
                    await self._warn_unrecorded(report.unrecorded)
                if not report.saturated or time.monotonic() > give_up_at:
                    break
            if self.sender is not None:
                await self.sender.drain()
            due = await self.escalation.next_due()
            if due is None or due > self.clock.now() or time.monotonic() > give_up_at:
                return due
        return await self.escalation.next_due()

    async def _warn_unrecorded(self, alert_ids: tuple[int, ...]) -> None:
        """Tell the admins, past the outbox, of steps failing where the database could not
        even note it (disk full); at most once an hour per alert."""
        if self.sender is None:
            return
        now = self.clock.now()
        due = [a for a in alert_ids if now - self._warned.get(a, datetime.min.replace(
            tzinfo=UTC)) >= UNRECORDED_WARN_EVERY]
        if not due:
            return
        admins = await self.escalation.admin_ids()
        for alert_id in due:
            self._warned[alert_id] = now
            for admin in admins:
                await self.sender.send_unrecorded(admin, "admin_step_failed",
                                                  {"alert": f"A-{alert_id}"})


def write_heartbeat(path: Path, now: datetime) -> None:
    """Record that the sweep ran (read by `fieldbot health`, the container's HEALTHCHECK)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(now.isoformat(), encoding="utf-8")


def build_services(
    settings: Settings, clock: Clock, *, gazetteer: OfflineGeocoder | None = None
) -> Services:
    """Wire the core services; nothing is opened until `start()`."""
    db = Database(settings.db)
    cipher = Cipher(key=settings.encryption_key, key_file=settings.key_path)
    privacy = PrivacyService(db, clock, cipher, settings.retention, settings.data_dir)
    db.on_open.append(privacy.unlock)  # whoever opens the database first proves the key
    policy = load_policy(settings.policy)
    if settings.geocoder == "nominatim" and not settings.operator_contact:
        raise ConfigError(
            "FIELDBOT_OPERATOR_CONTACT: required with FIELDBOT_GEOCODER=nominatim (its usage "
            "policy asks for a contact in the user agent)"
        )
    # One gazetteer may serve several bot instances in one process (tests, benchmarks); the
    # bot's own reads the place index file in the data folder (built at first start).
    gazetteer = gazetteer or OfflineGeocoder(index_path=settings.data_dir / INDEX_FILE)
    resolver = PlaceResolver(gazetteer, online=settings.geocoder == "nominatim",
                             operator_contact=settings.operator_contact)
    register = RiskRegister(settings.risk_register) if settings.risk_register else NoRegister()
    advisories = AdvisoryStore(db)
    risk = RiskService(resolver, advisories, register, VerifiedHazards(db, clock, cipher), clock)
    escalation = EscalationService(db, clock, policy, cipher)
    return Services(
        settings=settings,
        clock=clock,
        db=db,
        policy=policy,
        enrolment=EnrolmentService(db, clock, settings.admin_ids, settings.invite_ttl,
                                    cipher),
        advisories=advisories,
        risk=risk,
        trips=TripService(db, clock, policy, risk, cipher),
        escalation=escalation,
        checkins=CheckinService(db, clock, policy, escalation, cipher),
        resolver=resolver,
        hazards=HazardService(db, clock, PhotoStore(settings.data_dir, cipher), cipher),
        cipher=cipher,
        privacy=privacy,
        board=BoardService(db, clock, policy, cipher),
        reports=ReportService(db, clock, cipher),
        inbox=UpdateInbox(db, clock, cipher),
    )
