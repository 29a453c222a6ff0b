"""An honest `/health`: `ok` only when requests can be answered, else `degraded` (HTTP 503)
with the reason and the fix: the CLI is missing, not logged in, or the plan is used up.

The login is checked with `claude auth status` (no network, no model call; CLI.md §6) at start
and then at most every `LOGIN_RECHECK` seconds, in the background of a health request; an
authentication failure of a real request marks it logged out at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from claude_max import __version__
from claude_max.core import billing
from claude_max.core.errors import LOGIN_HINT as LOGIN
from claude_max.core.settings import Settings

LOGIN_RECHECK = 60.0
AUTH_TIMEOUT = 20.0


@dataclass(frozen=True)
class Login:
    logged_in: bool | None  # None: unknown (the check could not run)
    method: str | None = None
    detail: str | None = None
    checked_at: float = 0.0


async def check_login(claude: str, settings: Settings) -> Login:
    """`claude auth status` in the CLI's own environment (what the CLI will really use)."""
    env = billing.child_env(os.environ, pass_api_env=settings.pass_api_env)
    now = time.monotonic()
    try:
        proc = await asyncio.create_subprocess_exec(
            claude,
            "auth",
            "status",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env=env,
        )
    except OSError as exc:
        return Login(None, detail=f"`claude auth status` cannot run: {exc}", checked_at=now)
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), AUTH_TIMEOUT)
    except asyncio.TimeoutError:
        await _reap(proc)
        return Login(None, detail="`claude auth status` did not answer", checked_at=now)
    except BaseException:  # cancelled (the server is stopping): leave no process behind
        await asyncio.shield(_reap(proc))
        raise
    try:
        status = json.loads(out)
    except ValueError:
        status = None
    if not isinstance(status, dict):
        return Login(None, detail="`claude auth status` gave no JSON", checked_at=now)
    logged_in = proc.returncode == 0 and bool(status.get("loggedIn"))
    return Login(logged_in, status.get("authMethod"), checked_at=now)


async def _reap(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.kill()
    await proc.wait()


async def stop_checks(state: Any) -> None:
    """At shutdown: end a login check still running."""
    task = getattr(state, "login_check", None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task


async def refresh_login(state: Any) -> None:
    claude = state.cli_info.get("path")
    if claude:
        state.login = await check_login(claude, state.settings)


def mark_logged_out(state: Any) -> None:
    """A request just failed for want of a login: say so without waiting for a recheck."""
    state.login = Login(False, checked_at=time.monotonic())


def problems(state: Any, now: float | None = None) -> list[dict[str, str]]:
    """Why requests cannot be answered right now, each with its fix (empty: they can)."""
    out: list[dict[str, str]] = []
    info = state.cli_info
    if not info.get("path") or info.get("error"):
        out.append(
            {
                "reason": info.get("error") or "the Claude Code CLI was not found",
                "fix": "Install: npm install -g @anthropic-ai/claude-code  (or --claude-path)",
            }
        )
        return out
    login: Login | None = getattr(state, "login", None)
    if login is not None and login.logged_in is False:
        out.append({"reason": "the Claude Code CLI is not logged in", "fix": LOGIN})
    reading = getattr(state, "plan", None)
    if reading is not None and reading.exhausted(now):
        out.append(
            {
                "reason": reading.limit_message(now),
                "fix": "Wait for the reset, or turn on extra usage at claude.ai/settings/usage",
            }
        )
    return out


# `claude auth status` authMethod -> billing mode (CLI.md §6)
_LOGIN_MODES = {"claude.ai": "subscription", "oauth_token": "oauth_token", "api_key": "api_key"}


def billing_of(settings: Settings, login: Login | None = None) -> dict[str, str]:
    """From the CLI's environment, and from its own word (`auth status`) once known."""
    mode, detail = billing.describe(os.environ, pass_api_env=settings.pass_api_env)
    said = _LOGIN_MODES.get(login.method or "") if login is not None else None
    if said is not None and said != mode:
        mode, detail = said, f"{said.replace('_', ' ')} (per `claude auth status`)"
    return {"mode": mode, "detail": detail}


async def health(request: Request) -> JSONResponse:
    state = request.app.state
    if getattr(request.state, "key_label", "") is None:
        # keys are set and the caller has none: whether it is up, and nothing about it
        found = problems(state)
        return JSONResponse(
            {"status": "degraded" if found else "ok"}, status_code=503 if found else 200
        )
    login: Login | None = getattr(state, "login", None)
    if (
        state.cli_info.get("path")
        and (login is None or time.monotonic() - login.checked_at > LOGIN_RECHECK)
        and not getattr(state, "login_check", None)
    ):
        state.login_check = asyncio.ensure_future(_recheck(state))
    found = problems(state)
    reading = getattr(state, "plan", None)
    body = {
        "status": "degraded" if found else "ok",
        "problems": found,
        "version": __version__,
        "uptime_s": round(time.monotonic() - state.started, 3),
        "cli": state.cli_info,
        "login": None if login is None else {"logged_in": login.logged_in, "method": login.method},
        "billing": billing_of(state.settings, login),
        "plan": None if reading is None else reading.to_json(),
        "tools": list(state.settings.allow_tools) or "off",
        "auth": "api-key" if state.settings.keyed else "none",
        "requests": {
            "active": state.limiter.active,
            "waiting": state.limiter.waiting,
            "limit": state.limiter.limit,
        },
        "warm": state.pool.stats() if state.pool is not None else {"size": 0},
        "auto_continue": _auto_continue_state(state),
    }
    return JSONResponse(body, status_code=503 if found else 200)


def _auto_continue_state(state: Any) -> bool | str:
    failed = getattr(state, "store_error", None)
    if failed and state.settings.auto_continue:
        return f"off: {failed[1]}"
    return bool(state.settings.auto_continue)


async def _recheck(state: Any) -> None:
    try:
        await refresh_login(state)
    finally:
        state.login_check = None


def warnings(state: Any) -> list[str]:
    """What the banner should warn about at start (the same as `/health`'s problems)."""
    return [f"WARNING: {p['reason'].rstrip('.')}. {p['fix']}" for p in problems(state)]
