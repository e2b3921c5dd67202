"""Twilio's REST API shapes over a FakeTwilio, as a Starlette app."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from faketwilio.api import API, FakeTwilio, TwilioError


def _credentials(request: Request) -> tuple[str | None, str | None]:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        user, _, password = base64.b64decode(encoded).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    return user, password


def build_app(fake: FakeTwilio) -> Starlette:
    """Return the app: POST .../Messages.json and .../Calls.json, Basic auth checked."""

    async def create(request: Request) -> JSONResponse:
        try:
            fake.check_auth(*_credentials(request), request.path_params["sid"])
            form = dict(parse_qsl((await request.body()).decode("utf-8"),
                                  keep_blank_values=True))
            if request.url.path.endswith("/Messages.json"):
                return JSONResponse(fake.create_message(form), status_code=201)
            return JSONResponse(fake.create_call(form), status_code=201)
        except TwilioError as exc:
            headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if exc.status == 401 else {}
            return JSONResponse(exc.body(), status_code=exc.status, headers=headers)

    async def listing(request: Request) -> JSONResponse:
        try:
            fake.check_auth(*_credentials(request), request.path_params["sid"])
        except TwilioError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        if request.url.path.endswith("/Messages.json"):
            return JSONResponse({"messages": [fake._message_json(m) for m in fake.messages]})
        return JSONResponse({"calls": [fake._call_json(c) for c in fake.calls]})

    async def not_found(request: Request) -> JSONResponse:
        return JSONResponse(TwilioError(404, 20404).body(), status_code=404)

    routes = []
    for kind in ("Messages", "Calls"):
        path = API + "/Accounts/{sid}/" + kind + ".json"
        routes += [Route(path, create, methods=["POST"]), Route(path, listing, methods=["GET"])]
    routes.append(Route("/{rest:path}", not_found, methods=["GET", "POST", "PUT", "DELETE"]))
    return Starlette(routes=routes)
