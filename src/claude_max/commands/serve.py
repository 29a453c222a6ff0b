"""`claude-max serve`: parse options into Settings and hand them to the server."""

# No `from __future__ import annotations`: typer would eval each string annotation twice
# when it builds the command (18-33 ms under load); evaluated once here it costs ~1 ms.

from pathlib import Path
from typing import Annotated

import typer

from claude_max.core.settings import DEFAULT_HOST, DEFAULT_PORT, DEFAULTS

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
LOG_FORMATS = ("text", "json")
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
        list[str] | None,
        typer.Option(
            envvar="CLAUDE_MAX_API_KEY",
            help="Require this key (Authorization: Bearer or x-api-key) on every endpoint "
            "but /health. Repeat as NAME=KEY to give each client its own key.",
            rich_help_panel=NET,
            show_default=False,
        ),
    ] = None,
    api_keys_file: Annotated[
        Path | None,
        typer.Option(
            envvar="CLAUDE_MAX_API_KEYS_FILE",
            help="Read named keys from this file: one NAME=KEY per line, # for comments.",
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
    allow_web_fetch: Annotated[
        bool,
        typer.Option(
            "--allow-web-fetch",
            envvar="CLAUDE_MAX_ALLOW_WEB_FETCH",
            help="Serve the API's web_fetch server tool with the CLI's WebFetch, which fetches "
            "URLs from this machine (it may reach your LAN). Off: web_fetch is a 400.",
            rich_help_panel=CLI,
        ),
    ] = False,
    pass_api_env: Annotated[
        bool,
        typer.Option(
            "--pass-api-env",
            help="Pass ANTHROPIC_API_KEY, ANTHROPIC_AUTH_TOKEN and ANTHROPIC_BASE_URL on to the "
            "CLI (billing it to that key or endpoint). Off: the CLI uses your own login. "
            "Also CLAUDE_MAX_PASS_API_ENV=1.",
            rich_help_panel=CLI,
        ),
    ] = False,
    warm: Annotated[
        int,
        typer.Option(
            envvar="CLAUDE_MAX_WARM",
            min=0,
            help="CLI processes kept started ahead of time (~190 MB each) for a faster first "
            "token; 0 disables.",
            rich_help_panel=LIMITS,
        ),
    ] = DEFAULTS.warm,
    warm_ttl: Annotated[
        float,
        typer.Option(
            envvar="CLAUDE_MAX_WARM_TTL",
            min=1,
            help="Seconds an unused warm process is kept.",
            rich_help_panel=LIMITS,
        ),
    ] = DEFAULTS.warm_ttl,
    auto_continue: Annotated[
        bool,
        typer.Option(
            "--auto-continue/--no-auto-continue",
            envvar="CLAUDE_MAX_AUTO_CONTINUE",
            help="Continue a stateless client's conversation from the CLI's own session when "
            "its history matches one already answered (instead of seeding it again).",
            rich_help_panel=LIMITS,
        ),
    ] = DEFAULTS.auto_continue,
    continuation_ttl: Annotated[
        float,
        typer.Option(
            envvar="CLAUDE_MAX_CONTINUATION_TTL",
            min=1,
            help="Seconds the CLI sessions of stateless conversations are kept on disk.",
            rich_help_panel=LIMITS,
        ),
    ] = DEFAULTS.continuation_ttl,
    continuation_max_mb: Annotated[
        float,
        typer.Option(
            envvar="CLAUDE_MAX_CONTINUATION_MAX_MB",
            min=0,
            help="Disk those sessions may take; the oldest go first.",
            rich_help_panel=LIMITS,
        ),
    ] = DEFAULTS.continuation_max_mb,
    history_days: Annotated[
        float,
        typer.Option(
            envvar="CLAUDE_MAX_HISTORY_DAYS",
            min=0,
            help="Days the request history (figures only, for stats and the dashboard) is "
            "kept; 0 records none.",
            rich_help_panel=LIMITS,
        ),
    ] = DEFAULTS.history_days,
    max_concurrency: Annotated[
        int,
        typer.Option(
            envvar="CLAUDE_MAX_MAX_CONCURRENCY",
            min=1,
            help="CLI processes at once (each takes ~190 MB).",
            rich_help_panel=LIMITS,
        ),
    ] = DEFAULTS.max_concurrency,
    max_queue: Annotated[
        int,
        typer.Option(
            envvar="CLAUDE_MAX_MAX_QUEUE",
            min=0,
            help="Requests that may wait for a slot; past that, 429.",
            rich_help_panel=LIMITS,
        ),
    ] = DEFAULTS.max_queue,
    idle_timeout: Annotated[
        float,
        typer.Option(
            envvar="CLAUDE_MAX_IDLE_TIMEOUT",
            min=1,
            help="Seconds without output from the CLI before the request fails.",
            rich_help_panel=LIMITS,
        ),
    ] = DEFAULTS.idle_timeout,
    request_timeout: Annotated[
        float,
        typer.Option(
            envvar="CLAUDE_MAX_REQUEST_TIMEOUT",
            min=1,
            help="Seconds a whole answer may take.",
            rich_help_panel=LIMITS,
        ),
    ] = DEFAULTS.request_timeout,
    keepalive: Annotated[
        float,
        typer.Option(
            envvar="CLAUDE_MAX_KEEPALIVE",
            min=0,
            help="Seconds of silence in a stream before a keep-alive (Anthropic ping, SSE "
            "comment for OpenAI); 0 disables.",
            rich_help_panel=LIMITS,
        ),
    ] = DEFAULTS.keepalive,
    header_timeout: Annotated[
        float,
        typer.Option(
            envvar="CLAUDE_MAX_HEADER_TIMEOUT",
            min=0.1,
            help="Seconds a client may take to send a request's headers.",
            rich_help_panel=LIMITS,
        ),
    ] = DEFAULTS.header_timeout,
    max_connections: Annotated[
        int,
        typer.Option(
            envvar="CLAUDE_MAX_MAX_CONNECTIONS",
            min=0,
            help="Open connections at most (idle ones waiting for headers go first); "
            "0: a quarter of the file-descriptor limit.",
            rich_help_panel=LIMITS,
        ),
    ] = DEFAULTS.max_connections,
    max_body_mb: Annotated[
        float,
        typer.Option(
            envvar="CLAUDE_MAX_MAX_BODY_MB",
            min=0.001,
            help="Largest request body, in MB.",
            rich_help_panel=LIMITS,
        ),
    ] = DEFAULTS.max_body // (1024 * 1024),
    log_level: Annotated[
        str,
        typer.Option(
            envvar="CLAUDE_MAX_LOG_LEVEL",
            help="critical, error, warning, info or debug.",
            rich_help_panel=LOG,
        ),
    ] = DEFAULTS.log_level,
    log_format: Annotated[
        str,
        typer.Option(
            envvar="CLAUDE_MAX_LOG_FORMAT",
            help="text, or json (one object per line, for log shippers).",
            rich_help_panel=LOG,
        ),
    ] = DEFAULTS.log_format,
) -> None:
    """Start the OpenAI- and Anthropic-compatible server.

    Examples:

      claude-max serve

      claude-max serve --port 8081 --api-key "$(openssl rand -hex 16)"
    """
    from claude_max.core.settings import Settings
    from claude_max.server import keys
    from claude_max.server.listen import serve as run_server

    if log_level.lower() not in LOG_LEVELS:
        raise typer.BadParameter(
            f"must be one of {', '.join(LOG_LEVELS)}", param_hint="--log-level"
        )
    if log_format.lower() not in LOG_FORMATS:
        raise typer.BadParameter("must be text or json", param_hint="--log-format")
    named = keys.parse(api_key or ())
    if api_keys_file is not None:
        named = keys.check((*named, *keys.load_file(api_keys_file)), "--api-keys-file")
    tools = tuple(t.strip() for t in (allow_tools or "").split(",") if t.strip())
    settings = Settings.from_env(
        host=host,
        port=port,
        cwd=cwd.expanduser().resolve() if cwd else None,
        claude_path=claude_path,
        log_level=log_level.lower(),
        log_format=log_format.lower(),
        pass_api_env=True if pass_api_env else None,
        api_key="",  # all keys, CLAUDE_MAX_API_KEY included, are in api_keys
        api_keys=named,
        cors_origins=tuple(cors_origin or ()),
        allow_tools=tools,
        allow_web_fetch=allow_web_fetch,
        max_concurrency=max_concurrency,
        max_queue=max_queue,
        idle_timeout=idle_timeout,
        request_timeout=request_timeout,
        max_body=int(max_body_mb * 1024 * 1024),
        header_timeout=header_timeout,
        max_connections=max_connections,
        warm=warm,
        warm_ttl=warm_ttl,
        auto_continue=auto_continue,
        continuation_ttl=continuation_ttl,
        continuation_max_mb=continuation_max_mb,
        keepalive=keepalive,
        history_days=history_days,
    )
    run_server(settings, allow_remote_without_key=allow_remote)
