"""The API's web search server tool, served by the CLI's own WebSearch tool.

Measured with the pinned CLI (2.1.330) against the fake upstream:

* `--tools=WebSearch` gives the model that one tool of the CLI (plus an inert
  `DeferredToolPlaceholder`), nothing that acts on this machine. The searches run at
  Anthropic: when the model calls WebSearch the CLI makes a separate upstream call with the
  API's own server tool `{"type": "web_search_20250305", "name": "web_search", "max_uses": 8}`
  (plus the call's `allowed_domains` or `blocked_domains`), and hands the model a text tool
  result ("Web search results for query: ...", the links and the sub-call's summary).
* With `--permission-prompt-tool=stdio` the CLI asks its host before each call
  (`can_use_tool`, with the model's input). Allowing with an `updatedInput` replaces the input:
  so the client's `allowed_domains` / `blocked_domains` are put there (the model's own are
  dropped), and they reach the sub-call's server tool. Denying (without interrupt) gives the
  model an error tool result and it carries on: calls beyond the client's `max_uses` are denied.
* The stream-json output shows the call as the model's `tool_use` block and the search as a
  `user` line whose `tool_use_result` is `{query, results: [{tool_use_id, content: [{title,
  url}]}, "summary", ...], searchCount}`. Page ages and encrypted content are not exposed.

The sub-call's own `max_uses` stays 8 (the CLI's prompt there says to search once): the
client's `max_uses` counts the model's WebSearch calls.
"""

from __future__ import annotations

import json
from typing import Any

from claude_max.core.conversation import Conversation, ServerTool
from claude_max.core.events import SearchHit, WebSearchResult

TOOL = "WebSearch"  # the CLI's tool
FETCH_TOOL = "WebFetch"  # the CLI's tool behind the API's web_fetch (fetches from this machine)
PERMISSION_FLAG = "--permission-prompt-tool=stdio"
LIMIT_MESSAGE = "The web search limit (max_uses) of this request is reached; answer without it."


def cli_tools(conv: Conversation, given: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The CLI's tools the client's server tools need, beyond those already `given`."""
    wanted = []
    if conv.options.web_search is not None:
        wanted.append(TOOL)
    if conv.options.web_fetch is not None:
        wanted.append(FETCH_TOOL)
    return tuple(t for t in wanted if t not in given)


def permission(
    request_id: str, tool: str, tool_input: Any, server_tool: ServerTool, used: int
) -> dict[str, Any]:
    """The control_response to the CLI's `can_use_tool` for a call of its WebSearch (or
    WebFetch) `tool`, `used` calls having been allowed before: allowed with the client's
    domains, or denied past max_uses (or, for a fetch, outside the client's domains)."""
    search = server_tool
    answer: dict[str, Any]
    if search.max_uses is not None and used >= search.max_uses:
        answer = {"behavior": "deny", "message": LIMIT_MESSAGE, "interrupt": False}
    elif tool == FETCH_TOOL:
        url = str(tool_input.get("url") or "") if isinstance(tool_input, dict) else ""
        if within(url, search):
            answer = {"behavior": "allow", "updatedInput": tool_input}
        else:
            message = "That URL is outside the domains this request allows; do not fetch it."
            answer = {"behavior": "deny", "message": message, "interrupt": False}
    else:
        given = tool_input if isinstance(tool_input, dict) else {}
        updated = {"query": given.get("query", "")}
        if search.allowed_domains:
            updated["allowed_domains"] = list(search.allowed_domains)
        elif search.blocked_domains:
            updated["blocked_domains"] = list(search.blocked_domains)
        answer = {"behavior": "allow", "updatedInput": updated}
    return {
        "type": "control_response",
        "response": {"subtype": "success", "request_id": request_id, "response": answer},
    }


def within(url: str, tool: ServerTool) -> bool:
    """Whether `url`'s host is inside the tool's allowed domains and outside its blocked ones
    (a domain covers its subdomains, as the API's filters do)."""
    host = url.split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1].split(":", 1)[0].lower()

    def under(domain: str) -> bool:
        domain = domain.lower().split("://", 1)[-1].split("/", 1)[0]
        return bool(host) and (host == domain or host.endswith("." + domain))

    if tool.allowed_domains and not any(under(d) for d in tool.allowed_domains):
        return False
    return not any(under(d) for d in tool.blocked_domains)


def result(call_id: str, query: str, block: dict[str, Any], summary: Any) -> WebSearchResult:
    """The search a `tool_result` block (and its line's `tool_use_result`) reports."""
    if block.get("is_error"):
        text = json.dumps(block.get("content"), ensure_ascii=False)
        code = "max_uses_exceeded" if LIMIT_MESSAGE[:30] in text else "unavailable"
        return WebSearchResult(call_id, query, error=code)
    if not isinstance(summary, dict):
        summary = {}
    hits: list[SearchHit] = []
    for item in summary.get("results") or []:
        content = item.get("content") if isinstance(item, dict) else None
        for hit in content if isinstance(content, list) else []:
            if isinstance(hit, dict) and isinstance(hit.get("url"), str):
                hits.append(SearchHit(hit["url"], str(hit.get("title") or "")))
    return WebSearchResult(
        call_id,
        str(summary.get("query") or query),
        tuple(hits),
        searches=int(summary.get("searchCount") or 0),
    )
