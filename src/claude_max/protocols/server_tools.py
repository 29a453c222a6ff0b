"""Web search (and web fetch) as each protocol declares it, and the sources an answer cites.

The API's server tools are served by the CLI's own WebSearch / WebFetch tools
(`core.web_search`): these pure helpers read the client's declaration into a `ServerTool`
(400 for what cannot be honoured) and find the links of an answer that point at what a search
found (for OpenAI's `url_citation` annotations). The CLI hands the model its search results
as text, so the answer cites them as markdown links, not as the API's citation objects.
"""

from __future__ import annotations

import re
from typing import Any

from claude_max.core.conversation import ServerTool
from claude_max.core.errors import InvalidRequest
from claude_max.core.events import SearchHit
from claude_max.protocols import validate as v

WEB_SEARCH = re.compile(r"web_search_\d{8}")  # Anthropic's versions: web_search_20250305, ...
WEB_FETCH = re.compile(r"web_fetch_\d{8}")
RESPONSES_WEB_SEARCH = ("web_search", "web_search_preview", "web_search_2025_08_26")
RESPONSES_WEB_SEARCH_PREVIEW = re.compile(r"web_search_preview(_\d{4}_\d{2}_\d{2})?")


def anthropic_tool(tool: dict[str, Any], where: str) -> ServerTool:
    """An Anthropic `web_search_*` / `web_fetch_*` tool's limits (`user_location`, a hint
    for ranking, and web fetch's `citations` / `max_content_tokens` have no way through the
    CLI and are left out, as the README says)."""
    max_uses = tool.get("max_uses")
    if max_uses is not None and (
        not isinstance(max_uses, int) or isinstance(max_uses, bool) or max_uses < 1
    ):
        raise InvalidRequest(
            f"'{where}.max_uses' must be a positive integer.", param=f"{where}.max_uses"
        )
    return _domains(
        max_uses, tool.get("allowed_domains"), tool.get("blocked_domains"), where, where
    )


def responses_tool(tool: dict[str, Any], where: str) -> ServerTool:
    """A Responses `web_search` tool: `filters.allowed_domains` is honoured; the search
    context size and user location are hints the CLI cannot pass."""
    filters = tool.get("filters")
    if filters is not None:
        v.expect(filters, dict, f"{where}.filters", "an object")
    allowed = (filters or {}).get("allowed_domains")
    return _domains(None, allowed, None, f"{where}.filters", where)


def is_responses_search(kind: Any) -> bool:
    return isinstance(kind, str) and (
        kind in RESPONSES_WEB_SEARCH or bool(RESPONSES_WEB_SEARCH_PREVIEW.fullmatch(kind))
    )


def chat_options(value: Any) -> ServerTool | None:
    """Chat Completions' `web_search_options` (its size and location are hints, left out)."""
    if value is None:
        return None
    v.expect(value, dict, "web_search_options", "an object")
    return ServerTool()


def _domains(
    max_uses: int | None, allowed: Any, blocked: Any, where: str, tool_where: str
) -> ServerTool:
    allowed_list = v.string_list(allowed, f"{where}.allowed_domains")
    blocked_list = v.string_list(blocked, f"{where}.blocked_domains")
    if allowed_list and blocked_list:
        raise InvalidRequest(
            f"'{tool_where}': give allowed_domains or blocked_domains, not both.",
            param=f"{where}.blocked_domains",
        )
    for domain in (*allowed_list, *blocked_list):
        if not domain.strip() or any(c.isspace() for c in domain):
            raise InvalidRequest(
                f"'{where}': {domain!r} is not a domain.", param=f"{where}.allowed_domains"
            )
    return ServerTool(max_uses, tuple(allowed_list), tuple(blocked_list))


_LINK = re.compile(r"\[([^\]\n]*)\]\((https?://[^\s)]+)\)")


def cited(text: str, hits: list[SearchHit]) -> list[tuple[int, int, str, str]]:
    """(start, end, url, title) of each markdown link in `text` to a page the searches found:
    the span is the whole link, as OpenAI's `url_citation` annotations mark it."""
    titles = {h.url.rstrip("/"): h.title for h in hits}
    out = []
    for match in _LINK.finditer(text):
        url = match.group(2)
        title = titles.get(url.rstrip("/"))
        if title is not None:
            out.append((match.start(), match.end(), url, title or match.group(1)))
    return out
