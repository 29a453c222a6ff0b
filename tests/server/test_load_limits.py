"""Past the concurrency limit and its queue, a fast 429 with retry-after (real uvicorn)."""

from __future__ import annotations

import os
import threading

import httpx
import pytest
from fake_claude_log import FAKE_CLAUDE
from serve_process import Server
from waiting import wait_until


@pytest.fixture
def busy_server(claude_max_home, tmp_path):
    """One CLI and one waiting request at most; every model turn stays silent until the test
    calls `server.release()`, so a request holds its slot for as long as the test needs (no
    race with a fast answer on a loaded machine)."""
    go = tmp_path / "release"
    env = dict(
        os.environ,
        CLAUDE_MAX_CLAUDE_PATH=str(FAKE_CLAUDE),
        CLAUDE_MAX_HOME=str(claude_max_home),
        FAKE_CLAUDE_SCENARIO="echo",
        FAKE_CLAUDE_WAIT_FOR=str(go),
    )
    server = Server(env, "--max-concurrency", "1", "--max-queue", "1")
    server.release = lambda: go.write_text("go")  # type: ignore[attr-defined]
    yield server
    server.release()
    server.stop()


def test_over_the_limit_is_a_fast_429(busy_server):
    url = f"{busy_server.url}/v1/messages"
    body = {"model": "opus", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}
    statuses: list[int] = []

    def post() -> None:
        statuses.append(httpx.post(url, json=body, timeout=30).status_code)

    def load() -> dict:
        return httpx.get(f"{busy_server.url}/health").json()["requests"]

    running = threading.Thread(target=post)
    running.start()
    assert wait_until(lambda: load()["active"] == 1)
    queued = threading.Thread(target=post)
    queued.start()
    assert wait_until(lambda: load()["waiting"] == 1)
    refused = httpx.post(url, json=body, timeout=30)  # the slot and the queue are full
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["error"]["type"] == "rate_limit_error"
    busy_server.release()
    running.join(30)
    queued.join(30)
    assert statuses == [200, 200]  # the queued request got its turn
    assert load() == {"active": 0, "waiting": 0, "limit": 1}


def test_two_requests_on_one_session_at_once_get_a_409(busy_server):
    """(busy_server allows one CLI and one waiting request; the session check comes first.)"""
    url = f"{busy_server.url}/v1/chat/completions"
    body = {"model": "opus", "messages": [{"role": "user", "content": "x" * 40}]}
    headers = {"X-Session-Id": "shared"}
    statuses: list[int] = []

    def first() -> None:
        statuses.append(httpx.post(url, json=body, headers=headers, timeout=30).status_code)

    running = threading.Thread(target=first)
    running.start()
    health = f"{busy_server.url}/health"
    assert wait_until(lambda: httpx.get(health).json()["requests"]["active"] == 1)
    second = httpx.post(url, json=body, headers=headers, timeout=30)
    assert second.status_code == 409
    assert "shared" in second.json()["error"]["message"]
    busy_server.release()
    running.join(30)
    assert statuses == [200]
