"""The terminal face's one place for TTY decisions, consoles and error rendering.

Consoles are built per call, never at import, so they follow CliRunner's swapped streams and
cost nothing for commands that print nothing. Rich already honours NO_COLOR, FORCE_COLOR,
TERM=dumb and COLUMNS; nothing here emits ANSI codes by hand.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, NoReturn

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from claude_max.core.errors import ClaudeMaxError


def stdin_is_interactive() -> bool:
    return sys.stdin.isatty()


def stdout_is_interactive() -> bool:
    return sys.stdout.isatty()


def stderr_is_interactive() -> bool:
    return sys.stderr.isatty()


def stdout_console() -> Console:
    from rich.console import Console

    return Console(file=sys.stdout, highlight=False, soft_wrap=True)


def stderr_console() -> Console:
    from rich.console import Console

    return Console(file=sys.stderr, highlight=False, soft_wrap=True)


def fancy(console: Console) -> bool:
    """Symbols and colour need a colour terminal (Rich honours NO_COLOR, TERM=dumb,
    FORCE_COLOR) that takes UTF-8."""
    return (
        console.is_terminal
        and not console.no_color
        and console.color_system is not None
        and console.encoding.replace("-", "").lower().startswith("utf8")
    )


def debug_enabled() -> bool:
    return os.environ.get("CLAUDE_MAX_DEBUG", "") not in ("", "0", "false")


def fail(exc: ClaudeMaxError, code: int = 1) -> NoReturn:
    """`Error: <message>` and one hint line on stderr, then exit (re-raise with --debug)."""
    if debug_enabled():
        raise exc
    error(exc.message, exc.hint)
    raise typer.Exit(code)


DEBUG_HINT = "Run again with --debug for the details"


def describe_os_error(exc: OSError) -> str:
    """`Not a directory: /x/y` rather than `[Errno 20] Not a directory: '/x/y'`."""
    text = exc.strerror or str(exc)
    return f"{text}: {exc.filename}" if exc.filename else text


def report(message: str, hint: str | None = None) -> None:
    """The plain form of `error` for the entry point: no Rich import on the way out."""
    print(f"Error: {message}", file=sys.stderr)
    if hint:
        print(hint, file=sys.stderr)


def error(message: str, hint: str | None = None) -> None:
    from rich.markup import escape

    console = stderr_console()
    console.print(f"[bold red]Error:[/] {escape(message)}")
    if hint:
        console.print(f"[dim]{escape(hint)}[/]")
