"""Anthropic Messages <-> the neutral conversation and events. Pure functions, no I/O.

The same names as `openai.py`: `to_conversation`, `response`, `stream`, `error_body`.
Thinking blocks are returned only when the request enables `thinking`, as the real API does;
the CLI thinks either way, and its thinking is dropped otherwise.

`role: "system"` messages (anywhere in `messages`, as Claude Code and other clients on
Anthropic's SDK send them) are folded into the system prompt, after the `system` parameter, in
order. Measured: the CLI's stdin refuses a system-role line ("Expected message role 'user',
got 'system'"), so the choice was the system prompt or user text at its place; the system
prompt keeps the text's authority, as the real API gives it, and keeps consecutive agent steps'
prompts identical for prompt caching; only its position among the turns is lost. Content
blocks: `anthropic_blocks` (which are passed on, dropped or refused, and why).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any

from claude_max.core import catalog
from claude_max.core.conversation import (
    Conversation,
    Options,
    Part,
    Role,
    ServerTool,
    TextPart,
    Tool,
)
from claude_max.core.errors import AnswerRetracted, ClaudeMaxError, InvalidRequest
from claude_max.core.events import (
    Event,
    Result,
    SignatureDelta,
    Started,
    TextDelta,
    TextReset,
    ThinkingDelta,
    ToolInputDelta,
    ToolUse,
    ToolUseStart,
    Usage,
    WebSearchCall,
    WebSearchResult,
)
from claude_max.core.run import Reply, SearchStep
from claude_max.protocols import anthropic_blocks as blocks
from claude_max.protocols import server_tools
from claude_max.protocols import validate as v


def to_conversation(body: dict[str, Any]) -> Conversation:
    messages = v.expect(body.get("messages"), list, "messages", "a non-empty array")
    if not messages:
        raise InvalidRequest("'messages' must be a non-empty array.", param="messages")
    turns: list[tuple[Role, list[Part]]] = []
    folded: list[str] = []  # the text of role "system" messages, in order
    for i, message in enumerate(messages):
        param = f"messages.{i}"
        v.expect(message, dict, param, "an object")
        role = message.get("role")
        if role == "system":
            folded.append(_system_text(message.get("content"), f"{param}.content"))
            continue
        if role not in ("user", "assistant"):
            raise InvalidRequest(
                f"'{param}.role' must be 'user', 'assistant' or 'system'; got {role!r}.",
                param=f"{param}.role",
            )
        if blocks.compacted(message.get("content")):
            turns.clear()  # a compaction block stands for everything before it
        parts = blocks.parts(message.get("content"), f"{param}.content")
        if role == "user" and not any(not isinstance(p, TextPart) or p.text.strip() for p in parts):
            raise InvalidRequest(f"'{param}.content' must not be empty.", param=f"{param}.content")
        turns.append((role, parts))
    tools, web_search, web_fetch = _tools(body.get("tools"))
    choice, tool_name, parallel = _tool_choice(body.get("tool_choice"), tools)
    merged = v.merge_turns(turns)
    if not merged:
        raise InvalidRequest(
            "'messages' must hold a user message, not only system messages.", param="messages"
        )
    v.check_tool_pairs(merged, "messages")
    model = body.get("model")
    if model is not None:
        v.expect(model, str, "model", "a string")
    thinking, budget, display = _thinking(body.get("thinking"))
    cli_model = catalog.resolve(model)
    v.thinking_mode(thinking, cli_model, "thinking.type")
    return Conversation(
        turns=merged,
        system=_joined([_system(body.get("system")), *folded]),
        model=cli_model,
        options=Options(
            max_tokens=v.optional_int(body, "max_tokens", maximum=v.max_output_tokens()),
            stop=v.string_list(body.get("stop_sequences"), "stop_sequences"),
            thinking=thinking,
            thinking_budget=budget,
            thinking_display=display,
            effort=_effort(body.get("output_config"), cli_model),
            tool_choice=choice,
            tool_name=tool_name,
            parallel_tools=parallel,
            json_schema=_output_format(body),
            web_search=web_search,
            web_fetch=web_fetch,
        ),
        tools=tools,
    )


def _tools(value: Any) -> tuple[tuple[Tool, ...], ServerTool | None, ServerTool | None]:
    """The client's tools, and its web search and web fetch server tools if it offers them."""
    if value is None:
        return (), None, None
    v.expect(value, list, "tools", "an array of tools")
    tools: list[Tool] = []
    search: ServerTool | None = None
    fetch: ServerTool | None = None
    for i, tool in enumerate(value):
        where = f"tools.{i}"
        v.expect(tool, dict, where, "an object")
        kind = tool.get("type")
        if isinstance(kind, str) and server_tools.WEB_SEARCH.fullmatch(kind) and search is None:
            search = server_tools.anthropic_tool(tool, where)
            continue
        if isinstance(kind, str) and server_tools.WEB_FETCH.fullmatch(kind) and fetch is None:
            fetch = server_tools.anthropic_tool(tool, where)
            continue
        if kind not in (None, "custom"):
            raise InvalidRequest(
                f"'{where}.type' {kind!r}: only client tools (name, description, input_schema) "
                "and the web_search / web_fetch server tools are supported, not the API's "
                "other server tools.",
                param=f"{where}.type",
            )
        v.add_tool(tools, tool, where, "input_schema")
    return tuple(tools), search, fetch


def _tool_choice(value: Any, tools: tuple[Tool, ...]) -> tuple[Any, str | None, bool]:
    if value is None:
        return ("auto" if tools else "none"), None, True
    v.expect(value, dict, "tool_choice", "an object")
    kind = value.get("type")
    parallel = not value.get("disable_parallel_tool_use", False)
    if kind in ("auto", "none"):
        return kind, None, parallel
    if kind == "any":
        if not tools:
            raise InvalidRequest("tool_choice 'any' needs 'tools'.", param="tool_choice")
        return "required", None, parallel
    if kind == "tool":
        name = v.expect(value.get("name"), str, "tool_choice.name", "a string")
        if not any(t.name == name for t in tools):
            raise InvalidRequest(
                f"tool_choice names {name!r}, which is not in 'tools'.", param="tool_choice.name"
            )
        return "tool", name, parallel
    raise InvalidRequest(
        "'tool_choice.type' must be 'auto', 'any', 'tool' or 'none'.", param="tool_choice.type"
    )


def _output_format(body: dict[str, Any]) -> str | None:
    """Structured outputs: `output_config.format` (or the beta's `output_format`)."""
    config = body.get("output_config")
    fmt = config.get("format") if isinstance(config, dict) else body.get("output_format")
    if fmt is None:
        return None
    v.expect(fmt, dict, "output_config.format", "an object")
    if fmt.get("type") != "json_schema":
        raise InvalidRequest(
            "'output_config.format.type' must be 'json_schema'.", param="output_config.format.type"
        )
    return v.schema(fmt.get("schema"), "output_config.format.schema")


MIN_THINKING_BUDGET = 1024  # the Messages API's own minimum


def _thinking(value: Any) -> tuple[Any, int | None, Any]:
    """(mode, budget_tokens, display) of `thinking`."""
    if value is None:
        return None, None, None
    v.expect(value, dict, "thinking", "an object")
    kind = value.get("type")
    if kind == "disabled":
        return "disabled", None, None
    if kind not in ("enabled", "adaptive"):
        raise InvalidRequest(
            "'thinking.type' must be 'enabled', 'adaptive' or 'disabled'.", param="thinking.type"
        )
    budget = value.get("budget_tokens") if kind == "enabled" else None
    if budget is not None:
        v.expect(budget, int, "thinking.budget_tokens", "an integer")
        if budget < MIN_THINKING_BUDGET or budget > v.max_output_tokens():
            raise InvalidRequest(
                f"'thinking.budget_tokens' must be from {MIN_THINKING_BUDGET} to "
                f"{v.max_output_tokens()}; got {budget}.",
                param="thinking.budget_tokens",
            )
    display = value.get("display")
    if display not in (None, "summarized", "omitted"):
        raise InvalidRequest(
            "'thinking.display' must be 'summarized' or 'omitted'.", param="thinking.display"
        )
    return kind, budget, display


def _effort(config: Any, cli_model: str) -> str | None:
    """`output_config.effort`, checked against the levels the model takes."""
    if not isinstance(config, dict) or config.get("effort") is None:
        return None
    return v.effort(config["effort"], cli_model, "output_config.effort")


def shows_thinking(body: dict[str, Any]) -> bool:
    """Whether the answer carries the model's thinking: asked for, and not `omitted`."""
    thinking = body.get("thinking")
    return (
        isinstance(thinking, dict)
        and thinking.get("type") in ("enabled", "adaptive")
        and thinking.get("display") != "omitted"
    )


def _system(value: Any) -> str | None:
    return None if value is None else _system_text(value, "system") or None


def _system_text(value: Any, param: str) -> str:
    """System text: a string or text blocks (their cache_control is the CLI's business)."""
    if isinstance(value, str):
        return value
    v.expect(value, list, param, "a string or an array of text blocks")
    texts = []
    for i, block in enumerate(value):
        v.expect(block, dict, f"{param}.{i}", "a text block")
        if block.get("type") != "text":
            raise InvalidRequest(f"'{param}.{i}.type' must be 'text'.", param=f"{param}.{i}.type")
        texts.append(v.expect(block.get("text"), str, f"{param}.{i}.text", "a string"))
    return "\n\n".join(texts)


def _joined(texts: list[str | None]) -> str | None:
    """The system prompt: the `system` parameter, then each system message's text."""
    return "\n\n".join(t for t in texts if t) or None


def count_body(tokens: int) -> dict[str, Any]:
    """The answer of `POST /v1/messages/count_tokens`."""
    return {"input_tokens": tokens}


def usage_body(usage: Usage, web_searches: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read_input_tokens": usage.cache_read_input_tokens,
        "cache_creation_input_tokens": usage.cache_creation_input_tokens,
    }
    if web_searches is not None:  # the client offered web search
        body["server_tool_use"] = {"web_search_requests": web_searches}
    return body


def _server_id(call_id: str) -> str:
    """The id of a search's `server_tool_use` block (the API's are `srvtoolu_...`)."""
    return "srvtoolu_" + call_id.removeprefix("toolu_")


def search_call_block(call: WebSearchCall) -> dict[str, Any]:
    return {
        "type": "server_tool_use",
        "id": _server_id(call.id),
        "name": "web_search",
        "input": {"query": call.query},
    }


def search_result_block(result: WebSearchResult) -> dict[str, Any]:
    """A `web_search_tool_result` block: what the CLI found (it exposes no page age and no
    encrypted content, so `encrypted_content` is empty and `page_age` null)."""
    content: Any
    if result.error is not None:
        content = {"type": "web_search_tool_result_error", "error_code": result.error}
    else:
        content = [
            {
                "type": "web_search_result",
                "url": hit.url,
                "title": hit.title,
                "encrypted_content": "",
                "page_age": None,
            }
            for hit in result.hits
        ]
    return {
        "type": "web_search_tool_result",
        "tool_use_id": _server_id(result.id),
        "content": content,
    }


def _text_and_searches(text: str, searches: tuple[SearchStep, ...]) -> list[dict[str, Any]]:
    """The answer's text blocks with each search's two blocks where it happened."""
    out: list[dict[str, Any]] = []
    pos = 0
    for step in searches:
        if step.at > pos:
            out.append({"type": "text", "text": text[pos : step.at]})
            pos = step.at
        out.append(search_call_block(step.call))
        result = step.result or WebSearchResult(step.call.id, step.call.query, error="unavailable")
        out.append(search_result_block(result))
    if text[pos:]:
        out.append({"type": "text", "text": text[pos:]})
    return out


def _message_id() -> str:
    return f"msg_{uuid.uuid4().hex[:24]}"


def response(reply: Reply, body: dict[str, Any]) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if reply.thinking and shows_thinking(body):
        content.append(
            {"type": "thinking", "thinking": reply.thinking, "signature": reply.signature}
        )
    answer = _text_and_searches(reply.text, reply.searches)
    content.extend(answer)
    if not answer and not reply.tool_uses:
        content.append({"type": "text", "text": reply.text})
    for call in reply.tool_uses:
        content.append({"type": "tool_use", "id": call.id, "name": call.name, "input": call.input})
    return {
        "id": _message_id(),
        "type": "message",
        "role": "assistant",
        "model": reply.result.model or body.get("model"),
        "content": content,
        "stop_reason": reply.result.stop_reason or "end_turn",
        "stop_sequence": reply.result.stop_sequence,
        "usage": usage_body(reply.usage, _searches(body, reply.web_search_requests)),
    }


def _searches(body: dict[str, Any], count: int) -> int | None:
    """The web search count to report: only when the request offered web search."""
    offered = any(
        isinstance(t, dict) and server_tools.WEB_SEARCH.fullmatch(str(t.get("type")))
        for t in body.get("tools") or []
    )
    return count if offered else None


async def stream(
    events: AsyncIterator[Event], body: dict[str, Any], *, open_now: bool = False
) -> AsyncIterator[str]:
    """Server-sent events in the Messages API's native sequence.

    `open_now`: the response starts before the first token (a long silent think), so
    `message_start` (the requested model, usage still 0: `message_delta` carries the real
    counts) and a `ping` go out at once, and a later failure is an `error` event."""
    thinking = shows_thinking(body)
    model = body.get("model") or catalog.default_model().id
    usage = Usage()
    index = -1
    block: str | None = None  # type of the open content block
    sent = 0  # characters of answer text sent
    started = False

    calls: set[str] = set()  # ids of the tool calls whose blocks were opened
    searched = 0  # upstream web searches so far

    def message_start() -> str:
        message: dict[str, Any] = {
            "id": _message_id(),
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage_body(usage),
        }
        return _event("message_start", {"message": message})

    def open_block(kind: str, empty: dict[str, Any] | None = None) -> list[str]:
        nonlocal index, block
        out = close_block()
        index += 1
        block = kind
        if empty is None:
            empty = (
                {"type": "text", "text": ""}
                if kind == "text"
                else {"type": "thinking", "thinking": "", "signature": ""}
            )
        out.append(_event("content_block_start", {"index": index, "content_block": empty}))
        if index == 0:
            out.append(KEEPALIVE)
        return out

    def close_block() -> list[str]:
        nonlocal block
        if block is None:
            return []
        block = None
        return [_event("content_block_stop", {"index": index})]

    if open_now:
        started = True
        yield message_start()
        yield KEEPALIVE
    try:
        async for event in events:
            if isinstance(event, Started):
                model = event.model or model
                continue
            if isinstance(event, Usage):
                usage = event
                continue
            if not started and isinstance(event, _VISIBLE):
                started = True
                yield message_start()
            if isinstance(event, (ToolUseStart, ToolUse)) and event.id not in calls:
                calls.add(event.id)
                empty = {"type": "tool_use", "id": event.id, "name": event.name, "input": {}}
                for line in open_block(event.id, empty):
                    yield line
                if isinstance(event, ToolUse):  # whole, not streamed: its input in one piece
                    whole = json.dumps(event.input, ensure_ascii=False)
                    yield _delta(index, {"type": "input_json_delta", "partial_json": whole})
                    for line in close_block():
                        yield line
            elif isinstance(event, ToolInputDelta) and block == event.id:
                yield _delta(
                    index, {"type": "input_json_delta", "partial_json": event.partial_json}
                )
            elif isinstance(event, ToolUse) and block == event.id:
                for line in close_block():
                    yield line
            elif isinstance(event, WebSearchCall):
                opened = search_call_block(event)
                for line in open_block("search", {**opened, "input": {}}):
                    yield line
                query = json.dumps(opened["input"], ensure_ascii=False)  # one delta, as the API
                yield _delta(index, {"type": "input_json_delta", "partial_json": query})
                for line in close_block():
                    yield line
            elif isinstance(event, WebSearchResult):
                searched += event.searches
                for line in [*open_block("search", search_result_block(event)), *close_block()]:
                    yield line
            elif isinstance(event, TextDelta):
                if block != "text":
                    for line in open_block("text"):
                        yield line
                sent += len(event.text)
                yield _delta(index, {"type": "text_delta", "text": event.text})
            elif isinstance(event, ThinkingDelta) and thinking:
                if block != "thinking":
                    for line in open_block("thinking"):
                        yield line
                yield _delta(index, {"type": "thinking_delta", "thinking": event.text})
            elif isinstance(event, SignatureDelta) and thinking and block == "thinking":
                yield _delta(index, {"type": "signature_delta", "signature": event.signature})
                for line in close_block():
                    yield line
            elif isinstance(event, TextReset) and event.keep < sent:
                raise AnswerRetracted()
            elif isinstance(event, Result):
                for line in close_block():
                    yield line
                yield _event(
                    "message_delta",
                    {
                        "delta": {
                            "stop_reason": event.stop_reason or "end_turn",
                            "stop_sequence": event.stop_sequence,
                        },
                        "usage": usage_body(event.usage, _searches(body, searched)),
                    },
                )
                yield _event("message_stop", {})
                return
    except ClaudeMaxError as exc:
        yield _event("error", error_body(exc))


_VISIBLE = (TextDelta, ThinkingDelta, ToolUseStart, ToolUse, WebSearchCall, WebSearchResult, Result)


def _delta(index: int, delta: dict[str, Any]) -> str:
    return _event("content_block_delta", {"index": index, "delta": delta})


def _event(kind: str, data: dict[str, Any]) -> str:
    payload = {"type": kind, **data}
    return f"event: {kind}\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n"


def error_body(exc: ClaudeMaxError) -> dict[str, Any]:
    message = exc.message + (f" ({exc.hint})" if exc.hint else "")
    kind = "overloaded_error" if exc.status == 529 else exc.kind
    return {"type": "error", "error": {"type": kind, "message": message}}


def model_list(
    models: list[catalog.Model], query: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A page of the list as the Models API pages it: `limit` (1-1000, default 20), and
    `after_id` or `before_id` (an id of the list) for the next or previous page."""
    query = query or {}
    raw = query.get("limit", "20")
    try:
        limit = int(raw)
    except ValueError:
        limit = 0
    if not 1 <= limit <= 1000:
        raise InvalidRequest(
            f"limit: must be an integer from 1 to 1000, got {raw!r}", param="limit"
        )
    after, before = query.get("after_id"), query.get("before_id")
    if after and before:
        raise InvalidRequest("give after_id or before_id, not both", param="before_id")
    ids = [m.id for m in models]
    for param, value in (("after_id", after), ("before_id", before)):
        if value and value not in ids:
            raise InvalidRequest(f"{param}: no model with id {value!r}", param=param)
    if before:
        end = ids.index(before)
        start = max(0, end - limit)
        page, has_more = models[start:end], start > 0
    else:
        start = ids.index(after) + 1 if after else 0
        page, has_more = models[start : start + limit], start + limit < len(models)
    data = [model_entry(m) for m in page]
    return {
        "data": data,
        "has_more": has_more,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
    }


def model_entry(model: catalog.Model) -> dict[str, Any]:
    return {
        "type": "model",
        "id": model.id,
        "display_name": model.display_name,
        "created_at": model.created_at,
    }


KEEPALIVE = _event("ping", {})  # sent after a stretch of silence (server/keepalive.py)
