"""What the bot serves over HTTP: the Telegram webhook (webhook mode), provider callbacks,
acknowledgement links and /healthz, on the one server of `fieldbot.web.server`.

Another part of the bot adds its pages with `extra` (e.g. `Mount("/desk", desk_app)`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from starlette.routing import BaseRoute

from conversations.runtime.bootstrap import FieldbotApp
from conversations.web.desk import desk_routes
from conversations.web.links import link_routes
from conversations.web.telegram import webhook_route
from conversations.web.twilio import twilio_routes
from fieldbot.web.server import WebServer, build_web, health_route


@dataclass(frozen=True, slots=True)
class Webhook:
    """Where Telegram posts updates on our server, and the secret it sends with each."""

    secret: str
    path: str = "/telegram"


def web_routes(app: FieldbotApp, *, webhook: Webhook | None = None) -> list[BaseRoute]:
    """Return the bot's own routes: /healthz, the webhook if asked, the channels' callbacks."""
    services = app.bot_data.services
    settings = services.settings
    routes: list[BaseRoute] = [
        health_route(settings.heartbeat_file, services.clock, settings.sweep_interval)
    ]
    if webhook is not None:
        routes.append(webhook_route(app, webhook.secret, webhook.path))
    if settings.twilio_auth_token is not None and settings.public_url:
        # Twilio signs what it called: without our public address nothing can be checked,
        # so no Twilio route exists (check-config warns).
        routes += twilio_routes(services, settings.twilio_auth_token.get_secret_value(),
                                settings.public_url)
    if "email" in services.reach.live:
        routes += link_routes(services, settings.public_url)
    return routes


def mounted(app: FieldbotApp) -> list[BaseRoute]:
    """Pages other parts of the bot serve on the same server (ours are matched first): the
    safety desk page at /desk."""
    return desk_routes(app)


def web_server(
    app: FieldbotApp, host: str, port: int, *, webhook: Webhook | None = None,
    extra: Sequence[BaseRoute] = (),
) -> WebServer:
    """Return the bot's HTTP server (not yet listening): our routes, then `mounted(app)`,
    then `extra`."""
    return WebServer(build_web(web_routes(app, webhook=webhook), [*mounted(app), *extra]),
                     host, port)
