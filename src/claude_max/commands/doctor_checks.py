"""The checks behind `claude-max doctor`: each returns a Check record and prints nothing.

Protocol-neutral and Rich-free, so a face other than the terminal (a `/health?deep=1`, a test)
can reuse them. Every subprocess gets an argv list, stdin=DEVNULL and a timeout; the live probe
goes through `core.run.complete`, the same path a real request takes, bounded by its own
deadline. `run_checks` yields in display order and marks a check `skip` when what it needs
(the CLI) is missing, so the list always has the same checks in the same order.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from claude_max.core import billing, catalog
from claude_max.core.errors import INSTALL_CLI, LOGIN_HINT, CannotListen, ClaudeMaxError
from claude_max.core.settings import DEFAULT_HOST, Settings

Status = Literal["ok", "warn", "fail", "skip"]

INSTALL = f"Install: {INSTALL_CLI}"
VERSION_TIMEOUT = 10.0  # `claude --version` takes ~13 ms (CLI.md §6)
AUTH_TIMEOUT = 20.0  # `claude auth status` takes ~160 ms and never touches the network
PROBE_PROMPT = "Reply with the single word OK."

Busy = Callable[[str], contextlib.AbstractContextManager[Any]]


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the checklist. `check` is a stable id; `title` is for people only."""

    check: str
    title: str
    status: Status
    detail: str
    fix: str | None = None
    seconds: float | None = None  # how long the check's subprocess or probe took
    stderr: str = ""  # what that subprocess printed on stderr (shown with -v)

    def as_json(self) -> dict[str, str | None]:
        return {"check": self.check, "status": self.status, "detail": self.detail, "fix": self.fix}


def run_checks(
    settings: Settings,
    *,
    probe: bool = True,
    timeout: float = 30.0,
    busy: Busy = lambda message: contextlib.nullcontext(),
) -> Iterator[Check]:
    """Every check in display order; `busy(message)` wraps the slow ones (a spinner)."""
    cli, claude, version = check_cli(settings)
    yield cli
    needs_cli = "skipped: the Claude Code CLI is not usable"
    if version is None:
        yield Check("version", "CLI version", "skip", needs_cli)
    else:
        yield check_version(version)
    if claude is None:
        yield Check("auth", "Login", "skip", needs_cli)
        yield Check("probe", "Live probe", "skip", needs_cli)
    else:
        with busy("Checking the CLI's login…"):
            auth = check_auth(claude, pass_api_env=settings.pass_api_env)
        yield auth  # outside the spinner: the caller prints it
        if auth.detail == NOT_LOGGED_IN:  # one cause, one [fail]: the probe would fail too
            yield Check("probe", "Live probe", "skip", "skipped: the CLI is not logged in")
        elif probe:
            with busy(f"Asking the CLI for one token (up to {timeout:g} s)…"):
                answer = check_probe(settings, timeout)
            yield answer
        else:
            yield Check("probe", "Live probe", "skip", "skipped (--no-probe)")
    yield check_data_dir(settings.home)
    yield check_port(settings.port)
    yield check_root()


# ------------------------------------------------------------------------------- the CLI


def _run(
    argv: list[str], timeout: float, env: dict[str, str] | None = None
) -> tuple[int, str, str, float]:
    """(exit code, stdout, stderr, seconds); raises OSError or subprocess.TimeoutExpired."""
    start = time.monotonic()
    done = subprocess.run(
        argv,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr, time.monotonic() - start


def _last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1].strip() if lines else ""


def parse_version(text: str) -> tuple[int, int, int] | None:
    """`2.1.330 (Claude Code)` -> (2, 1, 330)."""
    match = re.match(r"\s*v?(\d+)\.(\d+)\.(\d+)", text)
    if not match:
        return None
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch


def check_cli(settings: Settings) -> tuple[Check, str | None, tuple[int, int, int] | None]:
    """Find the executable and read its version: (check, path or None, version or None)."""
    title = "Claude Code CLI"
    try:
        claude = settings.claude()
    except ClaudeMaxError as exc:
        return Check("cli", title, "fail", exc.message, exc.hint or INSTALL), None, None
    broken = f"Reinstall it ({INSTALL})"
    try:
        code, out, err, seconds = _run([claude, "--version"], VERSION_TIMEOUT)
    except subprocess.TimeoutExpired:
        detail = f"{claude} --version did not answer within {VERSION_TIMEOUT:g} s"
        return Check("cli", title, "fail", detail, broken), None, None
    except OSError as exc:
        detail = f"{claude} cannot be run: {exc.strerror or exc}"
        return Check("cli", title, "fail", detail, broken), None, None
    version = parse_version(out) if code == 0 else None
    if version is None:
        why = _last_line(err) or _last_line(out) or "no output"
        detail = f"{claude} --version failed (exit code {code}): {why}"
        check = Check("cli", title, "fail", detail, broken, seconds, err)
        return check, None, None
    text = ".".join(map(str, version))
    return Check("cli", title, "ok", f"{text} at {claude}", None, seconds, err), claude, version


def _dotted(version: tuple[int, ...]) -> str:
    return ".".join(map(str, version))


def check_version(version: tuple[int, int, int]) -> Check:
    """Older than the range fails (flags we rely on may be missing); newer only warns."""
    low, high = catalog.CLI_VERSION_RANGE
    supported = f">= {_dotted(low)}, < {_dotted(high)}"
    tested = f"npm install -g @anthropic-ai/claude-code@{low[0]}.{low[1]}"
    text = _dotted(version)
    if version < low:
        return Check(
            "version",
            "CLI version",
            "fail",
            f"{text} is older than claude-max supports ({supported})",
            f"Update: {tested}",
        )
    if version >= high:
        return Check(
            "version",
            "CLI version",
            "warn",
            f"{text} is newer than claude-max was tested with ({supported})",
            f"If something breaks: {tested}, or upgrade claude-max",
        )
    return Check("version", "CLI version", "ok", f"{text} is supported ({supported})")


# ------------------------------------------------------------------------------- the login

LOGIN = LOGIN_HINT  # the CLI's own advice (CLI.md §6)
NOT_LOGGED_IN = "not logged in"


def check_auth(claude: str, *, pass_api_env: bool = False) -> Check:
    """`claude auth status`: rc 0 logged in, 1 not; JSON with authMethod (CLI.md §6). Run in
    the environment claude-max gives the CLI, so it tells the billing requests will use."""
    title = "Login"
    env = billing.child_env(os.environ, pass_api_env=pass_api_env)
    ignored = [k for k in billing.API_ENV if os.environ.get(k) and k not in env]
    note = f" (ignoring {', '.join(ignored)}: set {billing.PASS_ENV}=1 to use)" if ignored else ""
    try:
        code, out, err, seconds = _run([claude, "auth", "status"], AUTH_TIMEOUT, env)
    except subprocess.TimeoutExpired:
        detail = f"`claude auth status` did not answer within {AUTH_TIMEOUT:g} s"
        return Check("auth", title, "fail", detail, "Run: claude auth status")
    except OSError as exc:
        detail = f"`claude auth status` cannot be run: {exc.strerror or exc}"
        return Check("auth", title, "fail", detail, "Run: claude auth status")
    try:
        status = json.loads(out)
    except ValueError:
        status = None
    if not isinstance(status, dict) or code not in (0, 1):
        why = _last_line(err) or _last_line(out) or "no output"
        detail = f"`claude auth status` failed (exit code {code}): {why}"
        return Check("auth", title, "fail", detail, "Run: claude auth status", seconds, err)
    if code != 0 or not status.get("loggedIn"):
        return Check("auth", title, "fail", NOT_LOGGED_IN + note, LOGIN, seconds, err)
    status_, detail, fix = describe_login(status)
    return Check("auth", title, status_, detail + note, fix, seconds, err)


def describe_login(status: dict[str, Any]) -> tuple[Status, str, str | None]:
    """What a logged-in `auth status` means for billing: a subscription is what we want."""
    method = status.get("authMethod")
    if method == "claude.ai":
        plan = status.get("subscriptionType")
        who = status.get("email")
        detail = "Claude subscription" + (f" ({plan})" if plan else "")
        return "ok", detail + (f" as {who}" if who else ""), None
    if method == "oauth_token":
        return "ok", "OAuth token (CLAUDE_CODE_OAUTH_TOKEN or ANTHROPIC_AUTH_TOKEN)", None
    if method == "api_key":
        source = status.get("apiKeySource") or "an API key"
        if source == "/login managed key":
            detail = "Anthropic Console login: usage is billed to the Console account"
            fix = "To use your subscription: run: claude auth login --claudeai"
            return "warn", detail + ", not to a Claude subscription", fix
        detail = f"API key from {source}: usage is billed to the key, not to a Claude subscription"
        fix = f"To use your subscription: unset {source}, then {LOGIN.lower()}"
        if source != "ANTHROPIC_API_KEY":
            fix = f"To use your subscription: {LOGIN.lower()}"
        return "warn", detail, fix
    if method == "api_key_helper":
        detail = "API key from apiKeyHelper: usage is billed to that key, not to a subscription"
        return "warn", detail, f"To use your subscription: {LOGIN.lower()}"
    if method == "third_party":
        provider = status.get("apiProvider") or "a cloud provider"
        detail = f"third-party provider ({provider}): usage is billed there, not to a subscription"
        fix = (
            "To use your subscription: unset CLAUDE_CODE_USE_BEDROCK/_VERTEX, then " + LOGIN.lower()
        )
        return "warn", detail, fix
    return "ok", f"logged in ({method})", None


# ------------------------------------------------------------------------------- the probe


def check_probe(settings: Settings, timeout: float) -> Check:
    """One tiny conversation through the real request path: proof that the CLI answers."""
    import asyncio

    from claude_max.core.conversation import Conversation, Options, TextPart, Turn
    from claude_max.core.run import complete

    conv = Conversation(
        turns=(Turn("user", (TextPart(PROBE_PROMPT),)),), options=Options(max_tokens=1)
    )
    title = "Live probe"
    start = time.monotonic()
    try:
        reply = asyncio.run(asyncio.wait_for(complete(conv, settings), timeout))
    except asyncio.TimeoutError:
        detail = f"no answer within {timeout:g} s"
        fix = "Check the network (and any proxy), or raise --timeout"
        return Check("probe", title, "fail", detail, fix, time.monotonic() - start)
    except ClaudeMaxError as exc:
        fix = exc.hint or ""
        if not fix or "claude-max doctor" in fix:  # don't send the user back here
            fix = "See the CLI's own error: claude -p hi"
        stderr = getattr(exc, "stderr_tail", "")
        return Check("probe", title, "fail", exc.message, fix, time.monotonic() - start, stderr)
    except OSError as exc:  # e.g. the data directory (the CLI's cwd) cannot be created
        detail = f"could not start the CLI: {exc.strerror or exc}"
        fix = "Fix the data directory (see below), or set CLAUDE_MAX_CWD"
        return Check("probe", title, "fail", detail, fix, time.monotonic() - start)
    seconds = time.monotonic() - start
    model = reply.result.model
    detail = f"answered in {seconds:.1f} s" + (f" ({model})" if model else "")
    return Check("probe", title, "ok", detail, None, seconds)


# ------------------------------------------------------------------------------- the machine


def check_data_dir(home: Path) -> Check:
    """Create the directory if needed, then write and remove a file in it."""
    title = "Data directory"
    try:
        home.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".doctor-", dir=home)
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        detail = f"{home} is not writable: {exc.strerror or exc}"
        fix = "Set CLAUDE_MAX_HOME to a writable directory, or fix its permissions"
        return Check("data_dir", title, "fail", detail, fix)
    return Check("data_dir", title, "ok", f"{home} is writable")


def port_free(port: int, host: str = DEFAULT_HOST) -> OSError | None:
    """None if `serve` could listen on host:port now (bound exactly as `serve` binds), else
    the error."""
    from claude_max.server.listen import bind

    try:
        bind(host, port).close()
    except CannotListen as exc:
        return exc.cause or OSError(exc.message)
    return None


def check_port(port: int, host: str = DEFAULT_HOST) -> Check:
    """A busy port only warns: `serve --port` takes another one."""
    title = f"Port {port}"
    error = port_free(port, host)
    if error is None:
        return Check("port", title, "ok", f"free on {host}")
    spare = next(
        (p for p in range(port + 1, min(port + 50, 65536)) if not port_free(p, host)), None
    )
    fix = f"Try: claude-max serve --port {spare}" if spare else "Try: claude-max serve --port N"
    if error.errno == errno.EADDRINUSE:
        detail = f"already in use on {host} (another claude-max serve?)"
    else:
        detail = f"cannot listen on {host}:{port}: {error.strerror or error}"
    return Check("port", title, "warn", detail, fix)


def effective_uid() -> int | None:
    """The effective user id, or None where there is none (Windows). Tests patch this."""
    geteuid = getattr(os, "geteuid", None)
    return geteuid() if geteuid else None


def check_root() -> Check:
    """Root only warns: the proxy's default no-tools mode works the same (CLI.md §1, §11.10)."""
    if effective_uid() != 0:
        return Check("root", "User", "ok", "not running as root")
    if os.environ.get("IS_SANDBOX"):
        detail = "running as root (IS_SANDBOX is set, so the CLI allows bypassPermissions)"
    else:
        detail = "running as root: the CLI refuses --permission-mode bypassPermissions"
    detail += "; agent-mode tools (--allow-tools) would act as root; the default no-tools mode"
    detail += " is unaffected"
    return Check("root", "User", "warn", detail, "Run claude-max as a normal user")
