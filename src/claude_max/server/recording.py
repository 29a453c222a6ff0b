"""Observe each API request for the request history and /metrics (one job: watch, never alter).

A pure ASGI middleware (no buffering of streams): for a POST to an answering endpoint it puts
an `Observer` in the request's state, for the turn path to show its core events to
(`observer(request)`), notes the response's status and when its last byte went out, and hands
the finished row to the app's `Recording` (history writer + metrics). Error bodies (small JSON)
are read for their error type and message; nothing else of a body is looked at.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from claude_max.usage.history import Observer, Row

if TYPE_CHECKING:
    from starlette.requests import Request

    from claude_max.usage.history import Writer
    from claude_max.usage.metrics import Metrics

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

STATE_KEY = "usage_observer"
MAX_ERROR_BODY = 8192
# Endpoints that answer (a CLI turn), by protocol; other paths are not recorded.
PROTOCOLS = {
    "/v1/chat/completions": "openai",
    "/chat/completions": "openai",
    "/v1/responses": "openai",
    "/responses": "openai",
    "/v1/messages": "anthropic",
}


class Recording:
    """Where finished rows go: the history writer (None: history off) and the metrics."""

    def __init__(self, writer: Writer | None, metrics: Metrics | None) -> None:
        self.writer = writer
        self.metrics = metrics

    def record(self, row: Row) -> None:
        if self.writer is not None:
            self.writer.put(row)
        if self.metrics is not None:
            self.metrics.observe(row)


def observer(request: Request, body: object = None) -> Observer:
    """The request's observer (noting the model asked for in `body`), or one that records
    nothing when the request is not observed."""
    found = request.scope.get("state", {}).get(STATE_KEY)
    if not isinstance(found, Observer):
        return Observer(time.perf_counter())
    if body is not None:
        found.asked(body)
    return found


def _error_of(status: int, body: bytes) -> tuple[str | None, str | None]:
    """(type, message) of an error response in either protocol's shape."""
    if status == 499:
        return "client_disconnected", "The client went away before the answer."
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError):
        error = None
    if isinstance(error, dict):
        kind, message = error.get("type"), error.get("message")
        return (
            kind if isinstance(kind, str) else "error",
            message if isinstance(message, str) else None,
        )
    return "error", None


class Observe:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        protocol = PROTOCOLS.get(scope["path"]) if scope["type"] == "http" else None
        recording = getattr(scope["app"].state, "usage", None) if protocol else None
        if protocol is None or scope["method"] != "POST" or recording is None:
            await self.app(scope, receive, send)
            return
        at, start = time.time(), time.perf_counter()
        seen = Observer(start)
        scope.setdefault("state", {})[STATE_KEY] = seen
        status = 0
        ended: float | None = None
        error_body = bytearray()

        async def watched(message: Message) -> None:
            nonlocal status, ended
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                if status >= 400 and len(error_body) < MAX_ERROR_BODY:
                    error_body.extend(message.get("body", b"")[:MAX_ERROR_BODY])
                if not message.get("more_body", False):
                    ended = time.perf_counter()
            await send(message)

        try:
            await self.app(scope, receive, watched)
        finally:
            error = message = None
            if status == 0:  # nothing was sent: an unexpected exception (500)
                status, error = 500, "api_error"
            elif ended is None and not seen.answered:  # the client left before the answer
                # (SDKs and Codex close a stream at its last event, before the server's final
                # empty chunk: that is not a disconnect.)
                status = 499
                error, message = _error_of(499, b"")
            elif status >= 400:
                error, message = _error_of(status, bytes(error_body))
            headers = {k: v for k, v in scope["headers"] if k in (b"user-agent", b"x-session-id")}
            recording.record(
                seen.row(
                    at=at,
                    protocol=protocol,
                    endpoint=scope["path"],
                    client=headers.get(b"user-agent", b"").decode("latin-1"),
                    key_label=scope["state"].get("key_label"),
                    status=status,
                    duration_ms=((ended or time.perf_counter()) - start) * 1000,
                    session_id=headers.get(b"x-session-id", b"").decode("latin-1") or None,
                    error=error,
                    error_message=message,
                )
            )
