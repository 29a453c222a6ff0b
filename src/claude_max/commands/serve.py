"""`claude-max serve`: parse options into Settings and hand them to the server."""

# No `from __future__ import annotations`: typer would eval each string annotation twice
# when it builds the command (18-33 ms under load); evaluated once here it costs ~1 ms.

from pathlib import Path
from typing import Annotated

import typer

from claude_max.core.settings import DEFAULT_HOST, DEFAULT_PORT

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
NET, CLI, LIMITS, LOG = "Network and access", "Claude CLI", "Limits", "Logging"


def serve(
    host: Annotated[
        str, typer.Option(envvar="CLAUDE_MAX_HOST", help="Address to bind.", rich_help_panel=NET)
    ] = DEFAULT_HOST,
    port: Annotated[
        int,
        typer.Option(
            envvar="CLAUDE_MAX_PORT",
            min=0,
            max=65535,
            help="Port to listen on (0: any free port).",
            rich_help_panel=NET,
        ),
    ] = DEFAULT_PORT,
    api_key: Annotated[
        str | None,
        typer.Option(
            envvar="CLAUDE_MAX_API_KEY",
            help="Require this key (Authorization: Bearer or x-api-key) on every endpoint "
            "but /health.",
            rich_help_panel=NET,
            show_default=False,
        ),
    ] = None,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option(
            envvar="CLAUDE_MAX_CORS_ORIGIN",
            help="Allow browser requests from this origin (repeatable). None by default.",
            rich_help_panel=NET,
        ),
    ] = None,
    allow_remote: Annotated[
        bool,
        typer.Option(
            "--allow-remote-without-key",
            help="Listen on a non-loopback address without --api-key (anyone who can reach "
            "it spends your subscription).",
            rich_help_panel=NET,
        ),
    ] = False,
    cwd: Annotated[
        Path | None,
        typer.Option(
            envvar="CLAUDE_MAX_CWD",
            exists=True,
            file_okay=False,
            help="Working directory for the CLI, an existing one (default: a private one in "
            "the data dir).",
            rich_help_panel=CLI,
        ),
    ] = None,
    claude_path: Annotated[
        str | None,
        typer.Option(
            envvar="CLAUDE_MAX_CLAUDE_PATH",
            help="Path to the claude executable (default: claude on PATH).",
            rich_help_panel=CLI,
        ),
    ] = None,
    allow_tools: Annotated[
        str | None,
        typer.Option(
            envvar="CLAUDE_MAX_ALLOW_TOOLS",
            help="Agent mode: let the model use these tools of the CLI on this machine "
            "(comma-separated, e.g. Read,Grep). Off by default.",
            rich_help_panel=CLI,
        ),
    ] = None,
    warm: Annotated[
        int,
        typer.Option(
            envvar="CLAUDE_MAX_WARM",
            min=0,
            help="CLI processes kept started ahead of time (~190 MB each) for a faster first "
            "token; 0 disables.",
            rich_help_panel=LIMITS,
        ),
    ] = 2,
    warm_ttl: Annotated[
        float,
        typer.Option(
            envvar="CLAUDE_MAX_WARM_TTL",
            min=1,
            help="Seconds an unused warm process is kept.",
            rich_help_panel=LIMITS,
        ),
    ] = 900,
    auto_continue: Annotated[
        bool,
        typer.Option(
            "--auto-continue/--no-auto-continue",
            envvar="CLAUDE_MAX_AUTO_CONTINUE",
            help="Continue a stateless client's conversation from the CLI's own session when "
            "its history matches one already answered (instead of seeding it again).",
            rich_help_panel=LIMITS,
        ),
    ] = True,
    continuation_ttl: Annotated[
        float,
        typer.Option(
            envvar="CLAUDE_MAX_CONTINUATION_TTL",
            min=1,
            help="Seconds the CLI sessions of stateless conversations are kept on disk.",
            rich_help_panel=LIMITS,
        ),
    ] = 86400,
    continuation_max_mb: Annotated[
        float,
        typer.Option(
            envvar="CLAUDE_MAX_CONTINUATION_MAX_MB",
            min=0,
            help="Disk those sessions may take; the oldest go first.",
            rich_help_panel=LIMITS,
        ),
    ] = 1024,
    max_concurrency: Annotated[
        int,
        typer.Option(
            envvar="CLAUDE_MAX_MAX_CONCURRENCY",
            min=1,
            help="CLI processes at once (each takes ~190 MB).",
            rich_help_panel=LIMITS,
        ),
    ] = 4,
    max_queue: Annotated[
        int,
        typer.Option(
            envvar="CLAUDE_MAX_MAX_QUEUE",
            min=0,
            help="Requests that may wait for a slot; past that, 429.",
            rich_help_panel=LIMITS,
        ),
    ] = 16,
    idle_timeout: Annotated[
        float,
        typer.Option(
            envvar="CLAUDE_MAX_IDLE_TIMEOUT",
            min=1,
            help="Seconds without output from the CLI before the request fails.",
            rich_help_panel=LIMITS,
        ),
    ] = 300,
    request_timeout: Annotated[
        float,
        typer.Option(
            envvar="CLAUDE_MAX_REQUEST_TIMEOUT",
            min=1,
            help="Seconds a whole answer may take.",
            rich_help_panel=LIMITS,
        ),
    ] = 900,
    max_body_mb: Annotated[
        float,
        typer.Option(
            envvar="CLAUDE_MAX_MAX_BODY_MB",
            min=0.001,
            help="Largest request body, in MB.",
            rich_help_panel=LIMITS,
        ),
    ] = 32,
    log_level: Annotated[
        str,
        typer.Option(
            envvar="CLAUDE_MAX_LOG_LEVEL",
            help="critical, error, warning, info or debug.",
            rich_help_panel=LOG,
        ),
    ] = "info",
) -> None:
    """Start the OpenAI- and Anthropic-compatible server.

    Examples:

      claude-max serve

      claude-max serve --port 8081 --api-key "$(openssl rand -hex 16)"
    """
    from claude_max.core.settings import Settings
    from claude_max.server.run import serve as run_server

    if log_level.lower() not in LOG_LEVELS:
        raise typer.BadParameter(
            f"must be one of {', '.join(LOG_LEVELS)}", param_hint="--log-level"
        )
    tools = tuple(t.strip() for t in (allow_tools or "").split(",") if t.strip())
    settings = Settings.from_env(
        host=host,
        port=port,
        cwd=cwd.expanduser().resolve() if cwd else None,
        claude_path=claude_path,
        log_level=log_level.lower(),
        api_key=api_key or None,
        cors_origins=tuple(cors_origin or ()),
        allow_tools=tools,
        max_concurrency=max_concurrency,
        max_queue=max_queue,
        idle_timeout=idle_timeout,
        request_timeout=request_timeout,
        max_body=int(max_body_mb * 1024 * 1024),
        warm=warm,
        warm_ttl=warm_ttl,
        auto_continue=auto_continue,
        continuation_ttl=continuation_ttl,
        continuation_max_mb=continuation_max_mb,
    )
    run_server(settings, allow_remote_without_key=allow_remote)
