"""Codex CLI (pinned from npm by .ci/run) runs `codex exec` headless against `claude-max serve`
over the Responses API, in a temp working folder with a temp CODEX_HOME.

The fake upstream plays the model. For the tool round trip it calls Codex's shell tool
`exec_command` (offered to the model as the client tool `mcp__proxy__exec_command`); Codex runs
it in the temp folder, sends its output back, and the model's final answer arrives.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from helpers import blocks

pytestmark = pytest.mark.e2e

CACHE = Path(os.environ.get("CLAUDE_MAX_CI_CACHE") or Path.home() / ".cache" / "claude-max-ci")
CODEX = Path(os.environ.get("CLAUDE_MAX_TEST_CODEX") or CACHE / "codex/node_modules/.bin/codex")
FINAL = {"when": {"last_is_tool_result": True}, "reply": {"type": "text", "text": "All done."}}


@pytest.fixture
def codex(real_server, tmp_path):
    """Run `codex exec PROMPT` in a temp folder; returns (completed process, folder)."""
    if not CODEX.exists():  # e2e is on: a missing Codex fails, it is never skipped
        pytest.fail(f"Codex CLI not found at {CODEX} (run .ci/run or set CLAUDE_MAX_TEST_CODEX)")
    home, work = tmp_path / "codex-home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    (home / "config.toml").write_text(
        f"""
model = "sonnet"
model_provider = "claude-max"
approval_policy = "never"
sandbox_mode = "danger-full-access"
check_for_update_on_startup = false

[model_providers.claude-max]
name = "claude-max"
base_url = "{real_server.url}/v1"
wire_api = "responses"
env_key = "CLAUDE_MAX_KEY"
request_max_retries = 0
stream_max_retries = 0
"""
    )
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "CODEX_HOME": str(home),
        "CLAUDE_MAX_KEY": "unused",
        "NO_COLOR": "1",
    }

    def run(prompt: str) -> tuple[subprocess.CompletedProcess[str], Path]:
        argv = [str(CODEX), "exec", "--skip-git-repo-check", "-C", str(work), prompt]
        done = subprocess.run(
            argv, env=env, cwd=work, stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=90,
        )  # fmt: skip
        return done, work

    return run


def test_codex_gets_an_answer(codex, fake_upstream):
    fake_upstream.set_script({"default": {"type": "text", "text": "Hello from Claude."}})
    done, _ = codex("Say hello.")
    assert done.returncode == 0, done.stderr
    assert "Hello from Claude." in done.stdout
    body = fake_upstream.message_requests()[0]
    assert "Say hello." in json.dumps(body["messages"])


def test_codex_runs_a_shell_command_and_gets_the_final_answer(codex, fake_upstream):
    command = {"cmd": "echo hi from the model > hello.txt"}
    call = {"name": "mcp__proxy__exec_command", "input": command, "id": "toolu_c1"}
    fake_upstream.set_script({"rules": [FINAL], "default": {"type": "tool_use", **call}})
    done, work = codex("Create hello.txt.")
    assert done.returncode == 0, done.stderr
    assert (work / "hello.txt").read_text() == "hi from the model\n"
    assert "All done." in done.stdout
    first, second = fake_upstream.message_requests()[:2]
    assert any(t["name"] == "mcp__proxy__exec_command" for t in first["tools"])
    [result] = blocks(second, "tool_result")
    assert result["tool_use_id"] == "toolu_c1" and not result.get("is_error")
