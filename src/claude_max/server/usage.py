"""Usage views of the server: `/metrics` (Prometheus), `/v1/claude-max/stats` (the report as
JSON) and the dashboard page (`/`, `/dashboard`) that draws it. All behind the API key when
one is set (Guard); the page is static and fetches the JSON."""

from __future__ import annotations

import asyncio
import time
from functools import cache
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from claude_max.core import processes
from claude_max.core.errors import InvalidRequest
from claude_max.core.settings import Settings
from claude_max.server.recording import Recording
from claude_max.usage import report
from claude_max.usage.plan import read_plan

STATIC = {  # file name: content type
    "dashboard.html": "text/html; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
}
PAGE_HEADERS = {
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "content-security-policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
}


def start(app: Starlette, settings: Settings) -> None:
    """Open the history writer (unless --history-days 0) and the metrics; at start-up."""
    from claude_max.sessions.db import DB_NAME
    from claude_max.usage.history import Writer
    from claude_max.usage.metrics import Metrics

    state = app.state
    writer = Writer(settings.home / DB_NAME) if settings.history_days > 0 else None

    def live() -> dict[str, Any]:
        return {
            "in_flight": state.limiter.active,
            "queued": state.limiter.waiting,
            "cli_processes": len(processes.LIVE),
            "pool": state.pool.stats() if state.pool is not None else None,
            "plan": read_plan(settings.home),
        }

    state.usage = Recording(writer, Metrics(live))


def stop(app: Starlette) -> None:
    usage: Recording | None = getattr(app.state, "usage", None)
    if usage is not None and usage.writer is not None:
        usage.writer.close()


def prune(app: Starlette, days: float) -> None:
    """Delete history older than `days` (blocking: run it off the loop)."""
    usage: Recording | None = getattr(app.state, "usage", None)
    if usage is not None and usage.writer is not None:
        usage.writer.prune(days)


async def metrics(request: Request) -> Response:
    usage: Recording = request.app.state.usage
    assert usage.metrics is not None
    body = await asyncio.to_thread(usage.metrics.exposition)
    from claude_max.usage.metrics import CONTENT_TYPE

    return Response(body, media_type=CONTENT_TYPE)


async def stats(request: Request) -> JSONResponse:
    """The report over `?since=24h` (default), grouped `?by=model`."""
    period = request.query_params.get("since", "24h")
    by = request.query_params.get("by", "model")
    try:
        span = report.parse_since(period)
    except ValueError as exc:
        raise InvalidRequest(str(exc), param="since") from None
    if by not in report.GROUPINGS:
        raise InvalidRequest(f"'by' must be one of {', '.join(report.GROUPINGS)}", param="by")
    state = request.app.state

    def build() -> dict[str, Any]:
        writer = state.usage.writer
        until = time.time()
        rows = []
        if writer is not None:
            writer.flush()  # the rows of requests already answered
            rows = writer.read(until - span, until)
        plan = read_plan(state.settings.home)
        return report.build(rows, since=until - span, until=until, period=period, by=by, plan=plan)

    return JSONResponse(await asyncio.to_thread(build), headers={"cache-control": "no-store"})


@cache
def _static(name: str) -> bytes:
    return resources.files("claude_max.usage").joinpath("static").joinpath(name).read_bytes()


async def dashboard(request: Request) -> Response:
    page = _static("dashboard.html")
    return Response(page, media_type=STATIC["dashboard.html"], headers=PAGE_HEADERS)


async def asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in STATIC or name.endswith(".html"):
        raise HTTPException(404, f"no such file: {name}")
    return Response(_static(name), media_type=STATIC[name], headers=PAGE_HEADERS)
