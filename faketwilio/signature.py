"""Twilio's request signature, written here again so the fake stands alone (and so the bot's
own implementation is checked against an independent one)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping


def sign(url: str, params: Mapping[str, str], auth_token: str) -> str:
    """Return the X-Twilio-Signature Twilio sends with a POST of `params` to `url`."""
    payload = url + "".join(name + params[name] for name in sorted(params))
    mac = hmac.new(auth_token.encode("utf-8"), payload.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")
