"""A concurrency limit with a bounded wait queue: past it, a fast 429 instead of a pile of
CLI processes (each takes ~190 MB)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from claude_max.core.errors import ServerBusy


class Limiter:
    def __init__(self, limit: int, queue: int) -> None:
        self.limit = limit
        self.queue = queue
        self.active = 0
        self.waiting = 0
        self._slots = asyncio.Semaphore(limit)

    async def acquire(self) -> Callable[[], None]:
        """Wait for a slot (or raise ServerBusy at once); return its idempotent release."""
        if self._slots.locked():
            if self.waiting >= self.queue:
                raise ServerBusy(self.limit)
            self.waiting += 1
            try:
                await self._slots.acquire()
            finally:
                self.waiting -= 1
        else:
            await self._slots.acquire()
        self.active += 1
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self.active -= 1
                self._slots.release()

        return release

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """`acquire` as a context manager: the slot is held for the block."""
        release = await self.acquire()
        try:
            yield
        finally:
            release()
