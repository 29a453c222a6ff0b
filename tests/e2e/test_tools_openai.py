"""OpenAI function calling through `claude-max serve` and the real CLI, driven by the SDK.

The fake upstream plays the model: it calls `mcp__proxy__<tool>` (the name the CLI gives the
client's tool) and answers in text once the last message carries a tool result. What the
client receives and what the model saw on the follow-up are both asserted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import openai
import pydantic
import pytest
from helpers import blocks, system_text

pytestmark = pytest.mark.e2e

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
TIME = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "Local time in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
CALL = "mcp__proxy__get_weather"
ANSWERED = {"when": {"last_is_tool_result": True}, "reply": {"type": "text", "text": "Sunny."}}


@pytest.fixture
def client(real_server) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{real_server.url}/v1", api_key="unused", max_retries=0) as c:
        yield c


def _script(call: dict, **extra) -> dict:
    return {"rules": [ANSWERED], "default": {"type": "tool_use", **call, **extra}}


def test_agent_loop_non_streaming(client, fake_upstream):
    fake_upstream.set_script(
        _script({"name": CALL, "input": {"city": "Paris"}, "id": "toolu_w1"}, text="Let me check.")
    )
    messages: list = [{"role": "user", "content": "Weather in Paris?"}]
    first = client.chat.completions.create(model="sonnet", messages=messages, tools=[WEATHER])
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content == "Let me check."
    [call] = choice.message.tool_calls
    assert (call.id, call.type, call.function.name) == ("toolu_w1", "function", "get_weather")
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    [seen] = fake_upstream.message_requests()
    [declared] = [t for t in seen["tools"] if t["name"] == CALL]
    assert declared["description"] == "Current weather for a city"
    assert declared["input_schema"]["required"] == ["city"]

    fake_upstream.clear()
    messages += [
        choice.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "Sunny, 21C"},
    ]
    second = client.chat.completions.create(model="sonnet", messages=messages, tools=[WEATHER])
    assert second.choices[0].message.content == "Sunny."
    assert second.choices[0].finish_reason == "stop"
    assert not second.choices[0].message.tool_calls
    [body] = fake_upstream.message_requests()  # one model call, the exchange seeded as history
    assert [m["role"] for m in body["messages"] if m["role"] != "system"] == [
        "user",
        "assistant",
        "user",
    ]
    [use] = blocks(body, "tool_use")
    assert (use["id"], use["name"], use["input"]) == ("toolu_w1", CALL, {"city": "Paris"})
    [result] = blocks(body, "tool_result")
    assert result["tool_use_id"] == "toolu_w1"
    assert "Sunny, 21C" in json.dumps(result["content"])
    assert "rejected" not in json.dumps(body["messages"])


def test_two_parallel_calls_streamed(client, fake_upstream):
    calls = [
        {"name": CALL, "input": {"city": "Paris"}, "id": "toolu_p"},
        {"name": "mcp__proxy__get_time", "input": {"city": "Rome"}, "id": "toolu_r"},
    ]
    fake_upstream.set_script(
        {
            "rules": [ANSWERED],
            "default": {"type": "tool_use", "calls": calls, "chunks": 4, "delay_ms": 20},
        }
    )
    messages: list = [{"role": "user", "content": "Paris weather and Rome time?"}]
    stream = client.chat.completions.create(
        model="sonnet", messages=messages, tools=[WEATHER, TIME], stream=True
    )
    chunks = list(stream)
    deltas = [d for c in chunks if c.choices for d in c.choices[0].delta.tool_calls or []]
    starts = [d for d in deltas if d.id]
    assert [(d.index, d.id, d.function.name) for d in starts] == [
        (0, "toolu_p", "get_weather"),
        (1, "toolu_r", "get_time"),
    ]
    arguments = ["", ""]
    for d in deltas:
        arguments[d.index] += d.function.arguments or ""
    assert [json.loads(a) for a in arguments] == [{"city": "Paris"}, {"city": "Rome"}]
    assert len([d for d in deltas if not d.id]) >= 4  # arguments arrived in fragments
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"

    fake_upstream.clear()
    messages += [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": s.id,
                    "type": "function",
                    "function": {"name": s.function.name, "arguments": a},
                }
                for s, a in zip(starts, arguments, strict=True)
            ],
        },
        {"role": "tool", "tool_call_id": "toolu_p", "content": "Sunny"},
        {"role": "tool", "tool_call_id": "toolu_r", "content": "14:00"},
    ]
    text = "".join(
        c.choices[0].delta.content or ""
        for c in client.chat.completions.create(
            model="sonnet", messages=messages, tools=[WEATHER, TIME], stream=True
        )
        if c.choices
    )
    assert text == "Sunny."
    [body] = fake_upstream.message_requests()
    assert [b["tool_use_id"] for b in blocks(body, "tool_result")] == ["toolu_p", "toolu_r"]


def test_tool_choice_none_declares_nothing(client, fake_upstream):
    reply = client.chat.completions.create(
        model="sonnet",
        messages=[{"role": "user", "content": "hi"}],
        tools=[WEATHER],
        tool_choice="none",
    )
    assert reply.choices[0].message.content == "ECHO:hi"
    [body] = fake_upstream.message_requests()
    assert body["tools"] == []


def test_tool_choice_none_after_calls_keeps_the_answer_in_text(client, fake_upstream):
    """The history has tool calls, so the tools stay declared; a call the model makes anyway
    is refused inside the CLI and the model answers in text."""
    fake_upstream.set_script(_script({"name": CALL, "input": {"city": "Oslo"}}))
    messages = [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "Rain"},
        {"role": "user", "content": "And now, without tools?"},
    ]
    reply = client.chat.completions.create(
        model="sonnet", messages=messages, tools=[WEATHER], tool_choice="none"
    )
    assert reply.choices[0].finish_reason == "stop"
    assert not reply.choices[0].message.tool_calls
    assert reply.choices[0].message.content == "Sunny."
    first = fake_upstream.message_requests()[0]
    assert "Do not call any tool" in system_text(first)


@pytest.mark.parametrize(
    ("choice", "says"),
    [
        ("required", "must call at least one"),
        ({"type": "function", "function": {"name": "get_weather"}}, f"must call the tool {CALL}"),
    ],
)
def test_tool_choice_is_told_to_the_model(client, fake_upstream, choice, says):
    fake_upstream.set_script(_script({"name": CALL, "input": {"city": "Paris"}}))
    reply = client.chat.completions.create(
        model="sonnet",
        messages=[{"role": "user", "content": "weather?"}],
        tools=[WEATHER, TIME],
        tool_choice=choice,
    )
    assert reply.choices[0].message.tool_calls[0].function.name == "get_weather"
    assert says in system_text(fake_upstream.message_requests()[0])


def test_a_named_tool_choice_refuses_other_tools(client, fake_upstream):
    fake_upstream.set_script(_script({"name": "mcp__proxy__get_time", "input": {"city": "Rome"}}))
    reply = client.chat.completions.create(
        model="sonnet",
        messages=[{"role": "user", "content": "weather?"}],
        tools=[WEATHER, TIME],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )
    assert not reply.choices[0].message.tool_calls  # get_time was refused; the model went on
    assert reply.choices[0].message.content == "Sunny."


def test_parallel_tool_calls_false_gives_one_call(client, fake_upstream):
    calls = [{"name": CALL, "input": {"city": c}} for c in ("Paris", "Rome")]
    fake_upstream.set_script({"rules": [ANSWERED], "default": {"type": "tool_use", "calls": calls}})
    reply = client.chat.completions.create(
        model="sonnet",
        messages=[{"role": "user", "content": "weather in both?"}],
        tools=[WEATHER],
        parallel_tool_calls=False,
    )
    [call] = reply.choices[0].message.tool_calls
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    assert "at most one tool" in system_text(fake_upstream.message_requests()[0])


class Person(pydantic.BaseModel):
    name: str
    age: int


def test_response_format_json_schema_parsed_by_the_sdk(client, fake_upstream):
    fake_upstream.set_script(
        {
            "default": {
                "type": "tool_use",
                "name": "StructuredOutput",
                "input": {"name": "Ada", "age": 36},
                "text": "Here:",
            }
        }
    )
    completion = client.chat.completions.parse(
        model="sonnet",
        messages=[{"role": "user", "content": "Who wrote the first program?"}],
        response_format=Person,
    )
    assert completion.choices[0].message.parsed == Person(name="Ada", age=36)
    assert completion.choices[0].finish_reason == "stop"
    [body] = fake_upstream.message_requests()
    [tool] = [t for t in body["tools"] if t["name"] == "StructuredOutput"]
    assert set(tool["input_schema"]["properties"]) == {"name", "age"}


def test_response_format_json_object_streams_only_the_json(client, fake_upstream):
    fake_upstream.set_script(
        {
            "default": {
                "type": "tool_use",
                "name": "StructuredOutput",
                "input": {"ok": True},
                "text": "Sure",
            }
        }
    )
    text = "".join(
        c.choices[0].delta.content or ""
        for c in client.chat.completions.create(
            model="sonnet",
            messages=[{"role": "user", "content": "json please"}],
            response_format={"type": "json_object"},
            stream=True,
        )
        if c.choices
    )
    assert json.loads(text) == {"ok": True}


def test_tool_result_for_an_unknown_call_is_a_400(client, fake_upstream):
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model="sonnet",
            messages=[
                {"role": "user", "content": "x"},
                {"role": "tool", "tool_call_id": "call_nope", "content": "?"},
            ],
            tools=[WEATHER],
        )
    assert "call_nope" in info.value.body["message"]
    assert fake_upstream.message_requests() == []
