"""One prompt in, one answer out: streaming, --no-stream and --json for `claude-max chat`.

Every answered prompt is saved as a session turn, so `chat -c` can carry on from it.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from claude_max.core.errors import ClaudeMaxError
from claude_max.core.events import Result, TextDelta
from claude_max.core.settings import Settings
from claude_max.terminal import console
from claude_max.terminal.render import Output, StreamRenderer, stream_reply, usage_line

if TYPE_CHECKING:
    from claude_max.core.run import Reply
    from claude_max.turns.chat import Thread
    from claude_max.turns.service import Turn, TurnService

EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class Request:
    text: str
    model: str | None = None
    system: str | None = None
    stream: bool = True
    json: bool = False
    quiet: bool = False
    usage: bool = False
    raw: bool = False
    hide_thinking: bool = False
    resume: str | None = None  # a session id or prefix
    continue_latest: bool = False


def output_for(request: Request) -> Output:
    tty_out = console.stdout_is_interactive()
    tty_err = console.stderr_is_interactive()
    return Output(
        markdown=tty_out and not request.raw,
        spinner=tty_err and not request.quiet,
        thinking=tty_err and not request.quiet and not request.hide_thinking,
    )


def run_once(request: Request, settings: Settings) -> int:
    """Answer the request; return the exit code (errors print `Error: ...` on stderr)."""
    from claude_max.sessions.store import SessionStore
    from claude_max.turns.chat import Thread
    from claude_max.turns.service import TurnService

    started = time.monotonic()
    store = SessionStore.default()
    try:
        thread = Thread.open(
            store,
            resume=request.resume,
            latest=request.continue_latest,
            model=request.model,
            system=request.system,
        )
        service = TurnService(settings, store=lambda: store)
        answer, result, cost = asyncio.run(_answer(request, service, thread))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED  # the CLI was killed when its run was cancelled
    except ClaudeMaxError as exc:
        if console.debug_enabled():
            raise
        console.error(exc.message, exc.hint)
        return 1
    finally:
        store.close()
    if request.json:
        document = _document(answer, result, thread.id, cost)
        sys.stdout.write(json.dumps(document, ensure_ascii=False) + "\n")
    if request.usage:
        line = usage_line(result, time.monotonic() - started, cost=cost)
        console.stderr_console().print(line, style="dim")
    return 0


async def _answer(
    request: Request, service: TurnService, thread: Thread
) -> tuple[str, Result, float]:
    """One turn of the chat's thread, shown as it streams or whole; (answer, result, cost)."""
    async with await service.open(thread.conversation(request.text), thread) as turn:
        if request.stream:
            renderer = StreamRenderer(
                output_for(request), out=console.stdout_console(), err=console.stderr_console()
            )
            result = await stream_reply(turn.events(), renderer)
            return renderer.text, result, turn.cost
        reply = await _whole(request, turn)
        return reply.text, reply.result, turn.cost


async def _whole(request: Request, turn: Turn) -> Reply:
    spinner = output_for(request).spinner and not request.json
    status = console.stderr_console().status("Thinking…") if spinner else None
    if status is not None:
        status.start()
    try:
        reply = await turn.complete()
    finally:
        if status is not None:
            status.stop()
    if not request.json:
        markdown = output_for(request).markdown
        whole = StreamRenderer(
            Output(markdown, False, False),
            out=console.stdout_console(),
            err=console.stderr_console(),
        )
        whole.feed(TextDelta(reply.text))
        whole.close()
    return reply


def _document(answer: str, result: Result, session_id: str | None, cost: float) -> dict[str, Any]:
    u = result.usage
    return {
        "text": answer,
        "model": result.model,
        "session_id": session_id,
        "stop_reason": result.stop_reason,
        "usage": {
            "input_tokens": u.input_tokens,
            "output_tokens": u.output_tokens,
            "cache_read_input_tokens": u.cache_read_input_tokens,
            "cache_creation_input_tokens": u.cache_creation_input_tokens,
        },
        "cost_usd": round(cost, 6),  # at API list price; float noise (7.669999e-05) cut
        "duration_ms": result.duration_ms,  # the CLI's own time; -u also shows wall time
    }
