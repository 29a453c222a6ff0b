"""Keep-alives fill a stream's silences: the wrapper on a controllable source, then through the
real server on the fake CLI (all three protocols), before the first token as well as after it."""

from __future__ import annotations

import asyncio
import functools
import os

import httpx
import pytest
from fake_claude_log import FAKE_CLAUDE
from serve_process import Server

from claude_max.protocols import anthropic, openai
from claude_max.server.keepalive import SSE_COMMENT, chunk_for, keep_alive


def sync(test):
    """Run an async test on a fresh event loop (the suite has no async plugin)."""

    @functools.wraps(test)
    def run() -> None:
        asyncio.run(test())

    return run


class Gate:
    """A source that yields "first", stays silent until released, then yields "last"."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.closed = False

    async def chunks(self):
        try:
            yield "first"
            await self.release.wait()
            yield "last"
        finally:
            self.closed = True


@sync
async def test_a_silent_stretch_is_filled_with_one_keepalive_per_interval():
    """40 intervals of silence (a 40 s stretch at 1 s, compressed) give 40 keep-alives."""
    gate = Gate()
    seen: list[str] = []
    source = gate.chunks()
    async for chunk in keep_alive(source, "PING", 0.01):
        seen.append(chunk)
        if seen.count("PING") == 40:
            gate.release.set()
    assert seen[0] == "first" and seen[-1] == "last"
    assert seen[1:-1] == ["PING"] * (len(seen) - 2) and len(seen) - 2 >= 40
    assert gate.closed


@sync
async def test_a_busy_stream_gets_no_keepalive():
    async def steady():
        for i in range(5):
            await asyncio.sleep(0)
            yield str(i)

    assert [c async for c in keep_alive(steady(), "PING", 5)] == ["0", "1", "2", "3", "4"]


@sync
async def test_zero_turns_keepalives_off():
    gate = Gate()
    stream = keep_alive(gate.chunks(), "PING", 0)
    assert await anext(stream) == "first"
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(anext(stream), 0.1)


@sync
async def test_closing_the_stream_closes_its_source():
    gate = Gate()
    stream = keep_alive(gate.chunks(), "PING", 0.01)
    assert await anext(stream) == "first"
    assert await anext(stream) == "PING"
    await stream.aclose()
    assert gate.closed


@sync
async def test_an_error_in_the_source_reaches_the_reader():
    async def broken():
        yield "a"
        raise ValueError("boom")

    stream = keep_alive(broken(), "PING", 5)
    assert await anext(stream) == "a"
    with pytest.raises(ValueError, match="boom"):
        await anext(stream)


def test_each_protocol_has_its_own_keepalive():
    assert chunk_for(anthropic) == 'event: ping\ndata: {"type": "ping"}\n\n'
    assert chunk_for(openai) == SSE_COMMENT == ": keep-alive\n\n"
    assert chunk_for(object()) == SSE_COMMENT  # a protocol without its own: a comment


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory):
    """A fake CLI that sits silent 1 s between its two deltas; keep-alive every 0.15 s."""
    home = tmp_path_factory.mktemp("keepalive")
    env = dict(os.environ)
    env.update(
        CLAUDE_MAX_CLAUDE_PATH=str(FAKE_CLAUDE),
        CLAUDE_MAX_HOME=str(home),
        FAKE_CLAUDE_DELAY_MS="1000",
        FAKE_CLAUDE_CHUNKS="2",
    )
    server = Server(env, "--warm", "0", "--keepalive", "0.15")
    yield server
    server.stop()


def _stream_lines(url: str, body: dict, headers: dict | None = None) -> list[str]:
    with httpx.Client(timeout=30) as client:
        with client.stream("POST", url, json=body, headers=headers or {}) as response:
            assert response.status_code == 200
            return list(response.iter_lines())


def test_openai_stream_carries_comment_keepalives_through_a_silence(slow_server):
    body = {"model": "opus", "stream": True, "messages": [{"role": "user", "content": "hello"}]}
    lines = _stream_lines(f"{slow_server.url}/v1/chat/completions", body)
    pings = [i for i, line in enumerate(lines) if line == ": keep-alive"]
    deltas = [i for i, line in enumerate(lines) if '"content"' in line]
    assert sum(deltas[0] < p < deltas[-1] for p in pings) >= 4, lines  # between the deltas
    assert lines[-2:] == ["data: [DONE]", ""] or lines[-1] == "data: [DONE]"


def test_anthropic_stream_carries_ping_events_through_a_silence(slow_server):
    body = {
        "model": "opus",
        "max_tokens": 50,
        "stream": True,
        "messages": [{"role": "user", "content": "hello"}],
    }
    lines = _stream_lines(
        f"{slow_server.url}/v1/messages", body, {"anthropic-version": "2023-06-01"}
    )
    pings = [i for i, line in enumerate(lines) if line == "event: ping"]
    deltas = [i for i, line in enumerate(lines) if line == "event: content_block_delta"]
    assert len(pings) >= 5, lines  # one after content_block_start, then the keep-alives
    assert sum(deltas[0] < p < deltas[-1] for p in pings) >= 4
    assert "event: message_stop" in lines
