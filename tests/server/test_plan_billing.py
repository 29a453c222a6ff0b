"""Billing, plan readings, limits and an honest /health on the fake CLI (depth 2), with the
real CLI's recorded subscription-mode lines (tests/data/transcripts/plan_*)."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time

import httpx
import pytest
from fake_claude_log import FAKE_CLAUDE
from serve_process import Server, free_port
from starlette.testclient import TestClient

from claude_max.core import billing
from claude_max.server.app import create_app

LOCAL = "http://127.0.0.1:8080"
USER = [{"role": "user", "content": "hi"}]
OPENAI = ("/v1/chat/completions", {"model": "sonnet", "messages": USER})
ANTHROPIC = ("/v1/messages", {"model": "sonnet", "max_tokens": 10, "messages": USER})
RESET_2100 = 4102444800


@pytest.fixture
def make_client(settings, fake_cli):
    clients = []

    def make(**changes) -> TestClient:
        app = create_app(dataclasses.replace(settings, **changes))
        client = TestClient(app, base_url=LOCAL, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def test_api_variables_never_reach_the_cli_without_opt_in(make_client, fake_cli, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-exported")
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "tok-exported")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("CLAUDE_CODE_OAUTH_TOKEN", "sk-ant-oat01-kept")
    client = make_client()
    assert client.post(*OPENAI[:1], json=OPENAI[1]).status_code == 200
    env = fake_cli.calls()[-1]["env"]
    assert not {"ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"} & set(env)
    assert env["CLAUDE_CODE_OAUTH_TOKEN"] == "sk-ant-oat01-kept"


def test_api_variables_pass_on_when_asked(make_client, fake_cli, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-exported")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
    client = make_client(pass_api_env=True)
    assert client.post(*OPENAI[:1], json=OPENAI[1]).status_code == 200
    env = fake_cli.calls()[-1]["env"]
    assert env["ANTHROPIC_API_KEY"] == "sk-exported"
    assert env["ANTHROPIC_CUSTOM_HEADERS"] == f"{billing.LOOP_HEADER}: 1"  # the loop marker
    assert client.get("/health").json()["billing"]["mode"] == "api_key"


@pytest.mark.parametrize("path_body", [OPENAI, ANTHROPIC], ids=["openai", "anthropic"])
@pytest.mark.parametrize("stream", [False, True])
def test_plan_limit_is_a_429_with_its_reset(make_client, fake_cli, path_body, stream):
    fake_cli.use("transcript:plan_limit_429_stream_json")
    client = make_client()
    path, body = path_body
    response = client.post(path, json={**body, "stream": stream})
    assert response.status_code == 429
    body = response.json()
    message = body["error"]["message"]
    assert message.startswith(
        "Your 5-hour limit is reached; it resets at Fri 01 Jan 00:00 UTC, in "
    )
    assert abs(int(response.headers["retry-after"]) - (RESET_2100 - time.time())) <= 3
    if path == ANTHROPIC[0]:
        assert body["type"] == "error" and body["error"]["type"] == "rate_limit_error"
        assert response.headers["anthropic-ratelimit-unified-status"] == "rejected"
    else:
        assert body["error"]["code"] is not None or body["error"]["type"]
        assert response.headers["x-claude-max-plan-status"] == "rejected"
    health = client.get("/health")
    assert health.status_code == 503
    assert health.json()["status"] == "degraded"
    [problem] = health.json()["problems"]
    assert problem["reason"].startswith("Your 5-hour limit is reached")
    assert "claude.ai/settings/usage" in problem["fix"]


def test_extra_usage_is_said_on_the_response(make_client, fake_cli):
    fake_cli.use("transcript:plan_allowed_extra_usage_stream_json")
    client = make_client()
    response = client.post(ANTHROPIC[0], json=ANTHROPIC[1])
    assert response.status_code == 200
    assert response.headers["x-claude-max-extra-usage"] == "true"
    assert response.headers["anthropic-ratelimit-unified-status"] == "allowed_warning"
    assert response.headers["anthropic-ratelimit-unified-5h-utilization"] == "0.93"
    plan = client.get("/health").json()["plan"]
    assert plan["status"] == "allowed_warning" and plan["overage"]["in_use"] is True


@pytest.mark.parametrize("path_body", [OPENAI, ANTHROPIC], ids=["openai", "anthropic"])
def test_third_party_400_is_explained(make_client, fake_cli, path_body):
    fake_cli.use("transcript:third_party_400_stream_json")
    response = make_client().post(path_body[0], json=path_body[1])
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert message.startswith("Anthropic billed this request as a third-party app")
    assert "system prompt" in message


def test_a_request_from_a_cli_we_started_is_refused(make_client):
    response = make_client().post(
        ANTHROPIC[0], json=ANTHROPIC[1], headers={billing.LOOP_HEADER: "1"}
    )
    assert response.status_code == 400
    assert response.headers["x-should-retry"] == "false"
    assert response.json()["error"]["message"] == billing.LOOP_MESSAGE


def test_health_is_503_when_the_cli_is_not_logged_in(make_client, fake_cli):
    fake_cli.use("logged_out")
    response = make_client().get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded" and body["login"]["logged_in"] is False
    assert body["problems"] == [
        {"reason": "the Claude Code CLI is not logged in", "fix": "Run: claude auth login"}
    ]


def test_request_ids_are_sent_back(make_client):
    client = make_client()
    given = client.post(OPENAI[0], json=OPENAI[1], headers={"x-request-id": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = client.get("/v1/models")
    assert made.headers["x-request-id"].startswith("req_")


def test_a_server_pointed_at_itself_refuses_to_start(claude_max_home):
    port = free_port()
    env = dict(
        os.environ,
        CLAUDE_MAX_CLAUDE_PATH=str(FAKE_CLAUDE),
        CLAUDE_MAX_HOME=str(claude_max_home),
        CLAUDE_MAX_PASS_API_ENV="1",
        ANTHROPIC_BASE_URL=f"http://localhost:{port}",
    )
    done = subprocess.run(
        [sys.executable, "-m", "claude_max", "serve", "--port", str(port)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == (
        f"Error: ANTHROPIC_BASE_URL=http://localhost:{port} is this server: the CLI would "
        "call claude-max itself."
    )


def test_json_log_lines_carry_ids_and_reasons(claude_max_home, monkeypatch):
    env = dict(
        os.environ,
        CLAUDE_MAX_CLAUDE_PATH=str(FAKE_CLAUDE),
        CLAUDE_MAX_HOME=str(claude_max_home),
        FAKE_CLAUDE_SCENARIO="transcript:plan_limit_429_stream_json",
    )
    server = Server(env, "--log-format", "json", "--warm", "0")
    try:
        httpx.get(f"{server.url}/nope", headers={"x-request-id": "r-404"})
        httpx.post(
            f"{server.url}{ANTHROPIC[0]}", json=ANTHROPIC[1], headers={"x-request-id": "r-429"}
        )
    finally:
        log = server.stop()
    records = {}
    for line in log.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            records[record.get("request_id")] = record
    assert records["r-404"]["status"] == 404 and records["r-404"]["path"] == "/nope"
    assert records["r-404"]["reason"] == "404 Not Found"
    assert records["r-429"]["status"] == 429 and records["r-429"]["method"] == "POST"
    assert records["r-429"]["reason"].startswith("Your 5-hour limit is reached")
    assert records["r-429"]["client"].startswith("python-httpx")
    assert isinstance(records["r-429"]["duration_ms"], int)


def test_banner_says_which_billing_and_warns_at_start(claude_max_home, monkeypatch):
    from claude_max.core.settings import Settings
    from claude_max.server.listen import banner

    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-exported")
    monkeypatch.delenv("CLAUDE_CODE_OAUTH_TOKEN", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    text = banner(Settings(home=claude_max_home), "http://127.0.0.1:8080")
    assert (
        "  billing: subscription login (the CLI's own); ignoring ANTHROPIC_API_KEY "
        "(set CLAUDE_MAX_PASS_API_ENV=1 to use them)"
    ) in text.splitlines()
    passed = banner(Settings(home=claude_max_home, pass_api_env=True), "http://127.0.0.1:8080")
    assert "  billing: API key (ANTHROPIC_API_KEY): billed to the key, not the subscription" in (
        passed.splitlines()
    )


def test_start_warns_when_the_cli_is_not_logged_in(claude_max_home, fake_cli, capsys):
    from claude_max.core.settings import Settings

    fake_cli.use("logged_out")
    settings = Settings(home=claude_max_home, claude_path=str(FAKE_CLAUDE), warm=0)
    with TestClient(create_app(settings), base_url=LOCAL):
        pass
    assert (
        "  WARNING: the Claude Code CLI is not logged in. Run: claude auth login"
        in capsys.readouterr().err.splitlines()
    )
