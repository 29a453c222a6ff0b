"""The official `anthropic` SDK against `claude-max serve` and the real pinned CLI."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import pytest
from helpers import PNG_1PX, blocks, dialogue, system_text

pytestmark = pytest.mark.e2e


@pytest.fixture
def client(real_server) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=real_server.url, api_key="unused", max_retries=0) as c:
        yield c


def test_create_returns_text_and_exact_usage(client, fake_upstream):
    fake_upstream.set_script(
        {
            "default": {
                "type": "echo",
                "prefix": "ECHO:",
                "usage": {
                    "input_tokens": 21,
                    "output_tokens": 4,
                    "cache_read_input_tokens": 8,
                    "cache_creation_input_tokens": 2,
                },
            }
        }
    )
    message = client.messages.create(
        model="claude-code-cli/claude-sonnet-4",
        max_tokens=1024,
        system="You are a test.",
        messages=[{"role": "user", "content": "hello"}],
    )
    assert message.content[0].text == "ECHO:hello"
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens == 21
    assert message.usage.output_tokens == 4
    assert message.usage.cache_read_input_tokens == 8
    assert message.usage.cache_creation_input_tokens == 2
    [body] = fake_upstream.message_requests()
    assert "You are a test." in system_text(body)
    assert body["model"] == "claude-sonnet-5-5"


def test_stream_helper_accumulates_the_message(client, fake_upstream):
    fake_upstream.set_script(
        {"default": {"type": "text", "text": "Hello world, streaming!", "chunks": 3}}
    )
    with client.messages.stream(
        model="opus", max_tokens=1024, messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert len(pieces) == 3
    assert "".join(pieces) == "Hello world, streaming!"
    assert final.content[0].text == "Hello world, streaming!"
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens > 0


def test_raw_event_sequence(client, fake_upstream):
    events = list(
        client.messages.create(
            model="opus", max_tokens=64, messages=[{"role": "user", "content": "hi"}], stream=True
        )
    )
    kinds = [e.type for e in events]
    assert kinds[0] == "message_start"
    assert kinds[1] == "content_block_start"
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert events[-2].usage.input_tokens > 0


def test_multi_turn_system_blocks_and_image(client, fake_upstream):
    client.messages.create(
        model="sonnet",
        max_tokens=100,
        system=[{"type": "text", "text": "Block one."}, {"type": "text", "text": "Block two."}],
        messages=[
            {"role": "user", "content": "first question"},
            {"role": "assistant", "content": [{"type": "text", "text": "first answer"}]},
            {
                "role": "user",
                "content": [
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": PNG_1PX},
                    },
                    {"type": "text", "text": "and this?"},
                ],
            },
        ],
    )
    [body] = fake_upstream.message_requests()
    assert dialogue(body) == [
        ("user", "first question"),
        ("assistant", "first answer"),
        ("user", "and this?"),
    ]
    assert "Block one.\n\nBlock two." in system_text(body)
    assert len(blocks(body, "image")) == 1


def test_thinking_blocks_when_asked(client, fake_upstream):
    fake_upstream.set_script(
        {"default": {"type": "thinking", "thinking": "Let me reason.", "text": "4", "chunks": 2}}
    )
    with client.messages.stream(
        model="opus",
        max_tokens=2048,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=[{"role": "user", "content": "2+2?"}],
    ) as stream:
        final = stream.get_final_message()
    assert [b.type for b in final.content] == ["thinking", "text"]
    assert final.content[0].thinking == "Let me reason."
    assert final.content[0].signature == "fake-signature"
    assert final.content[1].text == "4"


def test_no_thinking_blocks_unless_asked(client, fake_upstream):
    fake_upstream.set_script({"default": {"type": "thinking", "thinking": "hmm", "text": "4"}})
    message = client.messages.create(
        model="opus", max_tokens=100, messages=[{"role": "user", "content": "2+2?"}]
    )
    assert [b.type for b in message.content] == ["text"]


def test_stop_sequences_streaming(client, fake_upstream):
    fake_upstream.set_script(
        {"default": {"type": "text", "text": "alpha beta STOP gamma delta", "chunks": 6}}
    )
    with client.messages.stream(
        model="sonnet",
        max_tokens=100,
        stop_sequences=["STOP"],
        messages=[{"role": "user", "content": "go"}],
    ) as stream:
        final = stream.get_final_message()
    assert final.content[0].text == "alpha beta "
    assert final.stop_reason == "stop_sequence"
    assert final.stop_sequence == "STOP"


def test_unknown_model_404(client, fake_upstream):
    with pytest.raises(anthropic.NotFoundError) as info:
        client.messages.create(
            model="foo-bar", max_tokens=10, messages=[{"role": "user", "content": "x"}]
        )
    assert info.value.body["type"] == "error"
    assert info.value.body["error"]["type"] == "not_found_error"


@pytest.mark.parametrize("stream", [False, True])
def test_upstream_429(client, fake_upstream, stream):
    fake_upstream.set_script({"default": {"type": "error", "status": 429}})
    with pytest.raises(anthropic.RateLimitError) as info:
        result = client.messages.create(
            model="sonnet",
            max_tokens=10,
            messages=[{"role": "user", "content": "x"}],
            stream=stream,
        )
        list(result) if stream else None
    assert info.value.body["error"]["type"] == "rate_limit_error"


def test_upstream_500(client, fake_upstream):
    fake_upstream.set_script({"default": {"type": "error", "status": 500}})
    with pytest.raises(anthropic.InternalServerError) as info:
        client.messages.create(
            model="sonnet", max_tokens=10, messages=[{"role": "user", "content": "x"}]
        )
    assert info.value.status_code == 502


def test_broken_stream_retry_is_not_sent_twice(client, fake_upstream):
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
            "default": {"type": "text", "text": "second attempt ok"},
        }
    )
    message = client.messages.create(
        model="sonnet", max_tokens=100, messages=[{"role": "user", "content": "x"}]
    )
    assert message.content[0].text == "second attempt ok"


def test_models_list_in_anthropic_shape(client):
    page = client.models.list()
    ids = [m.id for m in page.data]
    assert "claude-opus-5-5" in ids and "claude-sonnet-5-5" in ids
    assert client.models.retrieve("claude-haiku-5-5").display_name == "Claude Haiku 5.5"
