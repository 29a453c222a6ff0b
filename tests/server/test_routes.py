"""Health, models, and the response shapes of both APIs over HTTP (fake CLI)."""

from __future__ import annotations

import json

import pytest
from fake_claude_log import FAKE_CLAUDE


def test_health(client):
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["cli"]["version"] == "2.1.330"
    assert body["cli"]["path"] == str(FAKE_CLAUDE)
    assert body["uptime_s"] >= 0 and body["version"] == "0.1.0"
    assert body["tools"] == "off"


def test_models_openai_shape(client):
    body = client.get("/v1/models").json()
    assert body["object"] == "list"
    assert {
        "id": "claude-opus-5-5",
        "object": "model",
        "created": 1767225600,
        "owned_by": "anthropic",
    } in body["data"]
    assert client.get("/v1/models/sonnet").json()["id"] == "sonnet"


def test_models_anthropic_shape(client):
    headers = {"anthropic-version": "2023-06-01"}
    body = client.get("/v1/models", headers=headers).json()
    assert body["has_more"] is False
    assert body["first_id"] == "claude-opus-5-5"
    assert body["data"][0]["type"] == "model"
    one = client.get("/v1/models/claude-code-cli/claude-sonnet-4", headers=headers).json()
    assert one["id"] == "claude-code-cli/claude-sonnet-4"  # the id asked for
    missing = client.get("/v1/models/gpt-4o", headers=headers)
    assert missing.status_code == 404 and missing.json()["type"] == "error"


ANTHROPIC = {"anthropic-version": "2023-06-01"}


@pytest.mark.parametrize("asked", ["claude-opus-4-20250514", "claude-opus-4", "opus", "OPUS"])
def test_a_model_is_answered_under_the_id_asked_for(client, asked):
    one = client.get(f"/v1/models/{asked}", headers=ANTHROPIC).json()
    assert one["id"] == asked
    assert "Opus" in one["display_name"]  # the model it resolves to (from the CLI's own list)
    assert client.get(f"/v1/models/{asked}").json()["id"] == asked


def test_anthropic_model_list_pages(client):
    everything = client.get("/v1/models", headers=ANTHROPIC).json()
    ids = [m["id"] for m in everything["data"]]
    assert len(ids) > 3 and everything["has_more"] is False
    first = client.get("/v1/models?limit=3", headers=ANTHROPIC).json()
    assert [m["id"] for m in first["data"]] == ids[:3]
    assert first["has_more"] is True and first["last_id"] == ids[2]
    second = client.get(f"/v1/models?limit=3&after_id={ids[2]}", headers=ANTHROPIC).json()
    assert [m["id"] for m in second["data"]] == ids[3:6]
    back = client.get(f"/v1/models?limit=2&before_id={ids[3]}", headers=ANTHROPIC).json()
    assert [m["id"] for m in back["data"]] == ids[1:3] and back["has_more"] is True
    last = client.get(f"/v1/models?after_id={ids[-2]}", headers=ANTHROPIC).json()
    assert [m["id"] for m in last["data"]] == ids[-1:] and last["has_more"] is False


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=1001", "limit=x", "after_id=nope", "after_id=opus&before_id=opus"]
)
def test_anthropic_model_list_rejects_bad_paging(client, query):
    response = client.get(f"/v1/models?{query}", headers=ANTHROPIC)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def sse_data(text: str) -> list:
    return [line[len("data: ") :] for line in text.splitlines() if line.startswith("data: ")]


def test_openai_stream_is_data_lines_only(client, fake_cli):
    fake_cli.use("echo", chunks=3)
    with client.stream(
        "POST",
        "/v1/chat/completions",
        json={"model": "opus", "stream": True, "messages": [{"role": "user", "content": "abcdef"}]},
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        text = response.read().decode()
    assert "event:" not in text
    data = sse_data(text)
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == "ECHO:abcdef"


@pytest.mark.parametrize("stream", [False, True])
def test_cost_header_on_non_streaming(client, fake_cli, stream):
    response = client.post(
        "/v1/messages",
        json={
            "model": "opus",
            "max_tokens": 5,
            "stream": stream,
            "messages": [{"role": "user", "content": "x"}],
        },
    )
    assert response.status_code == 200
    if stream:
        assert "x-claude-max-cost-usd" not in response.headers
    else:
        assert response.headers["x-claude-max-cost-usd"] == "0.012300"


def test_usage_is_the_clis(client, fake_cli):
    fake_cli.use("echo", usage=json.dumps({"input_tokens": 7, "cache_read_input_tokens": 3}))
    body = client.post(
        "/v1/messages",
        json={"model": "opus", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]},
    ).json()
    assert body["usage"]["input_tokens"] == 7
    assert body["usage"]["cache_read_input_tokens"] == 3
