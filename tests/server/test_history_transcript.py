"""A long history reaches the CLI as its session's transcript, not line by line; a short one
is seeded into a warm process; a stateless run's transcript is gone once the run is over
(core/transcript.py)."""

from __future__ import annotations

from pathlib import Path
from unittest.mock import ANY

from fake_cli import history, messages

from claude_max.core.transcript import SEED_LIMIT

PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAE"
    "hQGAhKmMIQAAAABJRU5ErkJggg=="
)
HEADERS = {"anthropic-version": "2023-06-01"}
TOOL = {
    "name": "read_file",
    "description": "Read a file",
    "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}},
}


def transcripts(tmp_path: Path) -> list[Path]:
    return list((tmp_path / "claude-config").rglob("*.jsonl"))


def agent_conversation(exchanges: int) -> list[dict]:
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}
    conversation: list[dict] = [
        {"role": "user", "content": [image, {"type": "text", "text": "Read the files."}]}
    ]
    for i in range(exchanges):
        call = {
            "type": "tool_use",
            "id": f"toolu_{i}",
            "name": "read_file",
            "input": {"path": f"f{i}"},
        }
        result = {"type": "tool_result", "tool_use_id": f"toolu_{i}", "content": f"line {i}"}
        conversation.append({"role": "assistant", "content": [call]})
        conversation.append({"role": "user", "content": [result]})
    return conversation


def ask(client, conversation: list[dict]):
    return client.post(
        "/v1/messages",
        headers=HEADERS,
        json={"model": "sonnet", "max_tokens": 100, "tools": [TOOL], "messages": conversation},
    )


def test_a_long_tool_conversation_is_a_transcript_and_two_lines(client, fake_cli, tmp_path):
    exchanges = SEED_LIMIT // 2 + 5
    conversation = agent_conversation(exchanges)
    response = ask(client, conversation)
    assert response.status_code == 200, response.text
    call = fake_cli.call()
    assert len([a for a in call["argv"] if a.startswith("--resume=")]) == 1
    # The model's last call goes as a line (a transcript ending with an open call would be
    # mended by the CLI), then the new message with its result.
    last_call, prompt = messages(call)
    assert last_call["type"] == "assistant"
    assert last_call["message"]["content"][0]["id"] == f"toolu_{exchanges - 1}"
    assert prompt["message"]["content"][0]["tool_use_id"] == f"toolu_{exchanges - 1}"
    assert prompt.get("shouldQuery", True) is True
    seen = history(call)
    assert len(seen) == 2 * exchanges - 1
    assert seen[0]["content"][0] == conversation[0]["content"][0]  # the image, unchanged
    assert seen[1] == {
        "role": "assistant",
        "content": [
            {
                "type": "tool_use",
                "id": "toolu_0",
                "name": "mcp__proxy__read_file",
                "input": {"path": "f0"},
            }
        ],
        "id": ANY,
    }
    assert seen[-1]["content"][0]["tool_use_id"] == f"toolu_{exchanges - 2}"
    assert len({m["id"] for m in seen if m["role"] == "assistant"}) == exchanges - 1
    # A stateless run's transcript is removed with its CLI (with the pool on, the CLI of the
    # likely next request has been started ahead on one of its own: test_follow_up.py).
    [resumed] = [a.split("=", 1)[1] for a in call["argv"] if a.startswith("--resume=")]
    assert resumed not in [t.stem for t in transcripts(tmp_path)]


def test_a_short_history_is_seeded(client, fake_cli):
    response = ask(client, agent_conversation(2))
    assert response.status_code == 200, response.text
    call = fake_cli.call()
    assert not any(a.startswith("--resume=") for a in call["argv"])
    assert [(x["type"], x.get("shouldQuery", True)) for x in messages(call)] == [
        ("user", False),
        ("assistant", True),
        ("user", False),
        ("assistant", True),
        ("user", True),
    ]


def test_a_kept_session_is_the_transcript_the_run_wrote(client, fake_cli, tmp_path):
    """Plain conversations are kept for automatic continuation: the file stays, as the CLI's
    session, which the CLI appends the new turn to."""
    turns: list[dict] = []
    for i in range(SEED_LIMIT // 2 + 1):
        turns += [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}]
    turns.append({"role": "user", "content": "last"})
    response = client.post("/v1/chat/completions", json={"model": "sonnet", "messages": turns})
    assert response.status_code == 200
    call = fake_cli.call()
    assert len(history(call)) == len(turns) - 1
    [kept] = transcripts(tmp_path)
    assert f"--resume={kept.stem}" in call["argv"]
