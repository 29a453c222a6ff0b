"""The OpenAI adapter: request validation and translation, response and chunk shapes."""

from __future__ import annotations

import asyncio
import json

import pytest

from claude_max.core.conversation import ImagePart, TextPart, ToolCallPart, ToolResultPart
from claude_max.core.errors import InvalidRequest, ModelNotFound, UpstreamError
from claude_max.core.events import (
    Result,
    Started,
    TextDelta,
    TextReset,
    ThinkingDelta,
    ToolInputDelta,
    ToolUse,
    ToolUseStart,
    Usage,
)
from claude_max.core.run import Reply
from claude_max.protocols import openai

PNG = "iVBORw0KGgo="


def body(messages, **kw):
    return {"model": "sonnet", "messages": messages, **kw}


def test_roles_system_and_parts():
    conv = openai.to_conversation(
        body(
            [
                {"role": "system", "content": "Be terse."},
                {"role": "developer", "content": [{"type": "text", "text": "Use French."}]},
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": "salut"},
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "and this?"},
                        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                    ],
                },
            ],
            stop="END",
            max_completion_tokens=99,
            max_tokens=5,
            temperature=0.2,
            user="u1",
        )
    )
    assert conv.system == "Be terse.\n\nUse French."
    assert conv.model == "sonnet"
    assert [t.role for t in conv.turns] == ["user", "assistant", "user"]
    assert conv.prompt.parts == (TextPart("and this?"), ImagePart("image/png", PNG))
    assert conv.options.stop == ("END",)
    assert conv.options.max_tokens == 99


def test_consecutive_user_messages_are_joined():
    conv = openai.to_conversation(
        body([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}])
    )
    assert len(conv.turns) == 1
    assert conv.prompt.parts == (TextPart("a"), TextPart("b"))


@pytest.mark.parametrize(
    ("request_body", "param"),
    [
        ({"messages": []}, "messages"),
        ({"messages": "hi"}, "messages"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
        ({"messages": [{"role": "user", "content": ""}]}, "messages[0]"),
        ({"messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        (
            {"messages": [{"role": "user", "content": [{"type": "audio"}]}]},
            "messages[0].content[0].type",
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "image_url",
                                "image_url": {"url": "ftp://example.com/cat.png"},
                            }
                        ],
                    }
                ]
            },
            "messages[0].content[0].image_url.url",
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "image_url", "image_url": {"url": "data:image/png;base64,@@@"}}
                        ],
                    }
                ]
            },
            "messages[0].content[0].image_url.url",
        ),
        ({"messages": [{"role": "user", "content": "x"}], "max_tokens": "ten"}, "max_tokens"),
        ({"messages": [{"role": "user", "content": "x"}], "max_tokens": 0}, "max_tokens"),
        ({"messages": [{"role": "user", "content": "x"}], "stop": [1]}, "stop[0]"),
        ({"messages": [{"role": "user", "content": "x"}], "n": 2}, "n"),
        (
            {"messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function"}]},
            "tools[0].function",
        ),
        (
            {"messages": [{"role": "user", "content": "x"}], "tools": [{"type": "web_search"}]},
            "tools[0].type",
        ),
        ({"messages": [{"role": "tool", "content": "x"}]}, "messages[0].tool_call_id"),
        ({"messages": [{"role": "user", "content": "x"}], "functions": []}, "functions"),
        (
            {"messages": [{"role": "user", "content": "x"}], "tool_choice": "required"},
            "tool_choice",
        ),
        (
            {
                "messages": [{"role": "user", "content": "x"}],
                "response_format": {"type": "json_schema", "json_schema": {"schema": []}},
            },
            "response_format.json_schema.schema",
        ),
        ({"messages": [{"role": "user", "content": "x"}], "model": 7}, "model"),
        (
            {"messages": [{"role": "user", "content": "x"}], "reasoning_effort": []},
            "reasoning_effort",
        ),
    ],
)
def test_bad_requests_name_the_field(request_body, param):
    with pytest.raises(InvalidRequest) as info:
        openai.to_conversation(request_body)
    assert info.value.param == param
    assert info.value.status == 400


def test_unknown_model():
    with pytest.raises(ModelNotFound):
        openai.to_conversation(body([{"role": "user", "content": "x"}], model="gpt-4o"))


def result(**kw) -> Result:
    base = dict(
        text="hi",
        stop_reason="end_turn",
        usage=Usage(10, 3, 4, 2),
        session_id="s",
        model="claude-sonnet-5-5",
        cost_usd=0.01,
    )
    return Result(**{**base, **kw})


def test_response_shape_and_usage():
    reply = Reply("hi", "thought", "sig", (), result(stop_reason="max_tokens"))
    data = openai.response(reply, {"model": "sonnet"})
    assert data["object"] == "chat.completion"
    assert data["model"] == "claude-sonnet-5-5"
    choice = data["choices"][0]
    assert choice["message"] == {
        "role": "assistant",
        "content": "hi",
        "refusal": None,
        "reasoning_content": "thought",
    }
    assert choice["finish_reason"] == "length"
    assert data["usage"] == {
        "prompt_tokens": 16,
        "completion_tokens": 3,
        "total_tokens": 19,
        "prompt_tokens_details": {"cached_tokens": 4},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


async def _events(items):
    for item in items:
        if isinstance(item, Exception):
            raise item
        yield item


def sse(items, request_body) -> list:
    async def collect():
        return [c async for c in openai.stream(_events(items), request_body)]

    out = []
    for chunk in asyncio.run(collect()):
        assert chunk.startswith("data: ") and chunk.endswith("\n\n")
        payload = chunk[len("data: ") : -2]
        out.append(payload if payload == "[DONE]" else json.loads(payload))
    return out


def test_stream_chunks_with_usage():
    chunks = sse(
        [
            Started("s", "claude-opus-5-5"),
            ThinkingDelta("hm"),
            TextDelta("Hel"),
            TextDelta("lo"),
            result(stop_reason="stop_sequence"),
        ],
        {"model": "opus", "stream_options": {"include_usage": True}},
    )
    assert chunks[-1] == "[DONE]"
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert chunks[1]["choices"][0]["delta"] == {"reasoning_content": "hm"}
    assert [c["choices"][0]["delta"].get("content") for c in chunks[2:4]] == ["Hel", "lo"]
    assert chunks[4]["choices"][0]["finish_reason"] == "stop"
    assert chunks[5]["choices"] == [] and chunks[5]["usage"]["prompt_tokens"] == 16
    assert all(c["model"] == "claude-opus-5-5" for c in chunks[:-1])
    assert all(c["object"] == "chat.completion.chunk" for c in chunks[:-1])
    assert all(c["usage"] is None for c in chunks[:5])


def test_stream_without_usage_has_no_usage_key():
    chunks = sse([TextDelta("x"), result()], {"model": "opus"})
    assert all("usage" not in c for c in chunks[:-1])


def test_mid_stream_failure_is_an_error_chunk():
    chunks = sse(
        [TextDelta("partial"), UpstreamError("overloaded", status=529, kind="overloaded_error")],
        {"model": "opus"},
    )
    assert chunks[-1]["error"]["message"].startswith("overloaded")
    assert "[DONE]" not in chunks


def test_retracted_text_ends_the_stream_with_an_error():
    chunks = sse([TextDelta("partial"), TextReset(keep=0), TextDelta("other"), result()], {})
    assert "error" in chunks[-1]
    assert not any(
        c != "[DONE]" and "error" not in c and c["choices"][0]["delta"].get("content") == "other"
        for c in chunks
    )


WEATHER = {
    "type": "function",
    "function": {"name": "get_weather", "parameters": {"properties": {"city": {"type": "string"}}}},
}


def test_tools_calls_and_results_translate():
    conv = openai.to_conversation(
        body(
            [
                {"role": "user", "content": "weather?"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "call_1", "content": "Sunny"},
                {"role": "user", "content": "thanks; and Rome?"},
            ],
            tools=[WEATHER],
            tool_choice={"type": "function", "function": {"name": "get_weather"}},
            parallel_tool_calls=False,
        )
    )
    [tool] = conv.tools
    assert tool.name == "get_weather"
    assert json.loads(tool.schema_json) == {
        "type": "object",
        "properties": {"city": {"type": "string"}},
    }
    assert conv.turns[1].parts == (ToolCallPart("call_1", "get_weather", '{"city":"Paris"}'),)
    # the tool result and the next user text are one user turn, the result first
    assert conv.prompt.parts == (
        ToolResultPart("call_1", (TextPart("Sunny"),)),
        TextPart("thanks; and Rome?"),
    )
    assert (conv.options.tool_choice, conv.options.tool_name) == ("tool", "get_weather")
    assert conv.options.parallel_tools is False


@pytest.mark.parametrize(
    ("fmt", "schema"),
    [
        ({"type": "json_object"}, {"type": "object"}),
        (
            {
                "type": "json_schema",
                "json_schema": {"name": "p", "schema": {"type": "object", "properties": {"a": {}}}},
            },
            {"type": "object", "properties": {"a": {}}},
        ),
        ({"type": "text"}, None),
    ],
)
def test_response_format_becomes_a_json_schema(fmt, schema):
    conv = openai.to_conversation(body([{"role": "user", "content": "x"}], response_format=fmt))
    assert (json.loads(conv.options.json_schema) if conv.options.json_schema else None) == schema


def test_bad_tool_arguments_name_the_field():
    with pytest.raises(InvalidRequest) as info:
        openai.to_conversation(
            body(
                [
                    {"role": "user", "content": "x"},
                    {
                        "role": "assistant",
                        "tool_calls": [
                            {"id": "c", "function": {"name": "f", "arguments": "{nope"}}
                        ],
                    },
                ]
            )
        )
    assert info.value.param == "messages[1].tool_calls[0].function.arguments"


def test_tool_calls_response_and_stream():
    calls = (ToolUse("toolu_1", "get_weather", {"city": "Paris"}),)
    data = openai.response(Reply("", "", "", calls, result(stop_reason="tool_use")), {})
    message = data["choices"][0]["message"]
    assert message["content"] is None
    assert message["tool_calls"] == [
        {
            "id": "toolu_1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
        }
    ]
    assert data["choices"][0]["finish_reason"] == "tool_calls"

    chunks = sse(
        [
            ToolUseStart("toolu_1", "get_weather"),
            ToolInputDelta("toolu_1", '{"city"'),
            ToolInputDelta("toolu_1", ': "Paris"}'),
            ToolUse("toolu_1", "get_weather", {"city": "Paris"}),
            ToolUse("toolu_2", "get_time", {}),  # a call that arrived whole
            result(stop_reason="tool_use"),
        ],
        {},
    )
    deltas = [c["choices"][0]["delta"] for c in chunks[1:-2]]
    assert deltas == [
        {
            "tool_calls": [
                {
                    "index": 0,
                    "id": "toolu_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": ""},
                }
            ]
        },
        {"tool_calls": [{"index": 0, "function": {"arguments": '{"city"'}}]},
        {"tool_calls": [{"index": 0, "function": {"arguments": ': "Paris"}'}}]},
        {
            "tool_calls": [
                {
                    "index": 1,
                    "id": "toolu_2",
                    "type": "function",
                    "function": {"name": "get_time", "arguments": "{}"},
                }
            ]
        },
    ]
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"
