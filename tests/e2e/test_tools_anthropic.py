"""Anthropic tool use through `claude-max serve` and the real CLI, driven by the SDK."""

from __future__ import annotations

import json
from collections.abc import Iterator

import anthropic
import pytest
from helpers import blocks, system_text

pytestmark = pytest.mark.e2e

WEATHER = {
    "name": "get_weather",
    "description": "Current weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
TIME = {"name": "get_time", "input_schema": {"type": "object", "properties": {}}}
CALL = "mcp__proxy__get_weather"
ANSWERED = {"when": {"last_is_tool_result": True}, "reply": {"type": "text", "text": "Sunny."}}


@pytest.fixture
def client(real_server) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=real_server.url, api_key="unused", max_retries=0) as c:
        yield c


def _tool_script(**reply) -> dict:
    return {"rules": [ANSWERED], "default": {"type": "tool_use", **reply}}


def test_agent_loop_with_an_error_result(client, fake_upstream):
    fake_upstream.set_script(
        _tool_script(name=CALL, input={"city": "Paris"}, id="toolu_a1", text="Checking.")
    )
    messages: list = [{"role": "user", "content": "Weather in Paris?"}]
    first = client.messages.create(
        model="claude-sonnet-5-5", max_tokens=256, messages=messages, tools=[WEATHER]
    )
    assert first.stop_reason == "tool_use"
    assert [b.type for b in first.content] == ["text", "tool_use"]
    use = first.content[1]
    assert (use.id, use.name, use.input) == ("toolu_a1", "get_weather", {"city": "Paris"})

    fake_upstream.clear()
    messages += [
        {"role": "assistant", "content": [b.model_dump() for b in first.content]},
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_a1",
                    "content": [{"type": "text", "text": "service down"}],
                    "is_error": True,
                }
            ],
        },
    ]
    second = client.messages.create(
        model="claude-sonnet-5-5", max_tokens=256, messages=messages, tools=[WEATHER]
    )
    assert second.stop_reason == "end_turn"
    assert [b.text for b in second.content] == ["Sunny."]
    [body] = fake_upstream.message_requests()
    [result] = blocks(body, "tool_result")
    assert result["tool_use_id"] == "toolu_a1" and result["is_error"] is True
    assert "service down" in json.dumps(result["content"])
    [call] = blocks(body, "tool_use")
    assert call["name"] == CALL


def test_streaming_helper_builds_the_tool_use(client, fake_upstream):
    fake_upstream.set_script(
        _tool_script(
            calls=[
                {"name": CALL, "input": {"city": "Paris"}, "id": "toolu_s1"},
                {"name": "mcp__proxy__get_time", "input": {}, "id": "toolu_s2"},
            ],
            text="Two lookups.",
            chunks=3,
            delay_ms=20,
        )
    )
    fragments = []
    with client.messages.stream(
        model="claude-sonnet-5-5",
        max_tokens=256,
        messages=[{"role": "user", "content": "weather and time?"}],
        tools=[WEATHER, TIME],
    ) as stream:
        for event in stream:
            if event.type == "input_json":
                fragments.append(event.partial_json)
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    assert [b.type for b in final.content] == ["text", "tool_use", "tool_use"]
    assert final.content[0].text == "Two lookups."
    assert [(b.id, b.name, b.input) for b in final.content[1:]] == [
        ("toolu_s1", "get_weather", {"city": "Paris"}),
        ("toolu_s2", "get_time", {}),
    ]
    assert len(fragments) >= 3


def test_tool_choice_any_and_tool_are_told_to_the_model(client, fake_upstream):
    fake_upstream.set_script(_tool_script(name=CALL, input={"city": "Paris"}))
    for choice, says in [
        ({"type": "any"}, "must call at least one"),
        ({"type": "tool", "name": "get_weather"}, f"must call the tool {CALL}"),
    ]:
        fake_upstream.clear()
        reply = client.messages.create(
            model="claude-sonnet-5-5",
            max_tokens=64,
            messages=[{"role": "user", "content": "weather?"}],
            tools=[WEATHER, TIME],
            tool_choice=choice,
        )
        assert reply.content[-1].name == "get_weather"
        assert says in system_text(fake_upstream.message_requests()[0])


def test_tool_choice_none_answers_in_text(client, fake_upstream):
    reply = client.messages.create(
        model="claude-sonnet-5-5",
        max_tokens=64,
        messages=[{"role": "user", "content": "hi"}],
        tools=[WEATHER],
        tool_choice={"type": "none"},
    )
    assert [b.type for b in reply.content] == ["text"]
    assert fake_upstream.message_requests()[0]["tools"] == []


def test_disable_parallel_tool_use_gives_one_call(client, fake_upstream):
    calls = [{"name": CALL, "input": {"city": c}} for c in ("Paris", "Rome")]
    fake_upstream.set_script(_tool_script(calls=calls))
    reply = client.messages.create(
        model="claude-sonnet-5-5",
        max_tokens=64,
        messages=[{"role": "user", "content": "both?"}],
        tools=[WEATHER],
        tool_choice={"type": "auto", "disable_parallel_tool_use": True},
    )
    assert [b.input for b in reply.content if b.type == "tool_use"] == [{"city": "Paris"}]


def test_server_tools_are_a_clear_400(client, fake_upstream):
    """Server tools other than web search (tests/e2e/test_web_search_e2e.py) are refused."""
    with pytest.raises(anthropic.BadRequestError) as info:
        client.messages.create(
            model="claude-sonnet-5-5",
            max_tokens=64,
            messages=[{"role": "user", "content": "run it"}],
            tools=[{"type": "code_execution_20250825", "name": "code_execution"}],
        )
    assert "server tools" in info.value.body["error"]["message"]
    assert fake_upstream.message_requests() == []
