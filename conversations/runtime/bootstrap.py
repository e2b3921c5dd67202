"""The composition root: settings, clock and request in; a wired PTB Application out."""

from __future__ import annotations

import logging
import warnings
from datetime import timedelta
from typing import Any

import httpx
from telegram import Update
from telegram.error import BadRequest, NetworkError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ContextTypes,
    TypeHandler,
)
from telegram.request import BaseRequest, HTTPXRequest
from telegram.warnings import PTBUserWarning

from conversations import i18n
from conversations.context import BotContext, BotData
from conversations.flows import (
    alerts,
    checkin,
    contacts,
    dashboard,
    drill,
    hazard,
    incident,
    invite,
    lessons,
    privacy,
    reachability,
    review,
    rollcall,
    rollcall_actions,
    start,
    team,
    trip,
    visit,
)
from conversations.flows import base as flows
from conversations.render import menus
from conversations.runtime.channels import ChannelRouter
from conversations.runtime.followups import Followups
from conversations.runtime.guard import guard
from conversations.runtime.inbox import DurableUpdateQueue
from conversations.runtime.messenger import TelegramMessenger
from conversations.runtime.persistence import StatePersistence
from conversations.runtime.pollwatch import PollWatch
from conversations.runtime.ratelimit import PriorityRateLimiter
from conversations.runtime.updates import PriorityUpdateProcessor
from fieldbot.channels.base import Channels
from fieldbot.clock import Clock
from fieldbot.config import Settings
from fieldbot.geo.gazetteer import OfflineGeocoder
from fieldbot.scheduler import Scheduler
from fieldbot.services.advisories import AdvisoryService
from fieldbot.services.container import Services, build_services
from fieldbot.services.leadership import FencedMessenger, Leadership
from fieldbot.services.state import StateStore

log = logging.getLogger(__name__)

# Our conversations are per user on purpose: a button continues the flow of whoever pressed it.
warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)

FieldbotApp = Application[Any, BotContext, dict[Any, Any], dict[Any, Any], BotData, Any]



def build_application(
    settings: Settings,
    clock: Clock,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    rate_limit: bool = True,
    limiter: PriorityRateLimiter | None = None,
    persistence_interval: float = 5,
    gazetteer: OfflineGeocoder | None = None,
    channels: Channels | None = None,
    leadership: Leadership | None = None,
) -> FieldbotApp:
    """Wire services and handlers into an Application; nothing connects until initialize().

    `channels`: adapters beyond Telegram (tests and the demo: fakes), else from settings;
    `leadership`: the instance's own (on PostgreSQL, the lock this instance holds)."""
    if settings.token is None:
        raise ValueError("FIELDBOT_TOKEN is required to run the bot (or use `fieldbot demo`)")
    services = build_services(settings, clock, gazetteer=gazetteer, channels=channels)
    if leadership is not None:
        services.leadership = leadership
    queue = DurableUpdateQueue()
    queue.inbox = services.inbox
    builder = (
        ApplicationBuilder()
        .token(settings.token.get_secret_value())
        .base_url(settings.bot_base_url)
        .base_file_url(settings.bot_file_url)
        .context_types(ContextTypes(context=BotContext, bot_data=BotData))
        .persistence(StatePersistence(StateStore(services.db), services.cipher,
                                       update_interval=persistence_interval))
        .update_queue(queue)
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
    )
    # Most urgent first (SOS before replies before reminders). No retries in the limiter: the
    # outbox retries with its own backoff on our clock. Unthrottled (tests, the demo) still
    # goes through the same limiter, with a budget nobody reaches.
    if limiter is None:  # else the caller's (a test's, with its own clock)
        limiter = PriorityRateLimiter() if rate_limit else PriorityRateLimiter(1e9, burst=10**9)
    builder = builder.rate_limiter(limiter)  # type: ignore[arg-type]
    processor = PriorityUpdateProcessor(on_handled=services.inbox.handled)
    builder = builder.concurrent_updates(processor)
    if request is None or get_updates_request is None:
        # PTB's own two connections (pool sizes as its defaults), sharing one TLS context:
        # each takes 35-50 ms to build (the CA bundle read), a twentieth of a start.
        tls = httpx.create_ssl_context()
        request = request or HTTPXRequest(connection_pool_size=256, httpx_kwargs={"verify": tls})
        get_updates_request = get_updates_request or HTTPXRequest(
            connection_pool_size=1, httpx_kwargs={"verify": tls})
    poll_watch = PollWatch(get_updates_request)
    builder = builder.request(request).get_updates_request(poll_watch)
    app: FieldbotApp = builder.build()
    app.bot_data.services = services
    app.bot_data.followups = Followups()
    app.bot_data.poll_watch = poll_watch

    async def telegram_answered() -> None:  # any reply or message sent, not only the outbox's
        reach = services.reach
        if reach.telegram_suspect:
            await reach.telegram_ok()

    limiter.on_sent = telegram_answered
    # Fenced: on PostgreSQL nothing leaves once this instance is no longer the leader, on
    # any channel.
    telegram = TelegramMessenger(app.bot, services.enrolment, services.trips, services.hazards)
    services.attach_messenger(FencedMessenger(ChannelRouter(telegram, services),
                                              services.leadership))
    install_handlers(app)
    return app


GUARD_GROUP = -2  # who is asking, and may they: before anything else
FLOWS_GROUP = -1  # then lapsed or superseded questions end, before any handler sees the update


def install_handlers(app: FieldbotApp) -> None:
    """Register the guard first, then the questions' gate, then each flow's handlers."""
    app.add_handler(TypeHandler(Update, guard), group=GUARD_GROUP)
    reachability.register(app)
    start.register(app)
    invite.register(app)
    trip.register(app)  # before checkin: a pin mid-/trip or mid-/risk is a destination
    hazard.register(app)  # before checkin too: a pin mid-/hazard is its location
    contacts.register(app)  # before checkin: a number or code typed is the answer asked for
    visit.register(app)  # before checkin too: a pin mid-/visit is the visit's place
    incident.register(app)  # before checkin (its text is an answer) and the alerts' Resolve
    review.register(app)
    rollcall.register(app)  # before checkin too: a pin mid-/rollcall is its place
    rollcall_actions.register(app)
    checkin.register(app)
    lessons.register(app)
    drill.register(app)
    alerts.register(app)
    team.register(app)
    dashboard.register(app)
    privacy.register(app)
    start.register_fallbacks(app)  # last: only what no flow above handled
    questions = [h for h in app.handlers.get(0, []) if isinstance(h, flows.Flow)]
    app.add_handler(TypeHandler(Update, flows.gate(questions)), group=FLOWS_GROUP)
    app.add_error_handler(_on_error)


async def start_core(app: FieldbotApp) -> None:
    """What runs whether Telegram answers or not: the database, the place index, and what a
    crash cut off mid-send claimed for sending again (the running bot only: never an
    operator's command)."""
    services: Services = app.bot_data.services
    await services.start()
    await services.recover_sender()


async def _post_init(app: FieldbotApp) -> None:
    services: Services = app.bot_data.services
    await start_core(app)  # again if a start without Telegram ran it: both are idempotent
    # Updates a killed process had taken from Telegram but not finished: handled first.
    assert isinstance(app.update_queue, DurableUpdateQueue)
    await app.update_queue.replay(app.bot)
    if app.job_queue is not None:
        app.bot_data.scheduler = Scheduler(
            app.job_queue, services.sweeper.tick, services.settings.sweep_interval
        )
        app.bot_data.scheduler.start()
        scheduler = app.bot_data.scheduler
        # A call unanswered or an SMS undelivered moves the ladder on now, not at the next tick.
        services.reach.wake = lambda: scheduler.wake_at(services.clock.now())
        if services.settings.advisory_refresh:
            app.job_queue.run_repeating(
                _refresh_advisories, interval=timedelta(days=1), first=timedelta(seconds=10),
                name="advisory-refresh", job_kwargs={"misfire_grace_time": 3600, "coalesce": True},
            )
        app.job_queue.run_repeating(  # acts once a month, early on the 1st (UTC)
            team.send_monthly_reports, interval=timedelta(hours=1), first=timedelta(minutes=2),
            name="monthly-report", job_kwargs={"misfire_grace_time": 3600, "coalesce": True},
        )


async def publish_commands(app: FieldbotApp) -> None:
    """The command menu everyone sees, in each language (a person's own role's menu is set
    when they enrol)."""
    for language in i18n.LANGUAGES:
        t = i18n.Texts(language)
        commands = menus.commands(t, menus.EVERYONE)
        await app.bot.set_my_commands(
            commands, language_code=None if language == "en" else language
        )


async def _refresh_advisories(context: BotContext) -> None:
    """The online refresh of the official advisory feeds, soon after start and then daily
    (FIELDBOT_ADVISORY_REFRESH=false turns it off). A feed that fails keeps its last good
    copy and is tried again the next day."""
    services = context.bot_data.services
    loader = AdvisoryService(services.advisories, services.clock)
    async with httpx.AsyncClient(headers={"User-Agent": "fieldbot/0.1"}) as client:
        counts = await loader.refresh(client)
    log.info("advisories refreshed: %s", counts)


async def _post_stop(app: FieldbotApp) -> None:
    await app.bot_data.followups.cancel()  # before the bot and its rate limiter shut down


async def _post_shutdown(app: FieldbotApp) -> None:
    services = app.bot_data.services
    await services.stop()
    if not services.settings.postgres:
        # The one bot stopped on purpose: `fieldbot health` says so at once, not minutes later
        # when its last heartbeat has aged (a kill leaves it to age, as before). On PostgreSQL
        # a leader that stands down goes on as a standby, which keeps its own heartbeat.
        services.settings.heartbeat_file.unlink(missing_ok=True)


async def _on_error(update: object, context: BotContext) -> None:
    """Log the failure by update id only (never user data) and apologise to the sender."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("handler failed for update %s", update_id, exc_info=context.error)
    if isinstance(context.error, NetworkError) and not isinstance(context.error, BadRequest):
        # A reply that Telegram could not take (timeout, 5xx): Telegram may be going down. A
        # refusal (400: "message is not modified", an old query) is an answer, not an outage.
        await context.bot_data.services.reach.telegram_failed()
    if isinstance(update, Update) and update.effective_chat is not None:
        language = context.member.language if context.has_member else "en"
        try:
            await context.bot.send_message(
                update.effective_chat.id, i18n.text(language, "error.generic")
            )
        except Exception:  # noqa: BLE001 - already failing; the log line above says why
            log.warning("could not apologise for update %s", update_id)
