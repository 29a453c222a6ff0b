"""`claude-max chat` with the real pinned CLI and the fake upstream."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import dialogue, system_text
from real_cli import REAL_CLAUDE
from upstream import cli_env

pytestmark = pytest.mark.e2e


@pytest.fixture
def chat(fake_upstream, tmp_path: Path):
    env = cli_env(fake_upstream.url, tmp_path / "home")
    env["CLAUDE_MAX_CLAUDE_PATH"] = str(REAL_CLAUDE)
    env["CLAUDE_MAX_HOME"] = str(tmp_path / "claude-max-home")

    def run(*args: str, input: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "claude_max", "chat", *args],
            input=input,
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )

    return run


def test_piped_text_and_argument(chat, fake_upstream):
    result = chat("-s", "Be brief.", "review this", input="+ added line\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ECHO:+ added line\n\nreview this\n"
    assert result.stderr == ""
    [body] = fake_upstream.message_requests()
    assert dialogue(body) == [("user", "+ added line\n\nreview this")]
    assert "Be brief." in system_text(body)
    assert body["tools"] == []


def test_json(chat, fake_upstream):
    result = chat("--json", "-m", "haiku", "hi")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["text"] == "ECHO:hi"
    assert document["model"] == "claude-haiku-5-5"
    assert document["usage"]["input_tokens"] > 0


def test_upstream_rate_limit_is_an_error_line(chat, fake_upstream):
    fake_upstream.set_script({"default": {"type": "error", "status": 429}})
    result = chat("hi")
    assert result.returncode == 1
    assert result.stdout == ""
    *retries, error = result.stderr.splitlines()[:3]
    # The CLI retries (CLAUDE_MAX_MAX_RETRIES=2) and chat says so while it waits.
    assert [r.split(" in ")[0] for r in retries] == ["rate limited, retrying"] * 2
    assert error.startswith("Error: API Error: Request rejected (429)")
