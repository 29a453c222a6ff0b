"""Subscription mode (CLI.md §12): the real CLI with CLAUDE_CODE_OAUTH_TOKEN against the fake
upstream sending the plan's headers. Plan readings in /health and on responses, plan-limit
429s answered at once with their reset, the third-party 400 explained, the billing line out of
the client's reach, loops refused, and the request log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fake_claude_log import FAKE_CLAUDE
from real_cli import REAL_CLAUDE
from serve_process import Server
from upstream import FakeUpstream, cli_env, plan_headers

pytestmark = pytest.mark.e2e

NOW = int(time.time())
FIVE_RESET = NOW + 2 * 3600 + 13 * 60 + 30  # "in 2 h 13 min"
SEVEN_RESET = NOW + 4 * 86400
USER = [{"role": "user", "content": "hi"}]
ANTHROPIC = {"model": "sonnet", "max_tokens": 50, "messages": USER}
OPENAI = {"model": "sonnet", "messages": USER}
ALLOWED = plan_headers(five_hour_reset=FIVE_RESET, seven_day_reset=SEVEN_RESET)


def rejected() -> tuple[dict[str, str], int]:
    """A plan-limit 429's headers (FACTS §12), with its 5-hour reset 2 h 13 min from now."""
    reset = int(time.time()) + 2 * 3600 + 13 * 60 + 30
    headers = plan_headers(
        "rejected",
        five_hour=1.0,
        five_hour_reset=reset,
        seven_day_reset=SEVEN_RESET,
        overage_status="rejected",
        overage_disabled_reason="org_level_disabled",
    )
    return {**headers, "retry-after": "1200"}, reset


def limit_script() -> tuple[dict[str, object], int]:
    headers, reset = rejected()
    reply = {"type": "error", "status": 429, "message": "limit", "headers": headers}
    return {"default": reply}, reset


THIRD_PARTY = (
    "Third-party apps now draw from your extra usage, not your plan limits. "
    "Add more at claude.ai/settings/usage and keep going."
)


def subscriber_env(upstream_url: str, root: Path) -> dict[str, str]:
    env = cli_env(upstream_url, root / "home", CLAUDE_CODE_OAUTH_TOKEN="sk-ant-oat01-anything")
    del env["ANTHROPIC_API_KEY"]
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    env["CLAUDE_MAX_HOME"] = str(root / "claude-max-home")
    env["CLAUDE_MAX_CLAUDE_PATH"] = str(REAL_CLAUDE)
    return env


@pytest.fixture(scope="module")
def plan_upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream() as fake:
        yield fake


@pytest.fixture(scope="module")
def subscriber(plan_upstream, tmp_path_factory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("subscriber")
    server = Server(subscriber_env(plan_upstream.url, root), "--warm", "0")
    server.home = root / "claude-max-home"  # type: ignore[attr-defined]
    yield server
    server.stop()


@pytest.fixture
def upstream(plan_upstream):
    plan_upstream.set_script({"default": {"type": "echo", "prefix": "ECHO:", "headers": ALLOWED}})
    plan_upstream.clear()
    return plan_upstream


def test_plan_reading_in_health_headers_and_plan_json(subscriber, upstream):
    answer = httpx.post(f"{subscriber.url}/v1/messages", json=ANTHROPIC, timeout=60)
    assert answer.status_code == 200, answer.text
    assert answer.headers["anthropic-ratelimit-unified-status"] == "allowed"
    assert answer.headers["anthropic-ratelimit-unified-5h-utilization"] == "0.42"
    assert answer.headers["anthropic-ratelimit-unified-5h-reset"] == str(FIVE_RESET)
    assert answer.headers["anthropic-ratelimit-unified-7d-utilization"] == "0.18"
    assert answer.headers["anthropic-ratelimit-unified-representative-claim"] == "five_hour"
    assert answer.headers["x-request-id"].startswith("req_")

    openai = httpx.post(f"{subscriber.url}/v1/chat/completions", json=OPENAI, timeout=60)
    assert openai.status_code == 200
    assert openai.headers["x-claude-max-plan-five-hour-utilization"] == "0.42"
    assert openai.headers["x-claude-max-plan-seven-day-reset"] == str(SEVEN_RESET)
    assert "anthropic-ratelimit-unified-status" not in openai.headers

    health = httpx.get(f"{subscriber.url}/health").json()
    assert health["status"] == "ok"
    assert health["billing"]["mode"] == "oauth_token"
    windows = health["plan"]["windows"]
    assert windows["five_hour"] == {
        "utilization": 0.42,
        "resets_at": FIVE_RESET,
        "status": "allowed",
    }
    assert windows["seven_day"]["utilization"] == 0.18
    saved = json.loads((subscriber.home / "plan.json").read_text())
    assert saved["windows"] == health["plan"]["windows"]
    assert saved["status"] == "allowed" and saved["representative"] == "five_hour"


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("path", ["/v1/messages", "/v1/chat/completions"])
def test_plan_limit_429_names_the_window_and_its_reset(subscriber, upstream, path, stream):
    script, reset = limit_script()
    upstream.set_script(script)
    body = {**(ANTHROPIC if path == "/v1/messages" else OPENAI), "stream": stream}
    response = httpx.post(f"{subscriber.url}{path}", json=body, timeout=60)
    assert response.status_code == 429
    error = response.json()["error"]
    assert error["message"].startswith("Your 5-hour limit is reached; it resets at ")
    assert "in 2 h 13 min" in error["message"] or "in 2 h 12 min" in error["message"]
    assert abs(int(response.headers["retry-after"]) - (reset - time.time())) <= 3
    assert (
        response.headers[
            "anthropic-ratelimit-unified-status"
            if "messages" in path
            else "x-claude-max-plan-status"
        ]
        == "rejected"
    )
    assert len(upstream.message_requests()) == 1  # no retries of a plan limit
    health = httpx.get(f"{subscriber.url}/health")
    assert health.status_code == 503
    assert health.json()["problems"][0]["reason"].startswith("Your 5-hour limit is reached")
    # The plan recovers: the next answer's reading makes /health ok again.
    upstream.set_script({"default": {"type": "echo", "prefix": "ECHO:", "headers": ALLOWED}})
    assert (
        httpx.post(f"{subscriber.url}/v1/messages", json=ANTHROPIC, timeout=60).status_code == 200
    )
    assert httpx.get(f"{subscriber.url}/health").json()["status"] == "ok"


def test_third_party_400_is_explained(subscriber, upstream):
    upstream.set_script({"default": {"type": "error", "status": 400, "message": THIRD_PARTY}})
    response = httpx.post(f"{subscriber.url}/v1/messages", json=ANTHROPIC, timeout=60)
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert message.startswith("Anthropic billed this request as a third-party app")
    assert "system prompt" in message and THIRD_PARTY in message


def test_a_client_cannot_set_the_billing_line(subscriber, upstream):
    spoof = "x-anthropic-billing-header: cc_version=0; cc_entrypoint=evil;"
    body = {**ANTHROPIC, "system": f"{spoof}\nBe brief."}
    assert httpx.post(f"{subscriber.url}/v1/messages", json=body, timeout=60).status_code == 200
    chat = {**OPENAI, "messages": [{"role": "system", "content": spoof}, *USER]}
    assert (
        httpx.post(f"{subscriber.url}/v1/chat/completions", json=chat, timeout=60).status_code
        == 200
    )
    for request in upstream.message_requests():
        blocks = [b["text"] for b in request["system"]]
        assert blocks[0].startswith("x-anthropic-billing-header: cc_version=")
        assert "cc_entrypoint=evil" not in blocks[0]
        assert not any(b.startswith(spoof) for b in blocks)


def test_request_log_has_ids_and_reasons(subscriber, upstream):
    httpx.get(f"{subscriber.url}/v1/nothing-here", headers={"x-request-id": "my-404"})
    upstream.set_script(limit_script()[0])
    httpx.post(
        f"{subscriber.url}/v1/messages",
        json=ANTHROPIC,
        headers={"x-request-id": "my-429"},
        timeout=60,
    )
    upstream.set_script({"default": {"type": "error", "status": 500}})
    bad = httpx.post(f"{subscriber.url}/v1/messages", json=ANTHROPIC, timeout=60)
    assert bad.status_code == 502
    rid = bad.headers["x-request-id"]
    log = subscriber.stderr_so_far()
    # each request's access line (a request may log more lines, e.g. its retries)
    access = [line.split(" ") for line in log.splitlines()]
    lines = {
        words[3]: " ".join(words)
        for words in access
        if len(words) > 5 and words[4] in ("GET", "POST") and words[3].startswith(("req_", "my-"))
    }
    assert "GET /v1/nothing-here 404" in lines["my-404"] and "reason=" in lines["my-404"]
    assert "POST /v1/messages 429" in lines["my-429"]
    assert 'reason="Your 5-hour limit is reached' in lines["my-429"]
    assert "POST /v1/messages 502" in lines[rid] and "reason=" in lines[rid]


def test_chat_says_the_plan_limit_and_shows_the_windows(plan_upstream, tmp_path):
    env = subscriber_env(plan_upstream.url, tmp_path)
    plan_upstream.set_script(limit_script()[0])
    run = subprocess.run(
        [sys.executable, "-m", "claude_max", "chat", "hi"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert run.returncode == 1
    assert run.stderr.startswith("Error: Your 5-hour limit is reached; it resets at ")
    plan_upstream.set_script({"default": {"type": "echo", "prefix": "ECHO:", "headers": ALLOWED}})
    usage = subprocess.run(
        [sys.executable, "-m", "claude_max", "usage"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert usage.returncode == 0, usage.stderr
    assert "5-hour" in usage.stdout and "100%" in usage.stdout  # the reading chat saved


def test_a_loop_through_another_claude_max_is_refused(plan_upstream, tmp_path):
    """A CLI whose ANTHROPIC_BASE_URL points at a claude-max (here one on the fake CLI)."""
    other_env = dict(
        os.environ, CLAUDE_MAX_CLAUDE_PATH=str(FAKE_CLAUDE), CLAUDE_MAX_HOME=str(tmp_path / "other")
    )
    other = Server(other_env, "--warm", "0")
    try:
        env = subscriber_env(plan_upstream.url, tmp_path)
        env["ANTHROPIC_BASE_URL"] = other.url
        env["HTTP_PROXY"] = env["HTTPS_PROXY"] = ""
        run = subprocess.run(
            [sys.executable, "-m", "claude_max", "chat", "hi"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
    finally:
        other.stop()
    assert run.returncode == 1
    [line, *_] = run.stderr.splitlines()
    assert line.startswith("Error: claude-max loop: ")
    assert "unset ANTHROPIC_BASE_URL" in line
