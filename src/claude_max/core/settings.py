"""Settings shared by every face: where the CLI is, where our data lives, how to run it.

Precedence is flag > CLAUDE_MAX_* environment variable > default; Typer applies the first two
for commands, `Settings.from_env()` applies the last two for everything else.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import MISSING, dataclass, field, replace
from pathlib import Path
from typing import Any

from claude_max.core import billing
from claude_max.core.errors import INSTALL_CLI, ClaudeMaxError, CLINotFound

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_MAX_RETRIES = 2  # the CLI's default (10) makes a bad login hang ~3 minutes (CLI.md §5)


def default_home() -> Path:
    """CLAUDE_MAX_HOME, else the platform's user data directory."""
    env = os.environ.get("CLAUDE_MAX_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs  # 30 ms: only when no CLAUDE_MAX_HOME is set

    return Path(platformdirs.user_data_dir("claude-max", appauthor=False))


@dataclass(frozen=True)
class Settings:
    home: Path = field(default_factory=default_home)
    claude_path: str | None = None
    cwd: Path | None = None
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    log_level: str = "info"
    log_format: str = "text"  # or "json" (server logs, one object per line)
    max_retries: int = DEFAULT_MAX_RETRIES
    idle_timeout: float = 300.0  # seconds without a line from the CLI
    request_timeout: float = 900.0  # seconds for a whole answer
    allow_tools: tuple[str, ...] = ()  # the CLI's own tools the model may use (agent mode)
    pass_api_env: bool = False  # pass ANTHROPIC_API_KEY/_AUTH_TOKEN/_BASE_URL on to the CLI
    # the API's web_fetch server tool, served by the CLI's WebFetch: it fetches from THIS
    # machine (which may reach the LAN), so only when the operator opts in
    allow_web_fetch: bool = False
    # server only
    api_key: str | None = None
    api_keys: tuple[tuple[str, str], ...] = ()  # named keys: (label, key)
    cors_origins: tuple[str, ...] = ()
    max_concurrency: int = 4  # CLI processes at once (~190 MB each)
    max_queue: int = 16  # requests waiting for a slot before a fast 429
    max_body: int = 32 * 1024 * 1024
    header_timeout: float = 10.0  # seconds a client may take to send a request head
    max_connections: int = 0  # open connections at most; 0: from the file-descriptor limit
    warm: int = 2  # CLI processes kept started ahead of time (~190 MB each); 0: none
    warm_ttl: float = 900.0  # seconds an idle warm process is kept
    auto_continue: bool = True  # continue stateless conversations from the CLI's sessions
    continuation_ttl: float = 86400.0  # seconds a kept stateless CLI session is kept
    continuation_max_mb: float = 1024.0  # disk the kept stateless CLI sessions may take
    keepalive: float = 15.0  # seconds of stream silence before a keep-alive; 0: none
    history_days: float = 30.0  # days the request history is kept; 0: none is recorded

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        base = cls(
            claude_path=env.get("CLAUDE_MAX_CLAUDE_PATH") or None,
            cwd=Path(env["CLAUDE_MAX_CWD"]) if env.get("CLAUDE_MAX_CWD") else None,
            max_retries=int(env.get("CLAUDE_MAX_MAX_RETRIES", DEFAULT_MAX_RETRIES)),
            idle_timeout=float(env.get("CLAUDE_MAX_IDLE_TIMEOUT", 300)),
            request_timeout=float(env.get("CLAUDE_MAX_REQUEST_TIMEOUT", 900)),
            api_key=env.get("CLAUDE_MAX_API_KEY") or None,
            warm=int(env.get("CLAUDE_MAX_WARM", 2)),
            pass_api_env=billing.pass_requested(env),
        )
        return replace(base, **{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]

    def all_keys(self) -> tuple[tuple[str, str], ...]:
        """Every accepted API key as (label, key): the named ones and `api_key` ("default")."""
        keys = self.api_keys
        if self.api_key and all(key != self.api_key for _, key in keys):
            keys = (*keys, ("default", self.api_key))
        return keys

    @property
    def keyed(self) -> bool:
        """Whether callers must present a key."""
        return bool(self.api_key or self.api_keys)

    def claude(self) -> str:
        """The CLI executable: --claude-path / CLAUDE_MAX_CLAUDE_PATH, else `claude` on PATH."""
        if self.claude_path:
            path = Path(self.claude_path).expanduser()
            if not path.is_file() or not os.access(path, os.X_OK):
                raise CLINotFound(
                    f"The Claude Code CLI was not found at {self.claude_path}.",
                    hint="Check --claude-path / CLAUDE_MAX_CLAUDE_PATH, or install the CLI: "
                    f"{INSTALL_CLI}",
                )
            return str(path.resolve())
        found = shutil.which("claude")
        if not found:
            raise CLINotFound(
                "The Claude Code CLI (`claude`) is not on PATH.",
                hint=f"Install: {INSTALL_CLI}  (or pass --claude-path)",
            )
        return found

    def ensure_home(self) -> None:
        """Create the data directory, or say in one line why it cannot be (before any
        banner or request, so the failure is not a traceback halfway through)."""
        try:
            self.home.mkdir(parents=True, exist_ok=True)
            probe = self.home / f".write-test-{os.getpid()}"
            probe.touch()
            probe.unlink()
        except OSError as exc:
            raise ClaudeMaxError(
                f"the data directory {self.home} is not writable: {exc.strerror or exc}",
                hint="Set CLAUDE_MAX_HOME to a writable directory, or fix its permissions",
            ) from None

    def workdir(self) -> Path:
        """The CLI's cwd: private by default, so the model never sees the user's files.
        A chosen --cwd must exist: creating a mistyped path would hide the mistake."""
        if self.cwd is not None:
            if not self.cwd.is_dir():
                raise ClaudeMaxError(
                    f"the working directory {self.cwd} does not exist",
                    hint="Create it, or pass an existing directory to --cwd / CLAUDE_MAX_CWD",
                )
            return self.cwd
        path = self.home / "workspace"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def tmpdir(self) -> Path:
        """The CLI's TMPDIR: it leaves probe files and saves images there (CLI.md §7, §9)."""
        path = self.home / "tmp"
        path.mkdir(parents=True, exist_ok=True)
        return path


class _Defaults:
    """Each Settings field's default, read by name (`DEFAULTS.warm`): the one source for the
    defaults that command options show and use."""

    def __getattr__(self, name: str) -> Any:
        value = Settings.__dataclass_fields__[name].default
        if value is MISSING:
            raise AttributeError(f"Settings.{name} has no plain default")
        return value


DEFAULTS = _Defaults()
