"""Web search end to end (real CLI, fake upstream): the client's web search server tool runs
as the CLI's WebSearch tool, whose sub-request reaches the upstream with the API's own
`web_search` server tool (the client's domains in it), and the answer comes back in each
protocol's native shape."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e

ANTHROPIC = {"anthropic-version": "2023-06-01"}
ANSWER = "Per [Example News](https://example.com/news), Rust 2.0 shipped."


def script(calls: int = 1) -> dict[str, Any]:
    """The model searches (`calls` WebSearch calls at once), the API's search answers the
    CLI's sub-request, then the model answers with a markdown link."""
    return {
        "rules": [
            {"when": {"tool_named": "web_search"}, "reply": {"type": "web_search"}},
            {
                "when": {"tool_named": "WebSearch", "last_is_tool_result": False},
                "reply": {
                    "type": "tool_use",
                    "text": "Let me look. ",
                    "calls": [
                        {"name": "WebSearch", "input": {"query": f"rust news {i}"}}
                        for i in range(calls)
                    ],
                },
            },
        ],
        "default": {"type": "text", "text": ANSWER},
    }


def sub_requests(fake) -> list[dict[str, Any]]:
    """The bodies of the CLI's web search sub-requests."""
    return [
        body
        for body in fake.message_requests()
        if any(str(t.get("type", "")).startswith("web_search_") for t in body.get("tools", []))
    ]


def main_requests(fake) -> list[dict[str, Any]]:
    return [body for body in fake.message_requests() if body not in sub_requests(fake)]


def messages(server, body: dict[str, Any]) -> httpx.Response:
    body = {"model": "claude-opus-5-5", "max_tokens": 200, **body}
    body.setdefault("messages", [{"role": "user", "content": "what's new in rust?"}])
    return httpx.post(f"{server.url}/v1/messages", json=body, headers=ANTHROPIC, timeout=120)


def sse(text: str) -> list[dict[str, Any]]:
    return [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: {")]


SEARCH_TOOL = {"type": "web_search_20250305", "name": "web_search", "max_uses": 5}


def test_anthropic_web_search(real_server, fake_upstream):
    fake_upstream.set_script(script())
    tool = {**SEARCH_TOOL, "allowed_domains": ["example.com"]}
    response = messages(real_server, {"tools": [tool]})
    assert response.status_code == 200, response.text
    data = response.json()
    kinds = [b["type"] for b in data["content"]]
    assert kinds == ["text", "server_tool_use", "web_search_tool_result", "text"]
    call, found = data["content"][1], data["content"][2]
    assert call["name"] == "web_search" and call["input"] == {"query": "rust news 0"}
    assert call["id"].startswith("srvtoolu_") and found["tool_use_id"] == call["id"]
    # The upstream's search kept only example.com (the client's domain reached it).
    assert [(r["type"], r["url"], r["title"]) for r in found["content"]] == [
        ("web_search_result", "https://example.com/news", "Example News")
    ]
    assert data["content"][3]["text"] == ANSWER
    assert data["usage"]["server_tool_use"] == {"web_search_requests": 1}
    (sub,) = sub_requests(fake_upstream)
    assert sub["tools"] == [
        {
            "type": "web_search_20250305",
            "name": "web_search",
            "allowed_domains": ["example.com"],
            "max_uses": 8,
        }
    ]
    # The model was offered only the CLI's WebSearch (and its inert placeholder).
    offered = {t["name"] for t in main_requests(fake_upstream)[0]["tools"]}
    assert offered <= {"WebSearch", "DeferredToolPlaceholder"} and "WebSearch" in offered


def test_anthropic_web_search_streamed(real_server, fake_upstream):
    fake_upstream.set_script(script())
    tool = {**SEARCH_TOOL, "blocked_domains": ["example.com"]}
    response = messages(real_server, {"tools": [tool], "stream": True})
    assert response.status_code == 200, response.text
    events = sse(response.text)
    starts = [e["content_block"] for e in events if e["type"] == "content_block_start"]
    assert [b["type"] for b in starts] == [
        "text",
        "server_tool_use",
        "web_search_tool_result",
        "text",
    ]
    assert starts[1]["name"] == "web_search" and starts[1]["input"] == {}
    deltas = [
        e["delta"]["partial_json"]
        for e in events
        if e["type"] == "content_block_delta" and e["delta"]["type"] == "input_json_delta"
    ]
    assert json.loads("".join(deltas)) == {"query": "rust news 0"}
    assert [r["url"] for r in starts[2]["content"]] == ["https://docs.example.org/guide"]
    final = next(e for e in events if e["type"] == "message_delta")
    assert final["usage"]["server_tool_use"] == {"web_search_requests": 1}
    (sub,) = sub_requests(fake_upstream)
    assert sub["tools"][0]["blocked_domains"] == ["example.com"]


def test_anthropic_max_uses_limits_the_models_searches(real_server, fake_upstream):
    fake_upstream.set_script(script(calls=3))
    response = messages(real_server, {"tools": [{**SEARCH_TOOL, "max_uses": 1}]})
    assert response.status_code == 200, response.text
    content = response.json()["content"]
    results = [b["content"] for b in content if b["type"] == "web_search_tool_result"]
    assert len(results) == 3
    errors = [r for r in results if isinstance(r, dict)]
    assert (
        errors == [{"type": "web_search_tool_result_error", "error_code": "max_uses_exceeded"}] * 2
    )
    assert len(sub_requests(fake_upstream)) == 1  # only one search reached the upstream
    assert response.json()["usage"]["server_tool_use"] == {"web_search_requests": 1}


def test_anthropic_web_fetch_needs_the_operators_opt_in(real_server, fake_upstream):
    tool = {"type": "web_fetch_20250910", "name": "web_fetch"}
    response = messages(real_server, {"tools": [tool]})
    assert response.status_code == 400
    assert "--allow-web-fetch" in response.json()["error"]["message"]
    assert fake_upstream.requests == []


def test_anthropic_sdk_parses_the_search_blocks(real_server, fake_upstream):
    anthropic = pytest.importorskip("anthropic")
    fake_upstream.set_script(script())
    client = anthropic.Anthropic(base_url=real_server.url, api_key="unused", max_retries=0)
    with client.messages.stream(
        model="claude-opus-5-5",
        max_tokens=200,
        messages=[{"role": "user", "content": "what's new in rust?"}],
        tools=[SEARCH_TOOL],
    ) as stream:
        final = stream.get_final_message()
    kinds = [b.type for b in final.content]
    assert kinds == ["text", "server_tool_use", "web_search_tool_result", "text"]
    assert final.content[1].input == {"query": "rust news 0"}
    assert [r.url for r in final.content[2].content] == [
        "https://example.com/news",
        "https://docs.example.org/guide",
    ]
    assert final.usage.server_tool_use.web_search_requests == 1


@pytest.fixture
def openai_client(real_server):
    openai = pytest.importorskip("openai")
    with openai.OpenAI(base_url=f"{real_server.url}/v1", api_key="unused", max_retries=0) as c:
        yield c


def test_responses_web_search(openai_client, fake_upstream):
    fake_upstream.set_script(script())
    response = openai_client.responses.create(
        model="claude-opus-5-5",
        input="what's new in rust?",
        tools=[{"type": "web_search", "filters": {"allowed_domains": ["example.com"]}}],
        include=["web_search_call.action.sources"],
    )
    kinds = [item.type for item in response.output]
    assert kinds == ["message", "web_search_call", "message"]
    search = response.output[1]
    assert search.status == "completed" and search.action.type == "search"
    assert search.action.query == "rust news 0"
    assert [s.url for s in search.action.sources] == ["https://example.com/news"]
    answer = response.output[2].content[0]
    assert answer.text == ANSWER
    (citation,) = answer.annotations
    assert citation.type == "url_citation" and citation.url == "https://example.com/news"
    assert answer.text[citation.start_index : citation.end_index] == (
        "[Example News](https://example.com/news)"
    )
    (sub,) = sub_requests(fake_upstream)
    assert sub["tools"][0]["allowed_domains"] == ["example.com"]


def test_responses_web_search_streamed(openai_client, fake_upstream):
    fake_upstream.set_script(script())
    events = list(
        openai_client.responses.create(
            model="claude-opus-5-5",
            input="what's new in rust?",
            tools=[{"type": "web_search_preview"}],
            stream=True,
        )
    )
    kinds = [e.type for e in events]
    searching = [k for k in kinds if k.startswith("response.web_search_call.")]
    assert searching == [
        "response.web_search_call.in_progress",
        "response.web_search_call.searching",
        "response.web_search_call.completed",
    ]
    added = [e.item.type for e in events if e.type == "response.output_item.added"]
    assert added == ["message", "web_search_call", "message"]
    done = [e for e in events if e.type == "response.output_item.done"]
    search = next(e for e in done if e.item.type == "web_search_call")
    assert search.item.status == "completed" and search.item.action.query == "rust news 0"
    assert search.item.action.sources is None  # only with include, as OpenAI does
    final = events[-1].response
    assert [i.type for i in final.output] == ["message", "web_search_call", "message"]
    assert final.output_text.endswith(ANSWER)
    assert any(e.type == "response.output_text.annotation.added" for e in events)
    assert len(sub_requests(fake_upstream)) == 1


def test_chat_completions_web_search(openai_client, fake_upstream):
    fake_upstream.set_script(script())
    completion = openai_client.chat.completions.create(
        model="claude-opus-5-5",
        messages=[{"role": "user", "content": "what's new in rust?"}],
        web_search_options={},
    )
    message = completion.choices[0].message
    assert message.content.endswith(ANSWER)
    (citation,) = message.annotations
    assert citation.type == "url_citation"
    assert citation.url_citation.url == "https://example.com/news"
    span = message.content[citation.url_citation.start_index : citation.url_citation.end_index]
    assert span == "[Example News](https://example.com/news)"
    assert len(sub_requests(fake_upstream)) == 1


def test_chat_completions_web_search_streamed(openai_client, fake_upstream):
    fake_upstream.set_script(script())
    chunks = list(
        openai_client.chat.completions.create(
            model="claude-opus-5-5",
            messages=[{"role": "user", "content": "what's new in rust?"}],
            web_search_options={"search_context_size": "low"},
            stream=True,
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.endswith(ANSWER)
    cited = [
        a
        for c in chunks
        if c.choices
        for a in (getattr(c.choices[0].delta, "annotations", None) or [])
    ]
    assert [a["url_citation"]["url"] for a in cited] == ["https://example.com/news"]


def test_without_a_search_tool_the_cli_gets_no_tools(real_server, fake_upstream):
    response = messages(real_server, {})
    assert response.status_code == 200, response.text
    assert [t.get("name") for t in fake_upstream.message_requests()[-1]["tools"]] == []


@pytest.mark.parametrize("offered", [True, False], ids=["search-again", "no-tool"])
def test_a_conversation_goes_on_after_a_search(real_server, fake_upstream, offered):
    """The client sends the searched answer back as history (its search blocks included),
    with or without the tool: the next turn is answered, whether or not the CLI's kept
    session (automatic continuation) holds the search."""
    fake_upstream.set_script(script())
    first = messages(real_server, {"tools": [SEARCH_TOOL]})
    assert first.status_code == 200, first.text
    history = [
        *USER_TURN,
        {"role": "assistant", "content": first.json()["content"]},
        {"role": "user", "content": "and the one before?"},
    ]
    fake_upstream.set_script({"default": {"type": "echo", "prefix": "ECHO:"}})
    fake_upstream.clear()
    second = messages(real_server, {"messages": history, "tools": [SEARCH_TOOL] if offered else []})
    assert second.status_code == 200, second.text
    assert second.json()["content"][-1]["text"] == "ECHO:and the one before?"
    upstream = fake_upstream.message_requests()[-1]
    said = json.dumps(upstream["messages"])
    assert "Rust 2.0 shipped" in said  # the earlier answer is in the model's history
    # Not continued from a kept CLI session holding the search call: seeded from the history
    # the client sent, so no WebSearch call goes upstream undeclared.
    assert "WebSearch" not in said


USER_TURN = [{"role": "user", "content": "what's new in rust?"}]


WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def test_client_tools_beside_web_search(real_server, fake_upstream):
    """The model may search and call the client's tool in one turn: the search runs, the
    client's call is handed over (stop_reason tool_use), never run here."""
    fake_upstream.set_script(
        {
            "rules": [
                {"when": {"tool_named": "web_search"}, "reply": {"type": "web_search"}},
                {
                    "when": {"last_is_tool_result": False},
                    "reply": {
                        "type": "tool_use",
                        "name": "WebSearch",
                        "input": {"query": "paris weather"},
                    },
                },
            ],
            "default": {
                "type": "tool_use",
                "name": "mcp__proxy__get_weather",
                "input": {"city": "Paris"},
            },
        }
    )
    response = messages(real_server, {"tools": [WEATHER, SEARCH_TOOL]})
    assert response.status_code == 200, response.text
    data = response.json()
    kinds = [b["type"] for b in data["content"]]
    assert kinds == ["server_tool_use", "web_search_tool_result", "tool_use"]
    assert data["content"][2]["name"] == "get_weather"
    assert data["content"][2]["input"] == {"city": "Paris"}
    assert data["stop_reason"] == "tool_use"
    assert len(sub_requests(fake_upstream)) == 1
