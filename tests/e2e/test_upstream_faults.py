"""Upstream failures through the real CLI: each a documented status, and the server goes on."""

from __future__ import annotations

import json

import httpx
import pytest

pytestmark = pytest.mark.e2e

ANTHROPIC_BODY = {
    "model": "sonnet",
    "max_tokens": 50,
    "messages": [{"role": "user", "content": "x"}],
}


@pytest.mark.parametrize(
    ("status", "expected", "kind"),
    [
        (401, 401, "authentication_error"),
        (429, 429, "rate_limit_error"),
        (500, 502, "api_error"),
        (529, 529, "overloaded_error"),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_upstream_error_statuses(real_server, fake_upstream, status, expected, kind, stream):
    fake_upstream.set_script({"default": {"type": "error", "status": status}})
    response = httpx.post(
        f"{real_server.url}/v1/messages", json={**ANTHROPIC_BODY, "stream": stream}, timeout=60
    )
    assert response.status_code == expected
    assert response.json()["error"]["type"] == kind
    fake_upstream.set_script({"default": {"type": "echo", "prefix": "ECHO:"}})
    again = httpx.post(f"{real_server.url}/v1/messages", json=ANTHROPIC_BODY, timeout=60)
    assert again.json()["content"][0]["text"] == "ECHO:x"
    assert httpx.get(f"{real_server.url}/health").json()["status"] == "ok"


def test_broken_stream_after_text_ends_with_an_error_event(real_server, fake_upstream):
    fake_upstream.set_script(
        {
            "replies": [
                {
                    "type": "text",
                    "text": "partial answer that breaks",
                    "chunks": 4,
                    "sse_error": {"after_deltas": 2},
                }
            ],
            "default": {"type": "text", "text": "a different retry"},
        }
    )
    with httpx.stream(
        "POST",
        f"{real_server.url}/v1/messages",
        json={**ANTHROPIC_BODY, "stream": True},
        timeout=60,
    ) as response:
        text = response.read().decode()
    assert response.status_code == 200
    assert "a different retry" not in text  # never sent after text it contradicts
    assert text.rstrip().split("\n\n")[-1].startswith("event: error")
    assert text.count("partial") == 1


def test_broken_stream_whose_retry_continues_sends_only_the_rest(real_server, fake_upstream):
    fake_upstream.set_script(
        {
            "replies": [
                {
                    "type": "text",
                    "text": "Hello there, friend",
                    "chunks": 4,
                    "sse_error": {"after_deltas": 2},
                }
            ],
            "default": {"type": "text", "text": "Hello there, friend"},
        }
    )
    body = {"model": "sonnet", "stream": True, "messages": [{"role": "user", "content": "x"}]}
    with httpx.stream("POST", f"{real_server.url}/v1/chat/completions", json=body, timeout=60) as r:
        lines = [line for line in r.iter_lines() if line.startswith("data: {")]
    text = "".join(
        json.loads(line[6:])["choices"][0]["delta"].get("content") or ""
        for line in lines
        if json.loads(line[6:]).get("choices")
    )
    assert text == "Hello there, friend"
