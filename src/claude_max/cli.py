"""The `claude-max` command's entry point and its one error boundary; imports nothing heavy.

`--version`, `--help`, `models` and TAB completion answer before typer is imported
(`fastpath.py`, from the app's snapshot); for the rest the app (`commands/root.py`) builds a
command only when it is used, and command modules load uvicorn, starlette and rich inside their
bodies (bench/startup.py, tests/test_startup.py).
"""

from __future__ import annotations

import errno
import os
import sys

from claude_max import fastpath

TYPE_CHECKING = False  # typing costs ~4 ms of a 70 ms budget; mypy reads this as True
if TYPE_CHECKING:
    from typing import Any

PROG = "claude-max"


def __getattr__(name: str) -> Any:
    """`claude_max.cli.app`, imported only when asked for (typer costs ~60 ms)."""
    if name == "app":
        from claude_max.commands.root import app

        return app
    raise AttributeError(name)


def _plain_completion_help() -> None:
    """zsh and fish show help next to candidates; typer runs it through rich (+75 ms a TAB).
    Our help texts have no markup, so skip that. Private typer API: if it moves, do nothing."""
    try:
        import typer._completion_classes as classes
    except ImportError:  # pragma: no cover
        return
    if hasattr(classes, "_sanitize_help_text"):
        classes._sanitize_help_text = lambda text: text


def main(fast: bool = True) -> None:
    """Entry point, and the terminal face's one error boundary: usage errors, ClaudeMaxError
    and anything unexpected end as `Error: ...` plus a hint on stderr, never a traceback
    (unless --debug / CLAUDE_MAX_DEBUG=1). `fast=False` skips the fast paths (tests compare)."""
    if fast:
        try:
            code = fastpath.answer(sys.argv[1:], os.environ)
        except BrokenPipeError:  # `claude-max models | head -1`: the reader went away
            sys.exit(1)
        except Exception:  # a fast path's bug: the Typer app gives the same answer, slower
            if os.environ.get("CLAUDE_MAX_DEBUG") == "1":
                raise
            code = None
        if code is not None:
            sys.exit(code)
    import typer

    from claude_max.commands.root import app
    from claude_max.core.errors import ClaudeMaxError
    from claude_max.terminal import console

    ClickException, NoArgsIsHelpError = _click_exceptions()

    completing = os.environ.get("_CLAUDE_MAX_COMPLETE", "")
    if completing.startswith(("complete_zsh", "complete_fish")):
        _plain_completion_help()
    try:
        # The name in help and completion, however it was started (`python -m claude_max`
        # too): the snapshot the fast paths answer from is rendered under it.
        code = app(prog_name=PROG, standalone_mode=False)
    except NoArgsIsHelpError as exc:  # `claude-max` alone: the help, on stdout as --help's
        print(exc.format_message())
        sys.exit(2)
    except ClickException as exc:  # usage errors: exit 2
        console.report(exc.format_message(), _usage_hint(exc))
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        print(file=sys.stderr)
        sys.exit(130)
    except ClaudeMaxError as exc:
        if console.debug_enabled():
            raise
        console.report(exc.message, exc.hint)
        sys.exit(1)
    except OSError as exc:
        if exc.errno == errno.EPIPE:  # `claude-max ... | head`: the reader went away
            sys.exit(1)
        if console.debug_enabled():
            raise
        console.report(console.describe_os_error(exc), console.DEBUG_HINT)
        sys.exit(1)
    except Exception as exc:
        if console.debug_enabled():
            raise
        console.report(f"unexpected {type(exc).__name__}: {exc}", console.DEBUG_HINT)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


def _click_exceptions() -> tuple[Any, Any]:
    """typer 0.28 vendors click as typer._click (private); typer.BadParameter's bases say which
    ClickException it raises, so this works with either."""
    try:
        from typer._click.exceptions import ClickException, NoArgsIsHelpError
    except ImportError:  # pragma: no cover - a typer that uses click itself
        from click.exceptions import (  # type: ignore[assignment]
            ClickException,
            NoArgsIsHelpError,
        )
    return ClickException, NoArgsIsHelpError


def _usage_hint(exc: Exception) -> str:
    """`Try: claude-max serve --help`, naming the command the user typed."""
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", None) or "claude-max"
    return f"Try: {path} --help"
