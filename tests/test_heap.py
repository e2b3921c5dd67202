"""The start's objects are set aside from garbage collection once the bot runs, and given
back when it stops (conversations/runtime/heap.py)."""

from __future__ import annotations

import asyncio
import gc

from conversations.runtime.heap import Heap


async def test_the_starts_objects_are_set_aside_once_settled_and_given_back_at_the_stop() -> None:
    heap = Heap()
    heap.settle()
    assert gc.get_freeze_count() > 1000  # modules, functions, classes at the least
    heap.release()
    assert gc.get_freeze_count() == 0


async def test_a_bot_stopped_before_it_settled_freezes_nothing() -> None:
    heap = Heap()
    heap.settle_soon(3600)
    heap.release()  # stopped within the hour
    await asyncio.sleep(0)  # one turn of the loop: nothing was left scheduled to run
    assert gc.get_freeze_count() == 0


async def test_settling_soon_settles_on_the_loop() -> None:
    heap = Heap()
    heap.settle_soon(0)
    assert gc.get_freeze_count() == 0  # not now: the first poll goes first
    after = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_later(0, after.set_result, None)  # runs after it
    await after
    assert gc.get_freeze_count() > 0
    heap.release()
    assert gc.get_freeze_count() == 0
