"""Route handlers: read, hand to a protocol adapter and the core, return. No wire logic here."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from types import ModuleType
from typing import Any, TypeVar

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from claude_max import __version__
from claude_max.core import catalog
from claude_max.core.errors import InvalidRequest
from claude_max.core.events import Event, Result, TextDelta, ThinkingDelta, ToolUse
from claude_max.core.run import complete, run
from claude_max.protocols import anthropic, openai
from claude_max.server.body import read_json

T = TypeVar("T")
COST_HEADER = "x-claude-max-cost-usd"
SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


async def health(request: Request) -> JSONResponse:
    state = request.app.state
    return JSONResponse(
        {
            "status": "ok",
            "version": __version__,
            "uptime_s": round(time.monotonic() - state.started, 3),
            "cli": state.cli_info,
            "tools": list(state.settings.allow_tools) or "off",
            "auth": "api-key" if state.settings.api_key else "none",
            "requests": {
                "active": state.limiter.active,
                "waiting": state.limiter.waiting,
                "limit": state.limiter.limit,
            },
            "warm": state.pool.stats() if state.pool is not None else {"size": 0},
        }
    )


def _models_protocol(request: Request) -> ModuleType:
    return anthropic if "anthropic-version" in request.headers else openai


async def list_models(request: Request) -> JSONResponse:
    return JSONResponse(_models_protocol(request).model_list(catalog.listed()))


async def get_model(request: Request) -> JSONResponse:
    model = catalog.entry(request.path_params["model_id"])
    return JSONResponse(_models_protocol(request).model_entry(model))


async def chat_completions(request: Request) -> Response:
    return await _answer(request, openai)


async def messages(request: Request) -> Response:
    return await _answer(request, anthropic)


async def _answer(request: Request, protocol: ModuleType) -> Response:
    body = await read_json(request, request.app.state.max_body)
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise InvalidRequest("'stream' must be a boolean.", param="stream")
    conversation = protocol.to_conversation(body)
    settings = request.app.state.settings
    release = await _unless_disconnected(request, request.app.state.limiter.acquire())
    if release is None:
        return Response(status_code=499)
    streaming = False  # once a stream owns the slot, it frees it when it ends
    try:
        if not stream:
            pool = request.app.state.pool
            reply = await _unless_disconnected(request, complete(conversation, settings, pool=pool))
            if reply is None:
                return Response(status_code=499)
            return JSONResponse(protocol.response(reply, body), headers=_cost(reply.result))
        events = run(conversation, settings, pool=request.app.state.pool)
        head = await _unless_disconnected(request, _until_first_token(events))
        if head is None:
            return Response(status_code=499)
        streaming = True
        return StreamingResponse(
            _sse(protocol, _resume(head, events), body, release),
            media_type="text/event-stream",
            headers=SSE_HEADERS,
            background=BackgroundTask(release),
        )
    finally:
        if not streaming:
            release()


async def _unless_disconnected(request: Request, work: Awaitable[T]) -> T | None:
    """Await `work`, cancelling it (and so killing its CLI) if the client goes away first.

    Before a response starts nothing else notices a disconnect; once a StreamingResponse runs,
    Starlette cancels it on disconnect by itself.
    """
    task = asyncio.ensure_future(work)

    async def watch() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass
        task.cancel()

    watcher = asyncio.ensure_future(watch())
    try:
        return await task
    except asyncio.CancelledError:
        if watcher.done() and not watcher.cancelled():
            return None  # the client left; nobody is waiting for an answer
        raise
    finally:
        watcher.cancel()


def _cost(result: Result) -> dict[str, str]:
    return {COST_HEADER: f"{result.cost_usd:.6f}"}


async def _until_first_token(events: AsyncIterator[Event]) -> list[Event]:
    """Run until the first token, so that earlier failures get a real HTTP status."""
    head: list[Event] = []
    try:
        async for event in events:
            head.append(event)
            if isinstance(event, (TextDelta, ThinkingDelta, ToolUse, Result)):
                break
    except BaseException:
        await events.aclose()  # type: ignore[attr-defined]
        raise
    return head


async def _sse(
    protocol: ModuleType,
    events: AsyncIterator[Event],
    body: dict[str, Any],
    release: Callable[[], None],
) -> AsyncIterator[str]:
    """The protocol's SSE, closing the run (and its CLI) and freeing its slot as soon as the
    last event is out."""
    try:
        async with contextlib.aclosing(events):  # type: ignore[type-var]
            async for chunk in protocol.stream(events, body):
                yield chunk
    finally:
        release()


async def _resume(head: list[Event], events: AsyncIterator[Event]) -> AsyncIterator[Event]:
    async with contextlib.aclosing(events):  # type: ignore[type-var]
        for event in head:
            yield event
        async for event in events:
            yield event


def cli_info(path: str | None, version: str | None, error: str | None) -> dict[str, Any]:
    return {"path": path, "version": version, "error": error}
