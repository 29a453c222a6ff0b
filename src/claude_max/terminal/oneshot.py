"""One prompt in, one answer out: streaming, --no-stream and --json for `claude-max chat`."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass

from claude_max.core.conversation import Conversation, TextPart, Turn
from claude_max.core.errors import ClaudeMaxError
from claude_max.core.settings import Settings
from claude_max.terminal import console
from claude_max.terminal.render import Output, StreamRenderer, stream_reply, usage_line

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


def conversation(request: Request) -> Conversation:
    return Conversation(
        turns=(Turn("user", (TextPart(request.text),)),),
        system=request.system,
        model=request.model,
    )


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
    started = time.monotonic()
    renderer = StreamRenderer(
        output_for(request) if request.stream else Output(False, False, False),
        out=console.stdout_console(),
        err=console.stderr_console(),
    )
    try:
        if request.stream:
            result = asyncio.run(stream_reply(conversation(request), settings, renderer))
        else:
            result = _print_whole(request, settings, renderer)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED  # the CLI was killed when its run was cancelled
    except ClaudeMaxError as exc:
        if console.debug_enabled():
            raise
        console.error(exc.message, exc.hint)
        return 1
    if request.usage and result is not None:
        console.stderr_console().print(usage_line(result, time.monotonic() - started), style="dim")
    return 0


def _print_whole(request: Request, settings: Settings, renderer: StreamRenderer):
    from claude_max.core.run import complete

    spinner = output_for(request).spinner and not request.json
    status = console.stderr_console().status("Thinking…") if spinner else None
    if status is not None:
        status.start()
    try:
        reply = asyncio.run(complete(conversation(request), settings))
    finally:
        if status is not None:
            status.stop()
    result = reply.result
    if request.json:
        u = result.usage
        document = {
            "text": reply.text,
            "model": result.model,
            "session_id": result.session_id,
            "stop_reason": result.stop_reason,
            "usage": {
                "input_tokens": u.input_tokens,
                "output_tokens": u.output_tokens,
                "cache_read_input_tokens": u.cache_read_input_tokens,
                "cache_creation_input_tokens": u.cache_creation_input_tokens,
            },
            "cost_usd": result.cost_usd,
            "duration_ms": result.duration_ms,
        }
        sys.stdout.write(json.dumps(document, ensure_ascii=False) + "\n")
        return result
    markdown = output_for(request).markdown
    whole = StreamRenderer(Output(markdown, False, False), out=renderer._out, err=renderer._err)
    from claude_max.core.events import TextDelta

    whole.feed(TextDelta(reply.text))
    whole.close()
    return result
