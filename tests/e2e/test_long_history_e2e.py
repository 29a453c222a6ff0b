"""Long histories with the real CLI: the transcript the run writes gives the model exactly the
history line-by-line seeding gave it, and an agent loop's upstream prompts grow by appending
only (prompt caching).

The first test drives the core in this process (so that it can choose the way for a history
of any length) against the fake upstream; the second goes through `claude-max serve`, with and
without warm processes."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

import httpx
import pytest
from helpers import PNG_1PX
from real_cli import REAL_CLAUDE
from upstream import cli_env

from claude_max.core import run as core_run
from claude_max.core.conversation import (
    Conversation,
    ImagePart,
    TextPart,
    Tool,
    ToolCallPart,
    ToolResultPart,
    Turn,
)
from claude_max.core.launch import launch_spec
from claude_max.core.settings import Settings
from claude_max.core.transcript import SEED_LIMIT

pytestmark = pytest.mark.e2e

SCHEMA = json.dumps({"type": "object", "properties": {"path": {"type": "string"}}})
TOOLS = (Tool("read_file", "Read a file", SCHEMA), Tool("list_dir", "List a directory", SCHEMA))


def _varied() -> tuple[Turn, ...]:
    image = ImagePart("image/png", PNG_1PX)
    return (
        Turn("user", (TextPart('Hello, ünïcode ✓ and "quotes" \\ backslash'),)),
        Turn("assistant", (TextPart("Hi. What can I do?"),)),
        Turn("user", (image, TextPart("What is in this picture?"), TextPart("And a 2nd part."))),
        Turn("assistant", (TextPart("A single pixel."),)),
        Turn("user", (TextPart("Read a.txt and list /tmp."),)),
        Turn(
            "assistant",
            (
                TextPart("Reading both."),
                ToolCallPart("toolu_e2e_1", "read_file", '{"path":"a.txt"}'),
                ToolCallPart("toolu_e2e_2", "list_dir", '{"path":"/tmp"}'),
            ),
        ),
        Turn(
            "user",
            (
                ToolResultPart("toolu_e2e_1", (TextPart("alpha"), image)),
                ToolResultPart("toolu_e2e_2", (TextPart("no such directory"),), is_error=True),
            ),
        ),
        Turn("assistant", (ToolCallPart("toolu_e2e_3", "read_file", '{"path":"b.txt"}'),)),
        Turn("user", (ToolResultPart("toolu_e2e_3", (TextPart("beta"),)),)),
        Turn("assistant", (TextPart("a.txt says alpha, b.txt says beta."),)),
        Turn("user", (TextPart("Thanks. Summarise."),)),
    )


@pytest.mark.parametrize("ending", ["text answer", "tool call"])
def test_the_transcript_gives_the_model_the_seeded_history(
    ending, fake_upstream, tmp_path, monkeypatch
):
    fake_upstream.set_script({"default": {"type": "text", "text": "ok"}})
    for key, value in cli_env(fake_upstream.url, tmp_path / "home").items():
        monkeypatch.setenv(key, value)
    settings = Settings(home=tmp_path / "max-home", claude_path=str(REAL_CLAUDE), pass_api_env=True)
    turns = _varied() if ending == "text answer" else _varied()[:9]  # ends: call, its result
    conv = Conversation(turns=turns, system="Be brief.", model="sonnet", tools=TOOLS)

    def answer(own_session: bool) -> None:
        def spec(c: Conversation, s: Settings):  # whatever the history's length
            return replace(launch_spec(c, s), own_session=own_session)

        with monkeypatch.context() as patch:
            patch.setattr(core_run, "launch_spec", spec)
            reply = asyncio.run(core_run.complete(conv, settings))
        assert reply.text == "ok"

    answer(own_session=True)
    answer(own_session=False)  # the history seeded line by line
    resumed, seeded = fake_upstream.message_requests()
    for key in ("messages", "system", "tools"):
        assert json.dumps(resumed[key]) == json.dumps(seeded[key]), key
    assert len([m for m in seeded["messages"] if m["role"] != "system"]) == len(turns)
    assert not list((tmp_path / "home").rglob("*.jsonl"))  # no transcript left behind


TOOL = {
    "name": "read_file",
    "description": "Read a file",
    "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}},
}
HEADERS = {"anthropic-version": "2023-06-01", "x-api-key": "unused"}


def _conversation(body: dict) -> list[dict]:
    """The messages of a model call but the last: the CLI ends every call with the turn's own
    system-role context (environment, date), which is not part of the history."""
    messages = body["messages"]
    assert messages[-1]["role"] == "system"
    return messages[:-1]


def test_agent_loop_prompts_grow_by_appending_only(real_server, fake_upstream):
    """Steps on both sides of SEED_LIMIT: seeded histories, then transcripts."""
    fake_upstream.set_script(
        {"default": {"type": "tool_use", "name": "mcp__proxy__read_file", "input": {"path": "f"}}}
    )
    messages: list[dict] = [{"role": "user", "content": "Read the files, one at a time."}]
    for i in range(SEED_LIMIT // 2 - 3):
        call = {"type": "tool_use", "id": f"toolu_e2e_{i}", "name": "read_file", "input": {}}
        result = {"type": "tool_result", "tool_use_id": f"toolu_e2e_{i}", "content": str(i)}
        messages += [
            {"role": "assistant", "content": [call]},
            {"role": "user", "content": [result]},
        ]
    steps = 6
    with httpx.Client(base_url=real_server.url, headers=HEADERS, timeout=60) as client:
        for step in range(steps):
            response = client.post(
                "/v1/messages",
                json={"model": "sonnet", "max_tokens": 200, "tools": [TOOL], "messages": messages},
            )
            assert response.status_code == 200, response.text
            [call] = [b for b in response.json()["content"] if b["type"] == "tool_use"]
            messages.append({"role": "assistant", "content": [call]})
            messages.append(
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": call["id"],
                            "content": f"line {step}",
                        }
                    ],
                }
            )
    bodies = [_conversation(b) for b in fake_upstream.message_requests()]
    assert len(bodies) == steps
    assert len(bodies[0]) < SEED_LIMIT < len(bodies[-1])
    for before, after in zip(bodies, bodies[1:], strict=False):
        assert len(after) > len(before)
        # Byte for byte: the earlier prompt is exactly the start of the next one.
        assert json.dumps(after[: len(before)]) == json.dumps(before)


def _agent_loop(url: str, fake_upstream, steps: int) -> list[dict]:
    """An agent loop from a history past SEED_LIMIT: each step is the last request, the
    model's call and its result, sent at once; the model's call ids are fixed per step (so
    that two runs send the same requests). Returns the upstream bodies of the steps."""
    messages: list[dict] = [{"role": "user", "content": "Read the files, one at a time."}]
    for i in range(SEED_LIMIT // 2 + 1):
        call = {"type": "tool_use", "id": f"toolu_e2e_{i}", "name": "read_file", "input": {}}
        result = {"type": "tool_result", "tool_use_id": f"toolu_e2e_{i}", "content": str(i)}
        messages += [
            {"role": "assistant", "content": [call]},
            {"role": "user", "content": [result]},
        ]
    fake_upstream.clear()
    with httpx.Client(base_url=url, headers=HEADERS, timeout=60) as client:
        for step in range(steps):
            fake_upstream.set_script(
                {
                    "default": {
                        "type": "tool_use",
                        "text": f"Step {step}.",
                        "id": f"toolu_step_{step}",
                        "name": "mcp__proxy__read_file",
                        "input": {"path": f"f{step}"},
                    }
                }
            )
            response = client.post(
                "/v1/messages",
                json={"model": "sonnet", "max_tokens": 200, "tools": [TOOL], "messages": messages},
            )
            assert response.status_code == 200, response.text
            content = response.json()["content"]
            [call] = [b for b in content if b["type"] == "tool_use"]
            messages.append({"role": "assistant", "content": content})
            result = {"type": "tool_result", "tool_use_id": call["id"], "content": f"line {step}"}
            messages.append({"role": "user", "content": [result]})
    return fake_upstream.message_requests()


def test_an_agent_step_takes_the_cli_started_ahead_for_it(upstream, fake_upstream, tmp_path):
    """With the pool on, each step after the first takes the CLI started ahead on its history
    while the step before ran; the model is sent byte for byte what it is sent without the
    pool (a CLI started for the request), and each prompt is the start of the next."""
    from serve_process import Server

    env = cli_env(upstream.url, tmp_path / "home")
    env["CLAUDE_MAX_HOME"] = str(tmp_path / "claude-max-home")
    env["CLAUDE_MAX_CLAUDE_PATH"] = str(REAL_CLAUDE)
    steps = 4
    bodies: dict[str, list[dict]] = {}
    for warm in ("2", "0"):  # one after the other, in the same home: the same system text
        server = Server(env, "--warm", warm)
        try:
            bodies[warm] = _agent_loop(server.url, fake_upstream, steps)
            stats = httpx.get(f"{server.url}/health", timeout=10).json()["warm"]
        finally:
            server.stop()
        if warm == "2":
            assert stats["ahead_hits"] == steps - 1, stats
    assert len(bodies["2"]) == len(bodies["0"]) == steps
    for ahead, cold in zip(bodies["2"], bodies["0"], strict=True):
        for key in ("messages", "system", "tools"):
            assert json.dumps(ahead[key]) == json.dumps(cold[key]), key
    prompts = [_conversation(b) for b in bodies["2"]]
    assert len(prompts[0]) > SEED_LIMIT
    for before, after in zip(prompts, prompts[1:], strict=False):
        assert json.dumps(after[: len(before)]) == json.dumps(before)
    assert not list((tmp_path / "home").rglob("*.jsonl"))  # no transcript left behind
