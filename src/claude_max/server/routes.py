"""Route handlers: read, hand to a protocol adapter and the core, return. No wire logic here."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from claude_max import __version__
from claude_max.core import catalog
from claude_max.core.errors import InvalidRequest
from claude_max.core.events import (
    Event,
    Result,
    Started,
    TextDelta,
    ThinkingDelta,
    ToolUse,
    ToolUseStart,
    gather,
)
from claude_max.core.launch import launch_spec
from claude_max.core.run import complete, run
from claude_max.protocols import anthropic, openai
from claude_max.server.body import read_json
from claude_max.sessions import auto, continuity

if TYPE_CHECKING:
    from claude_max.sessions.store import SessionStore

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
    protocol = _models_protocol(request)
    if protocol is anthropic:  # the Models API pages its list; OpenAI's has no paging
        return JSONResponse(anthropic.model_list(catalog.listed(), request.query_params))
    return JSONResponse(protocol.model_list(catalog.listed()))


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
    settings, pool = request.app.state.settings, request.app.state.pool
    key = request.headers.get("x-session-id")
    if key is not None and not (0 < len(key) <= 128 and key.isprintable()):
        raise InvalidRequest(
            "The X-Session-Id header must be 1 to 128 printable characters.", param="X-Session-Id"
        )
    if not continuity.applies(conversation):
        key = None
    held = contextlib.AsyncExitStack()  # the request's slot and session lock
    streaming = False  # once a stream owns them, it lets them go when it ends
    try:
        headers: dict[str, str] = {}
        plan: Plan | None = None
        if key is not None:  # first, so a second request on the session fails fast: 409
            store = sessions_store(request)
            await held.enter_async_context(store.alock(key))
        release = await _unless_disconnected(request, request.app.state.limiter.acquire())
        if release is None:
            return Response(status_code=499)
        held.callback(release)
        if key is not None:
            plan = continuity.plan(store, key, conversation)
            conversation = plan.conversation
            headers["x-session-id"] = key
        elif settings.auto_continue and auto.applies(conversation):
            plan = auto.plan(sessions_store(request), conversation)
            conversation = plan.conversation
        recorder = _Recorder(plan)
        next_turn = _next_turn(request.app.state, plan)
        if not stream:
            work = complete(conversation, settings, pool=pool, observe=recorder, on_exit=next_turn)
            reply = await _unless_disconnected(request, work)
            if reply is None:
                return Response(status_code=499)
            headers[COST_HEADER] = f"{recorder.cost:.6f}"
            return JSONResponse(protocol.response(reply, body), headers=headers)
        events = run(conversation, settings, pool=pool, on_exit=next_turn)
        if plan is not None:
            events = _recording(events, recorder)
        head = await _unless_disconnected(request, _until_first_token(events))
        if head is None:
            return Response(status_code=499)
        streaming = True
        return StreamingResponse(
            _sse(protocol, _resume(head, events), body, held),
            media_type="text/event-stream",
            headers={**SSE_HEADERS, **headers},
            background=BackgroundTask(held.aclose),
        )
    finally:
        if not streaming:
            await held.aclose()


def sessions_store(request: Request) -> SessionStore:
    return sessions_store_of(request.app)


def sessions_store_of(app: Any) -> SessionStore:
    """The session store, opened on first use (a server without sessions never opens it)."""
    state = app.state
    if state.store is None:
        from claude_max.sessions.store import DB_NAME, SessionStore

        state.store = SessionStore(state.settings.home / DB_NAME)
    return state.store


Plan = continuity.Plan | auto.Plan


class _Recorder:
    """Sees a run's events as they pass and saves the turn in its session (or for automatic
    continuation) as soon as the result is in, before the CLI exits; `cost` is then the
    request's own cost."""

    def __init__(self, plan: Plan | None) -> None:
        self.plan = plan
        self.text = ""
        self.cost = 0.0

    def __call__(self, event: Event) -> None:
        self.text = gather(self.text, event)
        plan = self.plan
        if isinstance(event, Started) and isinstance(plan, auto.Plan):
            auto.started(plan, event.session_id)
        elif isinstance(event, Result):
            if isinstance(plan, continuity.Plan):
                self.cost = continuity.record(plan, self.text, event)
            elif isinstance(plan, auto.Plan):
                self.cost = auto.record(plan, self.text, event)
            else:
                self.cost = event.cost_usd


async def _recording(events: AsyncIterator[Event], recorder: _Recorder) -> AsyncIterator[Event]:
    async with contextlib.aclosing(events):  # type: ignore[type-var]
        async for event in events:
            recorder(event)
            yield event


def _next_turn(state: Any, plan: Plan | None) -> Callable[[], None] | None:
    """For automatic continuation: once the run's CLI has exited (its session saved), start
    the CLI that would continue the conversation, so that its next turn takes it warm."""
    if not isinstance(plan, auto.Plan):
        return None

    def start_next() -> None:
        if plan.next is not None and state.pool is not None:
            state.pool.fill(launch_spec(plan.next, state.settings))

    return start_next


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
            if isinstance(event, (TextDelta, ThinkingDelta, ToolUseStart, ToolUse, Result)):
                break
    except BaseException:
        await events.aclose()  # type: ignore[attr-defined]
        raise
    return head


async def _sse(
    protocol: ModuleType,
    events: AsyncIterator[Event],
    body: dict[str, Any],
    held: contextlib.AsyncExitStack,
) -> AsyncIterator[str]:
    """The protocol's SSE, closing the run (and its CLI) and letting go of its slot and
    session lock as soon as the last event is out."""
    try:
        async with contextlib.aclosing(events):  # type: ignore[type-var]
            async for chunk in protocol.stream(events, body):
                yield chunk
    finally:
        await held.aclose()


async def _resume(head: list[Event], events: AsyncIterator[Event]) -> AsyncIterator[Event]:
    async with contextlib.aclosing(events):  # type: ignore[type-var]
        for event in head:
            yield event
        async for event in events:
            yield event


def cli_info(path: str | None, version: str | None, error: str | None) -> dict[str, Any]:
    return {"path": path, "version": version, "error": error}
