"""The heap of a long-running bot. What the start built (modules, the application, PTB's
objects, the services and their caches: most of the heap) lives as long as the process, yet
Python's garbage collector looked through all of it again at every full collection, a few
times a second in the evening's rush: about a sixth of a check-in's time (bench/PROFILE.md,
tenth pass). Once the bot runs, the start's objects are moved out of its sight (`gc.freeze`,
after a collection, so no garbage is kept for ever), and given back when the bot stops.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time

log = logging.getLogger(__name__)

SETTLE_AFTER = 2.0  # seconds after the start: the first poll is never kept waiting by it


class Heap:
    """The start's objects, frozen once the bot runs and unfrozen when it stops."""

    def __init__(self) -> None:
        self._timer: asyncio.TimerHandle | None = None
        self._frozen = False

    def settle_soon(self, delay: float = SETTLE_AFTER) -> None:
        self._timer = asyncio.get_running_loop().call_later(delay, self.settle)

    def settle(self) -> None:
        began = time.perf_counter()
        gc.collect()
        gc.freeze()
        self._frozen = True
        log.info("start-up objects set aside from garbage collection: %s, in %.0f ms",
                 gc.get_freeze_count(), (time.perf_counter() - began) * 1000)

    def release(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._frozen:
            gc.unfreeze()
            self._frozen = False
