"""The SDK MCP answers and permission lines of `core/client_tools.py`, line by line (the
exchange as a whole runs on the fake `claude` in tests/server/test_client_tools.py)."""

from __future__ import annotations

import json

import pytest

from claude_max.core import client_tools
from claude_max.core.conversation import Tool
from claude_max.core.events import ControlRequest

LISTING = client_tools.listing([Tool("f", "does f", '{"type":"object"}')])


def mcp(method: str, **message: object) -> ControlRequest:
    body = {"method": method, "jsonrpc": "2.0", **message}
    return ControlRequest("r1", {"subtype": "mcp_message", "server_name": "proxy", "message": body})


def mcp_response(request: ControlRequest) -> dict:
    answer = client_tools.mcp_answer(request, LISTING)
    assert answer["type"] == "control_response"
    assert answer["response"]["subtype"] == "success"
    assert answer["response"]["request_id"] == "r1"
    return answer["response"]["response"]["mcp_response"]


def test_initialize_echoes_the_protocol_version():
    response = mcp_response(mcp("initialize", id=0, params={"protocolVersion": "2025-11-25"}))
    assert response["id"] == 0
    assert response["result"]["protocolVersion"] == "2025-11-25"
    assert response["result"]["capabilities"] == {"tools": {}}
    assert response["result"]["serverInfo"]["name"] == "proxy"


def test_initialize_without_a_version_gets_one():
    assert mcp_response(mcp("initialize", id=0))["result"]["protocolVersion"]


def test_tools_list_is_the_listing():
    response = mcp_response(mcp("tools/list", id=1))
    assert response["result"] == {
        "tools": [{"name": "f", "description": "does f", "inputSchema": {"type": "object"}}]
    }


def test_a_notification_gets_an_empty_result():
    assert mcp_response(mcp("notifications/initialized")) == {
        "jsonrpc": "2.0",
        "id": None,
        "result": {},
    }


def test_tools_call_never_runs_anything():
    response = mcp_response(mcp("tools/call", id=2, params={"name": "f", "arguments": {}}))
    assert response["result"]["isError"] is True
    assert "forwarded" in response["result"]["content"][0]["text"]


@pytest.mark.parametrize("method", ["resources/list", None])
def test_an_unknown_method_is_a_json_rpc_error(method):
    response = mcp_response(mcp(method, id=3))  # type: ignore[arg-type]
    assert response["error"]["code"] == -32601
    assert "result" not in response


def test_deny_and_error_answers():
    assert client_tools.deny("r2", interrupt=True)["response"]["response"] == {
        "behavior": "deny",
        "message": "Tool call forwarded to the API client.",
        "interrupt": True,
    }
    error = client_tools.error_answer("r3", "hook_callback")["response"]
    assert (error["subtype"], error["request_id"]) == ("error", "r3")
    assert "hook_callback" in error["error"]


def test_names_and_flags():
    assert client_tools.cli_name("f") == "mcp__proxy__f"
    assert client_tools.client_name("mcp__proxy__f") == "f"
    assert client_tools.client_name("StructuredOutput") is None
    [config, prompt_tool] = client_tools.flags()
    assert json.loads(config.split("=", 1)[1]) == {
        "mcpServers": {"proxy": {"type": "sdk", "name": "proxy"}}
    }
    assert prompt_tool == "--permission-prompt-tool=stdio"
