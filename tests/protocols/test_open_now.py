"""A stream opened before the first token (`stream(..., open_now=True)`, server/routes.py after
one keep-alive interval of silence): each protocol's opening at once, nothing sent twice at the
first token, and a failure before any token in the protocol's own in-stream shape."""

from __future__ import annotations

import asyncio
import json

from claude_max.core.errors import CLIProcessError
from claude_max.core.events import Result, Started, TextDelta, Usage
from claude_max.protocols import anthropic, openai, responses

BODY = {"model": "opus", "max_tokens": 50, "input": "hi"}
ANSWER = [
    Started("s", "claude-opus-5-5"),
    TextDelta("4"),
    Result(
        text="4",
        stop_reason="end_turn",
        usage=Usage(10, 3, 0, 0),
        session_id="s",
        model="claude-opus-5-5",
    ),
]
CRASH = CLIProcessError("the CLI exited with code 1: boom")


async def _events(items):
    for item in items:
        await asyncio.sleep(0)
        if isinstance(item, Exception):
            raise item
        yield item


def chunks(protocol, items, open_now=True) -> list[str]:
    async def collect():
        return [c async for c in protocol.stream(_events(items), BODY, open_now=open_now)]

    return asyncio.run(collect())


def first_without_events(protocol) -> list[str]:
    """What goes out before the source yields anything."""

    async def opening():
        never = asyncio.Event()

        async def silent():
            await never.wait()
            yield  # pragma: no cover

        stream = protocol.stream(silent(), BODY, open_now=True)
        out = []
        while True:
            try:
                out.append(await asyncio.wait_for(anext(stream), 0.05))
            except TimeoutError:
                await stream.aclose()
                return out

    return asyncio.run(opening())


def kinds(sse: list[str]) -> list[str]:
    return [c.split("\n", 1)[0].removeprefix("event: ") for c in sse]


def test_anthropic_opens_with_message_start_and_a_ping():
    opening = first_without_events(anthropic)
    assert kinds(opening) == ["message_start", "ping"]
    start = json.loads(opening[0].split("\n")[1].removeprefix("data: "))
    assert start["message"]["model"] == "opus" and start["message"]["usage"]["input_tokens"] == 0
    sent = kinds(chunks(anthropic, ANSWER))
    assert sent.count("message_start") == 1  # not again at the first token
    assert sent[-2:] == ["message_delta", "message_stop"]


def test_anthropic_failure_before_any_token_is_an_error_event():
    sent = chunks(anthropic, [Started("s", "m"), CRASH])
    assert kinds(sent) == ["message_start", "ping", "error"]
    error = json.loads(sent[-1].split("\n")[1].removeprefix("data: "))
    assert error == {"type": "error", "error": {"type": "api_error", "message": CRASH.message}}


def test_openai_opens_with_a_comment_and_fails_with_an_error_chunk():
    assert first_without_events(openai) == [openai.KEEPALIVE]
    sent = chunks(openai, [CRASH])
    assert sent[0] == ": keep-alive\n\n"
    assert json.loads(sent[-1].removeprefix("data: "))["error"]["message"] == CRASH.message


def test_responses_opens_with_created_and_in_progress_and_fails_with_response_failed():
    assert kinds(first_without_events(responses)) == [
        "response.created",
        "response.in_progress",
    ]
    sent = chunks(responses, [CRASH])
    assert kinds(sent) == ["response.created", "response.in_progress", "response.failed"]
    data = [json.loads(c.split("\n")[1].removeprefix("data: ")) for c in sent]
    assert [d["sequence_number"] for d in data] == [0, 1, 2]
    assert data[2]["response"]["id"] == data[0]["response"]["id"]
    assert data[2]["response"]["error"]["message"] == CRASH.message
    answered = kinds(chunks(responses, ANSWER))
    assert answered.count("response.created") == 1 and answered[-1] == "response.completed"


def test_not_opened_early_nothing_changes():
    assert kinds(chunks(anthropic, ANSWER, open_now=False))[0] == "message_start"
    assert chunks(openai, ANSWER, open_now=False)[0].startswith("data: ")
