"""Warm CLI processes: started ahead of time, so a request skips the CLI's ~300 ms start-up.

A CLI started in stream-json input mode prints nothing and waits for its first stdin line
(CLI.md §9); its first turn then answers in ~90 ms instead of ~350 ms cold. Everything fixed at
spawn time is in the `LaunchSpec`, so processes are kept per spec. A request takes a ready one
for its spec (a hit) or starts one (a miss), and the pool at once starts a replacement for that
spec, so a client that sends the same system prompt every time (editors, agents) keeps
hitting warm processes. A process serves one conversation, then dies: history stays in a
process, and it must never leak into another client's conversation.

The pool holds at most `size` idle processes (~190 MB each), evicting the least recently used
spec's to make room, and retires processes idle longer than `ttl` seconds. It remembers a spec
only while it holds or starts a process for it (at most `size` specs, whose texts may take at
most `max_spec_bytes`), and every operation is O(1) in the number of specs ever seen: a
server that sees a new system prompt (or continued conversation) per request keeps `fill()`
and `/health` as cheap on the millionth as on the first.

A process can also be started ahead for one conversation's next request (`prepare` of a
conversation whose long history goes as a transcript, `launch.follow_up`): its spec names
that history, so only that request can take it; it is never refilled, counts against `size`
like any other, and is retired after `ahead_ttl` idle seconds; a history gets one such
process at a time. A request that finds its process still starting waits for it rather than
starting a second one.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from claude_max.core.conversation import Conversation, Turn
from claude_max.core.launch import LaunchSpec, launch_spec, start, stored
from claude_max.core.processes import CLIProcess, adopt
from claude_max.core.settings import Settings


@dataclass
class _Idle:
    proc: CLIProcess
    born: float = field(default_factory=time.monotonic)


MAX_SPEC_BYTES = 8 * 1024 * 1024  # system prompts and tool listings the pool may hold


def spec_bytes(spec: LaunchSpec) -> int:
    """What a spec costs to keep: its client texts (the rest is small and shared)."""
    return len(spec.system or "") + len(spec.tools or "") + 1024


class Pool:
    def __init__(
        self,
        size: int,
        ttl: float = 900.0,
        max_spec_bytes: int = MAX_SPEC_BYTES,
        ahead_ttl: float = 300.0,
    ) -> None:
        self.size = size
        self.ttl = ttl
        self.ahead_ttl = ahead_ttl  # for a process started for one conversation's history
        self.max_spec_bytes = max_spec_bytes
        self.hits = 0
        self.misses = 0
        self.ahead_hits = 0  # hits on a process started for the request's own history
        self.evicted = 0
        # Specs with a process idle or starting, least recently used first; a spec leaves
        # as soon as it has neither.
        self._idle: OrderedDict[LaunchSpec, list[_Idle]] = OrderedDict()
        self._pending: dict[LaunchSpec, int] = {}  # starts under way per spec
        self._ready = 0
        self._starting = 0
        self._bytes = 0  # spec_bytes of the specs in _idle
        self._tasks: set[asyncio.Task[Any]] = set()
        self._under_way: dict[LaunchSpec, asyncio.Task[Any]] = {}  # own-history starts
        self._closed = False

    def prepare(self, conv: Conversation, settings: Settings) -> None:
        """Start a process for the conversation `conv` would be run as (see `fill`)."""
        spec = launch_spec(conv, settings)
        self.fill(spec, stored(conv) if spec.own_session else ())

    async def take(
        self,
        spec: LaunchSpec,
        *,
        refill: bool = True,
        history: Sequence[Turn] = (),
        taken: Callable[[], None] | None = None,
    ) -> CLIProcess:
        """A ready process for `spec` (possibly started for another model: check `.model`
        and switch it), else a new one (`history`: its transcript's turns, for an
        `own_session` spec); with `refill`, start a replacement. `taken` runs once the
        ready process is this request's, or before waiting for one (so a `fill` it makes
        cannot evict the process this request is about to get)."""
        proc = self._pop(spec)
        if taken is not None:
            taken()
        if proc is None and (under_way := self._under_way.get(spec.warm_key)) is not None:
            # Started ahead for this very history and not ready yet: it is closer to ready
            # than a new start would be (and a second start would compete for the CPU).
            with contextlib.suppress(Exception):
                await asyncio.shield(under_way)
            proc = self._pop(spec)
        if proc is None:
            self.misses += 1
        else:
            self.hits += 1
            self.ahead_hits += spec.own_session
            adopt(proc)
            proc.warm = True
        if refill:
            self.fill(spec)
        return proc if proc is not None else await start(spec, history)

    def fill(self, spec: LaunchSpec, history: Sequence[Turn] = ()) -> None:
        """Start one process for `spec` in the background (with `history` as its transcript,
        for an `own_session` spec), if the pool has room or can make it. O(1) amortised:
        each eviction retires a process that an earlier fill started."""
        if self.size <= 0 or self._closed:
            return
        key = spec.warm_key
        if spec.own_session and (key in self._under_way or self._idle.get(key)):
            return  # started ahead already (at the request, then at the model's call)
        cost = 0 if key in self._idle else spec_bytes(key)
        if cost > self.max_spec_bytes:
            return  # a prompt this large is not worth keeping a process (and its text) for
        if key in self._idle:
            self._idle.move_to_end(key)
        while (
            self._ready + self._starting >= self.size or self._bytes + cost > self.max_spec_bytes
        ) and self._evict_one(keep=key):
            pass
        if self._ready + self._starting >= self.size or self._bytes + cost > self.max_spec_bytes:
            return
        self._remember(key)
        self._pending[key] = self._pending.get(key, 0) + 1
        self._starting += 1
        task = self._spawn(self._start(spec, tuple(history)))
        if spec.own_session:
            self._under_way[key] = task

    def stats(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "ready": self._ready,
            "starting": self._starting,
            "hits": self.hits,
            "misses": self.misses,
            "ahead_hits": self.ahead_hits,
            "evicted": self.evicted,
            "specs": len(self._idle),
            "spec_kb": round(self._bytes / 1024, 1),
            "max_spec_kb": round(self.max_spec_bytes / 1024, 1),
            "rss_mb": round(sum(_rss_mb(i.proc.pid) for p in self._idle.values() for i in p), 1),
        }

    async def aclose(self) -> None:
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        procs = [i.proc for procs in self._idle.values() for i in procs]
        self._idle.clear()
        self._pending.clear()
        self._under_way.clear()
        self._ready = self._bytes = 0
        for proc in procs:
            proc.kill()
        for proc in procs:
            await proc.aclose(grace=0.0)
        with contextlib.suppress(BaseException):
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- internals

    def _remember(self, key: LaunchSpec) -> None:
        if key not in self._idle:
            self._idle[key] = []
            self._bytes += spec_bytes(key)

    def _forget_if_unused(self, key: LaunchSpec) -> None:
        if not self._idle.get(key, True) and not self._pending.get(key):
            del self._idle[key]
            self._pending.pop(key, None)
            self._bytes -= spec_bytes(key)

    def _pop(self, spec: LaunchSpec) -> CLIProcess | None:
        now = time.monotonic()
        key = spec.warm_key
        idle = self._idle.get(key)
        if not idle:
            return None
        same_model = [i for i in idle if i.proc.model == spec.model]
        found = None
        for item in same_model + [i for i in idle if i not in same_model]:
            idle.remove(item)
            self._ready -= 1
            if item.proc.returncode is None and now - item.born < self.ttl:
                found = item.proc
                break
            self._retire(item.proc)
        self._forget_if_unused(key)
        return found

    def _evict_one(self, keep: LaunchSpec) -> bool:
        """Retire the oldest idle process of the least recently used other spec. Specs
        without idle processes are only those still starting one: at most `size`."""
        for spec, idle in self._idle.items():
            if spec != keep and idle:
                self._retire(idle.pop(0).proc)
                self._ready -= 1
                self.evicted += 1
                self._forget_if_unused(spec)
                return True
        return False

    async def _start(self, spec: LaunchSpec, history: tuple[Turn, ...] = ()) -> None:
        key = spec.warm_key
        try:
            proc = await start(spec, history)
        except Exception:
            return  # the request path reports start-up errors; the pool stays empty
        finally:
            self._starting -= 1
            if key in self._pending:
                self._pending[key] -= 1
            if self._under_way.get(key) is asyncio.current_task():
                del self._under_way[key]
            self._forget_if_unused(key)
        if self._closed:
            await proc.aclose(grace=0.0)
            return
        self._remember(key)
        self._idle[key].append(_Idle(proc))
        self._ready += 1
        self._spawn(self._expire(key, proc))

    async def _expire(self, key: LaunchSpec, proc: CLIProcess) -> None:
        await asyncio.sleep(min(self.ttl, self.ahead_ttl) if key.own_session else self.ttl)
        idle = self._idle.get(key, [])
        for item in idle:
            if item.proc is proc:
                idle.remove(item)
                self._ready -= 1
                self._retire(proc)
                self._forget_if_unused(key)
                return

    def _retire(self, proc: CLIProcess) -> None:
        proc.kill()
        self._spawn(proc.aclose(grace=0.0))

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        # A fresh context: processes started ahead belong to no request until one takes them.
        task: asyncio.Task[Any] = contextvars.Context().run(asyncio.ensure_future, coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task


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
