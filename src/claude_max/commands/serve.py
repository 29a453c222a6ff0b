"""`claude-max serve`: parse options into Settings and hand them to the server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from claude_max.core.settings import DEFAULT_HOST, DEFAULT_PORT

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def serve(
    host: Annotated[
        str,
        typer.Option(envvar="CLAUDE_MAX_HOST", help="Address to bind.", rich_help_panel="Network"),
    ] = DEFAULT_HOST,
    port: Annotated[
        int,
        typer.Option(
            envvar="CLAUDE_MAX_PORT", help="Port to listen on.", rich_help_panel="Network"
        ),
    ] = DEFAULT_PORT,
    cwd: Annotated[
        Path | None,
        typer.Option(
            envvar="CLAUDE_MAX_CWD",
            help="Working directory for the CLI (default: a private one in the data dir).",
            rich_help_panel="Claude CLI",
        ),
    ] = None,
    claude_path: Annotated[
        str | None,
        typer.Option(
            envvar="CLAUDE_MAX_CLAUDE_PATH",
            help="Path to the claude executable (default: claude on PATH).",
            rich_help_panel="Claude CLI",
        ),
    ] = None,
    log_level: Annotated[
        str,
        typer.Option(
            envvar="CLAUDE_MAX_LOG_LEVEL",
            help="critical, error, warning, info or debug.",
            rich_help_panel="Logging",
        ),
    ] = "info",
) -> None:
    """Start the OpenAI- and Anthropic-compatible server.

    Examples:

      claude-max serve

      claude-max serve --port 8081 --cwd ~/project
    """
    from claude_max.core.settings import Settings
    from claude_max.server.run import serve as run_server

    if log_level.lower() not in LOG_LEVELS:
        raise typer.BadParameter(
            f"must be one of {', '.join(LOG_LEVELS)}", param_hint="--log-level"
        )
    settings = Settings.from_env(
        host=host,
        port=port,
        cwd=cwd.expanduser().resolve() if cwd else None,
        claude_path=claude_path,
        log_level=log_level.lower(),
    )
    run_server(settings)
