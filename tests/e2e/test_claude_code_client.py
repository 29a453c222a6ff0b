"""Claude Code as a client: the pinned CLI with ANTHROPIC_BASE_URL at `claude-max serve`,
whose own CLI talks to the fake upstream. The client runs its tools at its end."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import anthropic
import pytest
from helpers import blocks, system_text
from real_cli import REAL_CLAUDE
from upstream import cli_env

pytestmark = pytest.mark.e2e

SECRET = "The secret word is PAPAYA."
ANSWERED = {"when": {"last_is_tool_result": True}, "reply": {"type": "text", "text": "Done."}}


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    work = tmp_path / "project"
    work.mkdir()
    (work / "notes.txt").write_text(SECRET + "\n")
    return work


def run_client(server, upstream, tmp_path: Path, work: Path, *args: str) -> dict[str, Any]:
    """`claude -p ... --output-format json` in `work`, with its own HOME and config, a dummy
    key, and proxies at the fake upstream (which refuses CONNECT): nothing leaves loopback."""
    env = cli_env(
        upstream.url,
        tmp_path / "client-home",
        ANTHROPIC_BASE_URL=server.url,
        ANTHROPIC_API_KEY="dummy",
    )
    done = subprocess.run(
        [str(REAL_CLAUDE), "-p", *args, "--output-format", "json"],
        env=env,
        cwd=work,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])
    assert not [r for r in upstream.requests if r["method"] == "CONNECT"]
    return json.loads(done.stdout)


def tool_results(body: dict[str, Any]) -> str:
    return json.dumps(blocks(body, "tool_result"))


def test_a_plain_answer_with_the_clients_system_message(
    real_server, fake_upstream, tmp_path, workdir
):
    result = run_client(real_server, fake_upstream, tmp_path, workdir, "hello there")
    assert result["result"] == "ECHO:hello there" and not result["is_error"]
    [body] = fake_upstream.message_requests()
    # The client's "# Environment" system message reached the model as system text.
    system = system_text(body)
    assert "# Environment" in system and f"Primary working directory: {workdir}" in system
    assert "Primary working directory: " + str(workdir) not in json.dumps(body["messages"])
    # Its tools are offered to the model (under the CLI's names), to be run at the client.
    names = [t["name"] for t in body["tools"]]
    assert "mcp__proxy__Read" in names and "mcp__proxy__Bash" in names


def test_a_read_round_trip_runs_at_the_client(real_server, fake_upstream, tmp_path, workdir):
    call = {"name": "mcp__proxy__Read", "input": {"file_path": str(workdir / "notes.txt")}}
    fake_upstream.set_script({"rules": [ANSWERED], "default": {"type": "tool_use", **call}})
    result = run_client(real_server, fake_upstream, tmp_path, workdir, "what is the secret?")
    assert result["result"] == "Done." and result["num_turns"] == 2
    first, second = fake_upstream.message_requests()
    assert "PAPAYA" not in json.dumps(first)
    assert "PAPAYA" in tool_results(second)  # the client read its own file


def test_a_tool_reference_from_the_clients_tool_search(
    real_server, fake_upstream, tmp_path, workdir
):
    search = {"name": "mcp__proxy__ToolSearch", "input": {"query": "select:WebFetch"}}
    fake_upstream.set_script({"rules": [ANSWERED], "default": {"type": "tool_use", **search}})
    result = run_client(real_server, fake_upstream, tmp_path, workdir, "find the fetch tool")
    assert result["result"] == "Done."
    first, second = fake_upstream.message_requests()
    # The client's tool_reference reached the CLI, which loads the tool for the model
    # (with its own tool search off it notes that in the result and says "Tool loaded.").
    assert "mcp__proxy__WebFetch" not in [t["name"] for t in first["tools"]]
    assert "mcp__proxy__WebFetch" in [t["name"] for t in second["tools"]]
    assert "Tool references removed" in tool_results(second)
    assert "Tool loaded." in json.dumps(second["messages"][-2:])


def test_count_tokens_through_the_anthropic_sdk(real_server, fake_upstream):
    with anthropic.Anthropic(base_url=real_server.url, api_key="dummy", max_retries=0) as client:
        short = client.messages.count_tokens(
            model="claude-sonnet-5-5", messages=[{"role": "user", "content": "hi"}]
        )
        long = client.messages.count_tokens(
            model="claude-sonnet-5-5",
            system="You are terse.",
            messages=[
                {"role": "user", "content": "Tell me about Paris. " * 50},
                {"role": "system", "content": "# Environment\n - Platform: linux"},
            ],
            tools=[{"name": "get_weather", "input_schema": {"type": "object"}}],
        )
    assert 0 < short.input_tokens < long.input_tokens
    assert fake_upstream.message_requests() == []  # counted without a model call
