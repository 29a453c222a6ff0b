"""The recording middleware's judgment of how a request ended."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from claude_max.core.events import Result, Usage
from claude_max.server.recording import STATE_KEY, Observe


class Rows:
    def __init__(self) -> None:
        self.rows: list = []

    def record(self, row) -> None:
        self.rows.append(row)


def run(answered: bool) -> object:
    """A streamed answer whose client closes before the server's final empty chunk."""

    async def app(scope, receive, send) -> None:
        if answered:
            usage = Usage(input_tokens=3, output_tokens=1)
            result = Result(
                text="ok", stop_reason="end_turn", usage=usage, session_id="", model="m"
            )
            scope["state"][STATE_KEY].see(result)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"data: last\n\n", "more_body": True})

    rows = Rows()
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/responses",
        "headers": [],
        "app": SimpleNamespace(state=SimpleNamespace(usage=rows)),
    }

    async def receive() -> dict:
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        pass

    asyncio.run(Observe(app)(scope, receive, send))
    [row] = rows.rows
    return row


@pytest.mark.parametrize(("answered", "status"), [(True, 200), (False, 499)])
def test_a_client_that_closes_after_the_last_event_is_not_a_disconnect(answered, status):
    row = run(answered)
    assert row.status == status
    assert (row.error is None) is answered
