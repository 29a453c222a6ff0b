"""Client tool calling on the fake `claude` (`core/client_tools.py`, `core/run.py` `_ToolCalls`).

The fake speaks the SDK MCP exchange as 2.1.330 does (tests/fakes/claude): the handshake
at start, the model's tool_use blocks, a `can_use_tool` ask per call. These tests check what
the client gets in each protocol, what the CLI was told (the tools listing, each permission
answer), tool_choice and parallel_tool_calls, the stateless follow-up, and the 400s.
"""

from __future__ import annotations

import json
import os
from typing import Any

import httpx
import pytest
from anthropic.types import Message
from fake_claude_log import FAKE_CLAUDE, read_log
from fake_cli import FakeCLI, messages
from openai.types.chat import ChatCompletion
from openai.types.responses import Response
from serve_process import Server
from starlette.testclient import TestClient
from waiting import gone, wait_until

from claude_max.core.settings import Settings
from claude_max.server.app import create_app

WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}
TIME = {"name": "get_time", "description": "", "parameters": {"type": "object"}}
PARIS = {"name": "get_weather", "input": {"city": "Paris"}}
CET = {"name": "get_time", "input": {"tz": "CET"}}
ASK = [{"role": "user", "content": "weather?"}]


@pytest.fixture
def settings(claude_max_home):
    """Cold CLIs only, to keep the fast suite fast: the warm path of a tool request (a CLI
    that answered the handshake before its request) has its own test below."""
    return Settings(home=claude_max_home, claude_path=str(FAKE_CLAUDE), warm=0)


def openai_tools(*tools: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"type": "function", "function": t} for t in tools]


def anthropic_tools(*tools: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"name": t["name"], "description": t["description"], "input_schema": t["parameters"]}
        for t in tools
    ]


def responses_tools(*tools: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"type": "function", **t} for t in tools]


def calling(fake_cli: FakeCLI, *calls: dict[str, Any], **env: Any) -> None:
    fake_cli.use("echo", tool_calls=json.dumps(list(calls)), **env)


def sse(text: str) -> list[dict[str, Any]]:
    return [
        json.loads(line[6:])
        for line in text.splitlines()
        if line.startswith("data: ") and line != "data: [DONE]"
    ]


def answers(call: dict[str, Any]) -> list[dict[str, Any]]:
    """What the CLI was answered to its `can_use_tool` asks, in order."""
    return [
        line["response"]["response"]
        for line in call["stdin"]
        if line.get("type") == "control_response"
        and "behavior" in line["response"].get("response", {})
    ]


def listing(call: dict[str, Any]) -> list[dict[str, Any]]:
    """The tools the CLI was given in answer to its MCP tools/list."""
    for line in call["stdin"]:
        mcp = line.get("response", {}).get("response", {}).get("mcp_response", {})
        if "tools" in mcp.get("result", {}):
            return list(mcp["result"]["tools"])
    raise AssertionError("no tools/list answer")


def handed_over(call: dict[str, Any]) -> None:
    """The CLI was stopped with deny + interrupt: the calls went to the client."""
    assert answers(call), "no permission ask was answered"
    assert answers(call)[-1]["interrupt"] is True
    assert all(a["behavior"] == "deny" for a in answers(call))


def finish_reasons(chunks: list[dict[str, Any]]) -> list[str]:
    """The finish_reasons a chunk stream set (the last chunk with choices sets one)."""
    return [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1:]


# ---- one call in each protocol, streaming and not


def test_chat_completions_tool_call(client, fake_cli):
    calling(fake_cli, PARIS, tool_text="Let me check.")
    response = client.post(
        "/v1/chat/completions",
        json={"model": "opus", "messages": ASK, "tools": openai_tools(WEATHER)},
    )
    assert response.status_code == 200
    data = ChatCompletion.model_validate(response.json())
    choice = data.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content == "Let me check."
    [call] = choice.message.tool_calls or []
    assert call.function.name == "get_weather"  # the client's name, not mcp__proxy__
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    run = fake_cli.call()
    assert listing(run) == [
        {
            "name": "get_weather",
            "description": "The weather in a city",
            "inputSchema": WEATHER["parameters"],
        }
    ]
    handed_over(run)
    assert "--permission-prompt-tool=stdio" in run["argv"]


def test_chat_completions_streamed_tool_call(client, fake_cli):
    calling(fake_cli, PARIS, chunks=3)
    with client.stream(
        "POST",
        "/v1/chat/completions",
        json={"model": "opus", "messages": ASK, "tools": openai_tools(WEATHER), "stream": True},
    ) as response:
        chunks = sse(response.read().decode())
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    calls = [d["tool_calls"][0] for d in deltas if d.get("tool_calls")]
    assert calls[0]["id"].startswith("toolu_") and calls[0]["function"]["name"] == "get_weather"
    assert len(calls) > 2  # the arguments arrive in pieces, as the model writes them
    assert json.loads("".join(c["function"]["arguments"] for c in calls)) == {"city": "Paris"}
    assert {c["index"] for c in calls} == {0}
    assert finish_reasons(chunks) == ["tool_calls"]
    handed_over(fake_cli.call())


def test_messages_tool_use(client, fake_cli):
    calling(fake_cli, PARIS)
    response = client.post(
        "/v1/messages",
        json={
            "model": "opus",
            "max_tokens": 100,
            "messages": ASK,
            "tools": anthropic_tools(WEATHER),
        },
    )
    assert response.status_code == 200
    message = Message.model_validate(response.json())
    assert message.stop_reason == "tool_use"
    [block] = [b for b in message.content if b.type == "tool_use"]
    assert block.name == "get_weather" and block.input == {"city": "Paris"}
    handed_over(fake_cli.call())


def test_messages_streamed_tool_use(client, fake_cli):
    calling(fake_cli, PARIS, tool_text="Checking.")
    with client.stream(
        "POST",
        "/v1/messages",
        json={
            "model": "opus",
            "max_tokens": 100,
            "messages": ASK,
            "tools": anthropic_tools(WEATHER),
            "stream": True,
        },
    ) as response:
        events = sse(response.read().decode())
    starts = [e["content_block"] for e in events if e["type"] == "content_block_start"]
    assert [b["type"] for b in starts] == ["text", "tool_use"]
    assert starts[1]["name"] == "get_weather" and starts[1]["input"] == {}
    pieces = [
        e["delta"]["partial_json"]
        for e in events
        if e["type"] == "content_block_delta" and e["delta"]["type"] == "input_json_delta"
    ]
    assert json.loads("".join(pieces)) == {"city": "Paris"}
    [delta] = [e for e in events if e["type"] == "message_delta"]
    assert delta["delta"]["stop_reason"] == "tool_use"
    assert events[-1]["type"] == "message_stop"


def test_responses_function_call(client, fake_cli):
    calling(fake_cli, PARIS)
    response = client.post(
        "/v1/responses",
        json={"model": "opus", "input": "weather?", "tools": responses_tools(WEATHER)},
    )
    assert response.status_code == 200
    data = Response.model_validate(response.json())
    [item] = [i for i in data.output if i.type == "function_call"]
    assert item.name == "get_weather" and json.loads(item.arguments) == {"city": "Paris"}
    assert item.call_id.startswith("toolu_")
    handed_over(fake_cli.call())


def test_responses_streamed_function_call(client, fake_cli):
    calling(fake_cli, PARIS)
    with client.stream(
        "POST",
        "/v1/responses",
        json={
            "model": "opus",
            "input": "weather?",
            "tools": responses_tools(WEATHER),
            "stream": True,
        },
    ) as response:
        events = sse(response.read().decode())
    kinds = [e["type"] for e in events]
    assert "response.function_call_arguments.delta" in kinds
    [done] = [e for e in events if e["type"] == "response.function_call_arguments.done"]
    assert json.loads(done["arguments"]) == {"city": "Paris"}
    final = Response.model_validate(events[-1]["response"])
    [item] = [i for i in final.output if i.type == "function_call"]
    assert item.name == "get_weather"


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_responses_custom_tool_call_carries_its_text(client, fake_cli, stream):
    """A freeform tool (Codex's apply_patch): the model fills one `input` property; the
    client gets a custom_tool_call whose input is that text."""
    patch = "*** Begin Patch\n*** End Patch"
    calling(fake_cli, {"name": "apply_patch", "input": {"input": patch}})
    body = {
        "model": "opus",
        "input": "patch it",
        "tools": [{"type": "custom", "name": "apply_patch", "description": "Apply a patch"}],
        "stream": stream,
    }
    response = client.post("/v1/responses", json=body)
    if stream:
        data = sse(response.text)[-1]["response"]
    else:
        data = response.json()
    [item] = [i for i in data["output"] if i["type"] == "custom_tool_call"]
    assert (item["name"], item["input"]) == ("apply_patch", patch)
    [tool] = listing(fake_cli.call())
    assert tool["name"] == "apply_patch" and "input" in tool["inputSchema"]["properties"]


# ---- parallel calls and tool_choice


def test_parallel_tool_calls_all_reach_the_client(client, fake_cli):
    calling(fake_cli, PARIS, CET)
    response = client.post(
        "/v1/chat/completions",
        json={"model": "opus", "messages": ASK, "tools": openai_tools(WEATHER, TIME)},
    )
    calls = response.json()["choices"][0]["message"]["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["get_weather", "get_time"]
    assert json.loads(calls[1]["function"]["arguments"]) == {"tz": "CET"}
    assert len({c["id"] for c in calls}) == 2
    handed_over(fake_cli.calls()[0])
    with client.stream(
        "POST",
        "/v1/chat/completions",
        json={
            "model": "opus",
            "messages": ASK,
            "tools": openai_tools(WEATHER, TIME),
            "stream": True,
        },
    ) as streamed:
        chunks = sse(streamed.read().decode())
    pieces = [
        piece
        for c in chunks
        if c["choices"]
        for piece in c["choices"][0]["delta"].get("tool_calls") or []
    ]
    names = {p["index"]: p["function"]["name"] for p in pieces if "name" in p["function"]}
    assert names == {0: "get_weather", 1: "get_time"}
    arguments = {
        i: "".join(p["function"]["arguments"] for p in pieces if p["index"] == i) for i in names
    }
    assert json.loads(arguments[1]) == {"tz": "CET"}
    assert finish_reasons(chunks) == ["tool_calls"]


def test_parallel_tool_calls_false_gives_one_call(client, fake_cli):
    calling(fake_cli, PARIS, CET)
    response = client.post(
        "/v1/chat/completions",
        json={
            "model": "opus",
            "messages": ASK,
            "tools": openai_tools(WEATHER, TIME),
            "parallel_tool_calls": False,
        },
    )
    [call] = response.json()["choices"][0]["message"]["tool_calls"]
    assert call["function"]["name"] == "get_weather"
    run = fake_cli.call()
    assert "Call at most one tool at a time." in run["system_prompt_file"]["content"]
    handed_over(run)


def test_anthropic_disable_parallel_tool_use_streams_one_block(client, fake_cli):
    calling(fake_cli, PARIS, CET)
    with client.stream(
        "POST",
        "/v1/messages",
        json={
            "model": "opus",
            "max_tokens": 100,
            "messages": ASK,
            "tools": anthropic_tools(WEATHER, TIME),
            "tool_choice": {"type": "auto", "disable_parallel_tool_use": True},
            "stream": True,
        },
    ) as response:
        events = sse(response.read().decode())
    starts = [e["content_block"] for e in events if e["type"] == "content_block_start"]
    assert [b.get("name") for b in starts] == ["get_weather"]


def test_tool_choice_none_offers_no_tools(client, fake_cli):
    calling(fake_cli, PARIS)
    response = client.post(
        "/v1/chat/completions",
        json={
            "model": "opus",
            "messages": ASK,
            "tools": openai_tools(WEATHER),
            "tool_choice": "none",
        },
    )
    choice = response.json()["choices"][0]
    assert choice["finish_reason"] == "stop" and not choice["message"].get("tool_calls")
    run = fake_cli.call()
    assert not any(a.startswith("--mcp-config") for a in run["argv"])
    assert answers(run) == []


def test_tool_choice_none_after_tool_use_refuses_calls_in_the_turn(client, fake_cli):
    """The history used a tool, so the tools are declared; the model calls one anyway: the
    call is refused inside the turn with the reason, and the model answers in text."""
    calling(fake_cli, PARIS)
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": "{}"},
    }
    history = [
        *ASK,
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": "Rain"},
        {"role": "user", "content": "and tomorrow?"},
    ]
    response = client.post(
        "/v1/chat/completions",
        json={
            "model": "opus",
            "messages": history,
            "tools": openai_tools(WEATHER),
            "tool_choice": "none",
        },
    )
    choice = response.json()["choices"][0]
    assert choice["finish_reason"] == "stop" and not choice["message"].get("tool_calls")
    reason = "Tool use is not allowed in this reply; answer in text."
    assert choice["message"]["content"] == "ECHO:" + reason
    run = fake_cli.call()
    assert answers(run) == [{"behavior": "deny", "message": reason, "interrupt": False}]
    assert "Do not call any tool" in run["system_prompt_file"]["content"]


def test_tool_choice_required_is_an_instruction(client, fake_cli):
    calling(fake_cli, PARIS)
    response = client.post(
        "/v1/chat/completions",
        json={
            "model": "opus",
            "messages": ASK,
            "tools": openai_tools(WEATHER),
            "tool_choice": "required",
        },
    )
    assert response.json()["choices"][0]["finish_reason"] == "tool_calls"
    prompt = fake_cli.call()["system_prompt_file"]["content"]
    assert "You must call at least one of the available tools" in prompt


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "/v1/chat/completions",
            {
                "tools": openai_tools(WEATHER, TIME),
                "tool_choice": {"type": "function", "function": {"name": "get_time"}},
            },
        ),
        (
            "/v1/messages",
            {
                "max_tokens": 100,
                "tools": anthropic_tools(WEATHER, TIME),
                "tool_choice": {"type": "tool", "name": "get_time"},
            },
        ),
        (
            "/v1/responses",
            {
                "tools": responses_tools(WEATHER, TIME),
                "tool_choice": {"type": "function", "name": "get_time"},
            },
        ),
    ],
    ids=["openai", "anthropic", "responses"],
)
def test_a_named_tool_choice_passes_only_that_tool(client, fake_cli, path, body):
    """The model calls get_weather first: refused in the turn; get_time goes to the client."""
    calling(fake_cli, PARIS, CET)
    key = "input" if path == "/v1/responses" else "messages"
    response = client.post(path, json={"model": "opus", key: ASK, **body})
    assert response.status_code == 200
    names = [n for n in _called(path, response.json())]
    assert names == ["get_time"]
    run = fake_cli.call()
    assert [a["interrupt"] for a in answers(run)] == [False, True]
    assert answers(run)[0]["message"] == "Only mcp__proxy__get_time may be called now."
    assert "You must call the tool mcp__proxy__get_time" in run["system_prompt_file"]["content"]


def test_anthropic_tool_choice_any_is_an_instruction(client, fake_cli):
    calling(fake_cli, PARIS)
    response = client.post(
        "/v1/messages",
        json={
            "model": "opus",
            "max_tokens": 100,
            "messages": ASK,
            "tools": anthropic_tools(WEATHER),
            "tool_choice": {"type": "any"},
        },
    )
    assert response.json()["stop_reason"] == "tool_use"
    prompt = fake_cli.call()["system_prompt_file"]["content"]
    assert "You must call at least one of the available tools" in prompt


def test_responses_allowed_tools_narrow_what_the_client_gets(client, fake_cli):
    """Only get_time is allowed: get_weather is neither offered to the model nor passed on
    when the model calls it anyway."""
    calling(fake_cli, PARIS, CET)
    response = client.post(
        "/v1/responses",
        json={
            "model": "opus",
            "input": "weather?",
            "tools": responses_tools(WEATHER, TIME),
            "tool_choice": {
                "type": "allowed_tools",
                "mode": "required",
                "tools": [{"type": "function", "name": "get_time"}],
            },
        },
    )
    assert _called("/v1/responses", response.json()) == ["get_time"]
    run = fake_cli.call()
    assert [t["name"] for t in listing(run)] == ["get_time"]
    handed_over(run)


def _called(path: str, data: dict[str, Any]) -> list[str]:
    if path == "/v1/chat/completions":
        return [c["function"]["name"] for c in data["choices"][0]["message"]["tool_calls"]]
    if path == "/v1/messages":
        return [b["name"] for b in data["content"] if b["type"] == "tool_use"]
    return [i["name"] for i in data["output"] if i["type"] == "function_call"]


def test_a_tool_that_is_not_the_clients_never_reaches_it(client, fake_cli):
    """A call of a tool outside the SDK server (an invented name): the CLI answers it itself,
    nothing is asked, and the model's next message is the answer."""
    calling(fake_cli, {"cli_name": "Bash", "input": {"command": "ls"}})
    response = client.post(
        "/v1/chat/completions",
        json={"model": "opus", "messages": ASK, "tools": openai_tools(WEATHER)},
    )
    choice = response.json()["choices"][0]
    assert choice["finish_reason"] == "stop" and not choice["message"].get("tool_calls")
    assert "No such tool available: Bash" in choice["message"]["content"]
    assert answers(fake_cli.call()) == []


# ---- warm processes


def test_a_warm_process_has_done_the_handshake_before_the_request(claude_max_home, fake_cli):
    """The pool starts CLIs for a spec with client tools after its first request; they answer
    the MCP handshake while waiting, so the next request only sends its message."""
    calling(fake_cli, PARIS)
    settings = Settings(home=claude_max_home, claude_path=str(FAKE_CLAUDE), warm=2)
    body = {"model": "opus", "messages": ASK, "tools": openai_tools(WEATHER)}

    def ready() -> list[dict[str, Any]]:
        """Warm CLIs that answered the handshake and were given no request."""
        return [
            r
            for r in read_log(fake_cli.log)
            if "-p" in r["argv"]
            and len(r["stdin"]) == 3
            and all(line["type"] == "control_response" for line in r["stdin"])
        ]

    with TestClient(create_app(settings), base_url="http://127.0.0.1:8080") as client:
        assert client.post("/v1/chat/completions", json=body).status_code == 200
        assert wait_until(lambda: len(ready()) >= 1), "no warm CLI with the tools"
        waiting = {r["pid"] for r in ready()}
        second = client.post("/v1/chat/completions", json=body)
        assert second.json()["choices"][0]["finish_reason"] == "tool_calls"
        warm = client.get("/health").json()["warm"]
    assert warm["hits"] == 1
    run = next(r for r in fake_cli.calls() if r["pid"] in waiting and messages(r))
    kinds = [line["type"] for line in run["stdin"]]
    assert kinds[:4] == ["control_response"] * 3 + ["user"]  # handshake, then the request
    handed_over(run)


# ---- the follow-up with the tool's result


def test_follow_up_with_the_result_is_stateless(client, fake_cli):
    calling(fake_cli, PARIS)
    tools = openai_tools(WEATHER)
    first = client.post(
        "/v1/chat/completions", json={"model": "opus", "messages": ASK, "tools": tools}
    )
    message = first.json()["choices"][0]["message"]
    [call] = message["tool_calls"]
    follow_up = [
        *ASK,
        {"role": "assistant", "content": None, "tool_calls": message["tool_calls"]},
        {"role": "tool", "tool_call_id": call["id"], "content": "Sunny, 21C"},
    ]
    second = client.post(
        "/v1/chat/completions", json={"model": "opus", "messages": follow_up, "tools": tools}
    )
    assert second.status_code == 200
    choice = second.json()["choices"][0]
    assert choice["finish_reason"] == "stop" and choice["message"]["content"] == "ECHO:Sunny, 21C"
    runs = fake_cli.calls()  # in the order they started: a warm one may predate the first
    [second_run] = [r for r in runs if any(m["type"] == "assistant" for m in messages(r))]
    assert len(runs) == 2  # no process was kept for the tool call: the second is another
    lines = messages(second_run)
    tool_use = next(
        b
        for line in lines
        if line["type"] == "assistant"
        for b in line["message"]["content"]
        if b["type"] == "tool_use"
    )
    assert tool_use == {
        "type": "tool_use",
        "id": call["id"],
        "name": "mcp__proxy__get_weather",
        "input": {"city": "Paris"},
    }
    result = lines[-1]["message"]["content"][0]
    assert result["type"] == "tool_result" and result["tool_use_id"] == call["id"]
    assert listing(second_run)[0]["name"] == "get_weather"


def test_anthropic_follow_up_declares_a_tool_the_history_uses(client, fake_cli):
    """A history that calls a tool no longer offered: it is still declared (the Messages API
    rejects a history naming an undeclared tool), with an empty object schema."""
    fake_cli.use("echo")
    history = [
        *ASK,
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "Rain"}],
        },
    ]
    response = client.post(
        "/v1/messages",
        json={"model": "opus", "max_tokens": 100, "messages": history},
    )
    assert response.status_code == 200
    assert response.json()["content"][0]["text"] == "ECHO:Rain"
    assert listing(fake_cli.call()) == [
        {"name": "get_weather", "description": "", "inputSchema": {"type": "object"}}
    ]


def test_a_tool_only_the_history_used_is_not_passed_on(client, fake_cli):
    """Declared for the history's sake, but not offered now: the model's call of it is
    refused inside the turn, and the offered tool's call goes to the client."""
    calling(fake_cli, PARIS, CET)
    history = [
        *ASK,
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "Rain"},
                {"type": "text", "text": "and the time?"},
            ],
        },
    ]
    response = client.post(
        "/v1/messages",
        json={
            "model": "opus",
            "max_tokens": 100,
            "messages": history,
            "tools": anthropic_tools(TIME),
        },
    )
    assert _called("/v1/messages", response.json()) == ["get_time"]
    run = fake_cli.call()
    assert sorted(t["name"] for t in listing(run)) == ["get_time", "get_weather"]
    assert answers(run)[0] == {
        "behavior": "deny",
        "message": "mcp__proxy__get_weather is not available in this reply.",
        "interrupt": False,
    }
    handed_over(run)


# ---- bad tool declarations


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        (
            "/v1/chat/completions",
            {"tools": openai_tools({"name": "get weather!", "parameters": {"type": "object"}})},
            "tools[0].function.name",
        ),
        (
            "/v1/chat/completions",
            {"tools": openai_tools({"name": "f", "parameters": {"type": "string"}})},
            "tools[0].function.parameters",
        ),
        (
            "/v1/chat/completions",
            {
                "tools": openai_tools(
                    {"name": "f", "parameters": {"type": "object", "properties": 3}}
                )
            },
            "tools[0].function.parameters",
        ),
        (
            "/v1/messages",
            {"max_tokens": 10, "tools": [{"name": "", "input_schema": {"type": "object"}}]},
            "tools.0.name",
        ),
        (
            "/v1/messages",
            {"max_tokens": 10, "tools": [{"name": "f", "input_schema": "object"}]},
            "tools.0.input_schema",
        ),
        (
            "/v1/responses",
            {"tools": [{"type": "function", "name": "x" * 65, "parameters": {"type": "object"}}]},
            "tools[0].name",
        ),
    ],
)
def test_a_malformed_tool_is_a_clear_400(client, fake_cli, path, body, param):
    key = "input" if path == "/v1/responses" else "messages"
    response = client.post(path, json={"model": "opus", key: ASK, **body})
    assert response.status_code == 400
    error = response.json()["error"]
    text = json.dumps(error)
    assert param in text
    assert fake_cli.calls() == []  # refused before any CLI ran


# ---- a client that leaves during a tool call


def test_disconnect_during_a_tool_call_leaves_no_process(tmp_path, claude_max_home):
    """Real uvicorn: the client hangs up while the model is still writing the call's input
    (and the CLI holds an open permission ask): the CLI is killed and reaped."""
    log = tmp_path / "fake.log"
    env = dict(os.environ)
    env.update(
        CLAUDE_MAX_CLAUDE_PATH=str(FAKE_CLAUDE),
        CLAUDE_MAX_HOME=str(claude_max_home),
        FAKE_CLAUDE_LOG=str(log),
        FAKE_CLAUDE_SCENARIO="echo",
        FAKE_CLAUDE_TOOL_CALLS=json.dumps([{"name": "get_time", "input": {}}, PARIS]),
        FAKE_CLAUDE_CHUNKS="40",
        FAKE_CLAUDE_DELAY_MS="100",
    )
    server = Server(env, "--warm", "0")
    try:
        body = {
            "model": "opus",
            "stream": True,
            "messages": ASK,
            "tools": openai_tools(WEATHER, TIME),
        }
        with httpx.Client(timeout=10) as http:
            with http.stream("POST", f"{server.url}/v1/chat/completions", json=body) as response:
                for line in response.iter_lines():
                    if '"get_weather"' in line:
                        break  # the second call has begun (~2 s to go); the first one's ask is open
        [run] = [c for c in read_log(log) if "-p" in c["argv"] and c["stdin"]]
        assert wait_until(lambda: gone(run["pid"])), "CLI still running after the client left"
        assert run.get("exit_code") is None  # killed, not finished
        asked = [line for line in run["stdin"] if line.get("type") == "control_response"]
        assert len(asked) == 3  # the handshake only: the open ask was never answered
        assert httpx.get(f"{server.url}/health").status_code == 200
    finally:
        server.stop()
