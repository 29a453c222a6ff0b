"""Route handlers: read, hand to a protocol adapter and the core, return. No wire logic here."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from claude_max.core import catalog, tokens
from claude_max.core.errors import InvalidRequest
from claude_max.core.events import (
    Event,
    Result,
    TextDelta,
    ThinkingDelta,
    ToolUse,
    ToolUseStart,
    WebSearchCall,
)
from claude_max.protocols import anthropic, openai, responses
from claude_max.server import keepalive, observe, recording
from claude_max.server.body import read_json
from claude_max.sessions import stored_responses

if TYPE_CHECKING:
    from claude_max.sessions.store import SessionStore
    from claude_max.turns.service import Turn, TurnService

T = TypeVar("T")
log = logging.getLogger("claude_max.server")
COST_HEADER = "x-claude-max-cost-usd"
IGNORED_TOOLS_HEADER = "x-claude-max-ignored-tools"
log = logging.getLogger("claude_max.server")
SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


def _models_protocol(request: Request) -> ModuleType:
    return anthropic if "anthropic-version" in request.headers else openai


async def list_models(request: Request) -> JSONResponse:
    models = await request.app.state.models.get()  # the CLI's own list, else the catalog's
    protocol = _models_protocol(request)
    if protocol is anthropic:  # the Models API pages its list; OpenAI's has no paging
        return JSONResponse(anthropic.model_list(models, request.query_params))
    return JSONResponse(protocol.model_list(models))


async def get_model(request: Request) -> JSONResponse:
    await request.app.state.models.get()
    model = catalog.entry(request.path_params["model_id"])
    return JSONResponse(_models_protocol(request).model_entry(model))


async def chat_completions(request: Request) -> Response:
    return await _answer(request, openai)


async def messages(request: Request) -> Response:
    return await _answer(request, anthropic)


async def count_tokens(request: Request) -> JSONResponse:
    """Anthropic's count_tokens: the request's input tokens, estimated locally at once
    (`core.tokens` says why not the upstream's exact count)."""
    body = await read_json(request, request.app.state.max_body)
    conversation = anthropic.to_conversation(body)
    return JSONResponse(anthropic.count_body(tokens.estimate(conversation)))


async def create_response(request: Request) -> Response:
    return await _answer(request, responses)


async def get_response(request: Request) -> JSONResponse:
    store = sessions_store(request)
    return JSONResponse(stored_responses.get(store, request.path_params["response_id"]))


async def delete_response(request: Request) -> JSONResponse:
    store = sessions_store(request)
    return JSONResponse(stored_responses.delete(store, request.path_params["response_id"]))


def _protocol_headers(protocol: ModuleType, body: dict[str, Any]) -> dict[str, str]:
    """Headers a protocol adds about the request: the Responses API's left-out hosted tools
    (a header and a log line, so neither the client nor the operator is left guessing)."""
    ignored = responses.ignored_tools(body) if protocol is responses else []
    if not ignored:
        return {}
    log.info("/v1/responses: hosted tools left out (the CLI cannot offer them): %s", ignored)
    return {IGNORED_TOOLS_HEADER: ", ".join(ignored)}


async def _answer(request: Request, protocol: ModuleType) -> Response:
    """Wire in, a turn through the turn service, wire out: the path of every answer."""
    body = await read_json(request, request.app.state.max_body)
    service: TurnService = request.app.state.turns
    kept = service.stored_response(body) if protocol is responses else None  # 404 first
    watch = _Watch(request, body)  # first: a refused request is recorded with what it asked
    stream = wants_stream(body)
    conv = protocol.to_conversation(body if kept is None else kept.request)
    owner = getattr(request.state, "key_label", None) or None  # "": no keys are set
    how = service.continuation(
        conv, session=session_key(request), owner=owner, stored_response=kept
    )
    opening = service.open(conv, how, observe=watch, failed=watch.seen.fail)
    turn = await _unless_disconnected(request, opening)
    if turn is None:
        return Response(status_code=499)
    headers = {**turn.headers, **_protocol_headers(protocol, body)}
    if stream:
        return await _streamed(request, protocol, body, turn, headers)
    async with turn:
        reply = await _unless_disconnected(request, turn.complete())
    if reply is None:
        return Response(status_code=499)
    headers[COST_HEADER] = f"{turn.cost:.6f}"
    rendered = protocol.response(reply, body)
    turn.answered(rendered)
    return JSONResponse(rendered, headers=headers)


async def _streamed(
    request: Request,
    protocol: ModuleType,
    body: dict[str, Any],
    turn: Turn,
    headers: dict[str, str],
) -> Response:
    """Wait for the first token up to one keep-alive interval: failures before it get a real
    HTTP status. A first token that takes longer (a long hidden think, a cold start) starts
    the response at the interval with the protocol's opening and keep-alives, and a later
    failure is reported in the stream. The turn is closed as soon as the last event is out."""
    keepalive_s = request.app.state.turns.settings.keepalive
    head = _FirstToken(turn.events())
    try:
        came = await _unless_disconnected(request, head.within(keepalive_s))
    except BaseException:
        await head.aclose()
        await turn.aclose()
        raise
    if came is None:
        await head.aclose()
        await turn.aclose()
        return Response(status_code=499)
    stream = protocol.stream(head.events(), body, open_now=not came)
    chunks = keepalive.wrap(protocol, stream, keepalive_s)
    if protocol is responses:  # its last event carries the whole response object
        chunks = _answered(chunks, turn)
    return StreamingResponse(
        _sse(chunks, head, turn),
        media_type="text/event-stream",
        headers={**SSE_HEADERS, **headers},
        background=BackgroundTask(turn.aclose),
    )


class _Watch:
    """What the server notes of a run's events: the plan reading, extra usage and the log
    line's model and tokens (`observe`), the request history and metrics (`recording`)."""

    def __init__(self, request: Request, body: dict[str, Any]) -> None:
        self.request = request
        self.seen = recording.observer(request, body)

    def __call__(self, event: Event) -> None:
        observe.seen(self.request, event)
        self.seen.see(event)


def wants_stream(body: dict[str, Any]) -> bool:
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise InvalidRequest("'stream' must be a boolean.", param="stream")
    return stream


def session_key(request: Request) -> str | None:
    """The client's `X-Session-Id`, checked."""
    key = request.headers.get("x-session-id")
    if key is not None and not (0 < len(key) <= 128 and key.isprintable()):
        raise InvalidRequest(
            "The X-Session-Id header must be 1 to 128 printable characters.", param="X-Session-Id"
        )
    return key


def sessions_store(request: Request) -> SessionStore:
    return sessions_store_of(request.app)


def sessions_store_of(app: Any) -> SessionStore:
    """The session store, opened on first use (a server without sessions never opens it)."""
    state = app.state
    if state.store is None:
        from claude_max.sessions.db import DB_NAME
        from claude_max.sessions.store import SessionStore

        state.store = SessionStore(state.settings.home / DB_NAME)
    store: SessionStore = state.store
    return store


STORE_RETRY = 60.0  # seconds before an unreadable store is tried again


def store_if_readable(app: Any) -> SessionStore | None:
    """The session store for what can do without it (automatic continuation, pruning):
    None while it cannot be read, with the reason logged once (and shown in /health)."""
    from claude_max.core.errors import StoreUnreadable

    state = app.state
    failed = getattr(state, "store_error", None)
    if failed is not None and time.monotonic() - failed[0] < STORE_RETRY:
        return None
    try:
        store = sessions_store_of(app)
    except StoreUnreadable as exc:
        if failed is None:
            log.warning("automatic continuation is off: %s. %s", exc.message, exc.hint or "")
        state.store_error = (time.monotonic(), exc.message)
        return None
    state.store_error = None
    return store


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


# What starts a response: the first of the answer (a web search the model makes is part of it).
_FIRST = (TextDelta, ThinkingDelta, ToolUseStart, ToolUse, WebSearchCall)


async def _from_first_token(
    events: AsyncGenerator[Event, None],
) -> AsyncGenerator[Event, None]:
    """Run until the first token, so that earlier failures get a real HTTP status; then the
    whole stream, from its first event."""
    head: list[Event] = []
    try:
        async for event in events:
            head.append(event)
            if isinstance(event, (*_FIRST, Result)):
                break
    except BaseException:
        await events.aclose()
        raise
    return _chain(head, events)


class _FirstToken:
    """A run's events read up to the first token in a task of their own, so that the response
    can start (and keep the client's connection alive) while the model is still silent."""

    def __init__(self, events: AsyncGenerator[Event, None]) -> None:
        self._events = events
        self._task = asyncio.ensure_future(_from_first_token(events))
        self._stream: AsyncGenerator[Event, None] | None = None

    def events(self) -> AsyncGenerator[Event, None]:
        """The whole stream from its first event; a failure before the first token is raised
        from it, where the protocol's stream reports it in its own shape. Kept here, so that
        `aclose` closes it (not the garbage collector, in a task of its own, later)."""
        self._stream = self._after_first_token()
        return self._stream

    async def within(self, seconds: float) -> bool:
        """True when the first token (or a failure, raised here) came within `seconds`;
        False when it has not come yet. `seconds <= 0` waits for it."""
        done, _ = await asyncio.wait({self._task}, timeout=seconds if seconds > 0 else None)
        if done:
            self._task.result()
        return bool(done)

    async def _after_first_token(self) -> AsyncGenerator[Event, None]:
        async with contextlib.aclosing(await self._task) as events:
            async for event in events:
                yield event

    async def aclose(self) -> None:
        """Stop the run whatever point it reached (the reading task, then the events)."""
        if self._stream is not None:
            await self._stream.aclose()
        if not self._task.done():
            self._task.cancel()
            await asyncio.wait({self._task})
        if not self._task.cancelled() and self._task.exception() is None:
            await self._task.result().aclose()
        with contextlib.suppress(RuntimeError):  # still running elsewhere: closed there
            await self._events.aclose()


async def _sse(chunks: AsyncIterator[str], head: _FirstToken, turn: Turn) -> AsyncIterator[str]:
    """The protocol's SSE, closing the run (and its CLI) and letting go of the turn's slot and
    session lock as soon as the last event is out, before the client sees the stream end."""
    try:
        async for chunk in chunks:
            yield chunk
    finally:
        await head.aclose()
        await turn.aclose()


async def _answered(chunks: AsyncIterator[str], turn: Turn) -> AsyncIterator[str]:
    """Pass a Responses stream on; the turn gets its response object once the last event
    is out (a stored response is kept then)."""
    async with contextlib.aclosing(chunks):  # type: ignore[type-var]
        async for chunk in chunks:
            yield chunk
            if (final := responses.final_response(chunk)) is not None:
                turn.answered(final)


async def _chain(
    head: list[Event], events: AsyncGenerator[Event, None]
) -> AsyncGenerator[Event, None]:
    async with contextlib.aclosing(events):
        for event in head:
            yield event
        async for event in events:
            yield event


def cli_info(path: str | None, version: str | None, error: str | None) -> dict[str, Any]:
    return {"path": path, "version": version, "error": error}
