"""OpenAI Responses API <-> the neutral conversation and events. Pure functions, no I/O.

The same names as `openai.py` and `anthropic.py`: `to_conversation`, `response`, `stream`,
`error_body`; plus `ignored_tools`, the hosted tools a request offered that the CLI cannot.

Where the system prompt comes from: `instructions` first, then every `system` or `developer`
message of `input`, in order, joined by blank lines. The CLI takes one system prompt, so a
developer message in the middle of the conversation moves to the front.

Tools: `function` tools are client tools exactly as in Chat Completions. A `custom` (freeform)
tool such as Codex's `apply_patch` takes one string; the model sees it as a tool with one
string property, `input` (its grammar, if any, in that property's description), and its calls
come back as `custom_tool_call` items carrying that string. Hosted tools (web search, file
search, MCP, computer use...) are left out; the route names them in a response header. Web
search (`web_search`, `web_search_preview`) is the exception: the CLI's WebSearch tool serves
it (`core.web_search`), and each search is a `web_search_call` item before the answer, whose
markdown links to what was found are `url_citation` annotations.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

from claude_max.core import catalog
from claude_max.core.client_tools import canonical
from claude_max.core.conversation import (
    Conversation,
    Options,
    Part,
    Role,
    ServerTool,
    TextPart,
    Tool,
    ToolCallPart,
    ToolResultPart,
)
from claude_max.core.errors import AnswerRetracted, ClaudeMaxError, InvalidRequest
from claude_max.core.events import (
    Event,
    Result,
    SearchHit,
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
from claude_max.protocols import openai, server_tools
from claude_max.protocols import validate as v

CLIENT_TOOLS = ("function", "custom")
CUSTOM_INPUT = "input"  # the one property of the object a custom tool's input travels in
EFFORTS = {**openai.EFFORTS, "none": None}
_TEXT_PARTS = ("input_text", "output_text", "text", "refusal", "summary_text")
_DROPPED_ITEMS = (  # history items the CLI cannot replay: accepted and left out
    "reasoning",
    "web_search_call",
    "file_search_call",
    "computer_call",
    "computer_call_output",
    "image_generation_call",
    "code_interpreter_call",
    "mcp_list_tools",
    "mcp_call",
    "mcp_approval_request",
    "mcp_approval_response",
    "tool_search_call",
    "tool_search_output",
    "compaction",
)


def to_conversation(body: dict[str, Any]) -> Conversation:
    system: list[str] = []
    instructions = body.get("instructions")
    if instructions is not None:
        system.append(v.expect(instructions, str, "instructions", "a string"))
    turns = _items(body.get("input"), system)
    if not turns or turns[-1][0] != "user":
        raise InvalidRequest(
            "'input' must end with a user message or a tool call output.", param="input"
        )
    for key in ("background", "conversation", "prompt"):
        if body.get(key) not in (None, False):
            raise InvalidRequest(f"'{key}' is not supported by claude-max.", param=key)
    tools, custom = _tools(body.get("tools"))
    choice, tool_name = _tool_choice(body.get("tool_choice"), tools)
    tools = _allowed(body.get("tool_choice"), tools)
    parallel = body.get("parallel_tool_calls")
    parallel = True if parallel is None else parallel
    v.expect(parallel, bool, "parallel_tool_calls", "a boolean")
    reasoning = body.get("reasoning") or {}
    v.expect(reasoning, dict, "reasoning", "an object")
    effort = reasoning.get("effort")
    if effort is not None and (not isinstance(effort, str) or effort not in EFFORTS):
        raise InvalidRequest(
            f"'reasoning.effort' must be one of {', '.join(EFFORTS)}.", param="reasoning.effort"
        )
    model = body.get("model")
    if model is not None:
        v.expect(model, str, "model", "a string")
    merged = v.merge_turns(_custom_calls(turns, custom))
    v.check_tool_pairs(merged, "input")
    return Conversation(
        turns=merged,
        system="\n\n".join(s for s in system if s) or None,
        model=catalog.resolve(model),
        options=Options(
            max_tokens=v.optional_int(body, "max_output_tokens"),
            thinking="disabled" if effort == "none" else None,
            effort=EFFORTS.get(effort) if effort else None,
            tool_choice=choice,
            tool_name=tool_name,
            parallel_tools=parallel,
            json_schema=_text_format(body.get("text")),
            web_search=_web_search(body.get("tools")),
        ),
        tools=tools,
    )


def ignored_tools(body: dict[str, Any]) -> list[str]:
    """The types of the offered tools that the CLI cannot offer (hosted ones), left out."""
    tools = body.get("tools")
    if not isinstance(tools, list):
        return []
    kinds = (t.get("type") for t in tools if isinstance(t, dict))
    return sorted(
        {str(k) for k in kinds if k not in CLIENT_TOOLS and not server_tools.is_responses_search(k)}
    )


def custom_tool_names(body: dict[str, Any]) -> set[str]:
    tools = body.get("tools")
    if not isinstance(tools, list):
        return set()
    return {
        t["name"]
        for t in tools
        if isinstance(t, dict) and t.get("type") == "custom" and isinstance(t.get("name"), str)
    }


# --- input ---------------------------------------------------------------------------------


def _items(value: Any, system: list[str]) -> list[tuple[Role, list[Part]]]:
    if isinstance(value, str):
        return [("user", [TextPart(value)])] if value.strip() else []
    v.expect(value, list, "input", "a string or an array of input items")
    turns: list[tuple[Role, list[Part]]] = []
    for i, item in enumerate(value):
        where = f"input[{i}]"
        v.expect(item, dict, where, "an object")
        kind = item.get("type", "message" if "role" in item else None)
        if kind == "message":
            _message(item, where, system, turns)
        elif kind in ("function_call", "custom_tool_call"):
            call_id = v.tool_id(item.get("call_id"), f"{where}.call_id")
            name = v.tool_name(item.get("name"), f"{where}.name")
            if kind == "function_call":
                arguments = v.tool_input(item.get("arguments"), f"{where}.arguments")
            else:
                text = v.expect(item.get("input"), str, f"{where}.input", "a string")
                arguments = canonical({CUSTOM_INPUT: text})
            turns.append(("assistant", [ToolCallPart(call_id, name, arguments)]))
        elif kind in ("function_call_output", "custom_tool_call_output"):
            call_id = v.tool_id(item.get("call_id"), f"{where}.call_id")
            content = tuple(_output_parts(item.get("output"), f"{where}.output"))
            turns.append(("user", [ToolResultPart(call_id, content)]))
        elif kind in _DROPPED_ITEMS:
            continue
        else:
            raise InvalidRequest(
                f"'{where}.type' {kind!r} is not supported (use message, function_call, "
                "function_call_output, custom_tool_call or custom_tool_call_output).",
                param=f"{where}.type",
            )
    return turns


def _message(
    item: dict[str, Any], where: str, system: list[str], turns: list[tuple[Role, list[Part]]]
) -> None:
    role = item.get("role")
    parts = _parts(item.get("content"), f"{where}.content")
    if role in ("system", "developer"):
        if any(not isinstance(p, TextPart) for p in parts):
            raise InvalidRequest(f"'{where}.content' may contain only text.", param=where)
        system.append("".join(p.text for p in parts if isinstance(p, TextPart)))
    elif role == "user":
        turns.append(("user", parts))
    elif role == "assistant":
        if any(not isinstance(p, TextPart) for p in parts):
            raise InvalidRequest(f"'{where}.content' may contain only text.", param=where)
        turns.append(("assistant", parts))
    else:
        raise InvalidRequest(
            f"'{where}.role' must be one of user, assistant, system, developer; got {role!r}.",
            param=f"{where}.role",
        )


def _parts(content: Any, param: str) -> list[Part]:
    if isinstance(content, str):
        return [TextPart(content)]
    v.expect(content, list, param, "a string or an array of content parts")
    parts: list[Part] = []
    for j, part in enumerate(content):
        where = f"{param}[{j}]"
        v.expect(part, dict, where, "an object")
        kind = part.get("type")
        if kind in _TEXT_PARTS:
            key = "refusal" if kind == "refusal" else "text"
            parts.append(TextPart(v.expect(part.get(key), str, f"{where}.{key}", "a string")))
        elif kind == "input_image":
            url = part.get("image_url")
            if not isinstance(url, str):
                raise InvalidRequest(
                    f"'{where}.image_url' must be a base64 data: URL (claude-max has no file "
                    "store and does not fetch remote images).",
                    param=f"{where}.image_url",
                )
            inline = v.data_url(url)
            if not inline:
                raise InvalidRequest(
                    f"'{where}.image_url' must be a base64 data: URL "
                    "(claude-max does not fetch remote images).",
                    param=f"{where}.image_url",
                )
            parts.append(v.image(*inline, f"{where}.image_url"))
        else:
            raise InvalidRequest(
                f"'{where}.type' {kind!r} is not supported (use input_text, input_image or "
                "output_text).",
                param=f"{where}.type",
            )
    return parts


def _output_parts(value: Any, param: str) -> list[Any]:
    if isinstance(value, str):
        return [TextPart(value)]
    parts = _parts(value, param)
    return [p for p in parts if not (isinstance(p, TextPart) and not p.text)] or [TextPart("")]


def _custom_calls(
    turns: list[tuple[Role, list[Part]]], custom: set[str]
) -> list[tuple[Role, list[Part]]]:
    """A `function_call` item naming a custom tool carries its input as JSON text; keep the
    one shape the model sees ({"input": ...}) whatever item the client sent back."""
    out = []
    for role, parts in turns:
        fixed: list[Part] = []
        for part in parts:
            if isinstance(part, ToolCallPart) and part.name in custom:
                if set(json.loads(part.input_json)) != {CUSTOM_INPUT}:
                    part = ToolCallPart(part.id, part.name, canonical({CUSTOM_INPUT: ""}))
            fixed.append(part)
        out.append((role, fixed))
    return out


# --- tools and formats -----------------------------------------------------------------------


def _tools(value: Any) -> tuple[tuple[Tool, ...], set[str]]:
    if value is None:
        return (), set()
    v.expect(value, list, "tools", "an array of tools")
    tools: list[Tool] = []
    custom: set[str] = set()
    for i, tool in enumerate(value):
        where = f"tools[{i}]"
        v.expect(tool, dict, where, "an object")
        kind = tool.get("type")
        if kind == "function":
            v.add_tool(
                tools,
                tool,
                where,
                "parameters",
                default_schema={"type": "object", "properties": {}},
            )
        elif kind == "custom":
            spec = {**tool, "schema": _custom_schema(tool.get("format"), f"{where}.format")}
            v.add_tool(tools, spec, where, "schema")
            custom.add(tools[-1].name)
    return tuple(tools), custom


def _web_search(value: Any) -> ServerTool | None:
    """The offered `web_search` tool (its allowed domains), served by the CLI's WebSearch."""
    for i, tool in enumerate(value if isinstance(value, list) else []):
        if isinstance(tool, dict) and server_tools.is_responses_search(tool.get("type")):
            return server_tools.responses_tool(tool, f"tools[{i}]")
    return None


def _custom_schema(fmt: Any, param: str) -> dict[str, Any]:
    described = "The tool's whole input as raw text (not JSON)."
    if fmt is not None:
        v.expect(fmt, dict, param, "an object")
        if fmt.get("type") == "grammar":
            syntax = fmt.get("syntax") or "lark"
            definition = v.expect(fmt.get("definition"), str, f"{param}.definition", "a string")
            described += f" It must match this {syntax} grammar:\n{definition}"
    return {
        "type": "object",
        "properties": {CUSTOM_INPUT: {"type": "string", "description": described}},
        "required": [CUSTOM_INPUT],
        "additionalProperties": False,
    }


def _tool_choice(value: Any, tools: tuple[Tool, ...]) -> tuple[Any, str | None]:
    if value is None:
        return ("auto" if tools else "none"), None
    if value in ("auto", "none", "required"):
        if value == "required" and not tools:
            raise InvalidRequest("tool_choice 'required' needs 'tools'.", param="tool_choice")
        return value, None
    if isinstance(value, dict) and value.get("type") in CLIENT_TOOLS:
        name = v.expect(value.get("name"), str, "tool_choice.name", "a string")
        if not any(t.name == name for t in tools):
            raise InvalidRequest(
                f"tool_choice names {name!r}, which is not in 'tools'.", param="tool_choice.name"
            )
        return "tool", name
    if isinstance(value, dict) and value.get("type") == "allowed_tools":
        mode = value.get("mode", "auto")
        if mode not in ("auto", "required"):
            raise InvalidRequest(
                "'tool_choice.mode' must be 'auto' or 'required'.", param="tool_choice.mode"
            )
        return mode, None
    raise InvalidRequest(
        "'tool_choice' must be 'auto', 'none', 'required', "
        '{"type": "function" or "custom", "name": ...} or {"type": "allowed_tools", ...} '
        "(hosted tools are not available through claude-max).",
        param="tool_choice",
    )


def _allowed(choice: Any, tools: tuple[Tool, ...]) -> tuple[Tool, ...]:
    """`allowed_tools` narrows the offered tools to those it lists."""
    if not (isinstance(choice, dict) and choice.get("type") == "allowed_tools"):
        return tools
    listed = v.expect(choice.get("tools"), list, "tool_choice.tools", "an array")
    names = {t["name"] for t in listed if isinstance(t, dict) and isinstance(t.get("name"), str)}
    return tuple(t for t in tools if t.name in names)


def _text_format(value: Any) -> str | None:
    if value is None:
        return None
    v.expect(value, dict, "text", "an object")
    fmt = value.get("format")
    if fmt is None:
        return None
    v.expect(fmt, dict, "text.format", "an object")
    kind = fmt.get("type")
    if kind == "text":
        return None
    if kind == "json_object":
        return v.schema({"type": "object"}, "text.format")
    if kind == "json_schema":
        return v.schema(fmt.get("schema"), "text.format.schema")
    raise InvalidRequest(
        "'text.format.type' must be 'text', 'json_object' or 'json_schema'.",
        param="text.format.type",
    )


# --- output --------------------------------------------------------------------------------


def _id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def usage_body(usage: Usage, reasoning_tokens: int = 0) -> dict[str, Any]:
    inputs = usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens
    return {
        "input_tokens": inputs,
        "input_tokens_details": {
            "cached_tokens": usage.cache_read_input_tokens,
            "cache_write_tokens": usage.cache_creation_input_tokens,
        },
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
        "total_tokens": inputs + usage.output_tokens,
    }


def response_object(
    body: dict[str, Any],
    *,
    response_id: str,
    created_at: int,
    model: str,
    status: str,
    output: list[dict[str, Any]],
    usage: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The `response` object, with every field the openai SDK's `Response` type has."""
    reasoning: dict[str, Any] = _dict(body.get("reasoning"))
    text: dict[str, Any] = _dict(body.get("text"))
    tools: list[Any] = body["tools"] if isinstance(body.get("tools"), list) else []
    incomplete = {"reason": "max_output_tokens"} if status == "incomplete" else None
    return {
        "id": response_id,
        "object": "response",
        "created_at": created_at,
        "status": status,
        "background": False,
        "error": error,
        "incomplete_details": incomplete,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": None,
        "model": model,
        "output": output,
        "parallel_tool_calls": body.get("parallel_tool_calls") is not False,
        "previous_response_id": body.get("previous_response_id"),
        "prompt_cache_key": body.get("prompt_cache_key"),
        "reasoning": {"effort": reasoning.get("effort"), "summary": reasoning.get("summary")},
        "safety_identifier": body.get("safety_identifier"),
        "service_tier": body.get("service_tier") or "default",
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": {
            "format": text.get("format") or {"type": "text"},
            "verbosity": text.get("verbosity") or "medium",
        },
        "tool_choice": body.get("tool_choice") or "auto",
        "tools": [
            t
            for t in tools
            if isinstance(t, dict)
            and (t.get("type") in CLIENT_TOOLS or server_tools.is_responses_search(t.get("type")))
        ],
        "top_logprobs": 0,
        "top_p": body.get("top_p", 1.0),
        "truncation": body.get("truncation") or "disabled",
        "usage": usage,
        "user": body.get("user"),
        "metadata": body.get("metadata") or {},
    }


def _status(stop_reason: str | None) -> str:
    return "incomplete" if stop_reason == "max_tokens" else "completed"


def _reasoning_item(item_id: str, text: str) -> dict[str, Any]:
    summary = [{"type": "summary_text", "text": text}] if text else []
    return {"id": item_id, "type": "reasoning", "summary": summary, "encrypted_content": None}


def _text_part(text: str, hits: list[SearchHit] | None = None) -> dict[str, Any]:
    return {
        "type": "output_text",
        "text": text,
        "annotations": _annotations(text, hits or []),
        "logprobs": [],
    }


def _annotations(text: str, hits: list[SearchHit]) -> list[dict[str, Any]]:
    """`url_citation`s for the answer's markdown links to pages its searches found."""
    return [
        {"type": "url_citation", "start_index": a, "end_index": b, "url": url, "title": title}
        for a, b, url, title in server_tools.cited(text, hits)
    ]


def _search_item(
    item_id: str, call: WebSearchCall, result: WebSearchResult | None, body: dict[str, Any]
) -> dict[str, Any]:
    """A `web_search_call` item; its `sources` only when `include` asks for them, as OpenAI."""
    action: dict[str, Any] = {"type": "search", "query": call.query}
    if result is not None and "web_search_call.action.sources" in (body.get("include") or []):
        action["sources"] = [{"type": "url", "url": hit.url} for hit in result.hits]
    if result is None:
        status = "in_progress"
    else:
        status = "failed" if result.error else "completed"
    return {"id": item_id, "type": "web_search_call", "status": status, "action": action}


def _hits(searches: tuple[SearchStep, ...]) -> list[SearchHit]:
    return [hit for s in searches if s.result is not None for hit in s.result.hits]


def _message_item(
    item_id: str, text: str | None, status: str, hits: list[SearchHit] | None = None
) -> dict[str, Any]:
    content = [] if text is None else [_text_part(text, hits)]
    return {
        "id": item_id,
        "type": "message",
        "role": "assistant",
        "status": status,
        "content": content,
    }


def _call_item(item_id: str, call: ToolUse, custom: set[str], status: str) -> dict[str, Any]:
    if call.name in custom:
        value = call.input.get(CUSTOM_INPUT)
        text = value if isinstance(value, str) else json.dumps(call.input, ensure_ascii=False)
        return {
            "id": item_id,
            "type": "custom_tool_call",
            "call_id": call.id,
            "name": call.name,
            "input": text,
            "status": status,
        }
    return {
        "id": item_id,
        "type": "function_call",
        "call_id": call.id,
        "name": call.name,
        "arguments": json.dumps(call.input, ensure_ascii=False),
        "status": status,
    }


def response(reply: Reply, body: dict[str, Any]) -> dict[str, Any]:
    custom = custom_tool_names(body)
    status = _status(reply.result.stop_reason)
    output: list[dict[str, Any]] = []
    if reply.thinking:
        output.append(_reasoning_item(_id("rs"), reply.thinking))
    hits, pos = _hits(reply.searches), 0
    for step in reply.searches:
        if step.at > pos:
            output.append(_message_item(_id("msg"), reply.text[pos : step.at], status, hits))
            pos = step.at
        output.append(_search_item(_id("ws"), step.call, step.result, body))
    if reply.text[pos:] or not (reply.tool_uses or reply.searches):
        output.append(_message_item(_id("msg"), reply.text[pos:], status, hits))
    output.extend(_call_item(_id("fc"), call, custom, "completed") for call in reply.tool_uses)
    return response_object(
        body,
        response_id=_id("resp"),
        created_at=int(time.time()),
        model=reply.result.model or body.get("model") or catalog.default_model().id,
        status=status,
        output=output,
        usage=usage_body(reply.usage),
    )


class _Stream:
    """The event sequence of one streamed response: output items open and close as the
    run's events change kind (reasoning, message text, a tool call)."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.custom = custom_tool_names(body)
        self.response_id = _id("resp")
        self.created_at = int(time.time())
        self.model = body.get("model") or catalog.default_model().id
        self.sequence = 0
        self.output: list[dict[str, Any]] = []
        self.open: dict[str, Any] | None = None  # the item being streamed
        self.text = ""  # the open item's text, or a custom call's input so far
        self.sent = 0  # characters of answer text sent, over all message items
        self.calls: dict[str, dict[str, Any]] = {}  # tool call id -> its item
        self.searches: dict[str, tuple[int, WebSearchCall]] = {}  # call id -> output index
        self.hits: list[SearchHit] = []  # what the searches found, for url_citations

    def event(self, kind: str, **fields: Any) -> str:
        data = {"type": kind, "sequence_number": self.sequence, **fields}
        self.sequence += 1
        return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"

    def snapshot(self, status: str, **kw: Any) -> dict[str, Any]:
        return response_object(
            self.body,
            response_id=self.response_id,
            created_at=self.created_at,
            model=self.model,
            status=status,
            output=list(self.output),
            **kw,
        )

    def begin(self) -> Iterator[str]:
        yield self.event("response.created", response=self.snapshot("in_progress"))
        yield self.event("response.in_progress", response=self.snapshot("in_progress"))

    def _where(self) -> dict[str, Any]:
        assert self.open is not None
        return {"item_id": self.open["id"], "output_index": len(self.output)}

    def start(self, item: dict[str, Any]) -> Iterator[str]:
        yield from self.close()
        self.open, self.text = item, ""
        yield self.event("response.output_item.added", output_index=len(self.output), item=item)
        if item["type"] == "message":
            yield self.event(
                "response.content_part.added", **self._where(), content_index=0, part=_text_part("")
            )
        elif item["type"] == "reasoning":
            yield self.event(
                "response.reasoning_summary_part.added",
                **self._where(),
                summary_index=0,
                part={"type": "summary_text", "text": ""},
            )

    def close(self, status: str = "completed") -> Iterator[str]:
        item = self.open
        if item is None:
            return
        where = self._where()
        if item["type"] == "message":
            part = _text_part(self.text, self.hits)
            for i, annotation in enumerate(part["annotations"]):
                yield self.event(
                    "response.output_text.annotation.added",
                    **where,
                    content_index=0,
                    annotation_index=i,
                    annotation=annotation,
                )
            yield self.event("response.output_text.done", **where, content_index=0, text=self.text)
            yield self.event("response.content_part.done", **where, content_index=0, part=part)
            item = _message_item(item["id"], self.text, status, self.hits)
        elif item["type"] == "reasoning":
            part = {"type": "summary_text", "text": self.text}
            yield self.event(
                "response.reasoning_summary_text.done", **where, summary_index=0, text=self.text
            )
            yield self.event(
                "response.reasoning_summary_part.done", **where, summary_index=0, part=part
            )
            item = _reasoning_item(item["id"], self.text)
        else:
            item = self.calls[item["call_id"]]
        yield self.event("response.output_item.done", output_index=len(self.output), item=item)
        self.output.append(item)
        self.open = None

    def text_delta(self, text: str) -> Iterator[str]:
        if self.open is None or self.open["type"] != "message":
            yield from self.start(_message_item(_id("msg"), None, "in_progress"))
        self.text += text
        self.sent += len(text)
        yield self.event(
            "response.output_text.delta", **self._where(), content_index=0, delta=text, logprobs=[]
        )

    def thinking_delta(self, text: str) -> Iterator[str]:
        if self.open is None or self.open["type"] != "reasoning":
            yield from self.start({"id": _id("rs"), "type": "reasoning", "summary": []})
        self.text += text
        yield self.event(
            "response.reasoning_summary_text.delta", **self._where(), summary_index=0, delta=text
        )

    def call_start(self, call_id: str, name: str) -> Iterator[str]:
        pending = ToolUse(call_id, name, {})
        item = _call_item(
            _id("fc" if name not in self.custom else "ctc"), pending, self.custom, "in_progress"
        )
        item["input" if item["type"] == "custom_tool_call" else "arguments"] = ""
        self.calls[call_id] = item
        yield from self.start(item)

    def call_delta(self, call_id: str, fragment: str) -> Iterator[str]:
        item = self.calls.get(call_id)
        if item is None or self.open is not item:
            return
        if item["type"] == "function_call":  # a custom call's string is sent whole at its end
            yield self.event(
                "response.function_call_arguments.delta", **self._where(), delta=fragment
            )

    def call_end(self, call: ToolUse) -> Iterator[str]:
        if self.calls.get(call.id, {}).get("status") == "completed":
            return  # already closed
        if self.open is None or self.open.get("call_id") != call.id:
            yield from self.call_start(call.id, call.name)
            if self.calls[call.id]["type"] == "function_call":
                whole = json.dumps(call.input, ensure_ascii=False)
                yield from self.call_delta(call.id, whole)
        item = _call_item(self.calls[call.id]["id"], call, self.custom, "completed")
        self.calls[call.id] = item
        where = self._where()
        if item["type"] == "custom_tool_call":
            yield self.event("response.custom_tool_call_input.delta", **where, delta=item["input"])
            yield self.event("response.custom_tool_call_input.done", **where, input=item["input"])
        else:
            yield self.event(
                "response.function_call_arguments.done",
                **where,
                name=call.name,
                arguments=item["arguments"],
            )
        yield from self.close()

    def search_start(self, call: WebSearchCall) -> Iterator[str]:
        """A search's item is added (its index reserved) and stays open until its result;
        other items may stream meanwhile (parallel searches)."""
        yield from self.close()
        item = _search_item(_id("ws"), call, None, self.body)
        index = len(self.output)
        self.output.append(item)
        self.searches[call.id] = (index, call)
        where = {"item_id": item["id"], "output_index": index}
        yield self.event("response.output_item.added", output_index=index, item=item)
        yield self.event("response.web_search_call.in_progress", **where)
        yield self.event("response.web_search_call.searching", **where)

    def search_end(self, call_id: str, result: WebSearchResult | None) -> Iterator[str]:
        if call_id not in self.searches:
            return
        index, call = self.searches.pop(call_id)
        if result is None:  # the run ended before its result
            result = WebSearchResult(call.id, call.query, error="unavailable")
        self.hits.extend(result.hits)
        item = _search_item(self.output[index]["id"], call, result, self.body)
        self.output[index] = item
        if item["status"] == "completed":
            where = {"item_id": item["id"], "output_index": index}
            yield self.event("response.web_search_call.completed", **where)
        yield self.event("response.output_item.done", output_index=index, item=item)

    def finish(self, result: Result) -> Iterator[str]:
        status = _status(result.stop_reason)
        for call_id in list(self.searches):
            yield from self.search_end(call_id, None)
        yield from self.close("incomplete" if status == "incomplete" else "completed")
        kind = "response.incomplete" if status == "incomplete" else "response.completed"
        yield self.event(kind, response=self.snapshot(status, usage=usage_body(result.usage)))

    def fail(self, exc: ClaudeMaxError) -> Iterator[str]:
        error = error_body(exc)["error"]
        failure = {"code": error["code"] or error["type"], "message": error["message"]}
        yield self.event("response.failed", response=self.snapshot("failed", error=failure))


async def stream(
    events: AsyncIterator[Event], body: dict[str, Any], *, open_now: bool = False
) -> AsyncIterator[str]:
    """Server-sent events in the Responses API's sequence, each `data:` carrying its `type`
    and `sequence_number` (with a matching `event:` line, as OpenAI sends them).

    `open_now`: the response starts before the first token (a long silent think) with
    `response.created` and `response.in_progress`; a later failure is `response.failed`."""
    out = _Stream(body)
    begun = open_now
    if open_now:
        for line in out.begin():
            yield line
    try:
        async for event in events:
            if isinstance(event, Started):
                out.model = event.model or out.model
                continue
            if not begun:
                begun = True
                for line in out.begin():
                    yield line
            for line in _lines(out, event):
                yield line
            if isinstance(event, Result):
                return
    except ClaudeMaxError as exc:
        if not begun:
            for line in out.begin():
                yield line
        for line in out.fail(exc):
            yield line


def _lines(out: _Stream, event: Event) -> Iterator[str]:
    if isinstance(event, TextDelta):
        yield from out.text_delta(event.text)
    elif isinstance(event, ThinkingDelta):
        yield from out.thinking_delta(event.text)
    elif isinstance(event, ToolUseStart):
        if event.id not in out.calls:
            yield from out.call_start(event.id, event.name)
    elif isinstance(event, ToolInputDelta):
        yield from out.call_delta(event.id, event.partial_json)
    elif isinstance(event, ToolUse):
        yield from out.call_end(event)
    elif isinstance(event, WebSearchCall):
        yield from out.search_start(event)
    elif isinstance(event, WebSearchResult):
        yield from out.search_end(event.id, event)
    elif isinstance(event, TextReset) and event.keep < out.sent:
        raise AnswerRetracted()
    elif isinstance(event, Result):
        yield from out.finish(event)


_FINAL_EVENTS = ("response.completed", "response.incomplete")


def final_response(chunk: str) -> dict[str, Any] | None:
    """The whole response carried by one of `stream`'s chunks, if it is the last event."""
    head, _, data = chunk.partition("\n")
    if head.removeprefix("event: ") not in _FINAL_EVENTS:
        return None
    response: dict[str, Any] = json.loads(data.removeprefix("data: "))["response"]
    return response


def error_body(exc: ClaudeMaxError) -> dict[str, Any]:
    """OpenAI's error shape, the same as Chat Completions'."""
    return openai.error_body(exc)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
