"""The rate limiter serves the most urgent request first once Telegram's budget is used up."""

from __future__ import annotations

import asyncio

from conversations.runtime.ratelimit import PriorityRateLimiter


async def test_urgent_requests_overtake_a_queue_of_replies() -> None:
    limiter = PriorityRateLimiter(rate=20.0, burst=1)
    await limiter.initialize()
    order: list[str] = []

    async def send(name: str) -> bool:
        order.append(name)
        return True

    try:
        # The bucket holds one token: the first reply takes it, the rest must queue.
        replies = [asyncio.ensure_future(limiter.process_request(
            send, (f"reply{i}",), {}, "sendMessage", {}, None)) for i in range(5)]
        await replies[0]
        sos = asyncio.ensure_future(limiter.process_request(
            send, ("sos",), {}, "sendMessage", {}, 100))
        await asyncio.gather(*replies, sos)
    finally:
        await limiter.shutdown()
    assert order[0] == "reply0"
    assert order[1] == "sos"
    assert order[2:] == ["reply1", "reply2", "reply3", "reply4"]


async def test_polling_is_not_rate_limited() -> None:
    limiter = PriorityRateLimiter(rate=20.0, burst=1)
    await limiter.initialize()

    async def poll() -> list[dict[str, object]]:
        return []

    try:
        results = await asyncio.gather(*(limiter.process_request(
            poll, (), {}, "getUpdates", {}, None) for _ in range(3)))
    finally:
        await limiter.shutdown()
    assert results == [[], [], []]
