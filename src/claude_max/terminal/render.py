"""Show a run's events in the terminal: the only module that knows about Markdown, spinners
and dim thinking text.

On a TTY, Markdown is rendered in append-only blocks: the block being written is shown live
(cropped to the screen, never duplicated), and once it ends (a blank line outside a code
fence, or a closing fence) it is printed once, rendered, and never redrawn. Long replies are
therefore neither truncated (shell_gpt #778) nor repeated (rich #3263). Off a TTY, or with
--raw, the text is written exactly as it arrives.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from claude_max.core.events import (
    Event,
    PlanUpdate,
    Result,
    Retrying,
    TextDelta,
    TextReset,
    ThinkingDelta,
    gather,
)

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    from rich.console import Console
    from rich.live import Live
    from rich.markdown import Markdown
    from rich.status import Status


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def split_blocks(text: str) -> tuple[list[str], str]:
    """Complete Markdown blocks at the start of `text`, and the unfinished rest."""
    blocks: list[str] = []
    start = 0
    fence: str | None = None
    pos = 0
    for line in text.splitlines(keepends=True):
        pos += len(line)
        if not line.endswith("\n"):
            break  # an unfinished line belongs to the rest
        stripped = line.strip()
        if fence is None and stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
        elif fence is not None and stripped.startswith(fence) and stripped.strip("`~") == "":
            fence = None
            blocks.append(text[start:pos])
            start = pos
        elif fence is None and stripped == "" and text[start:pos].strip():
            blocks.append(text[start:pos])
            start = pos
    return blocks, text[start:]


@dataclass
class Output:
    """What the reply may be decorated with, decided once from the TTY state and flags."""

    markdown: bool
    spinner: bool
    thinking: bool


class StreamRenderer:
    """Feed it events; it writes the answer to stdout and decorations to stderr."""

    def __init__(self, output: Output, out: Console | None = None, err: Console | None = None):
        self.output = output
        self.text = ""
        self._out = out
        self._err = err
        self._pending = ""  # markdown text not yet printed as a finished block
        self._live: Live | None = None
        self._status: Status | None = None
        self._thinking_open = False
        self._blocks_printed = 0

    # -- lifecycle

    def start(self) -> None:
        if self.output.spinner and self._err is not None:
            self._status = self._err.status("Thinking…", spinner="dots")
            self._status.start()

    def close(self) -> None:
        """Flush everything; the reply ends with exactly one newline."""
        self._stop_spinner()
        self._end_thinking()
        if self.output.markdown:
            self._finish_live()
            if self._pending.strip():
                self._print_markdown(self._pending)
            self._pending = ""
        elif self.text and not self.text.endswith("\n"):
            self._write("\n")
        sys.stdout.flush()

    # -- events

    def feed(self, event: Event) -> None:
        if isinstance(event, TextDelta):
            self._stop_spinner()
            self._end_thinking()
            self.text = gather(self.text, event)
            if self.output.markdown:
                self._markdown(event.text)
            else:
                self._write(event.text)
        elif isinstance(event, ThinkingDelta):
            self._stop_spinner()
            if self.output.thinking and self._err is not None:
                self._thinking_open = True
                self._err.print(event.text, style="dim", end="")
        elif isinstance(event, TextReset):
            self.text = gather(self.text, event)
            if self._err is not None:
                self._err.print("\n[retrying after a broken stream]", style="dim")
        elif isinstance(event, Retrying):
            if self._status is not None:
                self._status.update(f"{event.words[0].upper()}{event.words[1:]}…")
            elif self._err is not None:
                self._err.print(event.words, style="dim")
        elif isinstance(event, PlanUpdate):
            if event.reading.drew_from_extra_usage and self._err is not None:
                self._err.print(
                    "This request drew from extra usage (billed beyond your plan).", style="yellow"
                )
        elif isinstance(event, Result):
            self._stop_spinner()

    # -- helpers

    def _write(self, text: str) -> None:
        stream: TextIO = sys.stdout
        stream.write(text)
        stream.flush()

    def _stop_spinner(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def _end_thinking(self) -> None:
        if self._thinking_open and self._err is not None:
            self._err.print()
            self._thinking_open = False

    def _markdown(self, text: str) -> None:
        blocks, rest = split_blocks(self._pending + text)
        if blocks:
            self._finish_live()
            for block in blocks:
                self._print_markdown(block)
        self._pending = rest
        if rest.strip():
            self._show_live(rest)

    def _print_markdown(self, block: str) -> None:
        assert self._out is not None
        with self._out.capture() as captured:
            self._out.print(markdown(block))
        lines = captured.get().split("\n")
        # Rendered alone, a block brings its own margins; one blank line between blocks.
        while lines and not _ANSI.sub("", lines[0]).strip():
            lines.pop(0)
        while lines and not _ANSI.sub("", lines[-1]).strip():
            lines.pop()
        if not lines:
            return
        if self._blocks_printed:
            self._out.file.write("\n")
        self._out.file.write("\n".join(lines) + "\n")
        self._out.file.flush()
        self._blocks_printed += 1

    def _show_live(self, text: str) -> None:
        from rich.live import Live

        assert self._out is not None
        if self._live is None:
            self._live = Live(
                console=self._out,
                transient=True,
                auto_refresh=False,
                vertical_overflow="crop",
            )
            self._live.start()
        self._live.update(markdown(text), refresh=True)

    def _finish_live(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None


def markdown(text: str) -> Markdown:
    """Rich Markdown that keeps the line breaks the model wrote: CommonMark joins a paragraph's
    lines into one ("soft breaks"), which flattens poems, addresses and logs."""
    from rich.markdown import Markdown

    rendered = Markdown(text)
    for token in rendered.parsed:
        for child in token.children or ():
            if child.type == "softbreak":
                child.type = "hardbreak"
    return rendered


def money(usd: float) -> str:
    """`$0.0021`: four decimals (a short turn costs fractions of a cent), never `7.6e-05`."""
    return f"${max(usd, 0.0):.4f}"


def usage_line(result: Result, seconds: float, cost: float | None = None) -> str:
    """Tokens, time and cost (`cost`: this turn's, where the CLI's figure is a running total).

    Two clocks: the wall time this command waited (CLI start-up included) and the CLI's own
    `duration_ms` (what `--json` reports). The cost is what the API would charge at list
    price; a subscription is not billed per token."""
    u = result.usage
    cached = u.cache_read_input_tokens
    tokens_in = u.input_tokens + cached + u.cache_creation_input_tokens
    parts = [
        f"{tokens_in} in" + (f" ({cached} cached)" if cached else ""),
        f"{u.output_tokens} out",
    ]
    spent = result.cost_usd if cost is None else cost
    clock = f"{seconds:.1f}s wall"
    if result.duration_ms is not None:
        clock += f" (CLI {result.duration_ms / 1000:.1f}s)"
    line = f"Tokens: {' · '.join(parts)} · {clock} · {money(spent)} at API list price"
    if result.plan is not None:
        from claude_max.terminal.planview import summary

        line += "\n" + summary(result.plan)
    return line


async def stream_reply(events: AsyncGenerator[Event, None], renderer: StreamRenderer) -> Result:
    """Show a turn's events as they arrive; closing them (Ctrl-C) kills the CLI."""
    import contextlib

    renderer.start()
    try:
        async with contextlib.aclosing(events):
            async for event in events:
                renderer.feed(event)
                if isinstance(event, Result):
                    return event
    finally:
        renderer.close()
    raise AssertionError("unreachable: run() ends with a Result or raises")
