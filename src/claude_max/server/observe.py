"""What the server does with what a run reports on its way: the plan reading (kept for
`/health`, the response headers and `<home>/plan.json`), extra usage (one log line), the
model and tokens (for the request's log line).

The route's `_Watch` calls `seen` with every event of a turn (the turn service's `observe`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

from starlette.requests import Request

from claude_max.core import plan
from claude_max.core.events import Event, PlanUpdate, Result, Retrying, Started

log = logging.getLogger("claude_max.server")


def seen(request: Request, event: Event) -> None:
    """Take note of one event of the request's run."""
    state = request.state
    if isinstance(event, PlanUpdate):
        reading = event.reading
        request.app.state.plan = reading
        state.plan = reading  # (the core saved it in <home>/plan.json)
        if reading.drew_from_extra_usage:
            state.extra_usage = True
            log.warning(
                "%s drew from extra usage (plan status %s)",
                getattr(state, "request_id", "-"),
                reading.status,
            )
    elif isinstance(event, Retrying):
        log.info("%s %s", getattr(state, "request_id", "-"), event.words)
    elif isinstance(event, Started):
        state.model = event.model
    elif isinstance(event, Result):
        state.model = event.model or getattr(state, "model", None)
        state.usage = event.usage
        login = getattr(request.app.state, "login", None)
        if login is not None and login.logged_in is False:  # an answer proves the login
            request.app.state.login = dataclasses.replace(login, logged_in=True)


async def load_saved(app_state: Any) -> None:
    """At start: the last reading on disk (a server restarted mid-window still knows it)."""
    app_state.plan = await asyncio.to_thread(plan.load, app_state.settings.home)
