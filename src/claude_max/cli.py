"""The `claude-max` command: registers the commands; imports nothing heavy.

Command modules load their heavy dependencies (uvicorn, starlette, rich) inside their bodies,
so `--help`, `--version` and TAB completion stay fast.
"""

from __future__ import annotations

import errno
import os
import sys
from typing import Annotated

import typer

from claude_max import __version__
from claude_max.commands import chat, doctor, models, serve, sessions

app = typer.Typer(
    name="claude-max",
    help="Use a Claude Max subscription from any OpenAI- or Anthropic-compatible client.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        print(f"claude-max {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool | None,
        typer.Option("--version", "-V", callback=_version, is_eager=True, help="Show the version."),
    ] = None,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug", envvar="CLAUDE_MAX_DEBUG", help="Show tracebacks instead of short errors."
        ),
    ] = False,
) -> None:
    """Use a Claude Max subscription from any OpenAI- or Anthropic-compatible client."""
    if debug:
        os.environ["CLAUDE_MAX_DEBUG"] = "1"


app.command(rich_help_panel="Chat")(chat.chat)
app.command(rich_help_panel="Server")(serve.serve)
app.command(rich_help_panel="Manage")(models.models)
app.add_typer(sessions.app, name="sessions", rich_help_panel="Manage")
app.command(rich_help_panel="Manage")(doctor.doctor)


def _plain_completion_help() -> None:
    """zsh and fish show help next to candidates; typer runs it through rich (+75 ms a TAB).
    Our help texts have no markup, so skip that. Private typer API: if it moves, do nothing."""
    try:
        import typer._completion_classes as classes
    except ImportError:  # pragma: no cover
        return
    if hasattr(classes, "_sanitize_help_text"):
        classes._sanitize_help_text = lambda text: text


def main() -> None:
    """Entry point, and the terminal face's one error boundary: usage errors, ClaudeMaxError
    and anything unexpected end as `Error: ...` plus a hint on stderr, never a traceback
    (unless --debug / CLAUDE_MAX_DEBUG=1)."""
    from claude_max.core.errors import ClaudeMaxError
    from claude_max.terminal import console

    ClickException, NoArgsIsHelpError = _click_exceptions()

    if os.environ.get("_CLAUDE_MAX_COMPLETE", "").startswith(("complete_zsh", "complete_fish")):
        _plain_completion_help()
    try:
        code = app(standalone_mode=False)
    except NoArgsIsHelpError:  # the help is already printed
        sys.exit(2)
    except ClickException as exc:  # usage errors: exit 2
        console.report(exc.format_message(), _usage_hint(exc))
        sys.exit(exc.exit_code)
    except typer.Abort:
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


def _click_exceptions() -> tuple[type[Exception], type[Exception]]:
    """typer 0.28 vendors click as typer._click (private); typer.BadParameter's bases say which
    ClickException it raises, so this works with either."""
    try:
        from typer._click.exceptions import ClickException, NoArgsIsHelpError
    except ImportError:  # pragma: no cover - a typer that uses click itself
        from click.exceptions import ClickException, NoArgsIsHelpError
    return ClickException, NoArgsIsHelpError


def _usage_hint(exc: Exception) -> str:
    """`Try: claude-max serve --help`, naming the command the user typed."""
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", None) or "claude-max"
    return f"Try: {path} --help"
