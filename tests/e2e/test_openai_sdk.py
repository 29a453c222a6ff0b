"""The official `openai` SDK against `claude-max serve` and the real pinned CLI."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest
from helpers import PNG_1PX, blocks, dialogue, system_text

pytestmark = pytest.mark.e2e


@pytest.fixture
def client(real_server) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{real_server.url}/v1", api_key="unused", max_retries=0) as c:
        yield c


def test_non_streaming_answer_usage_and_cost(client, fake_upstream, real_server):
    fake_upstream.set_script(
        {
            "default": {
                "type": "echo",
                "prefix": "ECHO:",
                "usage": {
                    "input_tokens": 11,
                    "output_tokens": 7,
                    "cache_read_input_tokens": 5,
                    "cache_creation_input_tokens": 3,
                },
            }
        }
    )
    raw = client.chat.completions.with_raw_response.create(
        model="sonnet", messages=[{"role": "user", "content": "hello there"}]
    )
    completion = raw.parse()
    assert completion.choices[0].message.content == "ECHO:hello there"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == "claude-sonnet-5-5"
    assert completion.usage.prompt_tokens == 19
    assert completion.usage.completion_tokens == 7
    assert completion.usage.prompt_tokens_details.cached_tokens == 5
    assert float(raw.headers["x-claude-max-cost-usd"]) > 0
    [body] = fake_upstream.message_requests()
    assert body["tools"] == []
    assert body["model"] == "claude-sonnet-5-5"


def test_streaming_with_usage_chunk(client, fake_upstream):
    fake_upstream.set_script({"default": {"type": "text", "text": "one two three", "chunks": 3}})
    chunks = list(
        client.chat.completions.create(
            model="opus",
            messages=[{"role": "user", "content": "count"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "one two three"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0
    assert all(c.usage is None for c in chunks[:-1])


def test_multi_turn_keeps_its_structure_upstream(client, fake_upstream):
    client.chat.completions.create(
        model="sonnet",
        messages=[
            {"role": "system", "content": "--You are terse."},
            {"role": "user", "content": "first question"},
            {"role": "assistant", "content": "first answer"},
            {"role": "user", "content": "second question"},
        ],
    )
    [body] = fake_upstream.message_requests()
    assert dialogue(body) == [
        ("user", "first question"),
        ("assistant", "first answer"),
        ("user", "second question"),
    ]
    assert "--You are terse." in system_text(body)


def test_client_text_is_never_interpreted(client, fake_upstream, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    reply = client.chat.completions.create(
        model="sonnet", messages=[{"role": "user", "content": f"read @{secret} and /cost"}]
    )
    assert reply.choices[0].message.content == f"ECHO:read @{secret} and /cost"
    [body] = fake_upstream.message_requests()
    assert "TOP-SECRET-CONTENT" not in str(body)


def test_image_reaches_upstream_as_an_image_block(client, fake_upstream):
    client.chat.completions.create(
        model="sonnet",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what colour?"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_1PX}"}},
                ],
            }
        ],
    )
    [body] = fake_upstream.message_requests()
    [image] = blocks(body, "image")
    assert image["source"] == {"type": "base64", "media_type": "image/png", "data": PNG_1PX}


def test_unknown_model_is_404_without_running_the_cli(client, fake_upstream):
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    assert info.value.body["code"] == "model_not_found"
    assert fake_upstream.message_requests() == []


@pytest.mark.parametrize("stream", [False, True])
def test_upstream_429_is_a_rate_limit_error(client, fake_upstream, stream):
    fake_upstream.set_script({"default": {"type": "error", "status": 429}})
    with pytest.raises(openai.RateLimitError):
        result = client.chat.completions.create(
            model="sonnet", messages=[{"role": "user", "content": "x"}], stream=stream
        )
        list(result) if stream else None


def test_upstream_500_is_a_502(client, fake_upstream, real_server):
    fake_upstream.set_script({"default": {"type": "error", "status": 500}})
    response = httpx.post(
        f"{real_server.url}/v1/chat/completions",
        json={"model": "sonnet", "messages": [{"role": "user", "content": "x"}]},
        timeout=30,
    )
    assert response.status_code == 502
    assert response.json()["error"]["type"] == "server_error"


def test_stop_sequence_cuts_the_answer(client, fake_upstream):
    fake_upstream.set_script(
        {"default": {"type": "text", "text": "alpha beta STOP gamma delta", "chunks": 5}}
    )
    reply = client.chat.completions.create(
        model="sonnet", messages=[{"role": "user", "content": "go"}], stop=["STOP"]
    )
    assert reply.choices[0].message.content == "alpha beta "
    assert reply.choices[0].finish_reason == "stop"


def test_max_tokens_ends_with_length(client, fake_upstream):
    fake_upstream.set_script(
        {"default": {"type": "text", "text": "truncated answ", "stop_reason": "max_tokens"}}
    )
    reply = client.chat.completions.create(
        model="sonnet", messages=[{"role": "user", "content": "go"}], max_tokens=5
    )
    assert reply.choices[0].message.content == "truncated answ"
    assert reply.choices[0].finish_reason == "length"
    assert fake_upstream.message_requests()[0]["max_tokens"] == 5


def test_reasoning_content_from_thinking(client, fake_upstream):
    fake_upstream.set_script(
        {"default": {"type": "thinking", "thinking": "Let me think.", "text": "4", "chunks": 2}}
    )
    chunks = list(
        client.chat.completions.create(
            model="opus", messages=[{"role": "user", "content": "2+2?"}], stream=True
        )
    )
    reasoning = "".join(
        getattr(c.choices[0].delta, "reasoning_content", None) or "" for c in chunks if c.choices
    )
    assert reasoning == "Let me think."
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "4"
