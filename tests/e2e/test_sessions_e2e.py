"""Continuing a chat resumes the real CLI's session: earlier turns reach upstream once, in order."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import dialogue
from real_cli import REAL_CLAUDE
from upstream import cli_env

pytestmark = pytest.mark.e2e


def test_chat_continue_sends_history_once_and_in_order(fake_upstream, tmp_path: Path):
    env = cli_env(fake_upstream.url, tmp_path / "home")
    env["CLAUDE_MAX_CLAUDE_PATH"] = str(REAL_CLAUDE)
    env["CLAUDE_MAX_HOME"] = str(tmp_path / "claude-max-home")

    def chat(*args: str) -> dict:
        done = subprocess.run(
            [sys.executable, "-m", "claude_max", "chat", "--json", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    first = chat("first question")
    second = chat("-c", "second question")
    third = chat("-r", first["session_id"][:8], "third question")
    assert first["session_id"] == second["session_id"] == third["session_id"]
    bodies = fake_upstream.message_requests()
    assert len(bodies) == 3
    assert dialogue(bodies[2]) == [
        ("user", "first question"),
        ("assistant", "ECHO:first question"),
        ("user", "second question"),
        ("assistant", "ECHO:second question"),
        ("user", "third question"),
    ]
    # each turn's own cost, not the CLI session's running total
    assert 0 < third["cost_usd"] < 2 * first["cost_usd"]


def test_deleting_a_session_removes_the_cli_transcript(fake_upstream, tmp_path: Path):
    env = cli_env(fake_upstream.url, tmp_path / "home")
    env["CLAUDE_MAX_CLAUDE_PATH"] = str(REAL_CLAUDE)
    env["CLAUDE_MAX_HOME"] = str(tmp_path / "claude-max-home")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "claude_max", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )

    session_id = json.loads(run("chat", "--json", "remember me").stdout)["session_id"]
    projects = Path(env["CLAUDE_CONFIG_DIR"]) / "projects"
    assert len(list(projects.glob("*/*.jsonl"))) == 1  # the CLI kept its transcript
    deleted = run("sessions", "delete", session_id[:8])
    assert deleted.returncode == 0, deleted.stderr
    assert list(projects.glob("*/*.jsonl")) == []
