"""Anthropic content blocks -> conversation parts: which are passed on, dropped or refused.

Measured with the pinned CLI (2.1.330) against the fake upstream: a stream-json stdin line
carries `document` (base64 PDF, plain text, content, URL), `search_result`, `image` with a
`url` source, `container_upload` and `compaction` blocks to the upstream unchanged, also
inside `tool_result`; it drops `thinking` and `redacted_thinking` from assistant lines; it
handles `tool_reference` itself (kept when its tool search is on, otherwise replaced by a
note that the tool is loaded). So blocks the model reads are passed on as they are
(`BlockPart`), minus `cache_control` (the CLI sets its own cache breakpoints, and the API
allows only four) and `citations` (the answer's citation blocks would not reach the client).
Blocks that only serve the API's own features (server tools, their results, the code
execution container) are dropped with a logged note; what refers to data claude-max cannot
reach (a Files API `file_id`) is a 400.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from claude_max.core.conversation import (
    BlockPart,
    ImagePart,
    Part,
    TextPart,
    ToolCallPart,
    ToolResultPart,
)
from claude_max.core.errors import InvalidRequest
from claude_max.protocols import validate as v

log = logging.getLogger("claude_max.protocols.anthropic")

# Earlier turns' thinking: the CLI does not send it on (measured), nor need it to continue.
HISTORY_ONLY = ("thinking", "redacted_thinking")
# Server-side features whose blocks mean nothing without the API's own tools (web search is
# served by the CLI's WebSearch, whose session history the client's blocks cannot restore).
API_ONLY = (
    "container_upload",
    "server_tool_use",
    "web_search_tool_result",
    "web_fetch_tool_result",
    "code_execution_tool_result",
    "bash_code_execution_tool_result",
    "text_editor_code_execution_tool_result",
    "tool_search_tool_result",
    "mcp_tool_use",
    "mcp_tool_result",
)
PASSED_ON = ("document", "search_result")
# What a tool_result's content may hold (the Messages API's own list).
IN_TOOL_RESULT = ("text", "image", "document", "search_result", "tool_reference")
_DROPPED_KEYS = ("cache_control", "citations")
_SOURCES = {
    "image": ("base64", "url"),
    "document": ("base64", "text", "content", "url"),
}


def parts(content: Any, param: str) -> list[Part]:
    """The parts of a message's content (a string or an array of blocks)."""
    if isinstance(content, str):
        return [TextPart(content)]
    v.expect(content, list, param, "a string or an array of content blocks")
    out: list[Part] = []
    for j, block in enumerate(content):
        where = f"{param}.{j}"
        v.expect(block, dict, where, "a content block")
        if block.get("type") == "compaction":
            # The API drops everything before a compaction block: its summary stands for it.
            out.clear()
            summary = block.get("content")
            if summary is not None:
                out.append(TextPart(v.expect(summary, str, f"{where}.content", "a string")))
            continue
        part = _part(block, where)
        if part is not None:
            out.append(part)
    return out


def _part(block: dict[str, Any], where: str) -> Part | None:
    kind = block.get("type")
    if kind == "text":
        return TextPart(v.expect(block.get("text"), str, f"{where}.text", "a string"))
    if kind == "image":
        return _image(block, where)
    if kind in PASSED_ON:
        return _passed_on(block, where)
    if kind == "tool_use":
        return _tool_use(block, where)
    if kind == "tool_result":
        return _tool_result(block, where)
    if kind in HISTORY_ONLY:
        return None
    if kind in API_ONLY:
        log.info("dropped a %r block at %s: it serves only the API's own tools", kind, where)
        return None
    if kind == "tool_reference":
        raise InvalidRequest(
            f"'{where}': a tool_reference block belongs inside a tool_result.",
            param=f"{where}.type",
        )
    raise InvalidRequest(
        f"'{where}.type' {kind!r} is not a content block claude-max knows.",
        param=f"{where}.type",
    )


def compacted(content: Any) -> bool:
    """Whether a message holds a compaction block (the messages before it no longer count)."""
    return isinstance(content, list) and any(
        isinstance(b, dict) and b.get("type") == "compaction" for b in content
    )


def _image(block: dict[str, Any], where: str) -> Part:
    source = _source(block, where)
    if source["type"] == "url":
        return _passed_on(block, where)
    media_type = v.expect(source.get("media_type"), str, f"{where}.source.media_type", "a string")
    data = v.expect(source.get("data"), str, f"{where}.source.data", "a string")
    return v.image(media_type, data, f"{where}.source.data")


def _source(block: dict[str, Any], where: str) -> dict[str, Any]:
    source: dict[str, Any] = v.expect(block.get("source"), dict, f"{where}.source", "an object")
    kind = source.get("type")
    allowed = _SOURCES[block["type"]]
    if kind == "file":
        raise InvalidRequest(
            f"'{where}.source': a Files API file_id cannot be honoured (claude-max has no "
            "access to the API's file storage); send the data inline (base64) instead.",
            param=f"{where}.source.type",
        )
    if kind not in allowed:
        raise InvalidRequest(
            f"'{where}.source.type' must be one of {', '.join(allowed)}; got {kind!r}.",
            param=f"{where}.source.type",
        )
    if kind == "url":
        v.expect(source.get("url"), str, f"{where}.source.url", "a string")
    return source


def _passed_on(block: dict[str, Any], where: str) -> BlockPart:
    """A block the CLI carries upstream unchanged, without the keys that only concern the
    API's caching and citation features."""
    if block["type"] in _SOURCES:
        _source(block, where)
    elif block["type"] == "search_result":
        v.expect(block.get("content"), list, f"{where}.content", "an array of text blocks")
    kept = {k: val for k, val in block.items() if k not in _DROPPED_KEYS}
    if kept.get("type") == "document" and isinstance(kept.get("source"), dict):
        inner = kept["source"].get("content")
        if isinstance(inner, list):  # a "content" document's own blocks
            kept["source"] = {**kept["source"], "content": [_plain(b) for b in inner]}
    if "content" in kept and isinstance(kept["content"], list):  # a search result's texts
        kept["content"] = [_plain(b) for b in kept["content"]]
    return BlockPart(str(kept["type"]), json.dumps(kept, ensure_ascii=False, sort_keys=True))


def _plain(block: Any) -> Any:
    if isinstance(block, dict):
        return {k: val for k, val in block.items() if k not in _DROPPED_KEYS}
    return block


def _tool_use(block: dict[str, Any], where: str) -> ToolCallPart:
    return ToolCallPart(
        v.tool_id(block.get("id"), f"{where}.id"),
        v.tool_name(block.get("name"), f"{where}.name"),
        v.tool_input(block.get("input", {}), f"{where}.input"),
    )


def _tool_result(block: dict[str, Any], where: str) -> ToolResultPart:
    call_id = v.tool_id(block.get("tool_use_id"), f"{where}.tool_use_id")
    content = block.get("content")
    param = f"{where}.content"
    inner: list[TextPart | ImagePart | BlockPart] = []
    if isinstance(content, list):
        for j, item in enumerate(content):
            v.expect(item, dict, f"{param}.{j}", "a content block")
            kind = item.get("type")
            if kind not in IN_TOOL_RESULT:
                raise InvalidRequest(
                    f"'{param}.{j}.type' {kind!r}: a tool result may hold only "
                    f"{', '.join(IN_TOOL_RESULT)}.",
                    param=f"{param}.{j}.type",
                )
            part = (
                _tool_reference(item, f"{param}.{j}")
                if kind == "tool_reference"
                else _part(item, f"{param}.{j}")
            )
            if part is not None:
                inner.append(part)  # type: ignore[arg-type]
    elif content is not None:
        inner.extend(parts(content, param))  # type: ignore[arg-type]
    is_error = block.get("is_error", False)
    v.expect(is_error, bool, f"{where}.is_error", "a boolean")
    return ToolResultPart(call_id, tuple(inner), is_error)


def _tool_reference(block: dict[str, Any], where: str) -> BlockPart:
    """A tool search result naming one of the client's tools (the CLI knows it by its own
    name; `core.stdin` renames it as it does tool calls)."""
    name = v.tool_name(block.get("tool_name"), f"{where}.tool_name")
    return BlockPart("tool_reference", json.dumps({"type": "tool_reference", "tool_name": name}))
