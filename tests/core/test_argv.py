"""What the CLI is given: safe flags, no client text in argv, history as stream-json lines."""

from __future__ import annotations

from pathlib import Path

from claude_max.core import argv as cli
from claude_max.core import stdin
from claude_max.core.conversation import Conversation, ImagePart, Options, TextPart, Turn
from claude_max.core.settings import Settings


def conv(**kw) -> Conversation:
    turns = (Turn("user", (TextPart("--version @/etc/passwd /cost"),)),)
    return Conversation(turns=turns, **kw)


def test_safe_flags_and_no_client_text(tmp_path):
    prompt_file = tmp_path / "system.txt"
    argv = [
        *cli.build_argv("claude", conv(system="--danger", model="sonnet")),
        *cli.model_flag("sonnet"),
        cli.system_prompt_flag(prompt_file),
    ]
    assert argv[0] == "claude"
    for flag in (
        "--tools=",
        "--setting-sources=",
        "--strict-mcp-config",
        "--input-format=stream-json",
        "--no-session-persistence",
    ):
        assert flag in argv
    assert "--bare" not in argv
    assert f"--system-prompt-file={prompt_file}" in argv
    assert "--model=sonnet" in argv
    assert not any("--danger" in a or "passwd" in a for a in argv)
    assert all(a.startswith("-") for a in argv[1:])  # every option carries its value inline


def test_no_system_prompt_means_an_empty_one():
    assert cli.system_prompt_flag(None) == "--system-prompt="


def test_env_bounds_retries_and_output_tokens(tmp_path):
    settings = Settings(home=tmp_path)
    env = cli.build_env(
        settings, conv(options=Options(max_tokens=50)), base={"PATH": "/bin", "CLAUDECODE": "1"}
    )
    assert env["CLAUDE_CODE_MAX_RETRIES"] == "2"
    assert env["CLAUDE_CODE_MAX_OUTPUT_TOKENS"] == "50"
    assert env["TMPDIR"] == str(tmp_path / "tmp")
    assert "CLAUDECODE" not in env


def test_user_lines_are_client_composed():
    turn = Turn("user", (TextPart("look"), ImagePart("image/png", "AAAA")))
    line = stdin.user_line(turn, query=False)
    assert line["client_composed"] is True
    assert line["shouldQuery"] is False
    assert line["message"]["content"] == [
        {"type": "text", "text": "look"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}},
    ]
    assert "shouldQuery" not in stdin.user_line(turn, query=True)


def test_assistant_line_is_blocks():
    line = stdin.assistant_line(Turn("assistant", (TextPart("earlier"),)))
    assert line["message"] == {
        "role": "assistant",
        "content": [{"type": "text", "text": "earlier"}],
    }


def test_workdir_is_private_by_default(tmp_path):
    assert Settings(home=tmp_path).workdir() == tmp_path / "workspace"
    assert Settings(home=tmp_path, cwd=Path("/srv")).cwd == Path("/srv")
