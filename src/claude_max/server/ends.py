"""A request's CLIs end with its client: the moment the server hears that the client is
gone (it hung up, or the connection was cut for reading nothing, see `protocol.py`), the
CLIs serving that request are killed, whatever the request was waiting on.

Cancellation reaches a run only where it awaits; a stream blocked on a client that stopped
reading has its run suspended between two events, where nothing would end it. Killing the
CLI gives the run an end of file, and everything after unwinds as for any CLI failure.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from claude_max.core.processes import OWNER, CLIProcess

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]


class EndWithClient:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        procs: set[CLIProcess] = set()
        complete = False

        async def watched_receive() -> Message:
            message: Message = await receive()
            if message["type"] == "http.disconnect" and not complete:
                for proc in list(procs):
                    proc.kill()
            return message

        async def watched_send(message: Message) -> None:
            nonlocal complete
            if message["type"] == "http.response.body" and not message.get("more_body"):
                complete = True
            await send(message)

        token = OWNER.set(procs)
        try:
            await self.app(scope, watched_receive, watched_send)
        finally:
            OWNER.reset(token)
