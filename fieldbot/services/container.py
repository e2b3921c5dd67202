"""The core's composition: every service built once from settings, a clock and a database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

from fieldbot.channels.base import Channels
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
from fieldbot.services.contacts import ContactService
from fieldbot.services.desk import DeskService, OpenRollCalls
from fieldbot.services.drills import DrillService
from fieldbot.services.enrolment import EnrolmentService
from fieldbot.services.escalation import EscalationService
from fieldbot.services.hazards import HazardService, VerifiedHazards
from fieldbot.services.inbox import UpdateInbox
from fieldbot.services.incident_deadlines import IncidentDeadlines
from fieldbot.services.incidents import IncidentService
from fieldbot.services.keys import KeyService
from fieldbot.services.leadership import Leadership
from fieldbot.services.lessons import LessonService
from fieldbot.services.outbox import Messenger, OutboxSender
from fieldbot.services.photos import PhotoStore
from fieldbot.services.privacy import PrivacyService
from fieldbot.services.reach import ReachService
from fieldbot.services.report import ReportService
from fieldbot.services.risk import RiskService
from fieldbot.services.rollcall import RollcallService
from fieldbot.services.rollcall_sweep import RollcallSweep
from fieldbot.services.sweeper import Sweeper
from fieldbot.services.trips import TripService
from fieldbot.services.visits import VisitService
from fieldbot.storage import contacts as contact_points
from fieldbot.storage import outbox
from fieldbot.storage.advisories import AdvisoryStore
from fieldbot.storage.db import Database


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
    keys: KeyService
    privacy: PrivacyService
    board: BoardService
    reports: ReportService
    inbox: UpdateInbox
    sweeper: Sweeper
    channels: Channels  # the adapters beyond Telegram this deployment has
    contacts: ContactService
    reach: ReachService
    visits: VisitService
    incidents: IncidentService  # crisis response, DESIGN.md §12
    lessons: LessonService
    drills: DrillService
    rollcall: RollcallService
    rollcall_sweep: RollcallSweep
    leadership: Leadership
    desk: DeskService
    sender: OutboxSender | None = field(default=None)

    async def open(self) -> None:
        """Open the database and apply migrations (idempotent): all an operator's command
        needs. It never touches the sender's state, which belongs to the running bot (see
        `recover_sender`)."""
        await self.db.connect()

    async def start(self) -> None:
        """Open the core for serving people: the database, and the place index in the
        background. A first start builds the index, which takes seconds: only a place lookup
        waits for it (in a worker thread), never polling, an SOS or the ladder's sweeps."""
        await self.open()
        await self.reach.start()
        self.resolver.gazetteer.warm_in_background()

    async def recover_sender(self) -> None:
        """The bot's start-up only: re-send what a crash cut off mid-send.

        One process sends (the leader on PostgreSQL; Telegram's 409 stops a second poller), so
        anything still marked "sending" when the bot starts was cut off by a crash (or by the
        previous leader's death): send it again now rather than
        after the claim timeout. At-least-once: the recipient may see it twice, labelled with
        its alert id. Any other process (`fieldbot invite`, ...) would take a running bot's
        claims away and make it send them twice."""
        async with self.db.transaction() as conn:
            await outbox.release_claims(conn)

    async def stop(self) -> None:
        if self.db.is_open:
            await self.inbox.flush()
        await self.db.close()
        await self.channels.aclose()

    def attach_messenger(self, messenger: Messenger) -> OutboxSender:
        """Give the outbox its way out (the Telegram layer) once the bot exists."""
        sender = OutboxSender(self.db, self.clock, messenger, self.cipher)
        sender.on_permanent_failure += [self.escalation.on_delivery_failed,
                                        self.trips.on_delivery_failed,
                                        self.rollcall_sweep.on_delivery_failed,
                                        self.visits.on_delivery_failed]
        sender.on_not_reached.append(self.escalation.on_not_reached)
        self.sender = self.sweeper.sender = sender
        return sender

    async def deliver(self, *, urgent: bool = False) -> None:
        """Send what is waiting in the outbox now. If a bulk drain is under way, send the
        urgent rows (SOS, escalations) beside it rather than behind its current batch.

        `urgent`: send only those, never the bulk: for a handler whose own answer follows
        (the SOS receipt must not wait while its handler drains a roll-call's questions)."""
        if self.sender is None:
            return
        if urgent or self.sender.busy:
            await self.sender.drain_urgent()
        else:
            await self.sender.drain()


def build_services(
    settings: Settings,
    clock: Clock,
    *,
    gazetteer: OfflineGeocoder | None = None,
    channels: Channels | None = None,
) -> Services:
    """Wire the core services; nothing is opened until `start()`. `channels` defaults to
    those the settings configure (tests and the demo give theirs, on fake transports)."""
    if channels is None:
        from fieldbot.channels.build import build_channels

        channels = build_channels(settings, clock=clock)
    db = Database(settings.db)
    cipher = Cipher(key=settings.encryption_key, key_file=settings.key_path)
    keys = KeyService(db, clock, cipher, settings.data_dir)
    db.on_open.append(keys.unlock)  # whoever opens the database first proves the key
    privacy = PrivacyService(db, clock, cipher, settings.retention, settings.data_dir)
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
    privacy.release_held = escalation.release_held
    inbox = UpdateInbox(db, clock, cipher)
    enrolment = EnrolmentService(db, clock, settings.admin_ids, settings.invite_ttl, cipher)
    enrolment.on_role_changed.append(escalation.release_unable)
    contacts = ContactService(db, clock, cipher, channels)
    reach = ReachService(db, clock, policy, cipher, escalation, enrolment,
                         live=frozenset(channels.live()),
                         points=lambda tx, uid: contact_points.get(tx, uid, cipher),
                         phone_owner=lambda tx, phone: contact_points.user_by_phone(
                             tx, phone, cipher))
    sweeper = Sweeper(clock, escalation, privacy, inbox, settings.heartbeat_file,
                      contacts=contacts)
    sweeper.checks.append(reach.check_telegram)
    drills = DrillService(db, clock, policy, cipher, escalation)
    deadlines = IncidentDeadlines(db, clock, policy, cipher, settings.default_tz)
    sweeper.lifecycles += [deadlines, drills]
    rollcall_sweep = RollcallSweep(db, clock, policy, cipher, reach.fanout, settings.default_tz)
    rollcall = RollcallService(db, clock, policy, cipher, resolver, settings.default_tz)
    sweeper.parts.append(rollcall_sweep)
    return Services(
        settings=settings,
        clock=clock,
        db=db,
        policy=policy,
        enrolment=enrolment,
        advisories=advisories,
        risk=risk,
        trips=TripService(db, clock, policy, risk, cipher, max_days=settings.max_trip_days),
        escalation=escalation,
        checkins=CheckinService(db, clock, policy, escalation, cipher),
        resolver=resolver,
        hazards=HazardService(db, clock, PhotoStore(settings.data_dir, cipher), cipher),
        cipher=cipher,
        keys=keys,
        privacy=privacy,
        board=BoardService(db, clock, policy, cipher),
        reports=ReportService(db, clock, cipher),
        inbox=inbox,
        sweeper=sweeper,
        channels=channels,
        contacts=contacts,
        reach=reach,
        incidents=IncidentService(db, clock, policy, cipher, escalation),
        lessons=LessonService(db, cipher),
        drills=drills,
        visits=VisitService(db, clock, policy, escalation, cipher, settings.default_tz),
        rollcall=rollcall,
        rollcall_sweep=rollcall_sweep,
        leadership=Leadership(settings, clock),
        desk=DeskService(db, clock, cipher, OpenRollCalls(rollcall)),
    )


@asynccontextmanager
async def opened(settings: Settings, clock: Clock) -> AsyncIterator[Services]:
    """The core with its database open, for one operator's command: no place index, no
    sender state (those belong to the running bot); closed again however the command ends."""
    services = build_services(settings, clock)
    await services.open()
    try:
        yield services
    finally:
        await services.stop()
