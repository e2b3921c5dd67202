"""The safety desk page as a Starlette application, mounted by the bot's HTTP server at /desk.

Every request is authenticated first: a login with Telegram's signed `initData` (or a one-time
link) opens a short-lived session (an HttpOnly, Secure, SameSite=Strict cookie); every action
also carries the session's CSRF token in a header, and a POST from another origin is refused.
Actions call the same services as the chat's buttons. Logs carry ids only.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import xstatic.pkg.leaflet
from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from telegram import Bot
from telegram.error import TelegramError

from conversations.i18n import LANGUAGES, Texts
from conversations.render import keyboards
from conversations.render.chart import chart_words
from conversations.web.desk import initdata
from conversations.web.desk.view import page_texts, snapshot
from fieldbot.domain.members import Member
from fieldbot.domain.report import Month
from fieldbot.services.container import Services
from fieldbot.services.desk import DeskRefused, DeskSession, csrf_for
from fieldbot.services.escalation import AlertActionError
from fieldbot.services.hazards import HazardDecisionError

log = logging.getLogger(__name__)

COOKIE = "fieldbot_desk"
CSRF_HEADER = "x-desk-csrf"
STATIC = Path(str(resources.files("conversations") / "web" / "desk" / "static"))
LEAFLET = Path(xstatic.pkg.leaflet.BASE_DIR)
_MONTH = re.compile(r"^\d{4}-\d{2}$")
MAX_ID = 2**63 - 1  # SQLite's INTEGER: a longer number in a forged path is simply unknown


class IdConvertor(Convertor[int]):
    """An id in a path, beyond MAX_ID simply unknown. Starlette's `int` reads any length, and
    Python refuses to read over 4,300 digits: a forged path was a 500 and a traceback."""

    regex = "[0-9]+"

    def convert(self, value: str) -> int:
        return MAX_ID if len(value) > len(str(MAX_ID)) else min(int(value), MAX_ID)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id", IdConvertor())

Handler = Callable[[Request, DeskSession], Awaitable[Response]]


def content_security_policy(tiles: str) -> str:
    """No inline script or style, nothing from elsewhere but the map tiles' origin(s): a
    subdomain template ({s}.tile.example.org) as a wildcard, one inside a label
    (tile-{s}.example.net, which CSP cannot wildcard) as Leaflet's three, a, b and c."""
    tile_origin = ""
    if tiles:
        parts = urlsplit(tiles)
        host = parts.netloc
        if host.startswith("{s}."):
            hosts = ["*." + host.removeprefix("{s}.")]
        elif "{s}" in host:
            hosts = [host.replace("{s}", sub) for sub in "abc"]
        else:
            hosts = [host]
        tile_origin = "".join(f" {parts.scheme}://{h}" for h in hosts)
    return ("default-src 'none'; script-src 'self'; style-src 'self'; "
            f"img-src 'self' data:{tile_origin}; connect-src 'self'; base-uri 'none'; "
            "form-action 'none'; frame-ancestors 'self' https://web.telegram.org")


class SecurityHeaders:
    """Add the page's security headers to every response (static files included)."""

    def __init__(self, app: ASGIApp, csp: str) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", csp.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"cache-control", b"no-store"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + self.headers
            await send(message)

        await self.app(scope, receive, with_headers)


MAX_BODY = 16 * 1024  # initData is under 1 KB; nothing the page sends is larger


async def _json(request: Request) -> Any:
    """Return the request's JSON body, or None if it is not JSON or too long (read no more
    than MAX_BODY bytes of it, whatever Content-Length says)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return None
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


def _refused(reason: str, status: int = 401) -> JSONResponse:
    return JSONResponse({"error": reason}, status_code=status)


def same_origin(request: Request, public_url: str | None) -> bool:
    """A POST must come from this page: its Origin (if the browser sends one) is the host
    asked for, or the public address (a reverse proxy may pass another Host on)."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = urlsplit(origin).netloc
    return host == request.headers.get("host", "") or (
        public_url is not None and host == urlsplit(public_url).netloc)


class DeskApp:
    """The routes, given the core's services and the bot (to update chat messages)."""

    def __init__(self, services: Services, bot: Bot | None) -> None:
        self.services = services
        self.bot = bot

    def _same_origin(self, request: Request) -> bool:
        return same_origin(request, self.services.settings.public_url)

    # --- sessions ---------------------------------------------------------------------------

    async def login(self, request: Request) -> Response:
        """Open a session from Telegram's initData or a one-time link token."""
        if not self._same_origin(request):
            return _refused("origin", 403)
        body = await _json(request)
        if not isinstance(body, dict):
            return _refused("malformed", 400)
        try:
            session = await self._open(body)
        except initdata.InitDataError as exc:
            log.info("desk login refused: init data %s", exc.reason)
            return _refused("telegram")
        except DeskRefused as exc:
            log.info("desk login refused: %s", exc.reason)
            return _refused(exc.reason, 403 if exc.reason == "role" else 401)
        response = JSONResponse({"csrf": session.csrf, "language": session.member.language})
        response.set_cookie(
            COOKIE, session.token, max_age=int((session.expires - self.services.clock.now())
                                               .total_seconds()),
            path=_base(request), secure=True, httponly=True, samesite="strict",
        )
        return response

    async def _open(self, body: dict[str, Any]) -> DeskSession:
        desk = self.services.desk
        link, data = body.get("link"), body.get("init_data")
        if isinstance(link, str) and 0 < len(link) <= 128:
            return await desk.open_with_link(link)
        if isinstance(data, str):
            token = self.services.settings.token
            if token is None:
                raise DeskRefused("unknown")
            user = initdata.verify(data, token.get_secret_value(), self.services.clock.now())
            return await desk.open_for(user.id)
        raise DeskRefused("unknown")

    async def logout(self, request: Request) -> Response:
        token = request.cookies.get(COOKIE)
        if token and _csrf_ok(request, token):
            await self.services.desk.close(token)
        response = JSONResponse({"ok": True})
        response.delete_cookie(COOKIE, path=_base(request), secure=True, httponly=True,
                               samesite="strict")
        return response

    def authed(self, handler: Handler, *, action: bool = False) -> Callable[
            [Request], Awaitable[Response]]:
        """Wrap a handler: a live session first; for an action, the same origin and the
        session's CSRF token in the header too."""

        async def endpoint(request: Request) -> Response:
            token = request.cookies.get(COOKIE)
            if not token:
                return _refused("expired")
            if action and not (self._same_origin(request) and _csrf_ok(request, token)):
                return _refused("csrf", 403)
            try:
                session = await self.services.desk.session(token)
            except DeskRefused as exc:
                return _refused(exc.reason, 403 if exc.reason == "role" else 401)
            return await handler(request, session)

        return endpoint

    # --- what the page shows ----------------------------------------------------------------

    async def state(self, request: Request, session: DeskSession) -> Response:
        """The page's data; each change of whom it shows is audited (not every poll)."""
        member = session.member
        team = request.query_params.get("team") or None
        shown = await snapshot(self.services, member, team)
        if await self.services.desk.shown_changed(session, shown.digest):
            await self.services.desk.record(member, "desk_view", None,
                                            f"people={len(shown.people)}"
                                            f" alerts={len(shown.alerts)}")
            await self.services.desk.record_views(member, "view_board", shown.people)
            await self.services.desk.record_views(member, "view_alerts", shown.alerts)
        return JSONResponse(shown.data)

    async def report(self, request: Request, session: DeskSession) -> Response:
        """The monthly charts (the same PNG as `fieldbot report`), as the viewer may see it."""
        reports = self.services.reports
        text = request.query_params.get("month", "")
        try:
            month = Month.parse(text) if _MONTH.match(text) else reports.current_month()
        except ValueError:
            month = reports.current_month()
        if month > reports.current_month():
            month = reports.current_month()
        png = await reports.chart(session.member, month,
                                  chart_words(Texts(session.member.language)))
        return Response(png, media_type="image/png")

    # --- actions: the same services as the chat's buttons -----------------------------------

    async def acknowledge(self, request: Request, session: DeskSession) -> Response:
        alert_id, member = request.path_params["alert_id"], session.member
        t = Texts(member.language)
        try:
            a = await self.services.escalation.acknowledge(alert_id, member)
        except AlertActionError as exc:
            return await self._alert_refused(t, exc, session)
        await self.services.desk.record(member, "desk_alert_ack", a.user_id, f"alert={a.id}")
        await self._update_chat(member.id, alert_id,
                                keyboards.resolve_reasons(t, alert_id), last_only=True)
        await self.services.drills.settle_alert(a.id)  # a drill's last answer ends it now
        await self.services.deliver()
        return JSONResponse({"ok": True, "message": t.toast("alert.acked_you", alert=a.label)})

    async def resolve(self, request: Request, session: DeskSession) -> Response:
        alert_id, member = request.path_params["alert_id"], session.member
        t = Texts(member.language)
        body = await _json(request)
        reason = body.get("reason") if isinstance(body, dict) else None
        if reason not in keyboards.RESOLVE_REASONS:
            return JSONResponse({"error": "reason", "message": t.toast("desk.err.reason")},
                                status_code=400)
        try:
            a = await self.services.escalation.resolve(alert_id, member, str(reason))
        except AlertActionError as exc:
            return await self._alert_refused(t, exc, session)
        await self.services.desk.record(member, "desk_alert_resolve", a.user_id,
                                        f"alert={a.id} reason={reason}")
        await self._update_chat(member.id, alert_id, None, last_only=False)
        await self.services.drills.settle_alert(a.id)  # a drill's last answer ends it now
        await self.services.deliver()
        if reason == "incident" and await self._ask_incident(member, a.id, a.label, t):
            # The chat's Resolve opens the incident's questions; the page cannot ask them:
            # the chat is sent the button that does (the deadlines start once it is recorded).
            return JSONResponse({"ok": True, "message": t.toast(
                "desk.resolved_incident", alert=a.label)})
        return JSONResponse({"ok": True,
                             "message": t.toast("alert.resolved_you", alert=a.label)})

    async def _ask_incident(self, member: Member, alert_id: int, label: str, t: Texts) -> bool:
        """Send the lead's chat the button that records the incident behind the alert."""
        if self.bot is None:
            return False
        try:
            await self.bot.send_message(
                member.id, t("desk.record_incident", alert=label), parse_mode="HTML",
                reply_markup=keyboards.rows([(t("incident.button.from_alert", alert=label),
                                              f"incident:alert:{alert_id}")]))
        except TelegramError as exc:
            log.info("desk: the incident button for alert %s not sent (%s)", alert_id,
                     type(exc).__name__)
            return False
        return True

    async def _alert_refused(self, t: Texts, error: AlertActionError,
                             session: DeskSession) -> Response:
        name = "?"
        if error.by is not None:
            by = await self.services.enrolment.member(error.by)
            name = by.name if by else "?"
        return JSONResponse({"error": error.reason,
                             "message": t.toast(f"alert.err.{error.reason}", name=name)},
                            status_code=409)

    async def _update_chat(self, user_id: int, alert_id: int, markup: Any,
                           *, last_only: bool) -> None:
        """Change the buttons of the alert's messages in the person's own chat, as a press
        there would have (the others are told through the outbox, as always)."""
        if self.bot is None:
            return
        ids = await self.services.desk.alert_messages(alert_id, user_id)
        for message_id in ids[-1:] if last_only else ids:
            try:
                await self.bot.edit_message_reply_markup(chat_id=user_id, message_id=message_id,
                                                         reply_markup=markup)
            except TelegramError as exc:  # deleted, too old, not modified: the page still acted
                log.info("desk: buttons of message %s for alert %s left as they were (%s)",
                         message_id, alert_id, type(exc).__name__)

    async def hazard(self, request: Request, session: DeskSession) -> Response:
        hazard_id, member = request.path_params["hazard_id"], session.member
        decision = request.path_params["decision"]
        if decision not in ("verify", "dismiss"):
            return _refused("unknown", 404)
        verify, t = decision == "verify", Texts(member.language)
        try:
            decided = await self.services.hazards.decide(hazard_id, member, verify)
        except HazardDecisionError as exc:
            return JSONResponse({"error": exc.reason, "message": t.toast(
                f"hazards.err.{exc.reason}", by_name=exc.by_name)}, status_code=409)
        await self.services.desk.record(member, "desk_hazard", None,
                                        f"hazard={hazard_id} verified={int(verify)}")
        await self.services.deliver()
        return JSONResponse({"ok": True, "message": t.toast(
            "hazards.done.verified" if verify else "hazards.done.dismissed",
            id=decided.hazard.id, points=decided.points, notified=decided.notified)})


def _csrf_ok(request: Request, token: str) -> bool:
    sent = request.headers.get(CSRF_HEADER, "")
    return bool(sent) and hmac.compare_digest(sent, csrf_for(token))


def _base(request: Request) -> str:
    """The path the desk is mounted at (the cookie is sent there only)."""
    return (request.scope.get("root_path") or "").rstrip("/") + "/"


async def _index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")


async def _texts(request: Request) -> Response:
    language = request.path_params["language"]
    if language not in LANGUAGES:
        return _refused("language", 404)
    return JSONResponse(page_texts(language))


def desk_app(services: Services, bot: Bot | None = None) -> ASGIApp:
    """Return the desk page as an ASGI app to mount at /desk (see `conversations.web.desk`)."""
    desk = DeskApp(services, bot)
    routes = [
        Route("/", _index),
        Route("/api/texts/{language}", _texts),
        Route("/api/login", desk.login, methods=["POST"]),
        Route("/api/logout", desk.logout, methods=["POST"]),
        Route("/api/state", desk.authed(desk.state)),
        Route("/api/report.png", desk.authed(desk.report)),
        Route("/api/alerts/{alert_id:id}/ack", desk.authed(desk.acknowledge, action=True),
              methods=["POST"]),
        Route("/api/alerts/{alert_id:id}/resolve", desk.authed(desk.resolve, action=True),
              methods=["POST"]),
        Route("/api/hazards/{hazard_id:id}/{decision:str}",
              desk.authed(desk.hazard, action=True), methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC)),
        Mount("/vendor/leaflet", StaticFiles(directory=LEAFLET)),
    ]
    app = Starlette(routes=routes)
    return SecurityHeaders(app, content_security_policy(services.settings.desk_tiles))
