"""Start uvicorn on the app: check the port first, print a banner a user can act on."""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import os
import socket
import sys
from collections.abc import Iterator
from dataclasses import replace
from types import FrameType
from urllib.parse import urlsplit

from claude_max import __version__
from claude_max.core import billing
from claude_max.core.errors import CannotListen, LoopDetected
from claude_max.core.settings import Settings


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound here so a busy port is a one-line error and `--port 0`
    tells us the port the system chose before the banner names it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OverflowError:
        sock.close()
        raise CannotListen(
            f"port {port} is out of range", hint="Use a port from 1 to 65535 (0: any free)"
        ) from None
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise CannotListen(
                f"port {port} is already in use (another claude-max serve?)",
                hint=f"Try: claude-max serve --port {port + 1}",
                cause=exc,
            ) from None
        raise CannotListen(f"cannot listen on {host}:{port}: {exc.strerror}", cause=exc) from None
    # Listening from here on: a client that connects as soon as the banner appears waits in
    # the backlog until uvicorn accepts, rather than being refused.
    sock.listen(2048)
    return sock


def client_url(host: str, port: int) -> str:
    """A URL a client can use: an all-interfaces address (0.0.0.0, ::) is no destination,
    so clients on this machine use loopback."""
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def banner(settings: Settings, base: str | None = None) -> str:
    """What is listening where, the lines a client needs, and who may use it."""
    host, port = settings.host, settings.port
    base = base or client_url(host, port)
    everywhere = host in ("0.0.0.0", "::", "")
    where = f"all interfaces, port {port}" if everywhere else base
    lines = [
        f"claude-max {__version__} listening on {where} (Ctrl-C to stop)",
        f"  export OPENAI_BASE_URL={base}/v1",
        f"  export ANTHROPIC_BASE_URL={base}",
    ]
    if everywhere:
        lines.append(f"  from other machines: http://<this machine's address>:{port}")
    if settings.allow_tools:
        lines.append(
            f"  WARNING: agent mode: the model may use {', '.join(settings.allow_tools)} "
            f"on this machine, in {settings.workdir()}"
        )
    else:
        lines.append("  tools: off (the model cannot act on this machine)")
    labels = [label for label, _ in settings.all_keys()]
    if labels:
        lines.append(f"  auth: API key required ({', '.join(labels)})")
    elif is_loopback(host):
        lines.append("  auth: none (loopback only)")
    else:
        lines.append("  auth: NONE: anyone who can reach this port can spend your subscription")
    _, words = billing.describe(os.environ, pass_api_env=settings.pass_api_env)
    lines.append(f"  billing: {words}")
    if not is_loopback(host):
        lines.append(
            f"  WARNING: listening on {host}: reachable from other machines"
            + ("" if settings.keyed else " WITHOUT AN API KEY")
        )
    return "\n".join(lines)


def refuse_self_loop(settings: Settings) -> None:
    """With the API variables passed on, a base URL pointing at this very server would send
    every CLI request back here: refuse to start, naming the variable."""
    base = os.environ.get("ANTHROPIC_BASE_URL")
    if not (settings.pass_api_env and base):
        return
    url = urlsplit(base)
    ours = (
        {settings.host, "localhost", "127.0.0.1", "::1"}
        if is_loopback(settings.host)
        else {settings.host}
    )
    if url.port == settings.port and (url.hostname in ours or settings.host in ("0.0.0.0", "::")):
        raise LoopDetected(
            f"ANTHROPIC_BASE_URL={base} is this server: the CLI would call claude-max itself.",
            hint="Unset ANTHROPIC_BASE_URL (or drop CLAUDE_MAX_PASS_API_ENV / --pass-api-env)",
        )


def serve(settings: Settings, *, allow_remote_without_key: bool = False) -> None:
    import uvicorn

    from claude_max.server import logs
    from claude_max.server.app import create_app
    from claude_max.server.protocol import uvicorn_options

    if not is_loopback(settings.host) and not settings.keyed and not allow_remote_without_key:
        raise CannotListen(
            f"refusing to listen on {settings.host} without an API key: anyone who can reach "
            "it could spend your subscription",
            hint="Set --api-key (or CLAUDE_MAX_API_KEY), or pass --allow-remote-without-key",
        )
    settings.ensure_home()
    settings.workdir()  # a missing --cwd fails here, not on the first request
    refuse_self_loop(settings)
    sock = bind(settings.host, settings.port)
    settings = replace(settings, port=sock.getsockname()[1])  # --port 0: the chosen one
    print(banner(settings), file=sys.stderr, flush=True)
    logs.configure(settings.log_level, settings.log_format)
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,  # ours (server/access.py) says more, one line per request
        lifespan="on",
        timeout_graceful_shutdown=5,
        **uvicorn_options(settings),
    )
    from claude_max.server import logs

    logs.install()  # after uvicorn.Config, which sets up logging
    with sock:
        _quiet_server_class()(config).run(sockets=[sock])


def _quiet_server_class() -> type:
    import uvicorn

    from claude_max.core import processes

    class QuietServer(uvicorn.Server):
        """uvicorn re-raises SIGINT/SIGTERM after its graceful shutdown (a traceback for
        Ctrl-C, death by signal for SIGTERM); claude-max has shut down cleanly by then, so it
        exits 0 instead."""

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            # End in-flight CLIs at once: their requests fail fast, so the graceful shutdown
            # does not wait for answers nobody will read.
            processes.kill_all(shutting_down=True)
            super().handle_exit(sig, frame)

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            with super().capture_signals():
                try:
                    yield
                finally:
                    getattr(self, "_captured_signals", []).clear()

    return QuietServer
