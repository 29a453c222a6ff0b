"""A first token that takes longer than one keep-alive interval (a long hidden think, a cold
start): the response starts at the interval with the protocol's opening, keep-alives follow,
and a failure after that arrives in the stream in the protocol's own shape, read by the real
SDKs.

The fake CLI stays silent until the test opens its gate (`FAKE_CLAUDE_WAIT_FOR`), so the
"40-second silent stretch at a 1-second interval" of issue #17 is 40 intervals of 25 ms: the
gate opens once 40 keep-alives have arrived, with no clock in the test.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import anthropic
import httpx
import openai
import pytest
from fake_claude_log import FAKE_CLAUDE
from serve_process import Server

INTERVAL = "0.025"
SILENT_INTERVALS = 40
ANTHROPIC_HEADERS = {"anthropic-version": "2023-06-01"}
CHAT = {"model": "opus", "stream": True, "messages": [{"role": "user", "content": "hello"}]}
MESSAGES = {**CHAT, "max_tokens": 50}
RESPONSES = {"model": "opus", "stream": True, "input": "hello"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("first-token")
    env = dict(os.environ)
    env.update(
        CLAUDE_MAX_CLAUDE_PATH=str(FAKE_CLAUDE),
        CLAUDE_MAX_HOME=str(home),
        FAKE_CLAUDE_WAIT_FOR=str(home / "gate"),
    )
    server = Server(env, "--warm", "0", "--keepalive", INTERVAL)
    server.gate = home / "gate"
    yield server
    server.stop()


@pytest.fixture
def gate(server) -> Path:
    """The fake CLI's gate, closed: a turn stays silent until `open_gate`."""
    server.gate.unlink(missing_ok=True)
    yield server.gate
    open_gate(server.gate)  # never leave a CLI waiting


def open_gate(gate: Path, then: str = "") -> None:
    """Let the waiting CLI go on: answer (""), or "crash" (stderr "boom", exit 1)."""
    tmp = gate.with_suffix(".tmp")
    tmp.write_text(then)
    tmp.replace(gate)  # whole at once: the CLI never reads a half-written file


def openai_client(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key="x", max_retries=0, timeout=10)


def anthropic_client(server) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server.url, api_key="x", max_retries=0, timeout=10)


def silent_stretch(gate: Path, url: str, body: dict, ping: str, headers: dict | None = None):
    """Stream `body`; open the gate after SILENT_INTERVALS keep-alives. The lines before the
    gate opened, and all of them."""
    with httpx.Client(timeout=10) as client:
        with client.stream("POST", url, json=body, headers=headers or {}) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            lines: list[str] = []
            before: list[str] | None = None
            for line in response.iter_lines():
                lines.append(line)
                if before is None and lines.count(ping) >= SILENT_INTERVALS:
                    before = list(lines)
                    open_gate(gate)
    assert before is not None, lines
    return before, lines


def test_openai_keepalives_before_the_first_token_then_the_answer(server, gate):
    before, lines = silent_stretch(gate, f"{server.url}/v1/chat/completions", CHAT, ": keep-alive")
    assert not [line for line in before if line.startswith("data:")]  # nothing but comments
    assert before.count(": keep-alive") >= SILENT_INTERVALS
    chunks = [json.loads(line[6:]) for line in lines if line.startswith("data: {")]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert text == "ECHO:hello"
    assert "data: [DONE]" in lines


def test_anthropic_opens_with_message_start_then_pings_then_the_answer(server, gate):
    before, lines = silent_stretch(
        gate, f"{server.url}/v1/messages", MESSAGES, "event: ping", ANTHROPIC_HEADERS
    )
    events = [line for line in before if line.startswith("event: ")]
    assert events[0] == "event: message_start"
    assert set(events[1:]) == {"event: ping"} and len(events) - 1 >= SILENT_INTERVALS
    assert lines.count("event: message_start") == 1  # not sent again at the first token
    assert "event: content_block_delta" in lines and "event: message_stop" in lines


def test_responses_opens_with_created_and_in_progress_then_the_answer(server, gate):
    before, lines = silent_stretch(gate, f"{server.url}/v1/responses", RESPONSES, ": keep-alive")
    events = [line for line in before if line.startswith("event: ")]
    assert events == ["event: response.created", "event: response.in_progress"]
    assert before.count(": keep-alive") >= SILENT_INTERVALS
    assert lines.count("event: response.created") == 1
    assert "event: response.output_text.delta" in lines
    assert "event: response.completed" in lines


def test_the_sdks_read_a_stream_that_opened_early(server, gate):
    """The real clients accept the early opening and the keep-alives, and get the answer."""
    # The SDK returns the stream once the headers are in: the response has started early.
    with openai_client(server) as client, client.chat.completions.create(**CHAT) as stream:
        open_gate(gate)
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "ECHO:hello"

    gate.unlink()
    body = {k: v for k, v in MESSAGES.items() if k != "stream"}
    with anthropic_client(server) as claude, claude.messages.stream(**body) as reply:
        open_gate(gate)
        assert reply.get_final_text() == "ECHO:hello"
        final = reply.get_final_message()
        assert final.stop_reason == "end_turn"
        assert final.usage.input_tokens > 0  # message_start said 0: message_delta's count

    gate.unlink()
    with openai_client(server) as client, client.responses.create(**RESPONSES) as events:
        open_gate(gate)
        kinds = [event.type for event in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"


def test_openai_failure_after_the_start_is_an_error_chunk_the_sdk_raises(server, gate):
    with openai_client(server) as client, client.chat.completions.create(**CHAT) as stream:
        open_gate(gate, "crash")  # the SDK has the 200: the response had started
        with pytest.raises(openai.APIError) as caught:
            list(stream)
    assert "boom" in caught.value.message, caught.value


def test_anthropic_failure_after_the_start_is_an_error_event_the_sdk_raises(server, gate):
    with anthropic_client(server) as claude, claude.messages.create(**MESSAGES) as stream:
        open_gate(gate, "crash")
        with pytest.raises(anthropic.APIStatusError) as caught:
            list(stream)
    assert caught.value.body["error"]["type"] == "api_error", caught.value.body
    assert "boom" in caught.value.body["error"]["message"]


def test_responses_failure_after_the_start_is_response_failed(server, gate):
    with openai_client(server) as client, client.responses.create(**RESPONSES) as stream:
        open_gate(gate, "crash")
        events = list(stream)
    assert [e.type for e in events[:2]] == ["response.created", "response.in_progress"]
    failed = events[-1]
    assert failed.type == "response.failed"
    assert failed.response.status == "failed" and "boom" in failed.response.error.message
    assert failed.response.id == events[0].response.id  # the opening's response, carried on
