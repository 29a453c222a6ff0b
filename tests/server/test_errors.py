"""Every failure is an error in the caller's protocol, with a fitting status; never a 500."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from claude_max.core.settings import Settings
from claude_max.server.app import create_app

LOCAL = "http://127.0.0.1:8080"
USER = [{"role": "user", "content": "hi"}]
OPENAI = ("/v1/chat/completions", {"model": "sonnet", "messages": USER})
ANTHROPIC = ("/v1/messages", {"model": "sonnet", "max_tokens": 10, "messages": USER})


def is_openai_error(body) -> bool:
    return set(body) == {"error"} and {"message", "type", "param", "code"} <= set(body["error"])


def is_anthropic_error(body) -> bool:
    return body["type"] == "error" and {"type", "message"} <= set(body["error"])


@pytest.mark.parametrize(
    ("scenario", "status", "kind"),
    [
        ("transcript:err_429_stream_json_retries0", 429, "rate_limit_error"),
        ("transcript:err_529_stream_json_retries0", 529, "overloaded_error"),
        ("transcript:err_500_stream_json_retries0", 502, "api_error"),
        ("transcript:no_credentials_stream_json", 401, "authentication_error"),
        ("transcript:model_unknown_404_stream", 404, "not_found_error"),
        ("crash", 502, "api_error"),
        ("exit_silent", 502, "api_error"),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_cli_failures_before_the_first_token(client, fake_cli, scenario, status, kind, stream):
    fake_cli.use(scenario)
    path, body = ANTHROPIC
    response = client.post(path, json={**body, "stream": stream})
    if scenario == "crash" and stream:
        # text was streamed before the CLI died: a 200 stream that ends with an error event
        assert response.status_code == 200
        assert response.text.rstrip().splitlines()[-2] == "event: error"
        return
    assert response.status_code == status
    assert is_anthropic_error(response.json())
    assert response.json()["error"]["type"] == kind
    openai_response = client.post(OPENAI[0], json={**OPENAI[1], "stream": stream})
    assert openai_response.status_code == status
    assert is_openai_error(openai_response.json())


def test_not_logged_in_says_how_to_log_in(client, fake_cli):
    fake_cli.use("transcript:no_credentials_stream_json")
    response = client.post(OPENAI[0], json=OPENAI[1])
    assert "claude auth login" in response.json()["error"]["message"]


def test_exit_without_output_reports_stderr(client, fake_cli):
    fake_cli.use("exit_silent")
    message = client.post(OPENAI[0], json=OPENAI[1]).json()["error"]["message"]
    assert "code 3" in message and "something broke" in message


def test_garbage_lines_do_not_break_the_answer(client, fake_cli):
    fake_cli.use("garbage")
    response = client.post(OPENAI[0], json=OPENAI[1])
    assert response.json()["choices"][0]["message"]["content"] == "ECHO:hi"


def test_missing_cli_is_503_and_health_says_degraded(claude_max_home):
    settings = Settings(home=claude_max_home, claude_path=str(claude_max_home / "nope"))
    with TestClient(create_app(settings), base_url=LOCAL) as client:
        response = client.post(OPENAI[0], json=OPENAI[1])
        assert response.status_code == 503
        assert "--claude-path" in response.json()["error"]["message"]
        health = client.get("/health")
        assert health.status_code == 503
        body = health.json()
        assert body["status"] == "degraded" and body["cli"]["path"] is None
        [problem] = body["problems"]
        assert "was not found" in problem["reason"]
        assert "npm install -g @anthropic-ai/claude-code" in problem["fix"]


@pytest.mark.parametrize(
    ("path", "check"), [(OPENAI[0], is_openai_error), (ANTHROPIC[0], is_anthropic_error)]
)
@pytest.mark.parametrize(
    ("content", "status"),
    [
        (b"{not json", 400),
        (b"[1, 2]", 400),
        (b'"text"', 400),
        (b"\xff\xfe\x00", 400),
        (b"[" * 100_000 + b"]" * 100_000, 400),
        (b'{"messages": [{"role": "user", "content": "hi"}], "stream": "yes"}', 400),
        (b'{"model": "sonnet"}', 400),
        (b'{"model": "gpt-9", "messages": [{"role": "user", "content": "hi"}]}', 404),
        (
            b'{"messages": [{"role": "user", "content": "hi"},'
            b' {"role": "assistant", "content": "x"}]}',
            400,
        ),
    ],
)
def test_bad_bodies(client, fake_cli, path, check, content, status):
    response = client.post(path, content=content, headers={"content-type": "application/json"})
    assert response.status_code == status
    assert check(response.json())
    assert fake_cli.calls() == []


def test_body_limit_is_413(settings, fake_cli):
    with TestClient(create_app(settings, max_body=1000), base_url=LOCAL) as client:
        response = client.post(
            OPENAI[0], json={**OPENAI[1], "messages": [{"role": "user", "content": "x" * 2000}]}
        )
    assert response.status_code == 413
    assert is_openai_error(response.json())


def test_unknown_route_and_method(client):
    assert client.get("/v1/nope").status_code == 404
    response = client.get("/v1/messages")
    assert response.status_code == 405
    assert is_anthropic_error(response.json())
