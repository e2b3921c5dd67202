"""ControlClient: drive a faketelegram server in another process through its control API."""

from __future__ import annotations

import base64
from types import TracebackType
from typing import Any

import httpx

from faketelegram.errors import FakeError


class ControlError(Exception):
    """The control API refused a request."""


class ControlClient:
    """Act as users, inject faults and read what the bot sent, over HTTP."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        self._http = httpx.AsyncClient(base_url=f"{base_url}/_control", timeout=timeout)

    async def __aenter__(self) -> ControlClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._http.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = await self._http.request(method, path, **kwargs)
        if answer.status_code != 200:
            raise ControlError(f"{method} {path}: {answer.status_code} {answer.text}")
        return answer.json()

    async def _act(self, user_id: int, action: str, body: dict[str, Any]) -> Any:
        return (await self._request("POST", f"/user/{user_id}/{action}", json=body))["result"]

    async def user(
        self, user_id: int, first_name: str, language_code: str = "en", username: str | None = None
    ) -> dict[str, Any]:
        """Register a user (not yet started)."""
        body = {"first_name": first_name, "language_code": language_code, "username": username}
        result: dict[str, Any] = await self._request("POST", f"/user/{user_id}", json=body)
        return result

    async def send(self, user_id: int, text: str) -> int:
        """Send text as the user; return the message id."""
        return int(await self._act(user_id, "send", {"text": text}))

    async def press(self, user_id: int, text: str, message_id: int | None = None) -> str | None:
        """Press an inline button by its text; return the toast if answered already."""
        result: str | None = await self._act(
            user_id, "press", {"text": text, "message_id": message_id}
        )
        return result

    async def share_location(
        self, user_id: int, latitude: float, longitude: float, live_period: int | None = None
    ) -> int:
        """Share a location as the user; return the message id."""
        body = {"latitude": latitude, "longitude": longitude, "live_period": live_period}
        return int(await self._act(user_id, "location", body))

    async def send_photo(self, user_id: int, data: bytes, caption: str | None = None) -> int:
        """Send a photo as the user; return the message id."""
        body = {"data_b64": base64.b64encode(data).decode(), "caption": caption}
        return int(await self._act(user_id, "photo", body))

    async def block(self, user_id: int) -> None:
        """Make the user block the bot (with a my_chat_member update)."""
        await self._act(user_id, "block", {})

    async def messages(self, user_id: int, since: int = 0) -> list[dict[str, Any]]:
        """Return the bot's messages to the user with message_id > since."""
        result: list[dict[str, Any]] = await self._request(
            "GET", f"/user/{user_id}/messages", params={"since": since}
        )
        return result

    async def sent(self, chat_id: int | None = None, since: int = 0) -> list[dict[str, Any]]:
        """Return sends (optionally to one chat) from index since in `fake.sent`."""
        params: dict[str, Any] = {"since": since}
        if chat_id is not None:
            params["chat_id"] = chat_id
        result: list[dict[str, Any]] = await self._request("GET", "/sent", params=params)
        return result

    async def wait_sent(
        self,
        count: int,
        chat_id: int | None = None,
        since: int = 0,
        timeout: float = 10.0,  # noqa: ASYNC109 - the server does the waiting
    ) -> list[dict[str, Any]]:
        """Wait until count sends (to chat_id, from index since) were recorded; return them."""
        params: dict[str, Any] = {"count": count, "since": since, "timeout": timeout}
        if chat_id is not None:
            params["chat_id"] = chat_id
        result: list[dict[str, Any]] = await self._request("GET", "/wait_sent", params=params)
        return result

    async def calls(self, method: str | None = None, since: int = 0) -> list[dict[str, Any]]:
        """Return the recorded API calls, optionally of one method."""
        params: dict[str, Any] = {"since": since}
        if method:
            params["method"] = method
        result: list[dict[str, Any]] = await self._request("GET", "/calls", params=params)
        return result

    async def fail_next(
        self, method: str, error: FakeError, times: int = 1, chat_id: int | None = None
    ) -> None:
        """Make the next calls of method fail with error."""
        body = {"method": method, "error": error.to_json(), "times": times, "chat_id": chat_id}
        await self._request("POST", "/fail_next", json=body)

    async def fail_always(self, method: str, error: FakeError, chat_id: int | None = None) -> None:
        """Make every call of method fail with error until cleared."""
        body = {"method": method, "error": error.to_json(), "chat_id": chat_id}
        await self._request("POST", "/fail_always", json=body)

    async def clear_failures(self) -> None:
        """Remove every injected fault."""
        await self._request("POST", "/clear_failures", json={})

    async def release_timeouts(self) -> None:
        """Let requests hanging on an injected Timeout give up now."""
        await self._request("POST", "/release_timeouts", json={})

    async def state(self) -> dict[str, Any]:
        """Return a summary of the fake's state."""
        result: dict[str, Any] = await self._request("GET", "/state")
        return result
