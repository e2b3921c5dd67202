"""Group commit: writes that arrive while one is being committed go to the disk together.

In the evening rush hundreds of reps check in within seconds, and each check-in is one small
durable write. Committed one by one, each pays a trip to the writer's thread and a sync to the
disk, in turn; committed together, the ones that queued meanwhile pay one of each. Nothing waits
on purpose: a lone write goes at once, and a batch is simply whatever queued while the previous
commit was under way (PostgreSQL's commit_delay without the delay).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    """Items submitted while a commit is under way wait, and go together in the next one.

    `commit(items)` writes a batch in one unit of work and returns each item's result, in
    order. A batch holds at most `limit` items, and never two that `key` says are the same:
    the second goes in the next batch and finds the first done, as it would one after the
    other. A commit that fails fails each of its items (the caller sees the exception, as it
    would alone); the next batch is tried afresh. An item whose caller gave up (cancelled)
    before its batch was taken is not written.
    """

    def __init__(self, commit: Callable[[Sequence[T]], Awaitable[Sequence[R]]], *,
                 key: Callable[[T], Hashable], limit: int = 64) -> None:
        if limit < 1:
            raise ValueError("a batch holds at least one item")
        self._commit = commit
        self._key = key
        self._limit = limit
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._committer: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """Write `item` with whatever else is waiting; return its result once committed."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[R] = loop.create_future()
        committer = self._committer
        if committer is None or committer.done() or committer.get_loop().is_closed():
            # None runs: the last one ended, was cancelled before it began (so its clean-up
            # never ran), or its loop is gone, with the waiters nobody can tell any more.
            if committer is not None and not committer.done():
                committer.get_coro().close()  # it never began, and never will
            self._waiting = [(i, w) for i, w in self._waiting if not w.get_loop().is_closed()]
            self._committer = loop.create_task(self._commit_all(), name="group-commit")
        self._waiting.append((item, waiter))
        return await waiter

    def _take(self) -> list[tuple[T, asyncio.Future[R]]]:
        batch: list[tuple[T, asyncio.Future[R]]] = []
        later: list[tuple[T, asyncio.Future[R]]] = []
        keys: set[Hashable] = set()
        for item, waiter in self._waiting:
            if waiter.done():  # its caller was cancelled: nobody expects it written
                continue
            key = self._key(item)
            if len(batch) < self._limit and key not in keys:
                keys.add(key)
                batch.append((item, waiter))
            else:
                later.append((item, waiter))
        self._waiting = later
        return batch

    async def _commit_all(self) -> None:
        batch: list[tuple[T, asyncio.Future[R]]] = []
        try:
            while self._waiting:
                batch = self._take()
                if not batch:
                    continue
                try:
                    results = await self._commit([item for item, _ in batch])
                    if len(results) != len(batch):
                        raise RuntimeError("a group commit gave a result count unlike its batch")
                except Exception as exc:  # noqa: BLE001 - each caller sees it, as alone
                    for _, waiter in batch:
                        if not waiter.done():
                            waiter.set_exception(exc)
                else:
                    for (_, waiter), result in zip(batch, results, strict=True):
                        if not waiter.done():
                            waiter.set_result(result)
                batch = []
        finally:
            self._committer = None
            # Stopped (cancelled with the loop, or a bug above): nobody may wait forever.
            for _, waiter in [*batch, *self._waiting]:
                waiter.cancel()
            self._waiting = []
