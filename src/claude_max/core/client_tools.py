"""The client's tools, offered to the model through the CLI's in-process "SDK MCP" server.

The CLI is started with an MCP server of type `sdk` (CLI.md §9): it asks its host, over the
control protocol, to `initialize` the server and list its tools, and the model then sees each
client tool as `mcp__proxy__<name>`. When the model calls one, the CLI asks permission
(`can_use_tool`); the proxy answers deny + interrupt once the model's message is complete, and
hands the calls to the HTTP client. Nothing ever runs on this machine, and the model's turn
ends after one upstream call with `stop_reason: tool_use`.

Why deny + interrupt rather than holding the `tools/call` until the client returns a result
(the other way CLI.md §9 measured): it keeps every request stateless, so no CLI process (~150 MB)
is pinned per open tool call waiting on a client that may never come back, any server
instance can take the follow-up, and the follow-up seeds the exchange as real history
(assistant `tool_use`, user `tool_result`) into a fresh or warm process. Measured figures are
in `bench/tools.py`. Holding would also change what the model is sent (`bench/held_call.py`):
the CLI's own system-role context stays where the held turn began, before the call and its
results, instead of last, so a loop falling back to a fresh CLI would lose its prompt cache.

This module knows the names and lines of that exchange; `run.py` drives it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from claude_max.core.conversation import Conversation, Tool, ToolCallPart
from claude_max.core.events import ControlRequest

SERVER = "proxy"
PREFIX = f"mcp__{SERVER}__"
_MCP_CONFIG = json.dumps({"mcpServers": {SERVER: {"type": "sdk", "name": SERVER}}})
_FORWARDED = "Tool call forwarded to the API client."


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def cli_name(name: str) -> str:
    """The name the model sees for the client's tool `name`."""
    return PREFIX + name


def client_name(name: str) -> str | None:
    """The client's name for a tool the model called; None for a tool that is not the
    client's (the CLI's StructuredOutput, its placeholder, an invented name)."""
    return name[len(PREFIX) :] if name.startswith(PREFIX) else None


def flags() -> list[str]:
    return [f"--mcp-config={_MCP_CONFIG}", "--permission-prompt-tool=stdio"]


def declared(conv: Conversation) -> tuple[Tool, ...]:
    """The tools the CLI must declare: the client's, plus any that the history uses without
    declaring them (the Messages API rejects turns naming undeclared tools)."""
    if not conv.uses_tools:
        return ()
    tools = list(conv.tools)
    known = {t.name for t in tools}
    for turn in conv.turns:
        for part in turn.parts:
            if isinstance(part, ToolCallPart) and part.name not in known:
                known.add(part.name)
                tools.append(Tool(part.name, "", canonical({"type": "object"})))
    return tuple(tools)


def listing(tools: Iterable[Tool]) -> str:
    """The MCP `tools/list` result for `tools`, as canonical JSON (part of a launch spec)."""
    return canonical(
        {
            "tools": [
                {
                    "name": t.name,
                    "description": t.description,
                    "inputSchema": json.loads(t.schema_json),
                }
                for t in tools
            ]
        }
    )


def instructions(conv: Conversation) -> str:
    """What the system prompt must add so the model honours tool_choice and
    parallel_tool_calls, which the CLI cannot pass upstream."""
    opts = conv.options
    lines = []
    if opts.tool_choice == "none" and conv.uses_tools:
        lines.append("Do not call any tool in this reply; answer in text.")
    elif opts.tool_choice == "required":
        lines.append("You must call at least one of the available tools in this reply.")
    elif opts.tool_choice == "tool" and opts.tool_name:
        lines.append(f"You must call the tool {cli_name(opts.tool_name)} in this reply.")
    if not opts.parallel_tools and conv.uses_tools and opts.tool_choice != "none":
        lines.append("Call at most one tool at a time.")
    return " ".join(lines)


def allowed(conv: Conversation, name: str) -> bool:
    """Whether a call of the client's tool `name` may go to the client: a tool it offers in
    this request (not one only its history used, nor one `allowed_tools` left out, which the
    model may still name) that tool_choice permits."""
    opts = conv.options
    if not offered(conv, name) or opts.tool_choice == "none":
        return False
    if opts.tool_choice == "tool":
        return name == opts.tool_name
    return True


def mcp_answer(request: ControlRequest, tools_listing: str) -> dict[str, Any]:
    """The control_response to an `mcp_message` request for our server."""
    message = request.request.get("message") or {}
    method = message.get("method")
    result: dict[str, Any]
    error: dict[str, Any] | None = None
    if method == "initialize":
        params = message.get("params") or {}
        result = {
            "protocolVersion": params.get("protocolVersion") or "2025-06-18",
            "capabilities": {"tools": {}},
            "serverInfo": {"name": SERVER, "version": "1.0"},
        }
    elif method == "tools/list":
        result = json.loads(tools_listing)
    elif method == "tools/call":
        # Never expected (calls are denied first); still, nothing runs here.
        result = {"content": [{"type": "text", "text": _FORWARDED}], "isError": True}
    elif method is not None and str(method).startswith("notifications/"):
        result = {}
    else:
        result, error = {}, {"code": -32601, "message": f"Method not found: {method}"}
    mcp: dict[str, Any] = {"jsonrpc": "2.0", "id": message.get("id")}
    if error is not None:
        mcp["error"] = error
    else:
        mcp["result"] = result
    return _success(request.request_id, {"mcp_response": mcp})


def deny(request_id: str, *, interrupt: bool, message: str = _FORWARDED) -> dict[str, Any]:
    """Refuse a tool call: with `interrupt` the turn ends (the call goes to the client);
    without, the model reads `message` as the tool's error and carries on."""
    return _success(request_id, {"behavior": "deny", "message": message, "interrupt": interrupt})


def offered(conv: Conversation, name: str) -> bool:
    return any(t.name == name for t in conv.tools)


def refusal_reason(conv: Conversation, name: str | None = None) -> str:
    """What the model reads when a call of tool `name` (the client's name, None for a tool
    that is not the client's) is refused inside its turn."""
    opts = conv.options
    if name is not None and not offered(conv, name):
        return f"{cli_name(name)} is not available in this reply."
    if opts.tool_choice == "tool" and opts.tool_name:
        return f"Only {cli_name(opts.tool_name)} may be called now."
    return "Tool use is not allowed in this reply; answer in text."


def error_answer(request_id: str, subtype: str) -> dict[str, Any]:
    return {
        "type": "control_response",
        "response": {
            "subtype": "error",
            "request_id": request_id,
            "error": f"Unsupported control request subtype: {subtype}",
        },
    }


def _success(request_id: str, response: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "control_response",
        "response": {"subtype": "success", "request_id": request_id, "response": response},
    }
