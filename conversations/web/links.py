"""The e-mailed acknowledgement link: GET shows a small page (nothing changes: mail scanners
open links), POST acknowledges through the one acknowledge service.

The token in the path is the credential (signed, expiring, single use; `services.links`):
no cookie or session exists that another site could ride on. A POST must carry the same token
in its form and must not come from another site (Origin, Sec-Fetch-Site), and the page may not
be framed.
"""

from __future__ import annotations

import html
import logging
from urllib.parse import parse_qsl, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from conversations.i18n import Texts
from conversations.runtime.channels import ACK_PATH
from fieldbot.services.container import Services
from fieldbot.services.reach import RemoteAck
from fieldbot.web.server import read_body

log = logging.getLogger(__name__)

HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    # The token must not leak to another site. Not "no-referrer": under it a browser sends the
    # page's own form POST with "Origin: null" (the Fetch standard), which looks like another
    # site's; "same-origin" sends nothing beyond this site and a real Origin to it.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
    "X-Content-Type-Options": "nosniff",
}
STATUS = {"ready": 200, "acknowledged": 200, "already": 409, "closed": 409, "used": 410,
          "expired": 410,
          "invalid": 404, "own": 403, "not_allowed": 403, "unknown": 404}
_STYLE = ("body{font:17px/1.5 system-ui,sans-serif;max-width:34em;margin:2em auto;"
          "padding:0 1em;color:#222}button{font-size:1.1em;padding:.6em 1.2em;"
          "background:#b3261e;color:#fff;border:0;border-radius:6px}")


def _page(t: Texts, body: str, status: int) -> HTMLResponse:
    lang = "zh-Hans" if t.language == "zh" else "en"
    document = (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
                '<meta name="viewport" content="width=device-width,initial-scale=1">'
                f"<title>{t('channel.page.title')}</title><style>{_STYLE}</style></head>"
                f"<body><h1>{t('channel.page.title')}</h1>{body}</body></html>")
    return HTMLResponse(document, status_code=status, headers=HEADERS)


def _outcome(t: Texts, done: RemoteAck) -> HTMLResponse:
    key = done.outcome if done.outcome in STATUS else "invalid"
    if key in ("own", "not_allowed", "unknown"):
        key = "refused"
    text = t(f"channel.page.{key}", alert=done.alert, by_name=done.by_name,
             name=done.subject_name)
    return _page(t, f"<p>{text}</p>", STATUS.get(done.outcome, 404))


def link_routes(services: Services, public_url: str | None) -> list[Route]:
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(public_url)) if public_url else None

    async def show(request: Request) -> Response:
        token = request.path_params["token"]
        view, _ = await services.reach.link(token)
        t = Texts(view.language)
        if view.outcome != "ready":
            return _outcome(t, view)
        form = (f'<form method="post"><input type="hidden" name="token" '
                f'value="{html.escape(token, quote=True)}">'
                f"<button type=\"submit\">{t('channel.page.button', alert=view.alert)}</button>"
                "</form>")
        text = t("channel.page.ready", alert=view.alert, name=view.subject_name)
        return _page(t, f"<p>{text}</p>{form}", 200)

    async def acknowledge(request: Request) -> Response:
        token = request.path_params["token"]
        if not _same_site(request, origin):
            log.warning("an acknowledgement POST from another site: refused")
            return _outcome(Texts("en"), RemoteAck("invalid"))
        body = await read_body(request, 4_000)
        form = dict(parse_qsl(body.decode("utf-8", "replace")))
        if form.get("token") != token:
            return _outcome(Texts("en"), RemoteAck("invalid"))
        done = await services.reach.ack_by_link(token)
        return _outcome(Texts(done.language), done)

    return [Route(ACK_PATH + "/{token}", show, methods=["GET"]),
            Route(ACK_PATH + "/{token}", acknowledge, methods=["POST"])]


def _same_site(request: Request, origin: str | None) -> bool:
    """A browser says where a POST comes from; a page of another site must not acknowledge.

    "Origin: null" is what a browser sends for a page that asked for no referrer (a page of
    an older deployment still open in a tab, or a privacy setting): it is taken from this
    site only when the browser also says the request is same-origin (Sec-Fetch-Site, which
    no page can set)."""
    fetch_site = request.headers.get("sec-fetch-site")
    if (fetch_site or "same-origin") not in ("same-origin", "none"):
        return False
    given = request.headers.get("origin")
    if given == "null":
        return fetch_site == "same-origin"
    return given is None or origin is None or given == origin
