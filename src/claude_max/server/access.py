"""One log line per request, and the headers every response carries: the request id and the
plan (`anthropic-ratelimit-unified-*` on the Anthropic protocol, `x-claude-max-plan-*` on the
OpenAI one).

A pure ASGI middleware, outermost, so it sees refusals, errors and streams alike without
buffering them. What it logs: request id, method, path, client (user agent), model (the one
the CLI ran, never the client's text), status, duration, tokens and, for an error, the reason
the error handlers left in the request's state. Never a prompt, an answer or a key.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from claude_max.server.errors import is_anthropic

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("claude_max.access")
ANSWER_PATHS = ("/v1/messages", "/v1/chat/completions", "/chat/completions", "/v1/responses")


def request_id(given: str | None) -> str:
    """The client's x-request-id when it is a sane one, else a new one."""
    if given and len(given) <= 128 and given.isprintable() and given.isascii():
        return given
    return f"req_{secrets.token_hex(12)}"


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        rid = request_id(headers.get("x-request-id"))
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = rid
        start = time.monotonic()
        status = 0
        logged = False

        def log_once() -> None:
            nonlocal logged
            if not logged:
                logged = True
                _log_line(scope, headers, state, status, time.monotonic() - start)

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                extra = [(b"x-request-id", rid.encode())]
                extra += _plan_headers(scope, headers, state)
                message["headers"] = [*message.get("headers", []), *extra]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                # Logged before the last byte leaves: a client that has its whole answer can
                # rely on the line being in the log (scripts and tests read it right after).
                log_once()
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except BaseException as exc:
            state.setdefault("error_reason", f"internal error: {type(exc).__name__}")
            status = status or 500
            raise
        finally:
            log_once()


def _plan_headers(
    scope: Scope, headers: dict[str, str], state: dict[str, Any]
) -> list[tuple[bytes, bytes]]:
    path = scope["path"]
    if not path.startswith(ANSWER_PATHS):
        return []
    reading = state.get("plan")
    if reading is None:
        app = scope.get("app")
        reading = getattr(getattr(app, "state", None), "plan", None)
    out: dict[str, str] = {}
    if reading is not None:
        out = reading.anthropic_headers() if is_anthropic(path, headers) else reading.plan_headers()
    if state.get("extra_usage"):
        out["x-claude-max-extra-usage"] = "true"
    return [(k.encode(), v.encode()) for k, v in out.items()]


def _log_line(
    scope: Scope, headers: dict[str, str], state: dict[str, Any], status: int, seconds: float
) -> None:
    usage = state.get("usage")
    record: dict[str, Any] = {
        "request_id": state.get("request_id"),
        "method": scope["method"],
        "path": _path(scope),
        "status": status,
        "duration_ms": round(seconds * 1000),
        "client": headers.get("user-agent", "")[:200],
        "model": state.get("model"),
        "input_tokens": getattr(usage, "input_tokens", None),
        "output_tokens": getattr(usage, "output_tokens", None),
        "reason": state.get("error_reason"),
    }
    level = logging.WARNING if status >= 500 or status == 429 else logging.INFO
    log.log(level, "%s", _Line(record))


class _Line:
    """Rendered lazily: text by default; the JSON formatter takes `record` as it is."""

    def __init__(self, record: dict[str, Any]) -> None:
        self.record = record

    def __str__(self) -> str:
        r = self.record
        text = f"{r['request_id']} {r['method']} {r['path']} {r['status']} {r['duration_ms']}ms"
        if r["model"]:
            text += f" model={r['model']}"
        if r["input_tokens"] is not None:
            text += f" tokens={r['input_tokens']}/{r['output_tokens']}"
        if r["client"]:
            text += f" client={json.dumps(r['client'])}"
        if r["reason"]:
            text += f" reason={json.dumps(r['reason'])}"
        return text


def _path(scope: Scope) -> str:
    """The path, with the query's values masked: a client may put its key there."""
    from claude_max.server.logs import redact_query

    query = scope.get("query_string", b"").decode("latin-1")
    return redact_query(f"{scope['path']}?{query}") if query else str(scope["path"])
