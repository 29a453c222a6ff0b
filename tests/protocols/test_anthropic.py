"""The Anthropic adapter: request validation and translation, message and event shapes."""

from __future__ import annotations

import asyncio
import json

import pytest

from claude_max.core.conversation import ImagePart, TextPart, ToolCallPart, ToolResultPart
from claude_max.core.errors import CLIAuthError, InvalidRequest
from claude_max.core.events import (
    Result,
    SignatureDelta,
    Started,
    TextDelta,
    ThinkingDelta,
    ToolInputDelta,
    ToolUse,
    ToolUseStart,
    Usage,
)
from claude_max.core.run import Reply
from claude_max.protocols import anthropic

PNG = "iVBORw0KGgo="


def body(messages, **kw):
    return {"model": "opus", "max_tokens": 100, "messages": messages, **kw}


def test_blocks_system_and_options():
    conv = anthropic.to_conversation(
        body(
            [
                {"role": "user", "content": "hi"},
                {
                    "role": "assistant",
                    "content": [
                        {"type": "thinking", "thinking": "x", "signature": "s"},
                        {"type": "text", "text": "hello"},
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "image",
                            "source": {"type": "base64", "media_type": "image/png", "data": PNG},
                        },
                        {"type": "text", "text": "what?", "cache_control": {"type": "ephemeral"}},
                    ],
                },
            ],
            system=[{"type": "text", "text": "One."}, {"type": "text", "text": "Two."}],
            stop_sequences=["END"],
            thinking={"type": "enabled", "budget_tokens": 2048},
            metadata={"user_id": "u"},
        )
    )
    assert conv.system == "One.\n\nTwo."
    assert conv.history[1].parts == (TextPart("hello"),)
    assert conv.prompt.parts == (ImagePart("image/png", PNG), TextPart("what?"))
    assert conv.options.stop == ("END",)
    assert conv.options.max_tokens == 100
    assert (conv.options.thinking, conv.options.thinking_budget) == ("enabled", 2048)


@pytest.mark.parametrize(
    ("request_body", "param"),
    [
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "system", "content": "x"}]}, "messages"),
        ({"messages": [{"role": "tool", "content": "x"}]}, "messages.0.role"),
        (
            {"messages": [{"role": "system", "content": [{"type": "image"}]}]},
            "messages.0.content.0.type",
        ),
        ({"messages": [{"role": "user", "content": "  "}]}, "messages.0.content"),
        (
            {"messages": [{"role": "user", "content": [{"type": "video"}]}]},
            "messages.0.content.0.type",
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "image",
                                "source": {
                                    "type": "base64",
                                    "media_type": "image/bmp",
                                    "data": PNG,
                                },
                            }
                        ],
                    }
                ]
            },
            "messages.0.content.0.source.data",
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "image",
                                "source": {"type": "file", "file_id": "file_1"},
                            }
                        ],
                    }
                ]
            },
            "messages.0.content.0.source.type",
        ),
        ({"messages": [{"role": "user", "content": "x"}], "system": 5}, "system"),
        (
            {"messages": [{"role": "user", "content": "x"}], "thinking": {"type": "on"}},
            "thinking.type",
        ),
        ({"messages": [{"role": "user", "content": "x"}], "stop_sequences": "END"}, None),
        (
            {"messages": [{"role": "user", "content": "x"}], "tools": [{"name": "t"}]},
            "tools.0.input_schema",
        ),
        (
            {"messages": [{"role": "user", "content": "x"}], "tools": [{}], "tool_choice": "auto"},
            "tools.0.name",
        ),
        (
            {"messages": [{"role": "user", "content": "x"}], "tool_choice": {"type": "any"}},
            "tool_choice",
        ),
        (
            {
                "messages": [
                    {"role": "user", "content": "x"},
                    {"role": "assistant", "content": "y"},
                    {
                        "role": "user",
                        "content": [{"type": "tool_result", "tool_use_id": "toolu_1"}],
                    },
                ]
            },
            "messages",
        ),
    ],
)
def test_bad_requests_name_the_field(request_body, param):
    if param is None:  # a bare string is accepted as one stop sequence
        assert anthropic.to_conversation(request_body).options.stop == ("END",)
        return
    with pytest.raises(InvalidRequest) as info:
        anthropic.to_conversation(request_body)
    assert info.value.param == param


def result(**kw) -> Result:
    base = dict(
        text="4",
        stop_reason="end_turn",
        usage=Usage(10, 3, 4, 2),
        session_id="s",
        model="claude-opus-5-5",
    )
    return Result(**{**base, **kw})


def test_message_shape():
    reply = Reply(
        "4", "because", "sig", (), result(stop_reason="stop_sequence", stop_sequence="END")
    )
    plain = anthropic.response(reply, {"model": "opus"})
    assert plain["type"] == "message" and plain["role"] == "assistant"
    assert plain["content"] == [{"type": "text", "text": "4"}]
    assert plain["stop_reason"] == "stop_sequence" and plain["stop_sequence"] == "END"
    assert plain["usage"] == {
        "input_tokens": 10,
        "output_tokens": 3,
        "cache_read_input_tokens": 4,
        "cache_creation_input_tokens": 2,
    }
    with_thinking = anthropic.response(
        reply, {"thinking": {"type": "enabled", "budget_tokens": 1024}}
    )
    assert with_thinking["content"][0] == {
        "type": "thinking",
        "thinking": "because",
        "signature": "sig",
    }


async def _events(items):
    for item in items:
        if isinstance(item, Exception):
            raise item
        yield item


def events(items, request_body) -> list[dict]:
    async def collect():
        return [c async for c in anthropic.stream(_events(items), request_body)]

    out = []
    for chunk in asyncio.run(collect()):
        head, data = chunk.rstrip("\n").split("\n")
        payload = json.loads(data.removeprefix("data: "))
        assert head == f"event: {payload['type']}"
        out.append(payload)
    return out


def test_native_event_sequence_with_thinking():
    seq = events(
        [
            Started("s", "claude-opus-5-5"),
            Usage(10, 1),
            ThinkingDelta("hm"),
            SignatureDelta("sig"),
            TextDelta("4"),
            result(),
        ],
        {"thinking": {"type": "enabled", "budget_tokens": 1024}},
    )
    assert [e["type"] for e in seq] == [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert seq[0]["message"]["model"] == "claude-opus-5-5"
    assert seq[0]["message"]["usage"]["input_tokens"] == 10
    assert seq[1]["content_block"]["type"] == "thinking"
    assert seq[4]["delta"] == {"type": "signature_delta", "signature": "sig"}
    assert seq[6] == {
        "type": "content_block_start",
        "index": 1,
        "content_block": {"type": "text", "text": ""},
    }
    # langchain reads usage from message_delta only: it must be cumulative and complete
    assert seq[9]["usage"] == {
        "input_tokens": 10,
        "output_tokens": 3,
        "cache_read_input_tokens": 4,
        "cache_creation_input_tokens": 2,
    }


def test_thinking_is_dropped_unless_asked():
    seq = events([ThinkingDelta("hm"), SignatureDelta("sig"), TextDelta("4"), result()], {})
    assert [
        e.get("content_block", {}).get("type") for e in seq if e["type"] == "content_block_start"
    ] == ["text"]


def test_mid_stream_error_event():
    seq = events([TextDelta("par"), CLIAuthError("logged out")], {})
    assert seq[-1] == {
        "type": "error",
        "error": {"type": "authentication_error", "message": "logged out"},
    }


def test_tool_blocks_translate():
    conv = anthropic.to_conversation(
        body(
            [
                {"role": "user", "content": "weather?"},
                {
                    "role": "assistant",
                    "content": [
                        {"type": "text", "text": "Checking."},
                        {
                            "type": "tool_use",
                            "id": "toolu_1",
                            "name": "get_weather",
                            "input": {"city": "Paris"},
                        },
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": "toolu_1",
                            "content": "Rain",
                            "is_error": True,
                        }
                    ],
                },
            ],
            tools=[{"name": "get_weather", "input_schema": {"type": "object"}}],
            tool_choice={"type": "any", "disable_parallel_tool_use": True},
        )
    )
    assert conv.turns[1].parts[1] == ToolCallPart("toolu_1", "get_weather", '{"city":"Paris"}')
    assert conv.prompt.parts == (ToolResultPart("toolu_1", (TextPart("Rain"),), is_error=True),)
    assert (conv.options.tool_choice, conv.options.parallel_tools) == ("required", False)


def test_tool_use_response_and_stream():
    calls = (ToolUse("toolu_1", "get_weather", {"city": "Paris"}),)
    data = anthropic.response(Reply("", "", "", calls, result(stop_reason="tool_use")), {})
    assert data["content"] == [
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}
    ]
    assert data["stop_reason"] == "tool_use"

    out = events(
        [
            TextDelta("Checking."),
            ToolUseStart("toolu_1", "get_weather"),
            ToolInputDelta("toolu_1", '{"city": "Paris"}'),
            ToolUse("toolu_1", "get_weather", {"city": "Paris"}),
            result(stop_reason="tool_use"),
        ],
        {},
    )
    kinds = [(e["type"], e.get("index")) for e in out]
    assert kinds == [
        ("message_start", None),
        ("content_block_start", 0),
        ("ping", None),
        ("content_block_delta", 0),
        ("content_block_stop", 0),
        ("content_block_start", 1),
        ("content_block_delta", 1),
        ("content_block_stop", 1),
        ("message_delta", None),
        ("message_stop", None),
    ]
    assert out[5]["content_block"] == {
        "type": "tool_use",
        "id": "toolu_1",
        "name": "get_weather",
        "input": {},
    }
    assert out[6]["delta"] == {"type": "input_json_delta", "partial_json": '{"city": "Paris"}'}
    assert out[8]["delta"]["stop_reason"] == "tool_use"
