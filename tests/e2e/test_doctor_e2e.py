"""`claude-max doctor` against the real pinned CLI and the fake upstream, in a subprocess."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from real_cli import REAL_CLAUDE
from upstream import cli_env

pytestmark = pytest.mark.e2e

ROOT = "warn" if hasattr(os, "geteuid") and os.geteuid() == 0 else "ok"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def doctor(fake_upstream, tmp_path: Path):
    env = cli_env(fake_upstream.url, tmp_path / "home")
    env["CLAUDE_MAX_CLAUDE_PATH"] = str(REAL_CLAUDE)
    env["CLAUDE_MAX_HOME"] = str(tmp_path / "claude-max-home")
    env["CLAUDE_MAX_PORT"] = str(free_port())

    def run(*args: str, drop: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "claude_max", "doctor", *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env={k: v for k, v in env.items() if k not in drop},
            timeout=90,
        )

    return run


def checks(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, str | None]]:
    return {c["check"]: c for c in json.loads(result.stdout)}


def test_real_cli_passes_every_check(doctor, fake_upstream):
    # A one-token answer, as the API gives it: the core interrupts the CLI at max_tokens.
    fake_upstream.set_script(
        {"default": {"type": "text", "text": "OK", "stop_reason": "max_tokens"}}
    )
    result = doctor("--json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    found = checks(result)
    assert {k: c["status"] for k, c in found.items()} == {
        "cli": "ok",
        "version": "ok",
        "auth": "warn",  # ANTHROPIC_API_KEY: billed to the key, not the subscription
        "probe": "ok",
        "data_dir": "ok",
        "port": "ok",
        "root": ROOT,
    }
    assert found["cli"]["detail"] == f"2.1.330 at {REAL_CLAUDE.resolve()}"
    assert found["auth"]["detail"] == (
        "API key from ANTHROPIC_API_KEY: usage is billed to the key, not to a Claude subscription"
    )
    assert found["auth"]["fix"] == (
        "To use your subscription: unset ANTHROPIC_API_KEY, then run: claude auth login"
    )
    assert found["probe"]["detail"].startswith("answered in ")
    # The CLI may already have asked for a continuation when the interrupt lands (CLI.md §2).
    bodies = fake_upstream.message_requests()
    assert 1 <= len(bodies) <= 2
    assert all(body["max_tokens"] == 1 and body["tools"] == [] for body in bodies)


def test_real_cli_checklist_and_verbose_timings(doctor, fake_upstream):
    result = doctor("-v")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout.splitlines()
    assert out[0].startswith("[ok]   Claude Code CLI: 2.1.330 at ")
    assert out[2].startswith("[warn] Login: API key from ANTHROPIC_API_KEY")
    assert out[4].startswith("[ok]   Live probe: answered in ")
    assert out[-1] == f"No problems found, {1 + (ROOT == 'warn')} warning{'s' * (ROOT == 'warn')}."
    timed = [line.split(":")[0].strip() for line in result.stderr.splitlines() if " ms" in line]
    assert timed == ["cli", "auth", "probe"]


def test_upstream_401_fails_the_probe_with_a_fix(doctor, fake_upstream):
    fake_upstream.set_script({"default": {"type": "error", "status": 401}})
    result = doctor()
    assert result.returncode == 1
    assert result.stderr == ""
    out = result.stdout.splitlines()
    [at] = [i for i, line in enumerate(out) if line.startswith("[fail] Live probe: ")]
    assert "401" in out[at]
    assert out[at + 1] == "       Run: claude auth login  (or check the CLI's API key)"
    assert out[-1].startswith("1 check failed")
    assert fake_upstream.message_requests()  # the probe did reach the API


def test_real_cli_without_credentials(doctor, fake_upstream):
    result = doctor("--json", drop=("ANTHROPIC_API_KEY",))
    assert result.returncode == 1
    found = checks(result)
    assert found["auth"] == {
        "check": "auth",
        "status": "fail",
        "detail": "not logged in",
        "fix": "Run: claude auth login",
    }
    assert found["probe"]["status"] == "skip"  # one cause, one fail
    assert fake_upstream.message_requests() == []


def test_no_probe_sends_nothing_upstream(doctor, fake_upstream):
    result = doctor("--no-probe", "--json")
    assert result.returncode == 0
    assert checks(result)["probe"]["status"] == "skip"
    assert fake_upstream.message_requests() == []
