"""Start uvicorn on the app: check the port first, print a banner a user can act on."""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import socket
import sys
from collections.abc import Iterator
from types import FrameType

from claude_max import __version__
from claude_max.core.errors import ClaudeMaxError
from claude_max.core.settings import Settings


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_port(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OverflowError:
            raise ClaudeMaxError(
                f"port {port} is out of range", hint="Use a port from 1 to 65535 (0: any free)"
            ) from None
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ClaudeMaxError(
                    f"port {port} is already in use (another claude-max serve?)",
                    hint=f"Try: claude-max serve --port {port + 1}",
                ) from None
            raise ClaudeMaxError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def banner(settings: Settings, base: str) -> str:
    lines = [
        f"claude-max {__version__} listening on {base} (Ctrl-C to stop)",
        f"  export OPENAI_BASE_URL={base}/v1",
        f"  export ANTHROPIC_BASE_URL={base}",
    ]
    if settings.allow_tools:
        lines.append(
            f"  WARNING: agent mode: the model may use {', '.join(settings.allow_tools)} "
            f"on this machine, in {settings.workdir()}"
        )
    else:
        lines.append("  tools: off (the model cannot act on this machine)")
    lines.append(f"  auth: {'API key required' if settings.api_key else 'none (loopback only)'}")
    if not is_loopback(settings.host):
        lines.append(
            f"  WARNING: listening on {settings.host}: reachable from other machines"
            + ("" if settings.api_key else " WITHOUT AN API KEY")
        )
    return "\n".join(lines)


def serve(settings: Settings, *, allow_remote_without_key: bool = False) -> None:
    import uvicorn

    from claude_max.server.app import create_app

    if not is_loopback(settings.host) and not settings.api_key and not allow_remote_without_key:
        raise ClaudeMaxError(
            f"refusing to listen on {settings.host} without an API key: anyone who can reach "
            "it could spend your subscription",
            hint="Set --api-key (or CLAUDE_MAX_API_KEY), or pass --allow-remote-without-key",
        )
    settings.ensure_home()
    settings.workdir()  # a missing --cwd fails here, not on the first request
    check_port(settings.host, settings.port)
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    print(banner(settings, f"http://{host}:{settings.port}"), file=sys.stderr, flush=True)
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        lifespan="on",
        timeout_graceful_shutdown=5,
    )
    _quiet_server_class()(config).run()


def _quiet_server_class() -> type:
    import uvicorn

    from claude_max.core import runner

    class QuietServer(uvicorn.Server):
        """uvicorn re-raises SIGINT/SIGTERM after its graceful shutdown (a traceback for
        Ctrl-C, death by signal for SIGTERM); claude-max has shut down cleanly by then, so it
        exits 0 instead."""

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            # End in-flight CLIs at once: their requests fail fast, so the graceful shutdown
            # does not wait for answers nobody will read.
            runner.kill_all(shutting_down=True)
            super().handle_exit(sig, frame)

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            with super().capture_signals():
                try:
                    yield
                finally:
                    getattr(self, "_captured_signals", []).clear()

    return QuietServer
