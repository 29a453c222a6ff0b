"""`claude-max chat` one-shot and piped (CliRunner: stdin and stdout are never TTYs here)."""

from __future__ import annotations

import json

import pytest


def test_argument_prompt_streams_the_answer_only_to_stdout(invoke, fake_cli):
    result = invoke("chat", "hello there")
    assert result.exit_code == 0
    assert result.stdout == "ECHO:hello there\n"
    assert result.stderr == ""
    [run] = fake_cli.calls()
    assert run["stdin"][0]["message"]["content"] == "hello there"
    assert not any("hello" in a for a in run["argv"])


def test_piped_stdin_goes_before_the_argument(invoke, fake_cli):
    result = invoke("chat", "review this", input="diff --git a/x b/x\n+line\n")
    assert result.exit_code == 0
    [run] = fake_cli.calls()
    assert run["stdin"][0]["message"]["content"] == "diff --git a/x b/x\n+line\n\nreview this"


@pytest.mark.parametrize("args", [("chat",), ("chat", "-")])
def test_piped_stdin_alone_is_the_prompt(invoke, fake_cli, args):
    result = invoke(*args, input="just stdin\n")
    assert result.exit_code == 0
    assert result.stdout == "ECHO:just stdin\n"


@pytest.mark.parametrize("stdin", ["", "  \n"])
def test_empty_stdin_without_prompt_is_a_usage_error(invoke, fake_cli, stdin):
    result = invoke("chat", input=stdin)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "no prompt given" in result.stderr
    assert fake_cli.calls() == []


def test_json_is_one_complete_object(invoke, fake_cli):
    fake_cli.use(
        "echo", chunks=5, usage=json.dumps({"input_tokens": 9, "cache_read_input_tokens": 4})
    )
    result = invoke("chat", "--json", "-m", "sonnet", "hi")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["text"] == "ECHO:hi"
    assert document["model"] == "claude-sonnet-5-5"
    assert document["stop_reason"] == "end_turn"
    assert document["usage"]["input_tokens"] == 9
    assert document["usage"]["cache_read_input_tokens"] == 4
    assert document["session_id"]
    assert set(document) == {
        "text",
        "model",
        "session_id",
        "stop_reason",
        "usage",
        "cost_usd",
        "duration_ms",
    }


def test_no_stream_prints_once(invoke, fake_cli):
    result = invoke("chat", "--no-stream", "hi")
    assert result.stdout == "ECHO:hi\n"


def test_usage_goes_to_stderr(invoke, fake_cli):
    result = invoke("chat", "-u", "hi")
    assert result.stdout == "ECHO:hi\n"
    assert "Tokens: 100 in" in result.stderr and "$0.0123" in result.stderr


def test_system_and_model_reach_the_cli(invoke, fake_cli):
    invoke("chat", "-s", "-be brief", "-m", "claude-haiku-4", "hi")
    [run] = fake_cli.calls()
    assert run["system_prompt_file"]["content"] == "-be brief"
    assert "--model=haiku" in run["argv"]


def test_unknown_model_fails_before_running(invoke, fake_cli):
    result = invoke("chat", "-m", "gpt-4o", "hi")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error: The model 'gpt-4o'")
    assert "claude-max models" in result.stderr
    assert fake_cli.calls() == []


def test_missing_cli(invoke, fake_cli, tmp_path):
    result = invoke("chat", "hi", env={"CLAUDE_MAX_CLAUDE_PATH": str(tmp_path / "nope")})
    assert result.exit_code == 1
    assert "Error: The Claude Code CLI was not found" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("scenario", "message"),
    [
        ("transcript:no_credentials_stream_json", "not logged in"),
        ("transcript:err_429_stream_json_retries0", "429"),
    ],
)
def test_cli_errors_are_one_line_and_exit_1(invoke, fake_cli, scenario, message):
    fake_cli.use(scenario)
    result = invoke("chat", "hi")
    assert result.exit_code == 1
    assert result.stdout == ""
    first, *rest = result.stderr.splitlines()
    assert first.startswith("Error: ") and message in first
    assert len(rest) <= 1


def test_partial_answer_stays_printed_when_the_cli_dies(invoke, fake_cli):
    fake_cli.use("crash")
    result = invoke("chat", "hi")
    assert result.exit_code == 1
    assert result.stdout.startswith("ECHO")
    assert result.stdout.endswith("\n")
    assert "Error: The Claude Code CLI exited" in result.stderr


def test_output_is_byte_clean_when_piped(invoke, fake_cli):
    fake_cli.use("echo", text="# Title\n\n**bold** `code`")
    result = invoke("chat", "hi", env={"FORCE_COLOR": None, "NO_COLOR": None})
    assert result.stdout == "# Title\n\n**bold** `code`\n"
    assert "\x1b" not in result.stdout + result.stderr
