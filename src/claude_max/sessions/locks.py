"""One turn at a time per session, across threads and processes: an OS file lock per session.

The kernel releases a file lock when its holder dies, `kill -9` included, so there is nothing to
detect or expire (the SQLite lock table this replaces had to check pids and start times). Each
session's lock is a small file under `<store dir>/locks/`, named by a hash of the session id
(ids are client text). Not re-entrant: a second lock on the same id, even in the same process,
waits or fails like any other.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from claude_max.core.errors import SessionBusy

_FIRST_PAUSE = 0.005
_MAX_PAUSE = 0.1


class SessionLocks:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _lock(self, id: str) -> FileLock:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(id.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return FileLock(self.directory / f"{name}.lock", thread_local=False, is_singleton=False)

    @staticmethod
    def _try(lock: FileLock) -> bool:
        try:
            lock.acquire(timeout=0)
        except Timeout:
            return False
        return True

    @contextmanager
    def hold(self, id: str, *, wait: bool = False, timeout: float | None = None) -> Iterator[None]:
        """Hold session `id`'s lock for the block. Held elsewhere: `wait=False` raises
        SessionBusy (409) at once; `wait=True` waits, up to `timeout` seconds (None: as long
        as it takes), then raises SessionBusy. Blocking: asyncio code uses `ahold`."""
        lock = self._lock(id)
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = _FIRST_PAUSE
        while not self._try(lock):
            if not wait or (deadline is not None and time.monotonic() >= deadline):
                raise SessionBusy(id)
            time.sleep(pause)
            pause = min(pause * 2, _MAX_PAUSE)
        try:
            yield
        finally:
            lock.release()

    @asynccontextmanager
    async def ahold(
        self, id: str, *, wait: bool = False, timeout: float | None = None
    ) -> AsyncIterator[None]:
        """`hold` for asyncio: waits with `asyncio.sleep`, never blocking the event loop."""
        lock = self._lock(id)
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = _FIRST_PAUSE
        while not self._try(lock):
            if not wait or (deadline is not None and time.monotonic() >= deadline):
                raise SessionBusy(id)
            await asyncio.sleep(pause)
            pause = min(pause * 2, _MAX_PAUSE)
        try:
            yield
        finally:
            lock.release()
