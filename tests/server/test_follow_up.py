"""A long stateless conversation's likely next request finds its CLI started ahead, on a
transcript of exactly its history (turns/plan.py `StatelessPlan`, core/launch.py
`follow_up`): it answers as a warm process would, with the same history the CLI started for
the request would have had; any other request does not take it; nothing outlives the server.

These run on the fake `claude`, which cannot call a client's tools: the case here is the
next question after an answer, with automatic continuation off (so that a plain conversation
is stateless, as a tool conversation always is). An agent's next step after a tool call is
proven with the real CLI (tests/e2e/test_long_history_e2e.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_claude_log import FAKE_CLAUDE, read_log
from fake_cli import history, messages
from starlette.testclient import TestClient
from waiting import gone, wait_until

from claude_max.core.settings import Settings
from claude_max.core.transcript import SEED_LIMIT
from claude_max.server.app import create_app

LOCAL = "http://127.0.0.1:8080"
HEADERS = {"anthropic-version": "2023-06-01"}


def conversation(exchanges: int) -> list[dict]:
    conversation: list[dict] = []
    for i in range(exchanges):
        conversation += [
            {"role": "user", "content": f"Question {i}?"},
            {"role": "assistant", "content": f"Answer {i}."},
        ]
    return [*conversation, {"role": "user", "content": "Last question?"}]


def ask(client: TestClient, conversation: list[dict]) -> str:
    response = client.post(
        "/v1/messages",
        headers=HEADERS,
        json={"model": "sonnet", "max_tokens": 100, "messages": conversation},
    )
    assert response.status_code == 200, response.text
    return "".join(b["text"] for b in response.json()["content"] if b["type"] == "text")


def server(claude_max_home: Path, warm: int) -> TestClient:
    """A server whose plain conversations are stateless, as tool conversations always are
    (the fake `claude` cannot call a client's tools)."""
    settings = Settings(
        home=claude_max_home, claude_path=str(FAKE_CLAUDE), warm=warm, auto_continue=False
    )
    return TestClient(create_app(settings), base_url=LOCAL)


def started_ahead(fake_cli) -> list[dict]:
    """CLIs up on a transcript of their own and not given a request yet."""
    runs = read_log(fake_cli.log)
    return [
        r
        for r in runs
        if not r["stdin"] and any(a.startswith("--resume=") for a in r.get("argv", []))
    ]


def without_ids(messages_: list[dict]) -> list[dict]:
    """Messages but their assistant ids (each transcript gives its entries fresh ones)."""
    return [{k: v for k, v in m.items() if k != "id"} for m in messages_]


def test_the_next_request_takes_the_cli_started_for_its_history(claude_max_home, fake_cli):
    earlier = conversation(SEED_LIMIT // 2 + 2)
    with server(claude_max_home, warm=2) as client:
        answer = ask(client, earlier)
        assert answer
        following = [
            *earlier,
            {"role": "assistant", "content": answer},
            {"role": "user", "content": "And the next one?"},
        ]
        assert ask(client, following)
        warm = client.get("/health").json()["warm"]
        metrics = client.get("/metrics").text
    assert warm["ahead_hits"] == 1
    assert "claude_max_warm_pool_ahead_hits_total 1.0" in metrics.splitlines()
    with server(claude_max_home, warm=0) as client:  # the same request, nothing ahead
        ask(client, following)
    _, ahead, cold = fake_cli.calls()
    # The CLI started ahead got only the new message; its transcript held what the CLI
    # started for the request holds: the model is sent the same history either way.
    assert [m["message"]["content"] for m in messages(ahead)] == ["And the next one?"]
    assert messages(ahead) == messages(cold)
    assert without_ids(history(ahead)) == without_ids(history(cold))
    assert history(ahead)[-1]["content"] == [{"type": "text", "text": answer}]
    assert len(history(ahead)) == len(following) - 1


def test_a_different_next_request_does_not_take_it(claude_max_home, fake_cli):
    earlier = conversation(SEED_LIMIT // 2 + 2)
    with server(claude_max_home, warm=2) as client:
        answer = ask(client, earlier)
        assert wait_until(lambda: started_ahead(fake_cli))
        [ahead] = started_ahead(fake_cli)  # for the next request after `earlier`
        edited = [
            *earlier,
            {"role": "assistant", "content": answer + " (edited)"},
            {"role": "user", "content": "And the next one?"},
        ]
        assert ask(client, edited) == "ECHO:And the next one?"
        warm = client.get("/health").json()["warm"]
    assert warm["ahead_hits"] == 0
    # never given a line (the edited request's answer may have had a CLI started ahead too)
    assert ahead["pid"] in [run["pid"] for run in started_ahead(fake_cli)]
    assert gone(ahead["pid"])


def test_nothing_started_ahead_outlives_the_server(claude_max_home, fake_cli, tmp_path):
    with server(claude_max_home, warm=2) as client:
        ask(client, conversation(SEED_LIMIT // 2 + 2))
        assert wait_until(lambda: started_ahead(fake_cli))
        [ahead] = started_ahead(fake_cli)
        assert list((tmp_path / "claude-config").rglob("*.jsonl"))  # its transcript
    assert wait_until(lambda: gone(ahead["pid"]))
    assert list((tmp_path / "claude-config").rglob("*.jsonl")) == []


@pytest.mark.parametrize("warm", [0, 2])
def test_a_short_conversation_or_no_pool_starts_nothing_ahead(claude_max_home, fake_cli, warm):
    exchanges = SEED_LIMIT // 2 + 2 if warm == 0 else 2
    with server(claude_max_home, warm=warm) as client:
        ask(client, conversation(exchanges))
        stats = client.get("/health").json()["warm"]
    assert started_ahead(fake_cli) == []
    assert stats.get("ahead_hits", 0) == 0


def test_started_ahead_counts_against_the_pool_size(claude_max_home, fake_cli):
    with server(claude_max_home, warm=1) as client:
        ask(client, conversation(SEED_LIMIT // 2 + 2))
        assert wait_until(lambda: started_ahead(fake_cli))
        stats = client.get("/health").json()["warm"]
        assert stats["ready"] + stats["starting"] <= 1


TOOL = {"name": "read_file", "description": "Read a file", "input_schema": {"type": "object"}}


def agent_history(exchanges: int) -> list[dict]:
    """A task, then `exchanges` calls of the client's tool with their results."""
    messages_: list[dict] = [{"role": "user", "content": "Read the files."}]
    for i in range(exchanges):
        call = {"type": "tool_use", "id": f"toolu_{i}", "name": "read_file", "input": {}}
        result = {"type": "tool_result", "tool_use_id": f"toolu_{i}", "content": f"line {i}"}
        messages_ += [
            {"role": "assistant", "content": [call]},
            {"role": "user", "content": [result]},
        ]
    return messages_


def agent_step(client: TestClient, messages_: list[dict]) -> str:
    response = client.post(
        "/v1/messages",
        headers=HEADERS,
        json={"model": "sonnet", "max_tokens": 100, "tools": [TOOL], "messages": messages_},
    )
    assert response.status_code == 200, response.text
    return "".join(b["text"] for b in response.json()["content"] if b["type"] == "text")


def test_an_agent_s_next_step_starts_with_the_request_not_at_the_model_s_call(
    claude_max_home, fake_cli
):
    """The next step's CLI depends only on this request's turns, so it starts as soon as this
    request has its CLI: here the model never calls the tool (the fake answers a tool
    result in text), and the next step still takes the CLI started for it, with the history
    a CLI started for the request would have had."""
    earlier = agent_history(SEED_LIMIT // 2 + 1)
    call = {"type": "tool_use", "id": "toolu_next", "name": "read_file", "input": {"p": 1}}
    result = {"type": "tool_result", "tool_use_id": "toolu_next", "content": "next line"}
    following = [
        *earlier,
        {"role": "assistant", "content": [call]},
        {"role": "user", "content": [result]},
    ]
    with server(claude_max_home, warm=3) as client:
        assert agent_step(client, earlier)
        assert agent_step(client, following)
        warm = client.get("/health").json()["warm"]
    assert warm["ahead_hits"] == 1
    with server(claude_max_home, warm=0) as client:  # the same request, nothing ahead
        agent_step(client, following)
    ahead, cold = [r for r in fake_cli.calls() if "toolu_next" in json.dumps(messages(r))]
    assert messages(ahead) == messages(cold)
    assert without_ids(history(ahead)) == without_ids(history(cold))


def test_a_history_gets_one_cli_started_ahead(claude_max_home, fake_cli, monkeypatch):
    """The model calls the client's tool: the next step's CLI, started when the request got
    its own, is not started a second time at the call."""
    monkeypatch.setenv("FAKE_CLAUDE_TOOL_CALLS", json.dumps([{"name": "read_file"}]))
    asking = [
        *agent_history(SEED_LIMIT // 2 + 1),
        {"role": "assistant", "content": "Read them all."},
        {"role": "user", "content": "Read one more."},
    ]
    with server(claude_max_home, warm=4) as client:
        response = client.post(
            "/v1/messages",
            headers=HEADERS,
            json={"model": "sonnet", "max_tokens": 100, "tools": [TOOL], "messages": asking},
        )
        assert response.json()["stop_reason"] == "tool_use"
        warm = client.get("/health").json()["warm"]
    # The default request's warm process, and the next step's.
    assert warm["ready"] + warm["starting"] == 2, warm
