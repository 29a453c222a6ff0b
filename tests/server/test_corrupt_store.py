"""A corrupt sessions.db: what needs no session works, what needs one says why (503), the
terminal prints one error with the fix, and `sessions repair` moves the store aside."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from fake_claude_log import FAKE_CLAUDE
from starlette.testclient import TestClient

from claude_max.core.settings import Settings
from claude_max.server.app import create_app
from claude_max.sessions.db import DB_NAME

GARBAGE = b"this is not an SQLite database, it was overwritten\n" * 200
CHAT = ("/v1/chat/completions", {"model": "opus", "messages": [{"role": "user", "content": "hi"}]})
MESSAGES = (
    "/v1/messages",
    {"model": "opus", "max_tokens": 9, "messages": [{"role": "user", "content": "hi"}]},
)


@pytest.fixture
def corrupt_home(claude_max_home):
    claude_max_home.mkdir(parents=True, exist_ok=True)
    (claude_max_home / DB_NAME).write_bytes(GARBAGE)
    return claude_max_home


def test_stateless_requests_work_and_session_requests_say_why(corrupt_home, fake_cli):
    settings = Settings(home=corrupt_home, claude_path=str(FAKE_CLAUDE), warm=0)
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8080") as client:
        for path, body in (CHAT, MESSAGES):
            for stream in (False, True):
                response = client.post(path, json={**body, "stream": stream})
                assert response.status_code == 200, response.text
        health = client.get("/health").json()
        assert health["status"] == "ok"
        assert health["auto_continue"].startswith("off: the session store")
        for path, body in (CHAT, MESSAGES):
            response = client.post(path, json=body, headers={"x-session-id": "s1"})
            assert response.status_code == 503
            text = response.text
            assert "cannot be read" in text and "claude-max sessions repair" in text
        assert (
            client.post(MESSAGES[0], json=MESSAGES[1], headers={"x-session-id": "s1"}).json()[
                "type"
            ]
            == "error"
        )
    assert (corrupt_home / DB_NAME).read_bytes() == GARBAGE  # nothing touched it


def claude_max(home, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CLAUDE_MAX_HOME": str(home), "CLAUDE_MAX_CLAUDE_PATH": str(FAKE_CLAUDE)}
    env.pop("CLAUDE_MAX_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "claude_max", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_the_terminal_says_what_is_wrong_and_repair_moves_the_store_aside(corrupt_home):
    for args in (("chat", "hi"), ("sessions",), ("chat", "-c", "more")):
        done = claude_max(corrupt_home, *args)
        assert done.returncode == 1, done
        lines = done.stderr.strip().splitlines()
        assert lines[0].startswith("Error: the session store"), done.stderr
        assert "Traceback" not in done.stderr
        assert (
            lines[1]
            == "Run: claude-max sessions repair  (moves it aside, keeps it, starts a new one)"
        )
    repaired = claude_max(corrupt_home, "sessions", "repair")
    assert repaired.returncode == 0, repaired.stderr
    [kept] = list(corrupt_home.glob(f"{DB_NAME}.broken-*"))
    assert kept.read_bytes() == GARBAGE  # moved, never deleted
    assert claude_max(corrupt_home, "sessions").returncode == 0
    assert "reads fine" in claude_max(corrupt_home, "sessions", "repair").stdout
    assert claude_max(corrupt_home, "chat", "hi").returncode == 0
