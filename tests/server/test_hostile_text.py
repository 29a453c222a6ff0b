"""Text no API accepts is a 400 in the caller's shape, never a 500 or a file left behind:
a lone UTF-16 surrogate in any string of either protocol, NaN/Infinity/1e400 anywhere, an
invalid JSON Schema, and the numbers and types the real APIs refuse."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from claude_max.core.settings import Settings

PNG = "iVBORw0KGgo="
TOOL_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string", "description": "where"}},
    "required": ["city"],
}
OPENAI_BODY: dict[str, Any] = {
    "model": "sonnet",
    "user": "someone",
    "stop": ["STOP"],
    "messages": [
        {"role": "system", "content": "be brief"},
        {"role": "developer", "content": [{"type": "text", "text": "really"}]},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "look"},
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
            ],
        },
        {
            "role": "assistant",
            "content": "calling",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "weather", "arguments": '{"city": "Oslo"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
        {"role": "user", "content": "thanks"},
    ],
    "tools": [
        {
            "type": "function",
            "function": {"name": "weather", "description": "weather", "parameters": TOOL_SCHEMA},
        }
    ],
    "tool_choice": {"type": "function", "function": {"name": "weather"}},
    "response_format": {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": {"type": "object", "title": "answer"}},
    },
}
ANTHROPIC_BODY: dict[str, Any] = {
    "model": "sonnet",
    "max_tokens": 100,
    "system": [{"type": "text", "text": "be brief"}],
    "stop_sequences": ["STOP"],
    "metadata": {"user_id": "someone"},
    "messages": [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "look"},
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": PNG},
                },
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "calling"},
                {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Oslo"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"},
                {"type": "text", "text": "thanks"},
            ],
        },
    ],
    "tools": [{"name": "weather", "description": "the weather", "input_schema": TOOL_SCHEMA}],
    "tool_choice": {"type": "tool", "name": "weather"},
}


@pytest.fixture
def settings(claude_max_home: Path) -> Settings:
    """Refusals happen before any CLI runs: the warm pool changes nothing here."""
    from fake_claude_log import FAKE_CLAUDE

    return Settings(home=claude_max_home, claude_path=str(FAKE_CLAUDE), warm=0)


CASES = [("/v1/chat/completions", OPENAI_BODY), ("/v1/messages", ANTHROPIC_BODY)]


def string_paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path of every string in a JSON value (dict keys excluded)."""
    if isinstance(value, str):
        yield path
    elif isinstance(value, dict):
        for key, child in value.items():
            yield from string_paths(child, (*path, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from string_paths(child, (*path, i))


def with_value(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    body = json.loads(json.dumps(body))
    node = body
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return body


def is_error_shape(path: str, data: dict[str, Any]) -> bool:
    if path == "/v1/messages":
        return data["type"] == "error" and data["error"]["type"] == "invalid_request_error"
    return data["error"]["type"] == "invalid_request_error"


def post_raw(client, path: str, raw: str):
    return client.post(path, content=raw.encode(), headers={"content-type": "application/json"})


def leftovers(home: Path) -> list[str]:
    tmp = home / "tmp"
    return sorted(p.name for p in tmp.rglob("system-*")) if tmp.exists() else []


@pytest.mark.parametrize(("path", "body"), CASES, ids=["openai", "anthropic"])
def test_the_sample_bodies_are_accepted(client, path, body):
    response = client.post(path, json=runnable(body))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(("path", "body"), CASES, ids=["openai", "anthropic"])
def test_a_lone_surrogate_in_any_text_field_is_a_400(client, claude_max_home, path, body):
    fields = list(string_paths(body))
    assert len(fields) > 15
    for field in fields:
        original = with_value(body, field, "x")
        # json.dumps writes the surrogate as the escape a client sends: \ud800
        hostile = with_value(body, field, f"\ud800{_get(original, field)}")
        response = post_raw(client, path, json.dumps(hostile))
        assert response.status_code == 400, (field, response.text)
        data = response.json()
        assert is_error_shape(path, data), data
        assert "surrogate" in json.dumps(data)
    key = {**body, "messages": [*body["messages"][:-1], {"role": "user", "\udfff": 1}]}
    assert post_raw(client, path, json.dumps(key)).status_code == 400
    assert leftovers(claude_max_home) == []
    # the connection and the server are fine afterwards
    assert client.post(path, json=runnable(body)).status_code == 200


def runnable(body: dict[str, Any]) -> dict[str, Any]:
    """The body without what the fake CLI does not do (client tools' MCP start-up, schemas)."""
    drop = ("tools", "tool_choice", "response_format", "messages")
    return {
        **{k: v for k, v in body.items() if k not in drop},
        "messages": [{"role": "user", "content": "thanks"}],
    }


def _get(body: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        body = body[step]
    return body


def test_a_surrogate_pair_is_text(client, fake_cli):
    body = {"model": "sonnet", "messages": [{"role": "user", "content": "\ud83d\ude00"}]}
    response = post_raw(client, "/v1/chat/completions", json.dumps(body))
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == "ECHO:\U0001f600"


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
@pytest.mark.parametrize(("path", "body"), CASES, ids=["openai", "anthropic"])
def test_numbers_json_does_not_have_are_a_400(client, path, body, number):
    schema = '{"type": "object", "properties": {"n": {"type": "number", "maximum": NUM}}}'.replace(
        "NUM", number
    )
    raw = json.dumps(body).replace(json.dumps(TOOL_SCHEMA), schema, 1)
    assert schema in raw
    response = post_raw(client, path, raw)
    assert response.status_code == 400, response.text
    assert "not valid JSON" in json.dumps(response.json())
    if path == "/v1/messages":
        call = ("messages", 1, "content", 1, "input")
        tool_input = json.dumps(body).replace(
            '{"city": "Oslo"}', '{"city": NUM}'.replace("NUM", number)
        )
    else:
        call = ("messages", 3, "tool_calls", 0, "function", "arguments")
        tool_input = json.dumps(with_value(body, call, '{"city": NUM}'.replace("NUM", number)))
    assert tool_input != json.dumps(body)
    response = post_raw(client, path, tool_input)
    assert response.status_code == 400, response.text


INVALID_SCHEMAS = [
    {"type": "object", "properties": {"city": {"type": "text"}}},
    {"type": "object", "properties": ["city"]},
    {"type": "object", "required": "city"},
    {"type": "object", "properties": {"city": 5}},
    {"type": "object", "properties": {"a": {"anyOf": {"type": "string"}}}},
    {"type": "object", "properties": {"a": {"type": "array", "items": {"type": 7}}}},
]


@pytest.mark.parametrize("schema", INVALID_SCHEMAS)
@pytest.mark.parametrize(("path", "body"), CASES, ids=["openai", "anthropic"])
def test_an_invalid_json_schema_is_a_400(client, fake_cli, path, body, schema):
    raw = json.dumps(body).replace(json.dumps(TOOL_SCHEMA), json.dumps(schema), 1)
    response = post_raw(client, path, raw)
    assert response.status_code == 400, response.text
    assert is_error_shape(path, response.json())
    assert fake_cli.calls() == []


def test_an_openai_tool_call_must_be_a_function(client):
    body = with_value(OPENAI_BODY, ("messages", 3, "tool_calls", 0, "type"), "custom")
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "messages[3].tool_calls[0].type"


@pytest.mark.parametrize("budget", [-1, 0, 1023, 10**30])
def test_a_thinking_budget_out_of_range_is_a_400(client, budget):
    body = {**ANTHROPIC_BODY, "thinking": {"type": "enabled", "budget_tokens": budget}}
    response = client.post("/v1/messages", json=body)
    assert response.status_code == 400
    assert "budget_tokens" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/v1/chat/completions", "max_tokens"),
        ("/v1/chat/completions", "max_completion_tokens"),
        ("/v1/messages", "max_tokens"),
    ],
)
def test_max_tokens_beyond_any_model_is_a_400(client, path, key):
    body = OPENAI_BODY if path.startswith("/v1/chat") else ANTHROPIC_BODY
    response = client.post(path, json={**body, key: 10**30})
    assert response.status_code == 400
    assert "at most 128000" in json.dumps(response.json())
    assert client.post(path, json={**runnable(body), key: 128_000}).status_code == 200


@pytest.mark.parametrize(("path", "body"), CASES, ids=["openai", "anthropic"])
def test_prompt_too_long_is_a_400_not_a_retryable_502(client, fake_cli, path, body):
    fake_cli.use("transcript:prompt_too_long_stream_json")
    response = client.post(path, json=runnable(body))
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert "Prompt is too long" in error["message"] and "doctor" not in error["message"]
    if path != "/v1/messages":
        assert error["code"] == "context_length_exceeded"
