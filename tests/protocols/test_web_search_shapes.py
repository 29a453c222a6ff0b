"""Web search in the three protocols: the client's declaration read into a ServerTool (or a
400), and the searches of a run answered in each protocol's native shape."""

from __future__ import annotations

import asyncio
import json

import pytest

from claude_max.core.conversation import ServerTool
from claude_max.core.errors import InvalidRequest
from claude_max.core.events import (
    Result,
    SearchHit,
    Started,
    TextDelta,
    Usage,
    WebSearchCall,
    WebSearchResult,
)
from claude_max.core.run import Reply, SearchStep
from claude_max.protocols import anthropic, openai, responses, server_tools

USER = [{"role": "user", "content": "what's new?"}]
HITS = (SearchHit("https://example.com/news", "Example News"), SearchHit("https://b.org/", "B"))
CALL = WebSearchCall("toolu_abc", "rust news")
FOUND = WebSearchResult("toolu_abc", "rust news", HITS, searches=1)
BEFORE, AFTER = "Let me look. ", "Per [Example News](https://example.com/news), yes."


def result(text: str = BEFORE + AFTER) -> Result:
    return Result(text, "end_turn", Usage(10, 3), "s", "claude-opus-5-5")


def reply() -> Reply:
    return Reply(BEFORE + AFTER, "", "", (), result(), (SearchStep(len(BEFORE), CALL, FOUND),))


RUN = [Started("s", "claude-opus-5-5"), TextDelta(BEFORE), CALL, FOUND, TextDelta(AFTER), result()]


async def _aiter(items):
    for item in items:
        yield item


def chunks(module, body) -> list[dict]:
    async def collect():
        return [c async for c in module.stream(_aiter(RUN), body)]

    out = []
    for chunk in asyncio.run(collect()):
        data = chunk.rstrip("\n").split("\n")[-1].removeprefix("data: ")
        if data != "[DONE]":
            out.append(json.loads(data))
    return out


# --- Anthropic ---------------------------------------------------------------------------


def anthropic_conv(*tools):
    return anthropic.to_conversation({"max_tokens": 10, "messages": USER, "tools": list(tools)})


def test_anthropic_web_search_tool_is_read():
    conv = anthropic_conv(
        {
            "type": "web_search_20250305",
            "name": "web_search",
            "max_uses": 3,
            "allowed_domains": ["example.com"],
            "user_location": {"type": "approximate", "city": "Paris"},
        }
    )
    assert conv.options.web_search == ServerTool(3, ("example.com",), ())
    assert conv.tools == () and conv.options.web_fetch is None
    newer = anthropic_conv({"type": "web_search_20260209", "name": "web_search"})
    assert newer.options.web_search == ServerTool()
    fetch = anthropic_conv({"type": "web_fetch_20250910", "name": "web_fetch", "max_uses": 2})
    assert fetch.options.web_fetch == ServerTool(max_uses=2) and fetch.options.web_search is None


@pytest.mark.parametrize(
    ("tool", "param"),
    [
        (
            {"type": "web_search_20250305", "allowed_domains": ["a.com"], "blocked_domains": ["b"]},
            "tools.0.blocked_domains",
        ),
        ({"type": "web_search_20250305", "max_uses": 0}, "tools.0.max_uses"),
        ({"type": "web_search_20250305", "max_uses": "3"}, "tools.0.max_uses"),
        ({"type": "web_search_20250305", "allowed_domains": "a.com b.com"}, "tools.0"),
        ({"type": "web_search_20250305", "blocked_domains": [3]}, "tools.0.blocked_domains[0]"),
        ({"type": "code_execution_20250825", "name": "code_execution"}, "tools.0.type"),
    ],
)
def test_anthropic_server_tools_that_cannot_be_honoured_are_400(tool, param):
    with pytest.raises(InvalidRequest) as info:
        anthropic_conv(tool)
    assert info.value.param.startswith(param)


def test_anthropic_message_has_the_search_blocks_in_place():
    body = {"tools": [{"type": "web_search_20250305", "name": "web_search"}]}
    data = anthropic.response(reply(), body)
    assert data["content"] == [
        {"type": "text", "text": BEFORE},
        {
            "type": "server_tool_use",
            "id": "srvtoolu_abc",
            "name": "web_search",
            "input": {"query": "rust news"},
        },
        {
            "type": "web_search_tool_result",
            "tool_use_id": "srvtoolu_abc",
            "content": [
                {
                    "type": "web_search_result",
                    "url": h.url,
                    "title": h.title,
                    "encrypted_content": "",
                    "page_age": None,
                }
                for h in HITS
            ],
        },
        {"type": "text", "text": AFTER},
    ]
    assert data["usage"]["server_tool_use"] == {"web_search_requests": 1}
    assert "server_tool_use" not in anthropic.response(reply(), {})["usage"]


def test_anthropic_search_error_block():
    failed = WebSearchResult("toolu_x", "q", error="max_uses_exceeded")
    assert anthropic.search_result_block(failed)["content"] == {
        "type": "web_search_tool_result_error",
        "error_code": "max_uses_exceeded",
    }


def test_anthropic_stream_events():
    body = {"tools": [{"type": "web_search_20250305", "name": "web_search"}]}
    seq = chunks(anthropic, body)
    starts = [(e["index"], e["content_block"]) for e in seq if e["type"] == "content_block_start"]
    assert [(i, b["type"]) for i, b in starts] == [
        (0, "text"),
        (1, "server_tool_use"),
        (2, "web_search_tool_result"),
        (3, "text"),
    ]
    assert starts[1][1] == {
        "type": "server_tool_use",
        "id": "srvtoolu_abc",
        "name": "web_search",
        "input": {},
    }
    query = [e["delta"] for e in seq if e["type"] == "content_block_delta" and e["index"] == 1]
    assert query == [{"type": "input_json_delta", "partial_json": '{"query": "rust news"}'}]
    assert [e["index"] for e in seq if e["type"] == "content_block_stop"] == [0, 1, 2, 3]
    final = next(e for e in seq if e["type"] == "message_delta")
    assert final["usage"]["server_tool_use"] == {"web_search_requests": 1}


# --- Responses ---------------------------------------------------------------------------


def test_responses_web_search_tool_is_read():
    conv = responses.to_conversation(
        {
            "input": "hi",
            "tools": [
                {
                    "type": "web_search",
                    "filters": {"allowed_domains": ["example.com"]},
                    "search_context_size": "high",
                }
            ],
        }
    )
    assert conv.options.web_search == ServerTool(allowed_domains=("example.com",))
    preview = responses.to_conversation({"input": "hi", "tools": [{"type": "web_search_preview"}]})
    assert preview.options.web_search == ServerTool()
    assert responses.to_conversation({"input": "hi"}).options.web_search is None


def test_responses_output_items_and_citations():
    body = {"tools": [{"type": "web_search"}], "include": ["web_search_call.action.sources"]}
    output = responses.response(reply(), body)["output"]
    assert [i["type"] for i in output] == ["message", "web_search_call", "message"]
    search = output[1]
    assert search["status"] == "completed"
    assert search["action"] == {
        "type": "search",
        "query": "rust news",
        "sources": [{"type": "url", "url": h.url} for h in HITS],
    }
    (citation,) = output[2]["content"][0]["annotations"]
    assert citation == {
        "type": "url_citation",
        "start_index": 4,
        "end_index": 44,
        "url": "https://example.com/news",
        "title": "Example News",
    }
    plain = responses.response(reply(), {"tools": [{"type": "web_search"}]})["output"][1]
    assert "sources" not in plain["action"]


def test_responses_stream_events():
    seq = chunks(responses, {"tools": [{"type": "web_search"}]})
    kinds = [e["type"] for e in seq]
    i = kinds.index("response.web_search_call.in_progress")
    assert kinds[i - 1 : i + 3] == [
        "response.output_item.added",
        "response.web_search_call.in_progress",
        "response.web_search_call.searching",
        "response.web_search_call.completed",
    ]
    added = [
        (e["output_index"], e["item"]["type"])
        for e in seq
        if e["type"] == "response.output_item.added"
    ]
    assert added == [
        (0, "message"),
        (1, "web_search_call"),
        (2, "message"),
    ]
    assert "response.output_text.annotation.added" in kinds
    final = seq[-1]["response"]
    assert [i["type"] for i in final["output"]] == ["message", "web_search_call", "message"]
    assert final["output"][1]["status"] == "completed"


# --- Chat Completions --------------------------------------------------------------------


def test_chat_web_search_options():
    conv = openai.to_conversation({"messages": USER, "web_search_options": {}})
    assert conv.options.web_search == ServerTool()
    assert openai.to_conversation({"messages": USER}).options.web_search is None
    with pytest.raises(InvalidRequest):
        openai.to_conversation({"messages": USER, "web_search_options": "yes"})


def test_chat_answer_with_url_citations():
    message = openai.response(reply(), {})["choices"][0]["message"]
    assert message["content"] == BEFORE + AFTER
    (citation,) = message["annotations"]
    spot = citation["url_citation"]
    assert spot["url"] == "https://example.com/news"
    assert message["content"][spot["start_index"] : spot["end_index"]] == (
        "[Example News](https://example.com/news)"
    )
    seq = chunks(openai, {})
    cited = [c["choices"][0]["delta"]["annotations"] for c in seq if "annotations" in str(c)]
    assert cited == [message["annotations"]]


def test_cited_only_links_to_pages_found():
    text = "[a](https://example.com/news/) [b](https://other.net/) https://b.org/"
    assert server_tools.cited(text, list(HITS)) == [
        (0, 30, "https://example.com/news/", "Example News")
    ]
