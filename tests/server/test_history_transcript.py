"""Earlier turns reach the CLI as its session's transcript, never line by line, and the
transcript of a stateless run is gone once the run is over (core/transcript.py)."""

from __future__ import annotations

from pathlib import Path
from unittest.mock import ANY

from fake_cli import history, messages

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


def test_a_tool_conversation_is_one_stdin_line_and_leaves_no_file(client, fake_cli, tmp_path):
    exchanges = 40
    conversation: list[dict] = [
        {
            "role": "user",
            "content": [
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": PNG},
                },
                {"type": "text", "text": "Read the files."},
            ],
        }
    ]
    for i in range(exchanges):
        conversation.append(
            {
                "role": "assistant",
                "content": [
                    {
                        "type": "tool_use",
                        "id": f"toolu_{i}",
                        "name": "read_file",
                        "input": {"path": f"f{i}"},
                    }
                ],
            }
        )
        conversation.append(
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": f"toolu_{i}", "content": f"line {i}"}
                ],
            }
        )
    response = client.post(
        "/v1/messages",
        headers=HEADERS,
        json={"model": "sonnet", "max_tokens": 100, "tools": [TOOL], "messages": conversation},
    )
    assert response.status_code == 200, response.text
    call = fake_cli.call()
    [line] = messages(call)
    assert line["message"]["content"][0]["tool_use_id"] == f"toolu_{exchanges - 1}"
    seen = history(call)
    assert len(seen) == 2 * exchanges
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
    assert seen[2]["content"][0]["type"] == "tool_result"
    assert len({m["id"] for m in seen if m["role"] == "assistant"}) == exchanges
    assert transcripts(tmp_path) == []  # a stateless run's transcript is removed with its CLI


def test_a_first_message_resumes_an_empty_session(client, fake_cli, tmp_path):
    response = client.post(
        "/v1/messages",
        headers=HEADERS,
        json={
            "model": "sonnet",
            "max_tokens": 100,
            "tools": [TOOL],
            "messages": [{"role": "user", "content": "hi"}],
        },
    )
    assert response.status_code == 200, response.text
    call = fake_cli.call()
    assert history(call) == []  # the transcript exists (the CLI needs one) and holds no turn
    assert [m["message"]["content"] for m in messages(call)] == ["hi"]
    assert transcripts(tmp_path) == []


def test_a_kept_session_is_the_transcript_the_run_wrote(client, fake_cli, tmp_path):
    """Plain conversations are kept for automatic continuation: the file stays, as the CLI's
    session (the CLI appends the new turn to it), and the next request continues it."""
    turns = [
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "two"},
        {"role": "user", "content": "three"},
    ]
    first = client.post("/v1/chat/completions", json={"model": "sonnet", "messages": turns})
    assert first.status_code == 200
    [kept] = transcripts(tmp_path)
    [resume] = [a for a in fake_cli.call()["argv"] if a.startswith("--resume=")]
    assert resume == f"--resume={kept.stem}"
