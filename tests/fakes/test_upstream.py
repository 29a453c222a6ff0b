"""Self-test of the fake Anthropic upstream: raw HTTP checks, and the real CLI against it (e2e)."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

try:  # tests/ as a package (rootdir on sys.path) or not (pytest puts tests/fakes on sys.path)
    from tests.fakes.upstream import FakeUpstream, cli_env, last_user_text, plan_headers
except ImportError:  # pragma: no cover - depends on the layout
    from upstream import (  # type: ignore[no-redef]
        FakeUpstream,
        cli_env,
        last_user_text,
        plan_headers,
    )

UPSTREAM_PY = Path(__file__).with_name("upstream.py")
CLAUDE = os.environ.get(
    "CLAUDE_MAX_TEST_CLAUDE", "/root/.cache/claude-max-ci/cli/node_modules/.bin/claude"
)
CLI_TIMEOUT = 30

_requires_cli = pytest.mark.skipif(
    os.environ.get("CLAUDE_MAX_E2E") != "1" or not Path(CLAUDE).exists(),
    reason="needs CLAUDE_MAX_E2E=1 and the Claude Code CLI (CLAUDE_MAX_TEST_CLAUDE)",
)


def e2e(fn: Any) -> Any:
    return pytest.mark.e2e(_requires_cli(fn))


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def fake() -> Iterator[FakeUpstream]:
    with FakeUpstream() as upstream:
        yield upstream


def request(
    fake: FakeUpstream,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One request on a fresh connection; returns (status, lower-cased headers, body)."""
    parts = urlsplit(fake.url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        data = json.dumps(body).encode() if body is not None else None
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        try:
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            resp.close()
    finally:
        conn.close()


def messages_body(text: str = "hello", *, stream: bool = False, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "claude-opus-5-5",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": text}],
        "stream": stream,
    }
    body.update(extra)
    return body


def post(fake: FakeUpstream, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    return request(fake, "POST", "/v1/messages?beta=true", body)


def sse_events(raw: bytes) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for frame in raw.decode().split("\n\n"):
        if not frame.strip():
            continue
        lines = dict(line.split(": ", 1) for line in frame.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def streamed_text(events: list[tuple[str, dict[str, Any]]]) -> str:
    return "".join(
        d["delta"].get("text", "")
        for name, d in events
        if name == "content_block_delta" and d["delta"]["type"] == "text_delta"
    )


def reply_text(fake: FakeUpstream, body: dict[str, Any]) -> str:
    status, _, raw = post(fake, body)
    assert status == 200, raw
    if body.get("stream"):
        return streamed_text(sse_events(raw))
    return "".join(b.get("text", "") for b in json.loads(raw)["content"])


# --------------------------------------------------------------------------- raw HTTP


def test_non_streaming_message_shape(fake: FakeUpstream) -> None:
    body = messages_body("hello there")
    status, headers, raw = post(fake, body)
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert headers["request-id"].startswith("req_fake_")
    msg = json.loads(raw)
    assert msg["id"].startswith("msg_fake_")
    assert msg["type"] == "message" and msg["role"] == "assistant"
    assert msg["model"] == "claude-opus-5-5"
    assert msg["content"] == [{"type": "text", "text": "hello there"}]
    assert msg["stop_reason"] == "end_turn" and msg["stop_sequence"] is None
    assert msg["usage"]["input_tokens"] == len(json.dumps(body).encode()) // 4
    assert msg["usage"]["output_tokens"] >= 1
    assert msg["usage"]["cache_read_input_tokens"] == 0
    assert msg["usage"]["cache_creation_input_tokens"] == 0
    [logged] = fake.requests
    assert logged["method"] == "POST" and logged["path"] == "/v1/messages?beta=true"
    assert logged["body"] == body
    assert logged["headers"]["content-type"] == "application/json"
    assert logged["headers"]["Content-Type"] == "application/json"  # any-case lookup
    assert fake.message_requests() == [body]


def test_streaming_event_sequence(fake: FakeUpstream) -> None:
    fake.set_script({"default": {"type": "text", "text": "Hello world, streaming!", "chunks": 3}})
    status, headers, raw = post(fake, messages_body(stream=True))
    assert status == 200
    assert headers["content-type"].startswith("text/event-stream")
    assert headers["request-id"].startswith("req_fake_")
    events = sse_events(raw)
    assert [name for name, _ in events] == [
        "message_start",
        "ping",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert all(name == data["type"] for name, data in events)
    # the same split as the recorded transcript (stream_json_partial.stdout)
    assert [d["delta"]["text"] for n, d in events if n == "content_block_delta"] == [
        "Hello wo",
        "rld, str",
        "eaming!",
    ]
    start = events[0][1]["message"]
    assert start["id"].startswith("msg_fake_") and start["content"] == []
    assert start["usage"]["output_tokens"] == 1
    assert events[2][1]["content_block"] == {"type": "text", "text": ""}
    delta = events[-2][1]
    assert delta["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    assert delta["usage"]["output_tokens"] >= 1


def test_thinking_and_tool_use_replies(fake: FakeUpstream) -> None:
    fake.set_script(
        {
            "rules": [
                {
                    "when": {"contains": "think"},
                    "reply": {"type": "thinking", "thinking": "Let me reason.", "text": "4"},
                }
            ],
            "default": {
                "type": "tool_use",
                "name": "get_weather",
                "input": {"city": "Paris"},
                "text": "Checking.",
                "id": "toolu_x",
                "chunks": 2,
            },
        }
    )
    _, _, raw = post(fake, messages_body("think", stream=False))
    assert json.loads(raw)["content"] == [
        {"type": "thinking", "thinking": "Let me reason.", "signature": "fake-signature"},
        {"type": "text", "text": "4"},
    ]
    _, _, raw = post(fake, messages_body("think", stream=True))
    deltas = [d["delta"] for n, d in sse_events(raw) if n == "content_block_delta"]
    assert deltas == [
        {"type": "thinking_delta", "thinking": "Let me reason."},
        {"type": "signature_delta", "signature": "fake-signature"},
        {"type": "text_delta", "text": "4"},
    ]

    _, _, raw = post(fake, messages_body("weather?"))
    msg = json.loads(raw)
    assert msg["stop_reason"] == "tool_use"
    assert msg["content"] == [
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "toolu_x", "name": "get_weather", "input": {"city": "Paris"}},
    ]
    _, _, raw = post(fake, messages_body("weather?", stream=True))
    events = sse_events(raw)
    starts = [d["content_block"] for n, d in events if n == "content_block_start"]
    assert starts[1] == {"type": "tool_use", "id": "toolu_x", "name": "get_weather", "input": {}}
    partial = [
        d["delta"]["partial_json"]
        for n, d in events
        if n == "content_block_delta" and d["delta"]["type"] == "input_json_delta"
    ]
    assert len(partial) == 2 and json.loads("".join(partial)) == {"city": "Paris"}
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"


def test_usage_override_is_exact(fake: FakeUpstream) -> None:
    usage = {
        "input_tokens": 1234,
        "output_tokens": 56,
        "cache_read_input_tokens": 78,
        "cache_creation_input_tokens": 9,
    }
    fake.set_script({"default": {"type": "text", "text": "hi", "usage": usage}})
    _, _, raw = post(fake, messages_body())
    assert json.loads(raw)["usage"] == usage
    _, _, raw = post(fake, messages_body(stream=True))
    events = dict(sse_events(raw))
    assert events["message_start"]["message"]["usage"] == {**usage, "output_tokens": 1}
    assert events["message_delta"]["usage"] == {"output_tokens": 56}


def test_replies_queue_then_rules_then_default(fake: FakeUpstream) -> None:
    script = {
        "replies": [
            {"type": "text", "text": "first", "times": 2},
            {"type": "text", "text": "second"},
        ],
        "rules": [{"when": {"contains": "magic"}, "reply": {"type": "text", "text": "rule"}}],
        "default": {"type": "echo", "prefix": "E:"},
    }
    fake.set_script(script)
    got = [reply_text(fake, messages_body("magic word")) for _ in range(5)]
    assert got == ["first", "first", "second", "rule", "rule"]
    assert reply_text(fake, messages_body("plain")) == "E:plain"
    fake.set_script(script)  # the queue starts over
    assert reply_text(fake, messages_body("x", stream=True)) == "first"


def test_rule_conditions(fake: FakeUpstream) -> None:
    def rule(when: dict[str, Any], text: str) -> dict[str, Any]:
        return {"when": when, "reply": {"type": "text", "text": text}}

    fake.set_script(
        {
            "rules": [
                rule({"last_is_tool_result": True}, "after-tool"),
                rule({"model_contains": "haiku"}, "haiku"),
                rule({"tool_named": "StructuredOutput"}, "structured"),
                rule({"system_contains": "terse"}, "terse"),
                rule({"stream": False, "contains": "both"}, "both-nonstream"),
            ],
            "default": {"type": "text", "text": "default"},
        }
    )
    tool_result_msgs = [
        {"role": "user", "content": "do it"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "t1", "name": "x", "input": {}}],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}],
        },
        {"role": "system", "content": "Today's date is 2026-11-24."},
    ]
    assert reply_text(fake, messages_body(messages=tool_result_msgs)) == "after-tool"
    assert reply_text(fake, messages_body(model="claude-haiku-5-5")) == "haiku"
    tools = [{"name": "StructuredOutput", "input_schema": {"type": "object"}}]
    assert reply_text(fake, messages_body(tools=tools)) == "structured"
    system = [
        {"type": "text", "text": "x-anthropic-billing-header: …"},
        {"type": "text", "text": "Be terse."},
    ]
    assert reply_text(fake, messages_body(system=system)) == "terse"
    assert reply_text(fake, messages_body("both ways")) == "both-nonstream"
    assert reply_text(fake, messages_body("both ways", stream=True)) == "default"
    assert reply_text(fake, messages_body("nothing")) == "default"


def test_last_user_text_skips_cli_injections() -> None:
    body = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {
                        "type": "text",
                        "text": "<system-reminder>\n# Environment\n</system-reminder>",
                    },
                    {"type": "text", "text": "first part"},
                    {"type": "image", "source": {"type": "base64", "data": "AAAA"}},
                    {"type": "text", "text": "second part"},
                    {"type": "text", "text": "[Image: source: /tmp/x/images/1.png]"},
                ],
            },
            {"role": "system", "content": [{"type": "text", "text": "# Environment"}]},
        ]
    }
    assert last_user_text(body) == "first part\nsecond part"
    assert last_user_text({"messages": []}) == ""


def test_error_replies(fake: FakeUpstream) -> None:
    fake.set_script(
        {
            "replies": [
                {"type": "error", "status": 429, "headers": {"x-should-retry": "false"}},
                {"type": "error", "status": 404, "message": "model: foo-bar"},
                {"type": "error", "status": 400, "error_type": "custom_error", "message": "m"},
            ]
        }
    )
    status, headers, raw = post(fake, messages_body(stream=True))
    assert status == 429 and headers["x-should-retry"] == "false"
    assert headers["request-id"].startswith("req_fake_")
    assert json.loads(raw) == {
        "type": "error",
        "error": {"type": "rate_limit_error", "message": "rate_limit_error"},
    }
    status, _, raw = post(fake, messages_body())
    assert status == 404
    assert json.loads(raw)["error"] == {"type": "not_found_error", "message": "model: foo-bar"}
    status, _, raw = post(fake, messages_body())
    assert status == 400 and json.loads(raw)["error"] == {"type": "custom_error", "message": "m"}


def test_sse_error_breaks_the_stream(fake: FakeUpstream) -> None:
    fake.set_script(
        {
            "replies": [
                {
                    "type": "text",
                    "text": "partial answer that breaks",
                    "chunks": 4,
                    "sse_error": {"after_deltas": 2},
                },
            ],
            "default": {"type": "text", "text": "second attempt ok"},
        }
    )
    status, _, raw = post(fake, messages_body(stream=True))
    assert status == 200
    events = sse_events(raw)
    assert [n for n, _ in events] == [
        "message_start", "ping", "content_block_start",
        "content_block_delta", "content_block_delta", "error",
    ]  # fmt: skip
    assert streamed_text(events) == "partial answer"
    assert events[-1][1] == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
    }
    assert reply_text(fake, messages_body()) == "second attempt ok"


def test_keep_alive_connection_serves_several_requests(fake: FakeUpstream) -> None:
    parts = urlsplit(fake.url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        for stream in (True, False, True):
            conn.request("POST", "/v1/messages", body=json.dumps(messages_body(stream=stream)))
            resp = conn.getresponse()
            try:
                assert resp.status == 200
                assert resp.read()
            finally:
                resp.close()
    finally:
        conn.close()
    assert len(fake.message_requests()) == 3


def test_other_paths_methods_and_bad_requests(fake: FakeUpstream) -> None:
    status, _, raw = request(fake, "POST", "/v1/messages/count_tokens", messages_body())
    assert status == 200 and json.loads(raw)["input_tokens"] > 0
    status, _, raw = request(fake, "GET", "/v1/models")
    assert status == 404 and json.loads(raw)["error"]["type"] == "not_found_error"
    status, _, _ = request(fake, "GET", "/v1/messages")
    assert status == 405
    status, _, raw = request(fake, "POST", "/v1/messages", headers={"Content-Length": "0"})
    assert status == 400 and json.loads(raw)["type"] == "error"

    # CONNECT (what a proxied HTTPS request looks like) is logged and refused.
    with socket.create_connection(("127.0.0.1", fake.port), timeout=10) as sock:
        sock.sendall(
            b"CONNECT api.anthropic.com:443 HTTP/1.1\r\nHost: api.anthropic.com:443\r\n\r\n"
        )
        assert sock.recv(4096).startswith(b"HTTP/1.1 405")
    # Garbage does not kill the server.
    with socket.create_connection(("127.0.0.1", fake.port), timeout=10) as sock:
        sock.sendall(b"\x00\x01garbage\r\n\r\n")
        sock.recv(4096)
    with socket.create_connection(("127.0.0.1", fake.port), timeout=10) as sock:
        sock.sendall(b"POST /v1/messages HTTP/1.1\r\nContent-Length: 10\r\n\r\n{not json}")
        assert sock.recv(4096).startswith(b"HTTP/1.1 400")

    assert reply_text(fake, messages_body("still alive")) == "still alive"
    methods = [(r["method"], r["path"]) for r in fake.requests]
    assert ("CONNECT", "api.anthropic.com:443") in methods
    assert ("GET", "/v1/models") in methods
    assert fake.message_requests()[-1]["messages"][0]["content"] == "still alive"
    assert all(b is None or "messages" in b for b in fake.message_requests())
    fake.clear()
    assert fake.requests == [] and fake.message_requests() == []


def test_stop_is_quick_with_hanging_and_slow_streams() -> None:
    fake = FakeUpstream(
        {
            "rules": [{"when": {"contains": "hang"}, "reply": {"type": "hang"}}],
            "default": {"type": "text", "text": "slow " * 50, "chunks": 50, "delay_ms": 500},
        }
    ).start()
    socks = []
    try:
        for text, stream in (("hang", True), ("hang", False), ("slow", True), ("slow", False)):
            sock = socket.create_connection(("127.0.0.1", fake.port), timeout=10)
            socks.append(sock)
            data = json.dumps(messages_body(text, stream=stream)).encode()
            sock.sendall(
                b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
                % (len(data), data)
            )
        idle = socket.create_connection(("127.0.0.1", fake.port), timeout=10)  # keep-alive idle
        socks.append(idle)
        assert fake.wait_for_requests(4, timeout=10)
        time.sleep(0.2)
        started = time.monotonic()
        fake.stop()
        assert time.monotonic() - started < 2
    finally:
        for sock in socks:
            sock.close()
        fake.stop()  # idempotent


def test_invalid_scripts_are_rejected() -> None:
    for bad in (
        {"default": {"type": "nope"}},
        {"rules": [{"when": {"colour": "red"}, "reply": {"type": "text"}}]},
        {"replies": [{"type": "text", "times": 0}]},
        {"default": {"type": "tool_use"}},
        {"defaults": {"type": "echo"}},
    ):
        with pytest.raises(ValueError):
            FakeUpstream(bad)


@pytest.mark.parametrize("stream", [False, True])
def test_content_replies_carry_extra_headers(stream: bool) -> None:
    headers = plan_headers(five_hour=0.5, five_hour_reset=100)
    with FakeUpstream({"default": {"type": "text", "text": "hi", "headers": headers}}) as fake:
        status, got, _ = post(fake, messages_body(stream=stream))
    assert status == 200
    assert got["anthropic-ratelimit-unified-5h-utilization"] == "0.5"
    assert got["anthropic-ratelimit-unified-5h-reset"] == "100"
    assert got["anthropic-ratelimit-unified-status"] == "allowed"
    assert got["anthropic-ratelimit-unified-representative-claim"] == "five_hour"


def test_cli_env(tmp_path: Path) -> None:
    env = cli_env("http://127.0.0.1:1234", tmp_path / "home", CLAUDE_CODE_MAX_RETRIES="2", X="y")
    assert env["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:1234"
    assert env["HTTPS_PROXY"] == env["HTTP_PROXY"] == "http://127.0.0.1:1234"
    assert env["NO_PROXY"] == "127.0.0.1,localhost"
    assert env["ANTHROPIC_API_KEY"] == "sk-fake"
    assert env["HOME"] == str(tmp_path / "home")
    assert env["CLAUDE_CONFIG_DIR"] == str(tmp_path / "home" / ".claude")
    assert env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] == "1"
    assert env["DISABLE_TELEMETRY"] == "1"
    assert env["CLAUDE_CODE_MAX_RETRIES"] == "2" and env["X"] == "y"
    assert env["PATH"].split(os.pathsep) == [os.path.dirname(sys.executable), "/usr/bin", "/bin"]
    assert "ANTHROPIC_AUTH_TOKEN" not in env
    assert env["CLAUDE_MAX_PASS_API_ENV"] == "1"  # claude-max passes the key and URL on


def test_main_serves_until_sigterm() -> None:
    script = json.dumps({"default": {"type": "echo", "prefix": "M:"}})
    proc = subprocess.Popen(
        [sys.executable, str(UPSTREAM_PY), "--port", "0", "--script", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        parts = urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
        try:
            conn.request("POST", "/v1/messages", body=json.dumps(messages_body("ping")))
            resp = conn.getresponse()
            try:
                assert json.loads(resp.read())["content"][0]["text"] == "M:ping"
            finally:
                resp.close()
        finally:
            conn.close()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


# --------------------------------------------------------------------------- the real CLI


def run_cli(
    fake: FakeUpstream, tmp_path: Path, prompt: str = "hello there", *args: str
) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    cwd = tmp_path / "cwd"
    cwd.mkdir(exist_ok=True)
    proc = subprocess.run(
        [
            CLAUDE,
            "-p",
            "--output-format",
            "stream-json",
            "--verbose",
            "--include-partial-messages",
            "--tools",
            "",
            *args,
            "--",
            prompt,
        ],
        env=cli_env(fake.url, tmp_path / "home"),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
    )
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return proc, lines


def result_line(lines: list[dict[str, Any]]) -> dict[str, Any]:
    [result] = [line for line in lines if line["type"] == "result"]
    return result


def deltas(lines: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [
        line["event"]["delta"]
        for line in lines
        if line["type"] == "stream_event"
        and line["event"]["type"] == "content_block_delta"
        and line["event"]["delta"]["type"] == kind
    ]


@e2e
def test_cli_echo_streamed(fake: FakeUpstream, tmp_path: Path) -> None:
    fake.set_script({"default": {"type": "echo", "prefix": "ECHO:"}})
    proc, lines = run_cli(fake, tmp_path, "hello there")
    assert proc.returncode == 0, proc.stderr
    result = result_line(lines)
    assert result["is_error"] is False
    assert result["result"] == "ECHO:hello there"
    assert "".join(d["text"] for d in deltas(lines, "text_delta")) == "ECHO:hello there"
    [body] = fake.message_requests()
    assert body["tools"] == [] and body["stream"] is True
    [logged] = [r for r in fake.requests if r["path"].startswith("/v1/messages")]
    assert logged["path"] == "/v1/messages?beta=true"
    assert logged["headers"]["x-api-key"] == "sk-fake"
    assert not [r for r in fake.requests if r["method"] == "CONNECT"]
    # the CLI's {"role":"system"} message comes after the user message and is skipped
    assert last_user_text(body) == "hello there"


@e2e
def test_cli_text_in_three_chunks(fake: FakeUpstream, tmp_path: Path) -> None:
    fake.set_script({"default": {"type": "text", "text": "Hello world, streaming!", "chunks": 3}})
    proc, lines = run_cli(fake, tmp_path, "hi")
    assert proc.returncode == 0, proc.stderr
    assert [d["text"] for d in deltas(lines, "text_delta")] == ["Hello wo", "rld, str", "eaming!"]
    assert result_line(lines)["result"] == "Hello world, streaming!"


@e2e
def test_cli_thinking(fake: FakeUpstream, tmp_path: Path) -> None:
    fake.set_script(
        {
            "default": {
                "type": "thinking",
                "thinking": "Let me reason about this.",
                "text": "4",
                "chunks": 2,
            }
        }
    )
    proc, lines = run_cli(fake, tmp_path, "2+2?")
    assert proc.returncode == 0, proc.stderr
    assert [d["thinking"] for d in deltas(lines, "thinking_delta")] == [
        "Let me reason",
        " about this.",
    ]
    assert deltas(lines, "signature_delta") == [
        {"type": "signature_delta", "signature": "fake-signature"}
    ]
    contents = [line["message"]["content"] for line in lines if line["type"] == "assistant"]
    assert contents == [
        [
            {
                "type": "thinking",
                "thinking": "Let me reason about this.",
                "signature": "fake-signature",
            }
        ],
        [{"type": "text", "text": "4"}],
    ]
    assert result_line(lines)["result"] == "4"


@e2e
def test_cli_reports_exact_usage(fake: FakeUpstream, tmp_path: Path) -> None:
    usage = {
        "input_tokens": 1000,
        "output_tokens": 42,
        "cache_read_input_tokens": 300,
        "cache_creation_input_tokens": 20,
    }
    fake.set_script({"default": {"type": "text", "text": "counted", "usage": usage}})
    proc, lines = run_cli(fake, tmp_path, "hi")
    assert proc.returncode == 0, proc.stderr
    result = result_line(lines)
    assert {k: result["usage"][k] for k in usage} == usage
    model_usage = result["modelUsage"]["claude-opus-5-5"]
    assert model_usage["inputTokens"] == 1000 and model_usage["outputTokens"] == 42
    assert model_usage["cacheReadInputTokens"] == 300
    assert model_usage["cacheCreationInputTokens"] == 20


@e2e
def test_cli_rate_limited(fake: FakeUpstream, tmp_path: Path) -> None:
    fake.set_script({"default": {"type": "error", "status": 429, "message": "Slow down"}})
    proc, lines = run_cli(fake, tmp_path, "hi")
    assert proc.returncode == 1
    result = result_line(lines)
    assert result["is_error"] is True
    assert result["api_error_status"] == 429
    assert result["api_error_type"] == "rate_limit_error"
    assert result["result"] == "API Error: Request rejected (429) · Slow down"
    assert len(fake.message_requests()) == 1  # CLAUDE_CODE_MAX_RETRIES=0


@e2e
def test_cli_sse_error_midstream_retries_without_streaming(
    fake: FakeUpstream, tmp_path: Path
) -> None:
    fake.set_script(
        {
            "replies": [
                {
                    "type": "text",
                    "text": "partial answer that breaks",
                    "chunks": 4,
                    "sse_error": {"after_deltas": 2},
                }
            ],
            "default": {"type": "text", "text": "second attempt ok"},
        }
    )
    proc, lines = run_cli(fake, tmp_path, "hi")
    assert proc.returncode == 0, proc.stderr
    assert [d["text"] for d in deltas(lines, "text_delta")] == ["partial", " answer"]
    stops = [
        line
        for line in lines
        if line["type"] == "stream_event" and line["event"]["type"] == "message_stop"
    ]
    assert len(stops) == 1 and stops[0]["abandoned_blocks"]["from_block_index"] == 0
    first_id = stops[0]["abandoned_blocks"]["api_message_id"]
    [assistant] = [line for line in lines if line["type"] == "assistant"]
    assert assistant["message"]["content"] == [{"type": "text", "text": "second attempt ok"}]
    assert assistant["message"]["id"] != first_id
    result = result_line(lines)
    assert result["is_error"] is False and result["result"] == "second attempt ok"
    assert [b["stream"] for b in fake.message_requests()] == [True, False]


@e2e
def test_cli_tool_use_round_trip(fake: FakeUpstream, tmp_path: Path) -> None:
    fake.set_script(
        {
            "rules": [
                {
                    "when": {"last_is_tool_result": True},
                    "reply": {"type": "text", "text": "done after tool"},
                }
            ],
            "default": {
                "type": "tool_use",
                "name": "get_weather",
                "input": {"city": "Paris"},
                "text": "Running it.",
            },
        }
    )
    proc, lines = run_cli(fake, tmp_path, "weather?")
    assert proc.returncode == 0, proc.stderr
    first, second = fake.message_requests()
    tool_use = second["messages"][-2]["content"][-1]
    assert tool_use["type"] == "tool_use" and tool_use["input"] == {"city": "Paris"}
    assert tool_use["id"].startswith("toolu_")
    assert second["messages"][-1]["content"][0]["type"] == "tool_result"
    assert result_line(lines)["result"] == "done after tool"
