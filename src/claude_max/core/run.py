"""Run one Conversation through the CLI: the single path every face goes through.

`run()` starts a CLI process (or takes a warm one), gives it the earlier turns as real history
(a long history as the transcript of a session it resumes, `core.transcript`; a short one
seeded line by line, CLI.md §9), sends the new user message, and yields typed events until
the `result`.
Stop sequences and `max_tokens` are enforced here: the answer is cut and the CLI interrupted
through its control protocol, which still gives an exact `result` (usage, cost). Whatever
happens, the process group is killed and reaped when the generator ends. `complete()` is the
same run gathered into one `Reply`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

from claude_max.core import client_tools, plan, processes, stdin, transcript, web_search
from claude_max.core.conversation import Conversation, ServerTool, Turn
from claude_max.core.errors import (
    ClaudeMaxError,
    CLIProcessError,
    CLITimeout,
    InvalidRequest,
    ModelNotFound,
    ServerShuttingDown,
)
from claude_max.core.events import (
    ControlRequest,
    Event,
    MessageEnd,
    PlanUpdate,
    Result,
    SignatureDelta,
    Started,
    TextDelta,
    TextReset,
    ThinkingDelta,
    ToolInputDelta,
    ToolUse,
    ToolUseStart,
    Usage,
    WebSearchCall,
    WebSearchResult,
    gather,
)
from claude_max.core.launch import launch_spec, start
from claude_max.core.parse import StreamParser, error_for
from claude_max.core.processes import CLIProcess
from claude_max.core.settings import Settings
from claude_max.core.stops import StopScanner

if TYPE_CHECKING:
    from claude_max.core.pool import Pool

_interrupt_ids = itertools.count(1)
T = TypeVar("T")


def validate(conv: Conversation) -> None:
    if not conv.turns or conv.turns[-1].role != "user":
        raise InvalidRequest(
            "The conversation must end with a user message (assistant prefill is not supported).",
            param="messages",
        )


def check_web_fetch(conv: Conversation, settings: Settings) -> None:
    """The web_fetch server tool fetches from this machine: only when the operator opted in."""
    if conv.options.web_fetch is not None and not settings.allow_web_fetch:
        raise InvalidRequest(
            "The web_fetch server tool is off on this server: claude-max would fetch the URLs "
            "from its own machine (the CLI's WebFetch), which can reach its local network. "
            "Remove the tool, or start the server with `claude-max serve --allow-web-fetch`.",
            param="tools",
        )


class Interrupt:
    """Stops a running turn the CLI's own way (CLI.md §9): the answer so far stays in the
    CLI's session and the run still ends with an exact `Result` (stop_reason "interrupted").
    Killing the run instead (closing it) leaves nothing behind."""

    def __init__(self) -> None:
        self.requested = False
        self._proc: CLIProcess | None = None
        self._sending: set[asyncio.Task[None]] = set()

    def __call__(self) -> None:
        first = not self.requested
        self.requested = True
        if first and self._proc is not None:
            self._send(self._proc)

    def _attach(self, proc: CLIProcess) -> None:
        self._proc = proc
        if self.requested:
            self._send(proc)

    def _send(self, proc: CLIProcess) -> None:
        task = asyncio.ensure_future(
            proc.send(stdin.interrupt_line(f"user_{next(_interrupt_ids)}"))
        )
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)


async def run(
    conv: Conversation,
    settings: Settings,
    *,
    pool: Pool | None = None,
    on_exit: Callable[[], None] | None = None,
    interrupt: Interrupt | None = None,
    on_taken: Callable[[], None] | None = None,
) -> AsyncGenerator[Event, None]:
    """Yield the events of answering `conv`; raise a ClaudeMaxError on failure.

    With a `pool`, a CLI started ahead of time for the same launch spec answers, if one is
    ready; a process serves one conversation only and is never reused. `on_taken` runs as
    soon as the run knows its CLI (a ready one it took, one still starting, or a new one), so
    the pool may start another without taking this one's place. `on_exit` runs after a
    finished run's CLI has exited (a kept session is then saved on disk).
    """
    validate(conv)
    check_web_fetch(conv, settings)
    spec = launch_spec(conv, settings)
    # A resumed session comes from the pool only as a fork that was started ahead once the
    # session's last turn was saved (see `turns.auto`); the pool never refills such a spec.
    # A long history is the transcript of a session of the CLI's own, read at its start (all
    # of it or all but the last assistant turn); a short one is seeded into a warm process.
    # The pool has a process for a long history only if it was started ahead for exactly that
    # history (an agent's next step, `launch.follow_up`).
    opts = conv.options
    stored = transcript.split(conv.history) if spec.own_session else 0
    taken = on_taken or (lambda: None)
    if spec.own_session and pool is not None:
        proc = await pool.take(spec, refill=False, history=conv.history[:stored], taken=taken)
    elif pool is not None and (not opts.resume or opts.fork):
        proc = await pool.take(spec, refill=not opts.resume, taken=taken)
    else:
        proc = await start(spec, conv.history[:stored])  # no turns unless own_session
        taken()
    finished = False
    try:
        clock = _Clock(settings.idle_timeout, settings.request_timeout)
        if spec.model and proc.model != spec.model:  # a warm process started for another model
            await _switch_model(proc, spec.model, clock)
        async for event in _drive(proc, conv, conv.history[stored:], clock, spec.tools, interrupt):
            if isinstance(event, Result):
                finished = True
            elif isinstance(event, PlanUpdate):
                with contextlib.suppress(OSError):  # for `claude-max usage`, even when stopped
                    plan.save(settings.home, event.reading)
            elif isinstance(event, Started) and proc.warm:
                event = replace(event, warm=True)
            yield event
    finally:
        if not finished:
            proc.kill()  # ended early (client gone, error): no grace, no waiting first
        # After the result a stateless run (--no-session-persistence) has nothing left to
        # write, and a clean exit takes the CLI ~40 ms the client would wait for: kill it.
        # A kept session exits cleanly: the CLI saves its cost state then (CLI.md §2).
        keep = conv.options.persist or conv.options.resume
        await asyncio.shield(proc.aclose(grace=2.0 if keep and finished else 0.0))
        if finished and on_exit is not None:
            on_exit()


@dataclass
class _Clock:
    """An inactivity timeout and a total deadline for one run."""

    idle: float
    total: float

    def __post_init__(self) -> None:
        self.deadline = time.monotonic() + self.total


async def _lines(proc: CLIProcess, clock: _Clock) -> AsyncIterator[bytes]:
    while True:
        left = clock.deadline - time.monotonic()
        try:
            line = await _within(proc.readline(), max(0.0, min(clock.idle, left)))
        except asyncio.TimeoutError:
            if clock.deadline - time.monotonic() <= 0:
                message = f"The answer took longer than {clock.total:g} seconds."
            else:
                message = f"The Claude Code CLI sent nothing for {clock.idle:g} seconds."
            raise CLITimeout(message, hint="Raise --request-timeout / --idle-timeout") from None
        if line is None:
            return
        yield line


async def _within(work: Awaitable[T], seconds: float) -> T:
    """`work` within `seconds`, else TimeoutError. Unlike Python 3.10/3.11's wait_for, a
    cancellation is never lost when `work` finishes at the same moment (anyio cancels a
    stream's task repeatedly until it ends; a swallowed one kept a cut stream reading)."""
    task = asyncio.ensure_future(work)
    try:
        done, _ = await asyncio.wait({task}, timeout=seconds)
    finally:
        if not task.done():
            task.cancel()
    if not done:
        raise asyncio.TimeoutError
    return task.result()


async def _switch_model(proc: CLIProcess, model: str, clock: _Clock) -> None:
    request_id = f"model_{next(_interrupt_ids)}"
    await proc.send(stdin.set_model_line(request_id, model))
    async for line in _lines(proc, clock):
        response = StreamParser.control_response(line)
        if response is not None and response.get("request_id") == request_id:
            if response.get("error_code") == "not_found":  # its probe call got the API's 404
                raise ModelNotFound(model, hint=str(response.get("error") or "") or None)
            if response.get("subtype") != "success":
                raise CLIProcessError(f"The CLI could not switch to model {model}: {response}")
            proc.model = model
            return
    raise await _no_result(proc)


async def _no_result(proc: CLIProcess) -> ClaudeMaxError:
    code = await proc.wait(2.0)
    if processes.SHUTTING_DOWN:
        return ServerShuttingDown("claude-max is shutting down; the request was not finished.")
    tail = proc.stderr_tail.strip()
    detail = f": {tail.splitlines()[-1]}" if tail else ""
    return CLIProcessError(
        f"The Claude Code CLI exited (code {code}) without an answer{detail}",
        exit_code=code,
        stderr_tail=tail,
        hint="Run: claude-max doctor",
    )


class _ToolCalls:
    """The client-tool side of one run: answers the CLI's control requests, decides which
    of the model's tool calls go to the client (tool_choice, parallel_tool_calls) under the
    client's own names, and ends the turn once the model's message with them is complete."""

    def __init__(self, proc: CLIProcess, conv: Conversation, listing: str | None) -> None:
        self.proc, self.conv, self.listing = proc, conv, listing
        self.names: dict[str, str] = {}  # call id -> client name, for calls shown to the client
        self.hidden: set[str] = set()
        self._waiting: list[str] = []  # permission requests held until the message is complete
        self._message_done = False
        self.handed_over = False  # the turn ended with calls for the client
        self.server_tool_uses: dict[str, int] = {}  # the CLI's WebSearch/WebFetch calls allowed

    def show(self, call_id: str, cli_name: str) -> str | None:
        """The client's name for a call it should see, else None (and the call stays hidden)."""
        if call_id in self.names:
            return self.names[call_id]
        if call_id in self.hidden:
            return None
        name = client_tools.client_name(cli_name)
        ok = name is not None and client_tools.allowed(self.conv, name)
        if ok and not self.conv.options.parallel_tools and self.names:
            ok = False
        if not ok or name is None:
            self.hidden.add(call_id)
            return None
        self._message_done = False
        self.names[call_id] = name
        return name

    async def answer(self, event: ControlRequest) -> None:
        request, rid = event.request, event.request_id
        subtype = request.get("subtype")
        if subtype == "mcp_message":
            await self.proc.send(client_tools.mcp_answer(event, self.listing or "{}"))
        elif subtype == "can_use_tool" and (server := self._server_tool(request)) is not None:
            tool = str(request.get("tool_name"))
            used = self.server_tool_uses.get(tool, 0)
            answer = web_search.permission(rid, tool, request.get("input"), server, used)
            if answer["response"]["response"]["behavior"] == "allow":
                self.server_tool_uses[tool] = used + 1
            await self.proc.send(answer)
        elif subtype == "can_use_tool":
            call_id = str(request.get("tool_use_id") or "")
            if call_id in self.names:
                self._waiting.append(rid)  # deny + interrupt once every call has streamed
                await self._release()
            else:  # not a tool the client offers now, or one tool_choice rules out: go on
                name = client_tools.client_name(str(request.get("tool_name") or ""))
                reason = client_tools.refusal_reason(self.conv, name)
                await self.proc.send(client_tools.deny(rid, interrupt=False, message=reason))
        else:
            await self.proc.send(client_tools.error_answer(rid, str(subtype)))

    def _server_tool(self, request: dict[str, Any]) -> ServerTool | None:
        """The client's server tool a permission request of the CLI is for, if any."""
        name = request.get("tool_name")
        if name == web_search.TOOL:
            return self.conv.options.web_search
        if name == web_search.FETCH_TOOL:
            return self.conv.options.web_fetch
        return None

    async def message_end(self) -> None:
        self._message_done = True
        await self._release()

    async def _release(self) -> None:
        if not self._message_done:
            return
        while self._waiting:
            self.handed_over = True
            await self.proc.send(client_tools.deny(self._waiting.pop(0), interrupt=True))


async def _seed(
    proc: CLIProcess,
    turns: tuple[Turn, ...],
    parser: StreamParser,
    calls: _ToolCalls,
    lines: AsyncIterator[bytes],
) -> AsyncIterator[Event]:
    """Store `turns` in the CLI's session without a model call (CLI.md §9): a user line with
    `shouldQuery: false`, its empty result, then the assistant line; ~12-15 ms an exchange."""
    for turn in turns:
        if turn.role != "user":
            await proc.send(stdin.assistant_line(turn))
            continue
        await proc.send(stdin.user_line(turn, query=False))
        async for line in lines:  # wait for the stored turn's empty result
            events = parser.feed(line)
            result = next((e for e in events if isinstance(e, Result)), None)
            if result is not None:
                if error := error_for(result, parser.plan):
                    raise error
                break
            for event in events:
                if isinstance(event, ControlRequest):
                    await calls.answer(event)
                else:
                    yield event  # Started, from the CLI's init line
        else:
            raise await _no_result(proc)


async def _drive(
    proc: CLIProcess,
    conv: Conversation,
    unseen: tuple[Turn, ...],
    clock: _Clock,
    listing: str | None,
    interrupt: Interrupt | None = None,
) -> AsyncIterator[Event]:
    """Seed the earlier turns the CLI's session does not hold, then send the new message."""
    parser = StreamParser()
    calls = _ToolCalls(proc, conv, listing)
    lines = _lines(proc, clock)
    async for event in _seed(proc, unseen, parser, calls, lines):
        yield event
    await proc.send(stdin.user_line(conv.prompt, query=True))
    if interrupt is not None:
        interrupt._attach(proc)

    opts = conv.options
    structured = opts.json_schema is not None
    scanner = StopScanner(() if structured else opts.stop)
    answer = ""  # the text yielded so far
    cut: tuple[str, str | None] | None = None  # (stop_reason, stop_sequence) once we stopped it
    async for line in lines:
        for event in parser.feed(line):
            if isinstance(event, ControlRequest):
                await calls.answer(event)
                continue
            if isinstance(event, Result):
                if cut is None and interrupt is not None and interrupt.requested:
                    # Stopped at the user's word: what streamed until the CLI stopped is both
                    # what the user saw and what the CLI's session keeps.
                    cut = ("interrupted", None)
                if cut is None and (tail := scanner.flush()):
                    answer += tail
                    yield TextDelta(tail)
                if calls.handed_over:
                    cut = cut or ("tool_use", None)  # the CLI reports our interrupt as an error
                elif structured and cut is None and not event.is_error:
                    answer = _structured(event)
                    yield TextDelta(answer)
                    cut = ("end_turn", None)
                if cut is None and (error := error_for(event, parser.plan)):
                    raise error
                stop_reason, stop_sequence = cut or (event.stop_reason, None)
                proc.close_stdin()
                yield replace(
                    event,
                    text=answer,
                    stop_reason=stop_reason,
                    stop_sequence=stop_sequence,
                    is_error=False,
                )
                return
            if cut is not None:
                continue  # after our own interrupt: drop whatever the CLI still streams
            if isinstance(event, (ToolUseStart, ToolUse)):
                if (name := calls.show(event.id, event.name)) is not None:
                    yield replace(event, name=name)
            elif isinstance(event, ToolInputDelta):
                if event.id in calls.names:
                    yield event
            elif isinstance(event, (WebSearchCall, WebSearchResult)):
                if opts.web_search is not None:  # the client's web_search, else not its business
                    yield event
            elif structured and isinstance(event, (TextDelta, TextReset)):
                continue  # the answer is the schema's JSON, given whole at the end
            elif isinstance(event, TextDelta):
                text, stop = scanner.feed(event.text)
                if text:
                    answer += text
                    yield TextDelta(text)
                if stop is not None:
                    cut = ("stop_sequence", stop)
                    await proc.send(stdin.interrupt_line(f"stop_{next(_interrupt_ids)}"))
            elif isinstance(event, TextReset):
                scanner.held = scanner.held[: max(0, event.keep - len(answer))]
                answer = answer[: event.keep]
                yield TextReset(keep=len(answer))
            elif isinstance(event, MessageEnd):
                await calls.message_end()
                if event.stop_reason == "max_tokens" and opts.max_tokens:
                    # The CLI would ask the model to go on (CLI.md §2); the client asked to stop.
                    if tail := scanner.flush():
                        answer += tail
                        yield TextDelta(tail)
                    cut = ("max_tokens", None)
                    await proc.send(stdin.interrupt_line(f"max_{next(_interrupt_ids)}"))
                yield event
            else:
                yield event
    raise await _no_result(proc)


def _structured(result: Result) -> str:
    """The answer of a --json-schema run: the JSON the CLI validated against the schema."""
    value = result.raw.get("structured_output")
    if value is None:
        raise CLIProcessError(
            "The model gave no answer that matches the JSON schema.", exit_code=None
        )
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class SearchStep:
    """A web search within an answer: it came after the first `at` characters of the text."""

    at: int
    call: WebSearchCall
    result: WebSearchResult | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """A whole answer, for non-streaming responses and `chat --no-stream`."""

    text: str
    thinking: str
    signature: str
    tool_uses: tuple[ToolUse, ...]
    result: Result
    searches: tuple[SearchStep, ...] = ()

    @property
    def usage(self) -> Usage:
        return self.result.usage

    @property
    def web_search_requests(self) -> int:
        """Searches that ran upstream (the API's `usage.server_tool_use.web_search_requests`)."""
        return sum(s.result.searches for s in self.searches if s.result is not None)


async def complete(
    conv: Conversation,
    settings: Settings,
    *,
    pool: Pool | None = None,
    observe: Callable[[Event], None] | None = None,
    on_exit: Callable[[], None] | None = None,
    on_taken: Callable[[], None] | None = None,
) -> Reply:
    """Run `conv` to the end and gather the answer (`observe` sees every event on the way)."""
    text, thinking, signature = "", "", ""
    tools: list[ToolUse] = []
    searches: list[SearchStep] = []
    events = run(conv, settings, pool=pool, on_exit=on_exit, on_taken=on_taken)
    async with contextlib.aclosing(events):
        async for event in events:
            if observe is not None:
                observe(event)
            text = gather(text, event)
            if isinstance(event, ThinkingDelta):
                thinking += event.text
            elif isinstance(event, SignatureDelta):
                signature = event.signature
            elif isinstance(event, ToolUse):
                tools.append(event)
            elif isinstance(event, WebSearchCall):
                searches.append(SearchStep(len(text), event))
            elif isinstance(event, WebSearchResult):
                searches = [
                    replace(s, result=event) if s.call.id == event.id else s for s in searches
                ]
            elif isinstance(event, Result):
                return Reply(text, thinking, signature, tuple(tools), event, tuple(searches))
    raise CLIProcessError("The Claude Code CLI ended without a result.")
