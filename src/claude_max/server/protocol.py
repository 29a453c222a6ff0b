"""uvicorn's h11 protocol with the limits a server facing hostile clients needs.

uvicorn has a keep-alive timeout but no header timeout (a slowloris client sending a byte
every few seconds holds its socket forever), no cap on open connections (past the file
descriptor limit every accept fails and the log fills), and its deadlines live in the app,
which sees them only when a response is pulled (a streaming client that stops reading
holds its request slot and its CLI for as long as it keeps the socket open). Here, per
connection:

* the request head must arrive within `header_timeout` seconds of the connection (or of
  the previous response), else the connection is dropped;
* a response whose writes make no progress for `stall_timeout` seconds (the client stopped
  reading), or that is not complete `request_timeout` seconds after its request arrived,
  is cut: the connection is aborted, which the app sees as a disconnect (the run is
  cancelled and its CLI killed, the slot freed);
* at most `max_connections` are open (a quarter of the file-descriptor limit by default,
  with a listen backlog of half that): a new one first pushes out the oldest connection
  still waiting for its request head (slowloris sockets lose, real clients get in), and is
  refused only when every connection is busy with a request.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("claude_max.server")
DEADLINE_GRACE = 1.0  # seconds past --request-timeout for the app's own 504 to go out


def default_max_connections() -> int:
    """A quarter of the soft file-descriptor limit: connections accepted in one burst (up
    to the listen backlog, before any can be refused) and the CLIs' pipes need the rest."""
    try:
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (OSError, ValueError):
        return 256
    if soft == resource.RLIM_INFINITY:
        return 1024
    return max(8, min(1024, soft // 4))


def protocol_class(
    *,
    header_timeout: float,
    stall_timeout: float,
    request_timeout: float,
    max_connections: int,
) -> type[H11Protocol]:
    class GuardedH11Protocol(H11Protocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._born = self.loop.time()
            self._head_timer: asyncio.TimerHandle | None = None
            self._stall_timer: asyncio.TimerHandle | None = None
            self._deadline_timer: asyncio.TimerHandle | None = None
            self._awaiting_head = True
            if len(self.connections) > max_connections and not self._make_room():
                log.warning("refused a connection: %d open (--max-connections)", max_connections)
                transport.abort()
                return
            self._head_timer = self.loop.call_later(header_timeout, self._cut, "header")

        def _make_room(self) -> bool:
            """Abort the oldest other connection still waiting for a request head."""
            waiting = [
                c for c in self.connections if c is not self and getattr(c, "_awaiting_head", False)
            ]
            if not waiting:
                return False
            oldest: Any = min(waiting, key=lambda c: getattr(c, "_born", 0.0))
            oldest._awaiting_head = False
            oldest.transport.abort()
            return True

        def handle_events(self) -> None:
            before = self.cycle
            super().handle_events()
            if self.cycle is not before and self.cycle is not None:  # a request head arrived
                self._awaiting_head = False
                self._cancel("_head_timer")
                self._deadline_timer = self.loop.call_later(
                    request_timeout + DEADLINE_GRACE, self._cut, "deadline"
                )

        def on_response_complete(self) -> None:
            self._cancel("_deadline_timer")
            super().on_response_complete()
            if not self.transport.is_closing():
                self._awaiting_head = True
                self._born = self.loop.time()
                self._cancel("_head_timer")
                self._head_timer = self.loop.call_later(header_timeout, self._cut, "header")

        def pause_writing(self) -> None:
            super().pause_writing()
            if self._stall_timer is None:
                self._stall_timer = self.loop.call_later(stall_timeout, self._cut, "stall")

        def resume_writing(self) -> None:
            super().resume_writing()
            self._cancel("_stall_timer")

        def connection_lost(self, exc: Exception | None) -> None:
            for name in ("_head_timer", "_stall_timer", "_deadline_timer"):
                self._cancel(name)
            self._awaiting_head = False
            super().connection_lost(exc)

        def _cancel(self, name: str) -> None:
            timer = getattr(self, name, None)
            if timer is not None:
                timer.cancel()
                setattr(self, name, None)

        def _cut(self, why: str) -> None:
            if self.transport.is_closing() and why == "header":
                return
            if why == "deadline" and (self.cycle is None or self.cycle.response_complete):
                return
            reason = {
                "header": f"sent no complete request head in {header_timeout:g} s",
                "stall": f"read nothing for {stall_timeout:g} s (--idle-timeout)",
                "deadline": f"still had its response open after {request_timeout:g} s "
                "(--request-timeout)",
            }[why]
            level = logging.DEBUG if why == "header" else logging.INFO
            log.log(level, "closing a connection that %s", reason)
            self.transport.abort()

    return GuardedH11Protocol


def uvicorn_options(settings: Any) -> dict[str, Any]:
    """The uvicorn.Config arguments for these limits."""
    limit = settings.max_connections or default_max_connections()
    return {
        "http": protocol_class(
            header_timeout=settings.header_timeout,
            stall_timeout=settings.idle_timeout,
            request_timeout=settings.request_timeout,
            max_connections=limit,
        ),
        "timeout_keep_alive": 5,
        # asyncio accepts up to `backlog` connections per wake-up before any protocol runs
        "backlog": max(16, limit // 2),
    }
