"""Bot API error responses, and the faults a test can inject into the fake."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import asdict, dataclass, fields
from http import HTTPStatus
from typing import Any, ClassVar, NoReturn

CONFLICT_POLLING = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status, description and optional parameters."""

    def __init__(
        self, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        """Return the JSON body Telegram sends with this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


class SimulatedTimeout(Exception):
    """Raised by `FakeTelegram.call` when an injected `Timeout` fires; transports hang on it."""

    def __init__(self, message: str = "simulated Telegram timeout") -> None:
        super().__init__(message)
        self.release: asyncio.Event | None = None
        self.delay = 30.0

    async def hang(self) -> None:
        """Wait like an unresponsive Telegram: until released or `delay` seconds pass."""
        if self.release is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.release.wait(), self.delay)


def bad_request(detail: str) -> ApiError:
    """Return a 400 error with Telegram's "Bad Request: " prefix."""
    return ApiError(400, f"Bad Request: {detail}")


def forbidden(detail: str) -> ApiError:
    """Return a 403 error with Telegram's "Forbidden: " prefix."""
    return ApiError(403, f"Forbidden: {detail}")


class FakeError:
    """A fault to inject into one Bot API call; subclasses say which."""

    kind: ClassVar[str] = ""

    @property
    def executes(self) -> bool:
        """Whether the call takes effect before the fault fires."""
        return False

    def raise_error(self) -> NoReturn:
        """Raise the exception `FakeTelegram.call` turns into this fault."""
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        """Return the control-API form of this fault."""
        return {"kind": self.kind, **asdict(self)}  # type: ignore[call-overload]


@dataclass(frozen=True)
class Flood(FakeError):
    """429 Too Many Requests with `parameters.retry_after`."""

    kind: ClassVar[str] = "flood"
    retry_after: int = 5

    def raise_error(self) -> NoReturn:
        """Raise the 429."""
        raise ApiError(
            429,
            f"Too Many Requests: retry after {self.retry_after}",
            {"retry_after": self.retry_after},
        )


@dataclass(frozen=True)
class Blocked(FakeError):
    """403: the user blocked the bot."""

    kind: ClassVar[str] = "blocked"

    def raise_error(self) -> NoReturn:
        """Raise the 403."""
        raise forbidden("bot was blocked by the user")


@dataclass(frozen=True)
class ChatNotFound(FakeError):
    """400: chat not found."""

    kind: ClassVar[str] = "chat_not_found"

    def raise_error(self) -> NoReturn:
        """Raise the 400."""
        raise bad_request("chat not found")


@dataclass(frozen=True)
class ServerError(FakeError):
    """A 5xx from Telegram's front end, 502 Bad Gateway by default."""

    kind: ClassVar[str] = "server_error"
    status: int = 502

    def raise_error(self) -> NoReturn:
        """Raise the 5xx."""
        raise ApiError(self.status, HTTPStatus(self.status).phrase)


@dataclass(frozen=True)
class Timeout(FakeError):
    """No answer: in-process the transport raises, on loopback the server hangs.

    With `executed=True` the call takes effect first and only the answer is lost.
    """

    kind: ClassVar[str] = "timeout"
    executed: bool = False

    @property
    def executes(self) -> bool:
        """Whether the call takes effect before the answer is lost."""
        return self.executed

    def raise_error(self) -> NoReturn:
        """Raise the simulated timeout."""
        raise SimulatedTimeout("simulated Telegram timeout")


@dataclass(frozen=True)
class Migrated(FakeError):
    """400: the group became a supergroup, with `parameters.migrate_to_chat_id`."""

    kind: ClassVar[str] = "migrated"
    new_chat_id: int = -1001000000000

    def raise_error(self) -> NoReturn:
        """Raise the 400 with the new chat id."""
        raise ApiError(
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            {"migrate_to_chat_id": self.new_chat_id},
        )


@dataclass(frozen=True)
class Conflict(FakeError):
    """409: another getUpdates consumer or a webhook is active."""

    kind: ClassVar[str] = "conflict"
    description: str = CONFLICT_POLLING

    def raise_error(self) -> NoReturn:
        """Raise the 409."""
        raise ApiError(409, self.description)


@dataclass(frozen=True)
class Custom(FakeError):
    """Any other error answer."""

    kind: ClassVar[str] = "custom"
    status: int = 400
    description: str = "Bad Request"
    parameters: dict[str, Any] | None = None

    def raise_error(self) -> NoReturn:
        """Raise the given error."""
        raise ApiError(self.status, self.description, self.parameters)


KINDS: dict[str, type[FakeError]] = {
    cls.kind: cls
    for cls in (Flood, Blocked, ChatNotFound, ServerError, Timeout, Migrated, Conflict, Custom)
}


def error_from_json(data: dict[str, Any]) -> FakeError:
    """Build a fault from its control-API form, e.g. {"kind": "flood", "retry_after": 3}."""
    cls = KINDS.get(str(data.get("kind")))
    if cls is None:
        raise ValueError(f"unknown error kind {data.get('kind')!r}; known: {sorted(KINDS)}")
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in data.items() if k in names})
