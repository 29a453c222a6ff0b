"""The access log line is written before the answer's last byte leaves."""

from __future__ import annotations

import asyncio
import logging

from claude_max.server.access import AccessLog


async def _answer(scope, receive, send) -> None:
    await send({"type": "http.response.start", "status": 502, "headers": []})
    scope["state"]["error_reason"] = "upstream failed"
    await send({"type": "http.response.body", "body": b"part", "more_body": True})
    await send({"type": "http.response.body", "body": b"end"})


def _scope() -> dict:
    headers = [(b"x-request-id", b"rid-1"), (b"user-agent", b"t")]
    return {"type": "http", "method": "POST", "path": "/v1/messages", "headers": headers}


def test_line_is_logged_before_the_last_body_part(caplog):
    seen_at: dict[str, int] = {}

    async def send(message) -> None:
        lines = [r for r in caplog.records if r.name == "claude_max.access"]
        if message["type"] == "http.response.body":
            seen_at["more" if message.get("more_body") else "last"] = len(lines)

    async def receive():
        return {"type": "http.request", "body": b""}

    with caplog.at_level(logging.INFO, logger="claude_max.access"):
        asyncio.run(AccessLog(_answer)(_scope(), receive, send))
    lines = [r.getMessage() for r in caplog.records if r.name == "claude_max.access"]
    assert seen_at == {"more": 0, "last": 1}
    assert len(lines) == 1
    assert (
        lines[0].startswith("rid-1 POST /v1/messages 502")
        and 'reason="upstream failed"' in lines[0]
    )


def test_line_is_logged_once_when_the_app_fails(caplog):
    async def broken(scope, receive, send) -> None:
        raise RuntimeError("boom")

    async def send(message) -> None:
        return None

    async def receive():
        return {"type": "http.request", "body": b""}

    with caplog.at_level(logging.INFO, logger="claude_max.access"):
        try:
            asyncio.run(AccessLog(broken)(_scope(), receive, send))
        except RuntimeError:
            pass
    lines = [r.getMessage() for r in caplog.records if r.name == "claude_max.access"]
    assert len(lines) == 1 and " 500 " in lines[0] and "RuntimeError" in lines[0]
