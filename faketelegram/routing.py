"""Map HTTP requests to Bot API calls and file downloads, for both transports."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from faketelegram.errors import ApiError
from faketelegram.params import parse_body

if TYPE_CHECKING:
    from faketelegram.api import FakeTelegram

_FILE = re.compile(r"/file/bot(?P<token>[^/]+)/(?P<path>.+)$")
_METHOD = re.compile(r"/bot(?P<token>[^/]+)/(?P<method>[A-Za-z0-9_]+)/?$")
NOT_FOUND = {"ok": False, "error_code": 404, "description": "Not Found"}


@dataclass(frozen=True)
class Reply:
    """An HTTP answer."""

    status: int
    body: bytes
    content_type: str = "application/json"


def json_reply(status: int, body: Any) -> Reply:
    """Return a JSON answer."""
    return Reply(status, json.dumps(body, ensure_ascii=False).encode())


async def route(
    fake: FakeTelegram, path: str, query: str, content_type: str, body: bytes
) -> Reply:
    """Answer a Bot API call or file download at any base URL.

    Raises `SimulatedTimeout` when the call must go unanswered.
    """
    download = _FILE.search(path)
    if download:
        data = fake.download(unquote(download["token"]), unquote(download["path"]))
        if data is None:
            return json_reply(404, NOT_FOUND)
        return Reply(200, data, "application/octet-stream")
    call = _METHOD.search(path)
    if call is None:
        return json_reply(404, NOT_FOUND)
    try:
        values, files = parse_body(content_type, body, query)
    except ApiError as error:
        return json_reply(error.status, error.body())
    status, answer = await fake.call(unquote(call["token"]), call["method"], values, files)
    return json_reply(status, answer)
