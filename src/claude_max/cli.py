"""The `claude-max` command: registers the commands; imports nothing heavy.

Command modules load their heavy dependencies (uvicorn, starlette, rich) inside their bodies,
so `--help`, `--version` and TAB completion stay fast.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from claude_max import __version__
from claude_max.commands import chat, doctor, models, serve, sessions, stats, usage

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
app.command(rich_help_panel="Manage")(usage.usage)
app.add_typer(sessions.app, name="sessions", rich_help_panel="Manage")
app.command(rich_help_panel="Manage")(doctor.doctor)
app.command(rich_help_panel="Manage")(stats.stats)


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
    """Entry point: run the app, rendering ClaudeMaxError as `Error: ...` plus a hint."""
    from claude_max.core.errors import ClaudeMaxError

    if os.environ.get("_CLAUDE_MAX_COMPLETE", "").startswith(("complete_zsh", "complete_fish")):
        _plain_completion_help()
    try:
        app()
    except ClaudeMaxError as exc:
        if os.environ.get("CLAUDE_MAX_DEBUG"):
            raise
        print(f"Error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(exc.hint, file=sys.stderr)
        sys.exit(1)
