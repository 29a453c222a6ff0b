"""Warm CLI processes: started ahead of time, so a request skips the CLI's ~300 ms start-up.

A CLI started in stream-json input mode prints nothing and waits for its first stdin line
(FACTS §9); its first turn then answers in ~90 ms instead of ~350 ms cold. Everything fixed at
spawn time is in the `LaunchSpec`, so processes are kept per spec. A request takes a ready one
for its spec (a hit) or starts one (a miss), and the pool at once starts a replacement for that
spec, so a client that sends the same system prompt every time (editors, agents) keeps
hitting warm processes. A process serves one conversation, then dies: history stays in a
process, and it must never leak into another client's conversation.

The pool holds at most `size` idle processes (~190 MB each), evicting the least recently used
spec's to make room, and retires processes idle longer than `ttl` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from claude_max.core.launch import LaunchSpec, start
from claude_max.core.runner import CLIProcess


@dataclass
class _Idle:
    proc: CLIProcess
    born: float = field(default_factory=time.monotonic)


class Pool:
    def __init__(self, size: int, ttl: float = 900.0) -> None:
        self.size = size
        self.ttl = ttl
        self.hits = 0
        self.misses = 0
        self._idle: OrderedDict[LaunchSpec, list[_Idle]] = OrderedDict()  # LRU order
        self._starting = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    @property
    def ready(self) -> int:
        return sum(len(procs) for procs in self._idle.values())

    async def take(self, spec: LaunchSpec, *, refill: bool = True) -> CLIProcess:
        """A ready process for `spec` (possibly started for another model: check `.model`
        and switch it), else a new one; with `refill`, start a replacement."""
        proc = self._pop(spec)
        if proc is None:
            self.misses += 1
        else:
            self.hits += 1
            proc.warm = True
        if refill:
            self.fill(spec)
        return proc if proc is not None else await start(spec)

    def fill(self, spec: LaunchSpec) -> None:
        """Start one process for `spec` in the background, if the pool has room or can make it."""
        if self.size <= 0 or self._closed:
            return
        key = spec.warm_key
        self._idle.setdefault(key, [])
        self._idle.move_to_end(key)
        while self.ready + self._starting >= self.size and self._evict_one(keep=key):
            pass
        if self.ready + self._starting >= self.size:
            return
        self._starting += 1
        self._spawn(self._start(spec))

    def stats(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "ready": self.ready,
            "starting": self._starting,
            "hits": self.hits,
            "misses": self.misses,
            "rss_mb": round(sum(_rss_mb(i.proc.pid) for p in self._idle.values() for i in p), 1),
        }

    async def aclose(self) -> None:
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        procs = [i.proc for procs in self._idle.values() for i in procs]
        self._idle.clear()
        for proc in procs:
            proc.kill()
        for proc in procs:
            await proc.aclose(grace=0.0)
        with contextlib.suppress(BaseException):
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- internals

    def _pop(self, spec: LaunchSpec) -> CLIProcess | None:
        now = time.monotonic()
        idle = self._idle.get(spec.warm_key, [])
        same_model = [i for i in idle if i.proc.model == spec.model]
        for item in same_model + [i for i in idle if i not in same_model]:
            idle.remove(item)
            if item.proc.returncode is None and now - item.born < self.ttl:
                return item.proc
            self._retire(item.proc)
        return None

    def _evict_one(self, keep: LaunchSpec) -> bool:
        """Retire the oldest idle process of the least recently used other spec."""
        for spec, idle in self._idle.items():
            if spec != keep and idle:
                self._retire(idle.pop(0).proc)
                return True
        return False

    async def _start(self, spec: LaunchSpec) -> None:
        try:
            proc = await start(spec)
        except Exception:
            return  # the request path reports start-up errors; the pool stays empty
        finally:
            self._starting -= 1
        if self._closed:
            await proc.aclose(grace=0.0)
            return
        self._idle.setdefault(spec.warm_key, []).append(_Idle(proc))
        self._spawn(self._expire(proc))

    async def _expire(self, proc: CLIProcess) -> None:
        await asyncio.sleep(self.ttl)
        for idle in self._idle.values():
            for item in idle:
                if item.proc is proc:
                    idle.remove(item)
                    self._retire(proc)
                    return

    def _retire(self, proc: CLIProcess) -> None:
        proc.kill()
        self._spawn(proc.aclose(grace=0.0))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _rss_mb(pid: int) -> float:
    """Resident memory of a process (Linux /proc; 0 where unavailable)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0
