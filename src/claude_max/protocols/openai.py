"""OpenAI Chat Completions <-> the neutral conversation and events. Pure functions, no I/O.

The same names as `anthropic.py`, so the two read side by side: `to_conversation`,
`response`, `stream`, `error_body`.

`web_search_options` turns on web search (the CLI's WebSearch tool, `core.web_search`); the
answer's markdown links to pages the searches found come back as `url_citation` annotations.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from claude_max.core import catalog
from claude_max.core.conversation import (
    Conversation,
    DocumentPart,
    ImagePart,
    Options,
    Part,
    Role,
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
    WebSearchResult,
)
from claude_max.core.run import Reply
from claude_max.protocols import server_tools
from claude_max.protocols import validate as v

FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
EFFORTS = {
    "minimal": "low",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "xhigh": "xhigh",
    "max": "max",  # Claude's own top level, for clients configured for it
}


def to_conversation(body: dict[str, Any]) -> Conversation:
    messages = v.expect(body.get("messages"), list, "messages", "a non-empty array")
    if not messages:
        raise InvalidRequest("'messages' must be a non-empty array.", param="messages")
    system: list[str] = []
    turns: list[tuple[Role, list[Part]]] = []
    for i, message in enumerate(messages):
        param = f"messages[{i}]"
        v.expect(message, dict, param, "an object")
        role = message.get("role")
        content = message.get("content")
        if role in ("system", "developer"):
            system.append(_text_only(content, f"{param}.content"))
        elif role == "user":
            parts = _parts(content, f"{param}.content")
            if not any(not isinstance(p, TextPart) or p.text.strip() for p in parts):
                raise InvalidRequest(f"'{param}.content' must not be empty.", param=param)
            turns.append(("user", parts))
        elif role == "assistant":
            if message.get("function_call") is not None:
                raise _legacy_functions(f"{param}.function_call")
            text = "" if content is None else _text_only(content, f"{param}.content")
            calls = _tool_calls(message.get("tool_calls"), f"{param}.tool_calls")
            turns.append(("assistant", [TextPart(text), *calls]))
        elif role == "tool":
            call_id = v.tool_id(message.get("tool_call_id"), f"{param}.tool_call_id")
            output = "" if content is None else _text_only(content, f"{param}.content")
            turns.append(("user", [ToolResultPart(call_id, (TextPart(output),))]))
        elif role == "function":
            raise _legacy_functions(f"{param}.role")
        else:
            raise InvalidRequest(
                f"'{param}.role' must be one of system, developer, user, assistant, tool; "
                f"got {role!r}.",
                param=f"{param}.role",
            )
    if body.get("functions") is not None or body.get("function_call") is not None:
        raise _legacy_functions("functions")
    if body.get("n") not in (None, 1):
        raise InvalidRequest("Only n=1 is supported.", param="n")
    tools = _tools(body.get("tools"))
    choice, tool_name = _tool_choice(body.get("tool_choice"), tools)
    parallel = body.get("parallel_tool_calls", True)
    v.expect(parallel, bool, "parallel_tool_calls", "a boolean")
    most = v.max_output_tokens()
    max_tokens = v.optional_int(body, "max_completion_tokens", maximum=most) or v.optional_int(
        body, "max_tokens", maximum=most
    )
    effort = body.get("reasoning_effort")
    if effort is not None and (not isinstance(effort, str) or effort not in EFFORTS):
        raise InvalidRequest(
            f"'reasoning_effort' must be one of {', '.join(EFFORTS)}.", param="reasoning_effort"
        )
    model = body.get("model")
    if model is not None:
        v.expect(model, str, "model", "a string")
    cli_model = catalog.resolve(model)
    if effort is not None:
        v.effort(EFFORTS[effort], cli_model, "reasoning_effort")
    merged = v.merge_turns(turns)
    v.check_tool_pairs(merged, "messages")
    return Conversation(
        turns=merged,
        system="\n\n".join(s for s in system if s) or None,
        model=cli_model,
        options=Options(
            max_tokens=max_tokens,
            stop=v.string_list(body.get("stop"), "stop"),
            effort=EFFORTS.get(effort) if effort else None,
            tool_choice=choice,
            tool_name=tool_name,
            parallel_tools=parallel,
            json_schema=_response_format(body.get("response_format")),
            web_search=server_tools.chat_options(body.get("web_search_options")),
        ),
        tools=tools,
    )


def _legacy_functions(param: str) -> InvalidRequest:
    return InvalidRequest(
        "The legacy 'functions'/'function_call' API is not supported; use 'tools', "
        "'tool_choice' and role 'tool' messages.",
        param=param,
    )


def _tools(value: Any) -> tuple[Tool, ...]:
    if value is None:
        return ()
    v.expect(value, list, "tools", "an array of tools")
    tools: list[Tool] = []
    for i, tool in enumerate(value):
        where = f"tools[{i}]"
        v.expect(tool, dict, where, "an object")
        if tool.get("type") != "function":
            raise InvalidRequest(
                f"'{where}.type' must be 'function'; got {tool.get('type')!r}.",
                param=f"{where}.type",
            )
        function = v.expect(tool.get("function"), dict, f"{where}.function", "an object")
        v.add_tool(
            tools,
            function,
            f"{where}.function",
            "parameters",
            default_schema={"type": "object", "properties": {}},
        )
    return tuple(tools)


def _tool_choice(value: Any, tools: tuple[Tool, ...]) -> tuple[Any, str | None]:
    if value is None:
        return ("auto" if tools else "none"), None
    if value in ("auto", "none", "required"):
        if value == "required" and not tools:
            raise InvalidRequest("tool_choice 'required' needs 'tools'.", param="tool_choice")
        return value, None
    if isinstance(value, dict) and value.get("type") == "function":
        function = v.expect(value.get("function"), dict, "tool_choice.function", "an object")
        name = v.expect(function.get("name"), str, "tool_choice.function.name", "a string")
        if not any(t.name == name for t in tools):
            raise InvalidRequest(
                f"tool_choice names {name!r}, which is not in 'tools'.",
                param="tool_choice.function.name",
            )
        return "tool", name
    raise InvalidRequest(
        "'tool_choice' must be 'auto', 'none', 'required' or "
        '{"type": "function", "function": {"name": ...}}.',
        param="tool_choice",
    )


def _response_format(value: Any) -> str | None:
    if value is None:
        return None
    v.expect(value, dict, "response_format", "an object")
    kind = value.get("type")
    if kind == "text":
        return None
    if kind == "json_object":
        return v.schema({"type": "object"}, "response_format")
    if kind == "json_schema":
        spec = v.expect(value.get("json_schema"), dict, "response_format.json_schema", "an object")
        return v.schema(spec.get("schema"), "response_format.json_schema.schema")
    raise InvalidRequest(
        "'response_format.type' must be 'text', 'json_object' or 'json_schema'.",
        param="response_format.type",
    )


def _tool_calls(value: Any, param: str) -> list[ToolCallPart]:
    if value is None:
        return []
    v.expect(value, list, param, "an array")
    calls = []
    for i, call in enumerate(value):
        where = f"{param}[{i}]"
        v.expect(call, dict, where, "an object")
        if call.get("type", "function") != "function":
            raise InvalidRequest(
                f"'{where}.type' must be 'function'; got {call.get('type')!r}.",
                param=f"{where}.type",
            )
        call_id = v.tool_id(call.get("id"), f"{where}.id")
        function = v.expect(call.get("function"), dict, f"{where}.function", "an object")
        name = v.tool_name(function.get("name"), f"{where}.function.name")
        arguments = v.tool_input(function.get("arguments"), f"{where}.function.arguments")
        calls.append(ToolCallPart(call_id, name, arguments))
    return calls


def _text_only(content: Any, param: str) -> str:
    if isinstance(content, str):
        return content
    parts = _parts(content, param)
    if any(not isinstance(p, TextPart) for p in parts):
        raise InvalidRequest(f"'{param}' may contain only text.", param=param)
    return "".join(p.text for p in parts if isinstance(p, TextPart))


def _parts(content: Any, param: str) -> list[Part]:
    if isinstance(content, str):
        return [TextPart(content)]
    v.expect(content, list, param, "a string or an array of content parts")
    parts: list[Part] = []
    for j, item in enumerate(content):
        where = f"{param}[{j}]"
        v.expect(item, dict, where, "an object")
        kind = item.get("type")
        if kind in ("text", "refusal"):
            parts.append(TextPart(v.expect(item.get(kind), str, f"{where}.{kind}", "a string")))
        elif kind == "image_url":
            image_url = item.get("image_url")
            url = image_url.get("url") if isinstance(image_url, dict) else image_url
            url = v.expect(url, str, f"{where}.image_url.url", "a string")
            inline = v.data_url(url)
            if inline:
                parts.append(v.image(*inline, f"{where}.image_url.url"))
            else:  # the API downloads it; never fetched here
                parts.append(ImagePart("", "", url=v.web_url(url, f"{where}.image_url.url")))
        elif kind == "file":
            parts.append(_file(item.get("file"), f"{where}.file"))
        else:
            raise InvalidRequest(
                f"'{where}.type' {kind!r} is not supported (use text, image_url or file).",
                param=f"{where}.type",
            )
    return parts


def _file(value: Any, param: str) -> DocumentPart:
    """A `file` part: a PDF or plain text as a base64 data URL in `file_data`."""
    v.expect(value, dict, param, "an object")
    if value.get("file_id") is not None and value.get("file_data") is None:
        raise InvalidRequest(
            f"'{param}.file_id': uploaded files are not available here; send the file itself "
            "as 'file_data' (a data:application/pdf;base64,... URL).",
            param=f"{param}.file_id",
        )
    data = v.expect(value.get("file_data"), str, f"{param}.file_data", "a base64 data: URL")
    inline = v.data_url(data)
    if not inline:
        raise InvalidRequest(
            f"'{param}.file_data' must be a base64 data: URL "
            "(data:application/pdf;base64,... or data:text/plain;base64,...).",
            param=f"{param}.file_data",
        )
    filename = value.get("filename")
    title = filename if isinstance(filename, str) and filename else None
    return v.document(*inline, f"{param}.file_data", title=title)


def _tool_call(call: ToolUse) -> dict[str, Any]:
    arguments = json.dumps(call.input, ensure_ascii=False)
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": arguments},
    }


def usage_body(usage: Usage) -> dict[str, Any]:
    prompt = usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens
    return {
        "prompt_tokens": prompt,
        "completion_tokens": usage.output_tokens,
        "total_tokens": prompt + usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cache_read_input_tokens},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


def url_citations(text: str, hits: list[SearchHit]) -> list[dict[str, Any]]:
    """`url_citation` annotations for the answer's markdown links to pages it searched."""
    return [
        {
            "type": "url_citation",
            "url_citation": {"start_index": a, "end_index": b, "url": url, "title": title},
        }
        for a, b, url, title in server_tools.cited(text, hits)
    ]


def _ids() -> tuple[str, int]:
    return f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())


def response(reply: Reply, body: dict[str, Any]) -> dict[str, Any]:
    completion_id, created = _ids()
    message: dict[str, Any] = {"role": "assistant", "content": reply.text, "refusal": None}
    if reply.thinking:
        message["reasoning_content"] = reply.thinking
    if reply.tool_uses:
        message["content"] = reply.text or None
        message["tool_calls"] = [_tool_call(call) for call in reply.tool_uses]
    if reply.searches:
        hits = [h for s in reply.searches if s.result is not None for h in s.result.hits]
        message["annotations"] = url_citations(reply.text, hits)
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": reply.result.model or body.get("model"),
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": FINISH_REASONS.get(reply.result.stop_reason or "", "stop"),
            }
        ],
        "usage": usage_body(reply.usage),
        "system_fingerprint": None,
    }


async def stream(
    events: AsyncIterator[Event], body: dict[str, Any], *, open_now: bool = False
) -> AsyncIterator[str]:
    """Server-sent events in OpenAI's chunk format: `data:` lines only, then `[DONE]`.

    `open_now`: the response starts before the first token (a long silent think) with an
    SSE comment; a later failure is an error chunk (`{"error": ...}`, which the SDKs raise)."""
    completion_id, created = _ids()
    options = body.get("stream_options")
    include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
    model = body.get("model") or catalog.default_model().id
    sent = 0  # characters of answer text sent
    text = ""  # the answer so far, for its citations
    hits: list[SearchHit] | None = None  # what the web searches found (None: no search)

    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        data: dict[str, Any] = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": None,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if include_usage:
            data["usage"] = None
        return _data(data)

    started = False
    calls: dict[str, int] = {}  # tool call id -> its index in tool_calls
    if open_now:
        yield KEEPALIVE
    try:
        async for event in events:
            if isinstance(event, Started):
                model = event.model or model
                continue
            if not started and isinstance(event, _VISIBLE):
                started = True
                yield chunk({"role": "assistant", "content": ""})
            if isinstance(event, (ToolUseStart, ToolUse)) and event.id not in calls:
                calls[event.id] = len(calls)
                whole = json.dumps(event.input) if isinstance(event, ToolUse) else ""
                call: dict[str, Any] = {"id": event.id, "type": "function"}
                call["function"] = {"name": event.name, "arguments": whole}
                yield chunk({"tool_calls": [{"index": calls[event.id], **call}]})
            elif isinstance(event, ToolInputDelta) and event.id in calls:
                fragment = {"function": {"arguments": event.partial_json}}
                yield chunk({"tool_calls": [{"index": calls[event.id], **fragment}]})
            elif isinstance(event, TextDelta):
                sent += len(event.text)
                text += event.text
                yield chunk({"content": event.text})
            elif isinstance(event, WebSearchResult):
                hits = [*(hits or []), *event.hits]
            elif isinstance(event, ThinkingDelta):
                yield chunk({"reasoning_content": event.text})
            elif isinstance(event, TextReset) and event.keep < sent:
                raise AnswerRetracted()
            elif isinstance(event, Result):
                if hits is not None:  # the citations, once the text they point into is whole
                    yield chunk({"annotations": url_citations(text, hits)})
                yield chunk({}, FINISH_REASONS.get(event.stop_reason or "", "stop"))
                if include_usage:
                    yield _data(
                        {
                            "id": completion_id,
                            "object": "chat.completion.chunk",
                            "created": created,
                            "model": model,
                            "system_fingerprint": None,
                            "choices": [],
                            "usage": usage_body(event.usage),
                        }
                    )
                yield "data: [DONE]\n\n"
                return
    except ClaudeMaxError as exc:
        yield _data(error_body(exc))


_VISIBLE = (TextDelta, ThinkingDelta, ToolUseStart, ToolUse, Result)


def _data(obj: dict[str, Any]) -> str:
    return f"data: {json.dumps(obj, ensure_ascii=False)}\n\n"


ERROR_TYPES = {
    "invalid_request_error": "invalid_request_error",
    "request_too_large": "invalid_request_error",
    "not_found_error": "invalid_request_error",
    "authentication_error": "authentication_error",
    "permission_error": "permission_error",
    "rate_limit_error": "rate_limit_error",
    "overloaded_error": "server_error",
    "timeout_error": "timeout",
    "api_error": "server_error",
}


def error_body(exc: ClaudeMaxError) -> dict[str, Any]:
    code: str | None = getattr(exc, "code", None)
    if exc.kind == "not_found_error" and getattr(exc, "model", None):
        code = "model_not_found"
    elif exc.kind == "rate_limit_error":
        code = "rate_limit_exceeded"
    message = exc.message + (f" ({exc.hint})" if exc.hint else "")
    return {
        "error": {
            "message": message,
            "type": ERROR_TYPES.get(exc.kind, "server_error"),
            "param": getattr(exc, "param", None),
            "code": code,
        }
    }


def model_list(models: list[catalog.Model]) -> dict[str, Any]:
    return {"object": "list", "data": [model_entry(m) for m in models]}


def model_entry(model: catalog.Model) -> dict[str, Any]:
    return {"id": model.id, "object": "model", "created": 1767225600, "owned_by": "anthropic"}


KEEPALIVE = ": keep-alive\n\n"  # an SSE comment, sent after a stretch of silence
