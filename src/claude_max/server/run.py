"""Start uvicorn on the app: check the port first, print a banner a user can act on."""

from __future__ import annotations

import errno
import ipaddress
import socket
import sys

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
        "  tools: off (the model cannot act on this machine)",
    ]
    if not is_loopback(settings.host):
        lines.append(f"  WARNING: listening on {settings.host}, reachable from other machines")
    return "\n".join(lines)


def serve(settings: Settings) -> None:
    import uvicorn

    from claude_max.server.app import create_app

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
    uvicorn.Server(config).run()
