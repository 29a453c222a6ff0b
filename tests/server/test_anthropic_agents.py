"""What agents built on Anthropic's SDK need over HTTP: system-role messages, routes without
/v1, and count_tokens (fake CLI)."""

from __future__ import annotations

import pytest
from fake_cli import messages

HEADERS = {"anthropic-version": "2023-06-01"}


def test_a_system_message_in_messages_is_answered(client, fake_cli):
    response = client.post(
        "/v1/messages?beta=true",
        headers=HEADERS,
        json={
            "model": "sonnet",
            "max_tokens": 64,
            "system": "You are X.",
            "messages": [
                {"role": "user", "content": "hi"},
                {"role": "system", "content": [{"type": "text", "text": "# Environment"}]},
            ],
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["content"][0]["text"] == "ECHO:hi"
    call = fake_cli.call()
    assert call["system_prompt_file"]["content"] == "You are X.\n\n# Environment"
    assert [m["message"]["role"] for m in messages(call)] == ["user"]


@pytest.mark.parametrize("path", ["/messages", "/v1/messages"])
def test_messages_with_and_without_v1(client, fake_cli, path):
    response = client.post(
        path,
        headers=HEADERS,
        json={"model": "opus", "max_tokens": 8, "messages": [{"role": "user", "content": "x"}]},
    )
    assert response.json()["content"][0]["text"] == "ECHO:x"


def test_models_without_v1(client):
    listed = client.get("/models", headers=HEADERS).json()
    assert listed["data"][0]["type"] == "model"
    assert client.get("/models/sonnet", headers=HEADERS).json()["id"] == "sonnet"
    missing = client.get("/models/gpt-4o", headers=HEADERS)
    assert missing.status_code == 404 and missing.json()["type"] == "error"


COUNTED = {
    "model": "claude-sonnet-5-5",
    "system": "You are a careful assistant.",
    "messages": [
        {"role": "user", "content": "What is the capital of France? " * 20},
        {"role": "system", "content": "Environment: linux"},
    ],
    "tools": [
        {
            "name": "get_weather",
            "description": "Weather for a city",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
        }
    ],
    "thinking": {"type": "enabled", "budget_tokens": 2048},
}


@pytest.mark.parametrize(
    "path",
    ["/v1/messages/count_tokens", "/v1/messages/count_tokens?beta=true", "/messages/count_tokens"],
)
def test_count_tokens_answers_at_once_without_a_cli(client, fake_cli, path):
    response = client.post(path, headers=HEADERS, json=COUNTED)
    assert response.status_code == 200, response.text
    counted = response.json()
    assert list(counted) == ["input_tokens"]
    # 620 characters of question (~177 tokens), the tool prompt (~300), the rest small.
    assert 450 < counted["input_tokens"] < 650
    assert fake_cli.calls() == []


def test_count_tokens_grows_with_the_text(client):
    def count(text: str) -> int:
        body = {"model": "opus", "messages": [{"role": "user", "content": text}]}
        return client.post("/v1/messages/count_tokens", json=body).json()["input_tokens"]

    assert count("word " * 1000) > 10 * count("word " * 50) > 0


@pytest.mark.parametrize(
    ("body", "status", "kind"),
    [
        ({"model": "opus", "messages": []}, 400, "invalid_request_error"),
        ({"model": "opus", "messages": [{"role": "robot", "content": "x"}]}, 400, None),
        ({"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]}, 404, None),
        ("not an object", 400, "invalid_request_error"),
    ],
)
def test_count_tokens_errors_are_anthropic_shaped(client, body, status, kind):
    response = client.post("/v1/messages/count_tokens", json=body)
    assert response.status_code == status
    error = response.json()
    assert error["type"] == "error" and error["error"]["message"]
    if kind:
        assert error["error"]["type"] == kind
