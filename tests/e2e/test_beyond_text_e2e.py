"""Beyond text, end to end (real CLI, fake upstream): the CLI's own model list, new and
variant model names, effort and thinking, OpenAI documents and image URLs, as the upstream
receives them."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from helpers import blocks

pytestmark = pytest.mark.e2e

ANTHROPIC = {"anthropic-version": "2023-06-01"}
PDF = base64.b64encode(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n").decode()


def model_call(fake) -> dict[str, Any]:
    """The request that answered (a warm CLI switched to a full id sends a 1-token probe
    first, not streamed)."""
    return [r for r in fake.requests if (r["body"] or {}).get("stream")][-1]


def chat(server, fake, **body: Any) -> dict[str, Any]:
    body.setdefault("messages", [{"role": "user", "content": "hi"}])
    response = httpx.post(f"{server.url}/v1/chat/completions", json=body, timeout=60)
    assert response.status_code == 200, response.text
    return model_call(fake)


def message(server, fake, **body: Any) -> dict[str, Any]:
    body.setdefault("messages", [{"role": "user", "content": "hi"}])
    body.setdefault("max_tokens", 100)
    response = httpx.post(f"{server.url}/v1/messages", json=body, headers=ANTHROPIC, timeout=60)
    assert response.status_code == 200, response.text
    return model_call(fake)


def test_models_are_the_clis_own_list(real_server, fake_upstream):
    ids = [m["id"] for m in httpx.get(f"{real_server.url}/v1/models", timeout=60).json()["data"]]
    assert {"claude-opus-5-5", "claude-sonnet-5-5", "claude-haiku-5-5", "claude-fable-5-2"} <= set(
        ids
    )
    assert "default" in ids  # an alias only the CLI's list has, not the static catalog
    again = httpx.get(f"{real_server.url}/v1/models", headers=ANTHROPIC, timeout=60).json()
    assert [m["id"] for m in again["data"]] == ids
    assert fake_upstream.requests == []  # reading it costs no model call


@pytest.mark.parametrize(
    ("name", "upstream_model"),
    [
        ("opus[1m]", "claude-opus-5-5"),
        ("claude-opus-4-6[1m]", "claude-opus-4-6"),
        ("claude-sonnet-4.5", "claude-sonnet-4-5"),
        ("claude-opus-9-1", "claude-opus-9-1"),
    ],
)
def test_model_names_reach_the_upstream(real_server, fake_upstream, name, upstream_model):
    call = chat(real_server, fake_upstream, model=name)
    assert call["body"]["model"] == upstream_model
    if name == "claude-opus-4-6[1m]":
        assert "context-1m" in call["headers"]["anthropic-beta"]


def test_the_upstreams_404_for_an_unknown_model_is_ours(real_server, fake_upstream):
    fake_upstream.set_script(
        {
            "rules": [
                {
                    "when": {"model_contains": "claude-opus-9-9"},
                    "reply": {
                        "type": "error",
                        "status": 404,
                        "message": "model: claude-opus-9-9",
                    },
                }
            ],
            "default": {"type": "echo"},
        }
    )
    body = {"model": "claude-opus-9-9", "messages": [{"role": "user", "content": "hi"}]}
    openai_reply = httpx.post(f"{real_server.url}/v1/chat/completions", json=body, timeout=60)
    assert openai_reply.status_code == 404, openai_reply.text
    error = openai_reply.json()["error"]
    assert error["code"] == "model_not_found" and "claude-opus-9-9" in error["message"]
    anthropic_reply = httpx.post(
        f"{real_server.url}/v1/messages",
        json={**body, "max_tokens": 10, "stream": True},
        headers=ANTHROPIC,
        timeout=60,
    )
    assert anthropic_reply.status_code == 404
    assert anthropic_reply.json()["error"]["type"] == "not_found_error"
    assert "claude-opus-9-9" in anthropic_reply.json()["error"]["message"]
    assert {b["model"] for b in fake_upstream.message_requests()} == {"claude-opus-9-9"}


def test_effort_and_adaptive_thinking_reach_the_upstream(real_server, fake_upstream):
    call = message(real_server, fake_upstream, output_config={"effort": "max"})
    assert call["body"]["output_config"]["effort"] == "max"
    call = message(
        real_server,
        fake_upstream,
        output_config={"effort": "low"},
        thinking={"type": "adaptive", "display": "summarized"},
    )
    assert call["body"]["output_config"]["effort"] == "low"
    assert call["body"]["thinking"] == {"type": "adaptive", "display": "summarized"}
    call = message(real_server, fake_upstream, thinking={"type": "adaptive", "display": "omitted"})
    assert call["body"]["thinking"] == {"type": "adaptive", "display": "omitted"}
    call = chat(real_server, fake_upstream, reasoning_effort="high")
    assert call["body"]["output_config"]["effort"] == "high"


def test_an_effort_level_the_model_does_not_take_is_a_400(real_server, fake_upstream):
    httpx.get(f"{real_server.url}/v1/models", timeout=60)  # the CLI's list is known from here on
    response = httpx.post(
        f"{real_server.url}/v1/messages",
        json={
            "model": "opus",
            "max_tokens": 10,
            "output_config": {"effort": "ultra"},
            "messages": [{"role": "user", "content": "hi"}],
        },
        headers=ANTHROPIC,
        timeout=60,
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("'output_config.effort' must be one of")
    assert fake_upstream.requests == []


def test_openai_pdf_text_file_and_image_url_reach_the_upstream_unchanged(
    real_server, fake_upstream
):
    text = base64.b64encode(b"plain notes").decode()
    content = [
        {"type": "file", "file": {"file_data": f"data:application/pdf;base64,{PDF}"}},
        {
            "type": "file",
            "file": {"filename": "notes.txt", "file_data": f"data:text/plain;base64,{text}"},
        },
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
        {"type": "text", "text": "summarise"},
    ]
    call = chat(real_server, fake_upstream, messages=[{"role": "user", "content": content}])
    assert blocks(call["body"], "document") == [
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": PDF},
        },
        {
            "type": "document",
            "source": {"type": "text", "media_type": "text/plain", "data": "plain notes"},
            "title": "notes.txt",
        },
    ]
    assert blocks(call["body"], "image") == [
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}}
    ]
    # nothing was fetched: every request the fake saw is a model call
    assert {r["path"].split("?")[0] for r in fake_upstream.requests} == {"/v1/messages"}
