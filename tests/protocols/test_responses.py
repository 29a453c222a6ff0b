"""The Responses adapter: input items, tools, formats, the response object and the event
sequence, each checked against the openai SDK's own types and stream accumulator."""

from __future__ import annotations

import asyncio
import json

import pytest
from openai import omit
from openai._models import construct_type
from openai.lib.streaming.responses._responses import ResponseStreamState
from openai.types.responses import Response, ResponseStreamEvent

from claude_max.core.conversation import ImagePart, TextPart, ToolCallPart, ToolResultPart
from claude_max.core.errors import InvalidRequest, UpstreamError
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
from claude_max.protocols import responses

PNG = "iVBORw0KGgo="
APPLY_PATCH = {
    "type": "custom",
    "name": "apply_patch",
    "description": "Apply a patch.",
    "format": {"type": "grammar", "syntax": "lark", "definition": "start: /.+/"},
}
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def body(input_, **kw):
    return {"model": "sonnet", "input": input_, **kw}


def test_a_string_input_is_one_user_turn_and_instructions_the_system_prompt():
    conv = responses.to_conversation(body("hi", instructions="Be terse."))
    assert conv.system == "Be terse."
    assert [(t.role, t.parts) for t in conv.turns] == [("user", (TextPart("hi"),))]


def test_items_roles_parts_and_options():
    conv = responses.to_conversation(
        body(
            [
                {"type": "message", "role": "developer", "content": "Use French."},
                {"role": "user", "content": [{"type": "input_text", "text": "hi"}]},
                {
                    "type": "message",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": "salut", "annotations": []}],
                },
                {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "x"},
                {"role": "system", "content": [{"type": "input_text", "text": "Be kind."}]},
                {
                    "role": "user",
                    "content": [
                        {"type": "input_text", "text": "and this?"},
                        {"type": "input_image", "image_url": f"data:image/png;base64,{PNG}"},
                    ],
                },
            ],
            instructions="Be terse.",
            max_output_tokens=99,
            reasoning={"effort": "high", "summary": "auto"},
            text={"format": {"type": "json_schema", "name": "x", "schema": {"type": "object"}}},
            metadata={"a": "b"},
            store=False,
            include=["reasoning.encrypted_content"],
            prompt_cache_key="k",
            user="u",
            temperature=0.2,
            top_p=0.9,
            truncation="auto",
            service_tier="auto",
            stream_options={"include_obfuscation": False},
        )
    )
    assert conv.system == "Be terse.\n\nUse French.\n\nBe kind."
    assert [t.role for t in conv.turns] == ["user", "assistant", "user"]
    assert conv.prompt.parts == (TextPart("and this?"), ImagePart("image/png", PNG))
    assert conv.options.max_tokens == 99
    assert conv.options.effort == "high"
    assert json.loads(conv.options.json_schema) == {"type": "object"}


def test_nulls_mean_the_defaults():
    nulls = ("parallel_tool_calls", "reasoning", "text", "tools", "tool_choice", "store")
    request = body("hi", max_output_tokens=None, instructions=None, **dict.fromkeys(nulls))
    conv = responses.to_conversation(request)
    assert conv.options.parallel_tools is True and conv.options.max_tokens is None
    reply = Reply("x", "", "", (), result())
    Response.model_validate(responses.response(reply, request))


def test_reasoning_effort_none_turns_thinking_off():
    conv = responses.to_conversation(body("hi", reasoning={"effort": "none"}))
    assert conv.options.thinking == "disabled" and conv.options.effort is None


def test_function_and_custom_tools_round_trip_as_client_tools():
    conv = responses.to_conversation(
        body(
            [
                {"role": "user", "content": "patch it"},
                {"type": "function_call", "call_id": "c1", "name": "get_weather",
                 "arguments": '{"city": "Paris"}'},
                {"type": "function_call_output", "call_id": "c1", "output": "sunny"},
                {"type": "custom_tool_call", "call_id": "c2", "name": "apply_patch",
                 "input": "*** Begin Patch"},
                {"type": "custom_tool_call_output", "call_id": "c2",
                 "output": [{"type": "input_text", "text": "Done"}]},
            ],
            tools=[WEATHER, APPLY_PATCH, {"type": "web_search"}, {"type": "local_shell"}],
            tool_choice="required",
            parallel_tool_calls=False,
        )
    )  # fmt: skip
    assert [t.name for t in conv.tools] == ["get_weather", "apply_patch"]
    patch_schema = json.loads(conv.tools[1].schema_json)
    assert patch_schema["required"] == ["input"]
    assert "start: /.+/" in patch_schema["properties"]["input"]["description"]
    assert conv.options.tool_choice == "required" and conv.options.parallel_tools is False
    assert [t.role for t in conv.turns] == ["user", "assistant", "user", "assistant", "user"]
    assert conv.turns[1].parts == (ToolCallPart("c1", "get_weather", '{"city":"Paris"}'),)
    assert conv.turns[2].parts == (ToolResultPart("c1", (TextPart("sunny"),)),)
    assert conv.turns[3].parts == (
        ToolCallPart("c2", "apply_patch", '{"input":"*** Begin Patch"}'),
    )
    assert conv.turns[4].parts == (ToolResultPart("c2", (TextPart("Done"),)),)
    assert responses.ignored_tools(body("x", tools=[WEATHER, {"type": "file_search"}])) == [
        "file_search"
    ]
    assert responses.ignored_tools(body("x", tools=[{"type": "web_search"}])) == []


def test_tool_choice_forms():
    tools = [WEATHER, APPLY_PATCH]
    named = responses.to_conversation(
        body("x", tools=tools, tool_choice={"type": "custom", "name": "apply_patch"})
    )
    assert (named.options.tool_choice, named.options.tool_name) == ("tool", "apply_patch")
    allowed = responses.to_conversation(
        body(
            "x",
            tools=tools,
            tool_choice={
                "type": "allowed_tools",
                "mode": "required",
                "tools": [{"type": "function", "name": "get_weather"}],
            },
        )
    )
    assert allowed.options.tool_choice == "required"
    assert [t.name for t in allowed.tools] == ["get_weather"]


@pytest.mark.parametrize(
    ("request_body", "param"),
    [
        ({"input": 3}, "input"),
        ({"input": [{"role": "assistant", "content": "x"}]}, "input"),
        ({"input": [{"role": "robot", "content": "x"}]}, "input[0].role"),
        ({"input": [{"type": "item_reference", "id": "x"}]}, "input[0].type"),
        (
            {"input": [{"role": "user", "content": [{"type": "input_image", "file_id": "f"}]}]},
            "input[0].content[0].image_url",
        ),
        (
            {"input": [{"role": "user", "content": [{"type": "input_image",
                                                      "image_url": "https://x/y.png"}]}]},
            "input[0].content[0].image_url",
        ),
        ({"input": [{"type": "function_call_output", "call_id": "zz", "output": "x"}]}, "input"),
        ({"input": "x", "text": {"format": {"type": "yaml"}}}, "text.format.type"),
        ({"input": "x", "reasoning": {"effort": "huge"}}, "reasoning.effort"),
        ({"input": "x", "tool_choice": {"type": "web_search"}}, "tool_choice"),
        ({"input": "x", "tool_choice": "required"}, "tool_choice"),
        ({"input": "x", "max_output_tokens": 0}, "max_output_tokens"),
        ({"input": "x", "background": True}, "background"),
        ({"input": "x", "tools": [{"type": "function", "name": "bad name"}]}, "tools[0].name"),
    ],
)  # fmt: skip
def test_bad_requests_name_the_field(request_body, param):
    with pytest.raises(InvalidRequest) as caught:
        responses.to_conversation(request_body)
    assert caught.value.param == param


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


def test_response_object_is_a_valid_sdk_response():
    call = ToolUse("toolu_1", "get_weather", {"city": "Paris"})
    patch = ToolUse("toolu_2", "apply_patch", {"input": "*** Begin Patch"})
    reply = Reply("Let me look.", "thought", "sig", (call, patch), result(stop_reason="tool_use"))
    data = responses.response(reply, body("x", tools=[WEATHER, APPLY_PATCH]))
    parsed = Response.model_validate(data)  # strict: every required field, every type
    assert parsed.id.startswith("resp_") and parsed.status == "completed"
    assert parsed.output_text == "Let me look."
    kinds = [item.type for item in parsed.output]
    assert kinds == ["reasoning", "message", "function_call", "custom_tool_call"]
    assert parsed.output[0].summary[0].text == "thought"
    assert (parsed.output[2].call_id, parsed.output[2].name) == ("toolu_1", "get_weather")
    assert json.loads(parsed.output[2].arguments) == {"city": "Paris"}
    assert parsed.output[3].input == "*** Begin Patch"
    assert data["usage"] == {
        "input_tokens": 16,
        "input_tokens_details": {"cached_tokens": 4, "cache_write_tokens": 2},
        "output_tokens": 3,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 19,
    }


def test_max_output_tokens_makes_the_response_incomplete():
    data = responses.response(Reply("h", "", "", (), result(stop_reason="max_tokens")), body("x"))
    assert data["status"] == "incomplete"
    assert data["incomplete_details"] == {"reason": "max_output_tokens"}


async def _events(items):
    for item in items:
        if isinstance(item, Exception):
            raise item
        yield item


def sse(items, request_body) -> list[dict]:
    async def collect():
        return [c async for c in responses.stream(_events(items), request_body)]

    out = []
    for chunk in asyncio.run(collect()):
        head, data = chunk.rstrip("\n").split("\n")
        payload = json.loads(data.removeprefix("data: "))
        assert head == f"event: {payload['type']}"
        out.append(payload)
    assert [e["sequence_number"] for e in out] == list(range(len(out)))
    return out


def accumulate(events: list[dict]):
    """Feed the events to the openai SDK's own stream state; return its final response."""
    state = ResponseStreamState(input_tools=omit, text_format=omit)
    for data in events:
        state.handle_event(construct_type(type_=ResponseStreamEvent, value=data))
    return state._completed_response


def test_stream_of_reasoning_and_text():
    events = sse(
        [
            Started("s", "claude-opus-5-5"),
            ThinkingDelta("hm"),
            TextDelta("Hel"),
            TextDelta("lo"),
            result(text="Hello"),
        ],
        body("x"),
    )
    assert [e["type"] for e in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    final = accumulate(events)
    assert final.output_text == "Hello" and final.model == "claude-opus-5-5"
    assert final.output[0].summary[0].text == "hm"
    assert final.usage.input_tokens == 16 and final.usage.total_tokens == 19
    Response.model_validate(events[-1]["response"])


def test_stream_of_tool_calls():
    events = sse(
        [
            TextDelta("Calling."),
            ToolUseStart("toolu_1", "get_weather"),
            ToolInputDelta("toolu_1", '{"city": '),
            ToolInputDelta("toolu_1", '"Paris"}'),
            ToolUse("toolu_1", "get_weather", {"city": "Paris"}),
            ToolUseStart("toolu_2", "apply_patch"),
            ToolInputDelta("toolu_2", '{"input": "*** Begin'),
            ToolUse("toolu_2", "apply_patch", {"input": "*** Begin Patch"}),
            ToolUse("toolu_3", "get_weather", {"city": "Rome"}),  # not streamed: one piece
            result(stop_reason="tool_use"),
        ],
        body("x", tools=[WEATHER, APPLY_PATCH]),
    )
    kinds = [e["type"] for e in events]
    assert kinds.count("response.function_call_arguments.delta") == 3
    assert kinds.count("response.function_call_arguments.done") == 2
    assert kinds.count("response.custom_tool_call_input.delta") == 1
    done = next(e for e in events if e["type"] == "response.custom_tool_call_input.done")
    assert done["input"] == "*** Begin Patch"
    final = accumulate(events)
    assert [o.type for o in final.output] == [
        "message",
        "function_call",
        "custom_tool_call",
        "function_call",
    ]
    assert [getattr(o, "call_id", None) for o in final.output[1:]] == [
        "toolu_1",
        "toolu_2",
        "toolu_3",
    ]
    assert json.loads(final.output[3].arguments) == {"city": "Rome"}


def test_stream_that_hits_max_output_tokens_is_incomplete():
    events = sse([TextDelta("Hel"), result(stop_reason="max_tokens")], body("x"))
    assert events[-1]["type"] == "response.incomplete"
    assert events[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}


def test_mid_stream_failure_is_a_failed_response():
    events = sse(
        [TextDelta("partial"), UpstreamError("overloaded", status=529, kind="overloaded_error")],
        body("x"),
    )
    assert events[-1]["type"] == "response.failed"
    assert events[-1]["response"]["status"] == "failed"
    assert events[-1]["response"]["error"]["message"].startswith("overloaded")
    assert not any(e["type"] == "response.completed" for e in events)


def test_failure_before_any_output_still_opens_the_response():
    events = sse([UpstreamError("overloaded", status=529, kind="overloaded_error")], body("x"))
    assert [e["type"] for e in events] == [
        "response.created",
        "response.in_progress",
        "response.failed",
    ]


def test_retracted_text_fails_the_response():
    events = sse([TextDelta("partial"), TextReset(keep=0), TextDelta("other"), result()], {})
    assert events[-1]["type"] == "response.failed"
    assert not any(e.get("delta") == "other" for e in events)
