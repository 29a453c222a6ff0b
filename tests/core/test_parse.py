"""StreamParser and error_for on the real CLI's recorded output (tests/data/transcripts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from claude_max.core import errors
from claude_max.core.events import (
    ControlRequest,
    MessageEnd,
    Result,
    SignatureDelta,
    Started,
    TextDelta,
    TextReset,
    ThinkingDelta,
    ToolInputDelta,
    ToolUse,
    ToolUseStart,
    Usage,
)
from claude_max.core.parse import StreamParser, error_for

TRANSCRIPTS = Path(__file__).parents[1] / "data" / "transcripts"


def parse(name: str) -> list:
    parser = StreamParser()
    events = []
    for line in (TRANSCRIPTS / f"{name}.stdout").read_bytes().splitlines():
        events.extend(parser.feed(line))
    return events


def of(events: list, kind: type) -> list:
    return [e for e in events if isinstance(e, kind)]


def test_partial_messages_become_text_deltas_once():
    events = parse("stream_json_partial")
    assert events[0] == Started("f334816c-4ec2-4945-8988-f4f0433ec6ca", "claude-opus-5-5")
    # The whole `assistant` line repeats the deltas; it must not be yielded again.
    assert [e.text for e in of(events, TextDelta)] == ["Hello wo", "rld, str", "eaming!"]
    [result] = of(events, Result)
    assert result.text == "Hello world, streaming!"
    assert result.stop_reason == "end_turn"
    assert result.usage == Usage(input_tokens=12519, output_tokens=12)
    assert result.cost_usd == pytest.approx(0.050316)
    assert result.model == "claude-opus-5-5"
    assert error_for(result) is None
    assert of(events, MessageEnd) == [MessageEnd("end_turn")]


def test_thinking_deltas_and_signature():
    events = parse("stream_json_thinking")
    assert "".join(e.text for e in of(events, ThinkingDelta)) == "Let me reason about this."
    assert of(events, SignatureDelta) == [SignatureDelta("fake-signature")]
    assert [e.text for e in of(events, TextDelta)] == ["4"]


def test_abandoned_stream_is_replaced_not_repeated():
    events = parse("err_sse_overloaded_midstream")
    texts = [e for e in events if isinstance(e, (TextDelta, TextReset))]
    assert texts == [
        TextDelta("partial"),
        TextDelta(" answer"),
        TextReset(keep=0),
        TextDelta("second attempt ok"),
    ]
    assert of(events, Result)[0].text == "second attempt ok"


def test_retry_that_continues_the_abandoned_text_sends_only_the_rest():
    parser = StreamParser()
    line = '{{"type":"stream_event","api_message_id":"m1","event":{}}}'
    parser.feed(
        line.format(
            '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello "}}'
        )
    )
    parser.feed(
        '{"type":"stream_event","api_message_id":"m1","event":{"type":"message_stop"},'
        '"abandoned_blocks":{"api_message_id":"m1","from_block_index":0}}'
    )
    events = parser.feed(
        '{"type":"assistant","message":{"id":"m2","model":"x",'
        '"content":[{"type":"text","text":"Hello world"}]}}'
    )
    assert events == [TextDelta("world")]
    assert parser.text == "Hello world"


@pytest.mark.parametrize(
    ("name", "kind", "status"),
    [
        ("err_429_stream_json_retries0", errors.UpstreamError, 429),
        ("err_529_stream_json_retries0", errors.UpstreamError, 529),
        ("err_500_stream_json_retries0", errors.UpstreamError, 502),
        ("err_401_stream_json_retries0", errors.CLIAuthError, 401),
        ("no_credentials_stream_json", errors.CLIAuthError, 401),
        ("model_unknown_404_stream", errors.ModelNotFound, 404),
    ],
)
def test_error_results_map_to_one_exception(name, kind, status):
    events = parse(name)
    [result] = of(events, Result)
    assert not of(events, TextDelta)  # the synthetic "API Error" text is not an answer
    error = error_for(result)
    assert isinstance(error, kind)
    assert error.status == status


def test_not_logged_in_hints_at_login():
    [result] = of(parse("no_credentials_stream_json"), Result)
    error = error_for(result)
    assert error.hint == "Run: claude auth login"


def test_garbage_lines_are_ignored():
    parser = StreamParser()
    assert parser.feed(b"not json at all") == []
    assert parser.feed(b"[1, 2]") == []


def _out_lines(name: str) -> list[str]:
    """stdout lines of a recorded stdin/stdout session (`+time dir payload` lines)."""
    lines = []
    for line in (TRANSCRIPTS / name).read_text().splitlines():
        parts = line.split(None, 3)
        if len(parts) == 4 and parts[0] == "+" and parts[2] == "out":
            lines.append(parts[3])
    return lines


def test_sdk_mcp_session_yields_control_requests_and_the_tool_call():
    parser = StreamParser()
    events = [
        e
        for line in _out_lines("warm_sdk_mcp_tool_denied_interrupt.txt")
        for e in parser.feed(line)
    ]
    requests = of(events, ControlRequest)
    assert [r.request["subtype"] for r in requests] == ["mcp_message"] * 3 + ["can_use_tool"]
    assert [r.request["message"].get("method") for r in requests[:3]] == [
        "initialize",
        "notifications/initialized",
        "tools/list",
    ]
    assert requests[3].request["tool_use_id"] == "toolu_2805547dc49747d7a3168ad0"
    [call] = of(events, ToolUse)  # a whole (not streamed) message: the call in one piece
    assert (call.name, call.input) == ("mcp__proxy__get_weather", {"city": "Paris"})


def test_streamed_tool_use_blocks_become_start_fragments_and_the_whole_call():
    parser = StreamParser()
    lines = [
        {"type": "stream_event", "api_message_id": "m1", "event": e}
        for e in [
            {
                "type": "content_block_start",
                "index": 1,
                "content_block": {"type": "tool_use", "id": "t1", "name": "n", "input": {}},
            },
            {
                "type": "content_block_delta",
                "index": 1,
                "delta": {"type": "input_json_delta", "partial_json": '{"a"'},
            },
            {
                "type": "content_block_delta",
                "index": 1,
                "delta": {"type": "input_json_delta", "partial_json": ": 1}"},
            },
            {"type": "content_block_stop", "index": 1},
        ]
    ]
    lines.append(
        {
            "type": "assistant",
            "message": {
                "id": "m1",
                "content": [{"type": "tool_use", "id": "t1", "name": "n", "input": {"a": 1}}],
            },
        }
    )
    events = [e for line in lines for e in parser.feed_obj(line)]
    assert events == [
        ToolUseStart("t1", "n"),
        ToolInputDelta("t1", '{"a"'),
        ToolInputDelta("t1", ": 1}"),
        ToolUse("t1", "n", {"a": 1}),
    ]  # and the repeated assistant line adds nothing


def test_structured_output_result_carries_the_object():
    [result] = of(parse("json_schema_structured_output"), Result)
    assert result.raw["structured_output"] == {"name": "Ada"}


def test_the_model_of_this_turn_not_the_sessions_first():
    """A resumed session switched to haiku: modelUsage lists opus first (the whole session)."""
    import json

    parser = StreamParser()
    lines = [
        {"type": "system", "subtype": "init", "session_id": "s", "model": "claude-opus-5-5"},
        {
            "type": "stream_event",
            "event": {
                "type": "message_start",
                "message": {"id": "m1", "model": "claude-haiku-5-5", "usage": {}},
            },
            "api_message_id": "m1",
        },
        {
            "type": "assistant",
            "message": {"id": "m1", "model": "claude-haiku-5-5", "content": []},
        },
        {
            "type": "result",
            "subtype": "success",
            "session_id": "s",
            "usage": {"input_tokens": 1, "output_tokens": 1},
            "modelUsage": {"claude-opus-5-5": {}, "claude-haiku-5-5": {}},
        },
    ]
    events = [e for line in lines for e in parser.feed(json.dumps(line))]
    [result] = of(events, Result)
    assert result.model == "claude-haiku-5-5"
