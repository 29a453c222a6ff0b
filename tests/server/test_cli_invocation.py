"""What the server makes of a request on the CLI side: argv, environment, stdin, cwd."""

from __future__ import annotations

import os
from pathlib import Path

from fake_claude_log import FAKE_CLAUDE
from fake_cli import messages, model

CLIENT_TEXT = "--model=opus @/etc/passwd /cost"


def chat(client, messages, **extra):
    return client.post(
        "/v1/chat/completions", json={"model": "sonnet", "messages": messages, **extra}
    )


def test_client_text_never_reaches_argv_and_tools_are_off(client, fake_cli):
    response = chat(
        client,
        [
            {"role": "system", "content": f"-{CLIENT_TEXT}"},
            {"role": "user", "content": CLIENT_TEXT},
        ],
    )
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == f"ECHO:{CLIENT_TEXT}"
    call = fake_cli.call()
    argv = call["argv"][1:]
    assert not any("passwd" in a or "/cost" in a for a in argv)
    assert "--tools=" in argv and "--setting-sources=" in argv and "--strict-mcp-config" in argv
    assert model(call) == "sonnet"
    assert call["system_prompt_file"]["content"] == f"-{CLIENT_TEXT}"
    assert not os.path.exists(call["system_prompt_file"]["path"])  # removed after the run
    [line] = messages(call)
    assert line["client_composed"] is True
    assert line["message"]["content"] == CLIENT_TEXT


def test_history_is_seeded_as_turns(client, fake_cli):
    response = chat(
        client,
        [
            {"role": "user", "content": "one"},
            {"role": "assistant", "content": "two"},
            {"role": "user", "content": "three"},
        ],
    )
    assert response.status_code == 200
    lines = messages(fake_cli.call())
    assert [(x["type"], x.get("shouldQuery", True)) for x in lines] == [
        ("user", False),
        ("assistant", True),
        ("user", True),
    ]
    assert lines[1]["message"]["content"] == [{"type": "text", "text": "two"}]


def test_private_cwd_tmpdir_and_bounded_retries(client, fake_cli, claude_max_home):
    chat(client, [{"role": "user", "content": "hi"}], max_tokens=42)
    call = fake_cli.call()
    assert call["cwd"] == str(claude_max_home / "workspace")
    # a private TMPDIR per CLI in the data dir, removed when the CLI ends
    tmpdir = Path(call["env"]["TMPDIR"])
    assert tmpdir.parent == claude_max_home / "tmp" and tmpdir.name.startswith("cli-")
    assert not tmpdir.exists()
    assert call["env"]["CLAUDE_CODE_MAX_RETRIES"] == "2"
    assert call["env"]["CLAUDE_CODE_MAX_OUTPUT_TOKENS"] == "42"
    assert "--system-prompt=" in call["argv"]


def test_the_process_is_reaped_when_the_request_ends(client, fake_cli):
    chat(client, [{"role": "user", "content": "hi"}])
    pid = fake_cli.call()["pid"]
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        pass
    else:  # pragma: no cover - the failure case
        raise AssertionError(f"CLI process {pid} still exists")


def test_claude_path_is_the_one_configured(client, fake_cli):
    chat(client, [{"role": "user", "content": "hi"}])
    assert fake_cli.call()["argv"][0] == str(FAKE_CLAUDE)


def test_stop_sequence_interrupts_the_cli(client, fake_cli):
    fake_cli.use("slow", text="alpha beta STOP gamma delta epsilon", chunks=8, delay_ms=20)
    response = chat(client, [{"role": "user", "content": "go"}], stop=["STOP"])
    choice = response.json()["choices"][0]
    assert choice["message"]["content"] == "alpha beta "
    assert choice["finish_reason"] == "stop"
    kinds = [line.get("request", {}).get("subtype") for line in fake_cli.call()["stdin"]]
    assert "interrupt" in kinds
