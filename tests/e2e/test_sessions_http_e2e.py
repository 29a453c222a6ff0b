"""X-Session-Id with the real CLI: earlier turns reach upstream once and in order, across a
restart of the server."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest
from helpers import dialogue
from real_cli import REAL_CLAUDE
from serve_process import Server
from upstream import cli_env

pytestmark = pytest.mark.e2e


def test_header_session_survives_a_restart(fake_upstream, tmp_path: Path):
    env = cli_env(fake_upstream.url, tmp_path / "home")
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    env["CLAUDE_MAX_HOME"] = str(tmp_path / "claude-max-home")
    env["CLAUDE_MAX_CLAUDE_PATH"] = str(REAL_CLAUDE)
    headers = {"X-Session-Id": "conversation-42"}

    def ask(server: Server, messages: list[dict]) -> dict:
        response = httpx.post(
            f"{server.url}/v1/chat/completions",
            json={"model": "sonnet", "messages": messages},
            headers=headers,
            timeout=60,
        )
        assert response.status_code == 200, response.text
        assert response.headers["x-session-id"] == "conversation-42"
        return response.json()

    server = Server(env)
    try:
        ask(server, [{"role": "user", "content": "first"}])  # full-history style from here on
        ask(
            server,
            [
                {"role": "user", "content": "first"},
                {"role": "assistant", "content": "ECHO:first"},
                {"role": "user", "content": "second"},
            ],
        )
    finally:
        server.stop()
    server = Server(env)  # a restart between turns
    try:
        reply = ask(server, [{"role": "user", "content": "third"}])  # new-message-only style
    finally:
        server.stop()
    assert reply["choices"][0]["message"]["content"] == "ECHO:third"
    bodies = fake_upstream.message_requests()
    assert len(bodies) == 3
    assert dialogue(bodies[2]) == [
        ("user", "first"),
        ("assistant", "ECHO:first"),
        ("user", "second"),
        ("assistant", "ECHO:second"),
        ("user", "third"),
    ]
