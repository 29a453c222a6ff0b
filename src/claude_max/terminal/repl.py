"""The interactive chat: line editing and history, slash commands, Ctrl-C stops one reply.

Each turn goes through the same core as the server, continuing the chat's saved session: the
CLI resumes its own session, so earlier turns are not sent again, and every completed turn is
saved at once (`chat -c` / `-r` carry on later). Ctrl-C during a reply cancels its run, which
kills the CLI, and returns to the prompt; Ctrl-D quits.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

from claude_max.core import catalog
from claude_max.core.errors import ClaudeMaxError
from claude_max.core.events import Result
from claude_max.core.settings import Settings
from claude_max.terminal import console
from claude_max.terminal.render import Output, StreamRenderer, stream_reply, usage_line
from claude_max.turns.chat import Thread

PROMPT = "> "
CONTINUATION = "... "
FENCE = '"""'
HELP = """\
/help            this help
/model NAME      switch model (e.g. /model sonnet)
/system TEXT     set the system prompt (/system alone clears it)
/clear           start a new conversation
/session         show this conversation's id and how to resume it
/exit            quit (also /bye, exit, quit, Ctrl-D)
\"\"\"              start or end a multi-line message
Ctrl-C           stop the current reply"""


COMMANDS = ("/help", "/model", "/system", "/clear", "/session", "/exit", "/bye")


def _complete_command(text: str, state: int) -> str | None:
    """readline's completer: slash commands, at the start of the line only."""
    import readline

    if not text.startswith("/") or readline.get_begidx() != 0:
        return None
    found = [f"{c} " for c in COMMANDS if c.startswith(text)]  # Python's readline adds no space
    return found[state] if state < len(found) else None


def terminal_input(prompt: str) -> str:
    """`input(prompt)` whose prompt and line editing go to the terminal even when stdout is
    piped (`claude-max chat | tee log`): stdout carries answers only. Python edits lines only
    when fd 1 is a terminal, so while the user types, fd 1 is pointed at stderr's terminal."""
    import os
    import sys

    if sys.stdout.isatty() or not sys.stderr.isatty() or not sys.stdin.isatty():
        return input(prompt)
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        return input(prompt)
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _history_length() -> int:
    try:
        import readline
    except ImportError:  # pragma: no cover
        return 0
    return readline.get_current_history_length()


def _history_replace_since(count: int, entry: str) -> None:
    """Drop the history entries after the first `count`, then add `entry`."""
    try:
        import readline
    except ImportError:  # pragma: no cover
        return
    for _ in range(readline.get_current_history_length() - max(count, 0)):
        readline.remove_history_item(readline.get_current_history_length() - 1)
    if entry.strip():
        readline.add_history(entry)


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
        resume: str | None = None,
        continue_latest: bool = False,
    ) -> None:
        from claude_max.sessions.store import SessionStore

        self.settings = settings
        self.model = model
        self.system = system
        self.store = SessionStore.default()
        self._resume = resume
        self._continue = continue_latest
        self.quiet = quiet
        self.usage = usage
        self.output = Output(
            markdown=console.stdout_is_interactive() and not raw,
            spinner=not quiet,
            thinking=not quiet and not hide_thinking,
        )
        self.err = console.stderr_console()
        self.thread = self._new_thread()
        from claude_max.turns.service import TurnService

        self.turns = TurnService(settings, store=lambda: self.store)

    # -- input

    def _new_thread(self) -> Thread:
        return Thread(self.store, model=self.model, system=self.system)

    def loop(self) -> None:
        from claude_max.core.ids import short_id

        try:
            if self._resume or self._continue:
                self.thread = Thread.open(
                    self.store,
                    resume=self._resume,
                    latest=self._continue,
                    model=self.model,
                    system=self.system,
                )
        except ClaudeMaxError as exc:
            self.store.close()
            console.fail(exc)
        history = self._load_history()
        if not self.quiet:
            name = self.thread.model or catalog.DEFAULT_ALIAS
            resumed = ""
            if self.thread.session is not None:
                session = self.thread.session
                resumed = f" · session {short_id(session.id)} ({session.turns} turns)"
            self.err.print(
                f"Chatting with {name}{resumed} · /help for commands · Ctrl-D to quit",
                style="dim",
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
            self.store.close()

    def _read(self) -> str:
        line = terminal_input(PROMPT)
        if line.strip() != FENCE and not line.lstrip().startswith(FENCE):
            return line
        start = _history_length()
        first = line.strip()[len(FENCE) :]
        lines = [first] if first else []
        while True:
            more = terminal_input(CONTINUATION)
            if more.rstrip().endswith(FENCE):
                tail = more.rstrip()[: -len(FENCE)]
                if tail:
                    lines.append(tail)
                message = "\n".join(lines)
                _history_replace_since(start - 1, message)  # one entry, not one per line
                return message
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
                self.err.print(f"model: {self.thread.model or catalog.DEFAULT_ALIAS}")
            else:
                try:
                    self.model = self.thread.model = catalog.resolve(arg)
                except ClaudeMaxError as exc:
                    console.error(exc.message, exc.hint)
                else:
                    self.err.print(f"model: {self.model}", style="dim")
        elif name == "/system":
            self.system = self.thread.system = arg or None
            self.err.print("system prompt set" if arg else "system prompt cleared", style="dim")
        elif name == "/clear":
            self.thread = self._new_thread()
            self.err.print("new conversation", style="dim")
        elif name == "/session":
            from claude_max.core.ids import short_id

            if self.thread.id is None:
                self.err.print("nothing saved yet", style="dim")
            else:
                sid = short_id(self.thread.id)
                self.err.print(f"session {sid} · resume with: claude-max chat -r {sid}")
        else:
            self.err.print(f"unknown command {name}; /help lists them", style="dim")
        return True

    # -- a turn

    def turn(self, text: str) -> None:
        renderer = StreamRenderer(self.output, out=console.stdout_console(), err=self.err)
        started = time.monotonic()
        try:
            result, cost = asyncio.run(self._answer(text, renderer))
        except KeyboardInterrupt:
            self.err.print("(reply stopped)", style="dim")
            return
        except ClaudeMaxError as exc:
            console.error(exc.message, exc.hint)
            return
        if self.usage:
            line = usage_line(result, time.monotonic() - started, cost=cost)
            self.err.print(line, style="dim")

    async def _answer(self, text: str, renderer: StreamRenderer) -> tuple[Result, float]:
        """One turn through the turn service, which saves it in this chat's session.

        Ctrl-C stops the reply the CLI's way: what was shown is kept, in the saved chat and in
        what the model sees next. A second Ctrl-C gives up on it at once."""
        import signal

        loop = asyncio.get_running_loop()
        async with await self.turns.open(self.thread.conversation(text), self.thread) as turn:

            def stop() -> None:
                if turn.interrupt.requested:
                    loop.remove_signal_handler(signal.SIGINT)
                    signal.raise_signal(signal.SIGINT)  # the default handler: cancel it all
                else:
                    turn.interrupt()

            loop.add_signal_handler(signal.SIGINT, stop)
            try:
                result = await stream_reply(turn.events(), renderer)
            finally:
                loop.remove_signal_handler(signal.SIGINT)
            if result.stop_reason == "interrupted":
                self.err.print("(reply stopped)", style="dim")
            return result, turn.cost

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
        # A multi-line paste arrives as one message (CPython turns bracketed paste off).
        readline.parse_and_bind("set enable-bracketed-paste on")
        # TAB completes /commands.
        readline.set_completer_delims(" \t\n")
        readline.set_completer(_complete_command)
        if "libedit" in (readline.__doc__ or ""):  # pragma: no cover - macOS system Python
            readline.parse_and_bind("bind ^I rl_complete")
        else:
            readline.parse_and_bind("tab: complete")
        return path

    def _save_history(self, path: Path | None) -> None:
        if path is None:
            return
        import readline

        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            readline.write_history_file(path)
