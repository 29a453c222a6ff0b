"""The CLI's WebSearch standing in for the API's web search server tool: the flags, the
permission answers that carry the client's domains and max_uses, and the parsed search."""

from __future__ import annotations

from pathlib import Path

from claude_max.core import argv as cli
from claude_max.core import web_search
from claude_max.core.conversation import (
    Conversation,
    Options,
    ServerTool,
    TextPart,
    Tool,
    Turn,
)
from claude_max.core.events import SearchHit, ToolUse, WebSearchCall, WebSearchResult
from claude_max.core.parse import StreamParser

TRANSCRIPTS = Path(__file__).parents[1] / "data" / "transcripts"


def conv(**options) -> Conversation:
    return Conversation(turns=(Turn("user", (TextPart("news?"),)),), options=Options(**options))


def events(name: str) -> list:
    parser = StreamParser()
    out: list = []
    for line in (TRANSCRIPTS / f"{name}.stdout").read_bytes().splitlines():
        out.extend(parser.feed(line))
    return out


def test_web_search_gives_the_cli_only_its_websearch_tool():
    argv = cli.build_argv("claude", conv(web_search=ServerTool()))
    assert [a for a in argv if a.startswith("--tools")] == ["--tools=WebSearch"]
    assert "--permission-prompt-tool=stdio" in argv  # each search asks us first
    assert not any(a.startswith(("--allowedTools", "--mcp-config")) for a in argv)
    plain = cli.build_argv("claude", conv())
    assert "--tools=" in plain and web_search.PERMISSION_FLAG not in plain


def test_web_search_beside_client_tools_and_agent_mode():
    tool = Tool("f", "", '{"type":"object"}')
    with_tools = Conversation(
        turns=(Turn("user", (TextPart("x"),)),),
        options=Options(web_search=ServerTool()),
        tools=(tool,),
    )
    argv = cli.build_argv("claude", with_tools)
    assert argv.count(web_search.PERMISSION_FLAG) == 1
    assert "--tools=WebSearch" in argv
    agent = cli.build_argv("claude", conv(web_search=ServerTool()), tools=("Read", "WebSearch"))
    assert "--tools=Read,WebSearch" in agent


def test_web_fetch_adds_the_clis_webfetch():
    argv = cli.build_argv("claude", conv(web_fetch=ServerTool()))
    assert "--tools=WebFetch" in argv


def answer(message: dict) -> dict:
    return message["response"]["response"]


def test_permission_puts_the_clients_domains_in_place_of_the_models():
    model_input = {"query": "rust", "blocked_domains": ["evil.example"]}
    allowed = answer(
        web_search.permission(
            "r1", "WebSearch", model_input, ServerTool(allowed_domains=("example.com",)), 0
        )
    )
    assert allowed == {
        "behavior": "allow",
        "updatedInput": {"query": "rust", "allowed_domains": ["example.com"]},
    }
    blocked = answer(
        web_search.permission(
            "r2", "WebSearch", {"query": "q"}, ServerTool(blocked_domains=("x.org",)), 0
        )
    )
    assert blocked["updatedInput"] == {"query": "q", "blocked_domains": ["x.org"]}
    free = answer(web_search.permission("r3", "WebSearch", model_input, ServerTool(), 0))
    assert free["updatedInput"] == {"query": "rust"}  # nor the model's own filters


def test_permission_denies_past_max_uses_and_the_model_goes_on():
    tool = ServerTool(max_uses=2)
    assert answer(web_search.permission("r", "WebSearch", {"query": "q"}, tool, 1))["behavior"] == (
        "allow"
    )
    denied = answer(web_search.permission("r", "WebSearch", {"query": "q"}, tool, 2))
    assert denied == {"behavior": "deny", "message": web_search.LIMIT_MESSAGE, "interrupt": False}


def test_web_fetch_permission_checks_the_url_against_the_domains():
    tool = ServerTool(allowed_domains=("example.com",))
    ok = answer(
        web_search.permission("r", "WebFetch", {"url": "https://docs.example.com/a"}, tool, 0)
    )
    assert ok["behavior"] == "allow"
    for url in ("http://127.0.0.1/", "https://example.com.evil.net/", "https://user@evil.net/"):
        denied = answer(web_search.permission("r", "WebFetch", {"url": url}, tool, 0))
        assert denied["behavior"] == "deny", url
    blocked = ServerTool(blocked_domains=("internal.lan",))
    assert not web_search.within("http://db.internal.lan:5432/", blocked)
    assert web_search.within("https://example.org/", blocked)


def test_parser_reads_the_search_from_the_real_clis_output():
    seen = events("web_search_stream_json")
    calls = [e for e in seen if isinstance(e, WebSearchCall)]
    results = [e for e in seen if isinstance(e, WebSearchResult)]
    assert [c.query for c in calls] == ["rust news 0"]
    assert results == [
        WebSearchResult(
            calls[0].id, "rust news 0", (SearchHit("https://example.com/news", "Example News"),), 1
        )
    ]
    # The call itself is still a ToolUse of the CLI's tool, which run() keeps from the client.
    assert any(isinstance(e, ToolUse) and e.name == "WebSearch" for e in seen)
    assert seen.index(calls[0]) < seen.index(results[0])


def test_parser_reads_denied_searches_as_max_uses_exceeded():
    results = [
        e for e in events("web_search_max_uses_stream_json") if isinstance(e, WebSearchResult)
    ]
    assert sorted((r.error or "", r.searches) for r in results) == [
        ("", 1),
        ("max_uses_exceeded", 0),
        ("max_uses_exceeded", 0),
    ]
