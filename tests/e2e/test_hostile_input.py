"""Client text never acts on this machine: no tool runs, even when the model asks for one."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.e2e


def test_model_tool_call_runs_nothing(real_server, fake_upstream, tmp_path):
    target = tmp_path / "pwned"
    fake_upstream.set_script(
        {
            "rules": [
                {
                    "when": {"last_is_tool_result": True},
                    "reply": {"type": "text", "text": "done after tool"},
                }
            ],
            "default": {
                "type": "tool_use",
                "name": "Bash",
                "input": {"command": f"touch {target}"},
                "text": "Running it.",
            },
        }
    )
    response = httpx.post(
        f"{real_server.url}/v1/chat/completions",
        json={"model": "sonnet", "messages": [{"role": "user", "content": "run it"}]},
        timeout=60,
    )
    assert response.status_code == 200
    assert not target.exists()
    first, *rest = fake_upstream.message_requests()
    assert first["tools"] == []
    # the CLI answered the stray tool call with an error result instead of running it
    results = [
        b
        for m in rest[0]["messages"]
        if isinstance(m["content"], list)
        for b in m["content"]
        if b.get("type") == "tool_result"
    ]
    assert results and results[0]["is_error"] is True


def test_slash_command_is_plain_text(real_server, fake_upstream):
    response = httpx.post(
        f"{real_server.url}/v1/messages",
        json={
            "model": "sonnet",
            "max_tokens": 50,
            "messages": [{"role": "user", "content": "/model haiku"}],
        },
        timeout=60,
    )
    assert response.json()["content"][0]["text"] == "ECHO:/model haiku"
    [body] = fake_upstream.message_requests()
    assert body["model"] == "claude-sonnet-5-5"  # the "command" did not switch the model
