"""The interactive chat: line editing and history, slash commands, Ctrl-C stops one reply.

Each turn runs the whole conversation so far through the same core as the server (earlier
turns seeded as history). Ctrl-C during a reply cancels its run, which kills the CLI, keeps
what arrived as the assistant's turn, and returns to the prompt; Ctrl-D quits.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

from claude_max.core import catalog
from claude_max.core.conversation import Conversation, TextPart, Turn
from claude_max.core.errors import ClaudeMaxError
from claude_max.core.settings import Settings
from claude_max.terminal import console
from claude_max.terminal.render import Output, StreamRenderer, stream_reply, usage_line

PROMPT = "> "
CONTINUATION = "... "
FENCE = '"""'
HELP = """\
/help            this help
/model NAME      switch model (e.g. /model sonnet)
/system TEXT     set the system prompt (/system alone clears it)
/clear           start a new conversation
/exit            quit (also /bye, exit, quit, Ctrl-D)
\"\"\"              start or end a multi-line message
Ctrl-C           stop the current reply"""


class Repl:
    def __init__(
        self,
        settings: Settings,
        *,
        model: str | None = None,
        system: str | None = None,
        quiet: bool = False,
        raw: bool = False,
        hide_thinking: bool = False,
        usage: bool = False,
    ) -> None:
        self.settings = settings
        self.model = model
        self.system = system
        self.quiet = quiet
        self.usage = usage
        self.output = Output(
            markdown=console.stdout_is_interactive() and not raw,
            spinner=not quiet,
            thinking=not quiet and not hide_thinking,
        )
        self.turns: list[Turn] = []
        self.err = console.stderr_console()

    # -- input

    def loop(self) -> None:
        history = self._load_history()
        if not self.quiet:
            name = self.model or catalog.DEFAULT_ALIAS
            self.err.print(
                f"Chatting with {name} · /help for commands · Ctrl-D to quit", style="dim"
            )
        try:
            while True:
                try:
                    line = self._read()
                except EOFError:
                    self.err.print()
                    return
                except KeyboardInterrupt:
                    self.err.print("\nUse Ctrl-D or /exit to quit", style="dim")
                    continue
                if not line.strip():
                    continue
                if line.strip() in ("exit", "quit") or line.startswith("/"):
                    if not self.command(line.strip()):
                        return
                    continue
                self.turn(line)
        finally:
            self._save_history(history)

    def _read(self) -> str:
        line = input(PROMPT)
        if line.strip() != FENCE and not line.lstrip().startswith(FENCE):
            return line
        first = line.strip()[len(FENCE) :]
        lines = [first] if first else []
        while True:
            more = input(CONTINUATION)
            if more.rstrip().endswith(FENCE):
                tail = more.rstrip()[: -len(FENCE)]
                if tail:
                    lines.append(tail)
                return "\n".join(lines)
            lines.append(more)

    # -- commands

    def command(self, line: str) -> bool:
        """Run a slash command; False means quit."""
        name, _, arg = line.partition(" ")
        arg = arg.strip()
        if name in ("/exit", "/bye", "/quit", "exit", "quit"):
            return False
        if name in ("/help", "/?"):
            self.err.print(HELP, markup=False)
        elif name == "/model":
            if not arg:
                self.err.print(f"model: {self.model or catalog.DEFAULT_ALIAS}")
            else:
                try:
                    self.model = catalog.resolve(arg)
                except ClaudeMaxError as exc:
                    console.error(exc.message, exc.hint)
                else:
                    self.err.print(f"model: {self.model}", style="dim")
        elif name == "/system":
            self.system = arg or None
            self.err.print("system prompt set" if arg else "system prompt cleared", style="dim")
        elif name == "/clear":
            self.turns = []
            self.err.print("new conversation", style="dim")
        else:
            self.err.print(f"unknown command {name}; /help lists them", style="dim")
        return True

    # -- a turn

    def turn(self, text: str) -> None:
        turns = [*self.turns, Turn("user", (TextPart(text),))]
        conv = Conversation(tuple(turns), system=self.system, model=self.model)
        renderer = StreamRenderer(self.output, out=console.stdout_console(), err=self.err)
        started = time.monotonic()
        try:
            result = asyncio.run(stream_reply(conv, self.settings, renderer))
        except KeyboardInterrupt:
            self.err.print("(reply stopped)", style="dim")
            if renderer.text.strip():
                self.turns = [*turns, Turn("assistant", (TextPart(renderer.text),))]
            return
        except ClaudeMaxError as exc:
            console.error(exc.message, exc.hint)
            return
        if renderer.text.strip():
            self.turns = [*turns, Turn("assistant", (TextPart(renderer.text),))]
        if self.usage:
            self.err.print(usage_line(result, time.monotonic() - started), style="dim")

    # -- history file

    def _load_history(self) -> Path | None:
        try:
            import readline
        except ImportError:  # pragma: no cover - not on this platform
            return None
        path = self.settings.home / "chat_history"
        with contextlib.suppress(OSError):
            readline.read_history_file(path)
        readline.set_history_length(1000)
        return path

    def _save_history(self, path: Path | None) -> None:
        if path is None:
            return
        import readline

        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            readline.write_history_file(path)
