"""A toast (answerCallbackQuery) never waits behind messages queued for Telegram's budget."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from conversations.runtime.ratelimit import PriorityRateLimiter


class StoppedClock:
    """The limiter's clock, standing still: a used-up budget never comes back."""

    def __call__(self) -> float:
        return 0.0


def finishes_without_waiting(request: Coroutine[Any, Any, Any]) -> tuple[bool, Any]:
    """Run a request up to its first wait; return whether it finished, and its result."""
    try:
        request.send(None)
    except StopIteration as done:
        return True, done.value
    request.close()
    return False, None


async def test_a_toast_is_answered_while_messages_wait_for_the_budget() -> None:
    limiter = PriorityRateLimiter(rate=30.0, burst=1, clock=StoppedClock())
    await limiter.initialize()

    async def call(name: str) -> bool:
        return True

    try:
        # The only message of the budget, then messages that must wait for the next one.
        assert await limiter.process_request(call, ("first",), {}, "sendMessage", {}, None)
        for i in range(3):
            reply = limiter.process_request(call, (f"reply{i}",), {}, "sendMessage", {}, 100)
            assert finishes_without_waiting(reply) == (False, None)

        toast = limiter.process_request(call, ("toast",), {}, "answerCallbackQuery", {}, None)
        assert finishes_without_waiting(toast) == (True, True)
        # An edit, by contrast, is a message: it waits with the others.
        edit = limiter.process_request(call, ("edit",), {}, "editMessageText", {}, None)
        assert finishes_without_waiting(edit) == (False, None)
    finally:
        await limiter.shutdown()
