"""The interactive chat's input in a real pseudo-terminal: a paste is one message, prompts stay
off a piped stdout, /commands TAB-complete, a \"\"\" message is one history entry."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pexpect
import pytest
from fake_claude_log import read_log
from test_chat_repl import pty_env, spawn_chat


def spawn(tmp_path: Path, home: Path, command: str | None = None) -> pexpect.spawn:
    log = tmp_path / "fake.log"
    env = pty_env(log, home, delay_ms=5, chunks=1)
    # Bracketed paste is off in many Pythons' readline (CPython turned it off for a while,
    # distributions' inputrc too): the chat must turn it on itself.
    inputrc = tmp_path / "inputrc"
    inputrc.write_text("set enable-bracketed-paste off\n")
    env["INPUTRC"] = str(inputrc)
    if command is None:
        child = spawn_chat(env, timeout=30)
    else:
        child = pexpect.spawn("bash", ["-c", command], env=env, encoding="utf-8", timeout=30)
    child.runs = lambda: [c for c in read_log(log) if "-p" in c["argv"]]
    return child


def sent(run: dict) -> list[str]:
    return [line["message"]["content"] for line in run["stdin"]]


@pytest.fixture
def chat(tmp_path: Path, claude_max_home: Path):
    child = spawn(tmp_path, claude_max_home)
    yield child
    child.close(force=True)


def test_a_bracketed_paste_is_one_message(chat):
    # The terminal is asked to mark pastes (DEC mode 2004): without that, a real terminal sends
    # a pasted newline as Enter, one billed turn per line.
    chat.expect_exact("\x1b[?2004h")
    chat.expect("> ")
    chat.send("\x1b[200~line one\nline two\nline three\x1b[201~")
    chat.send("\r")
    chat.expect("ECHO:line one")
    chat.expect("> ")
    [run] = chat.runs()
    assert sent(run) == ["line one\nline two\nline three"]


def test_slash_commands_complete_with_tab(chat):
    chat.expect("> ")
    chat.send("/mo\t")
    chat.send("haiku\r")
    chat.expect("model: haiku")


def test_a_triple_quoted_message_is_one_history_entry(chat):
    chat.expect("> ")
    for line in ('"""', "alpha", "beta", '"""'):
        chat.sendline(line)
    chat.expect("ECHO:alpha")
    chat.expect("> ")
    chat.send("\x1b[A")  # up: the whole message, not its last line
    chat.send("\r")
    chat.expect("ECHO:alpha")
    chat.expect("> ")
    first, second = chat.runs()
    assert sent(first) == sent(second) == ["alpha\nbeta"]


def test_piped_stdout_gets_answers_only(tmp_path, claude_max_home):
    out = tmp_path / "answers.txt"
    command = f"{shlex.quote(sys.executable)} -m claude_max chat | cat > {shlex.quote(str(out))}"
    child = spawn(tmp_path, claude_max_home, command)
    try:
        child.expect("> ")  # the prompt reaches the terminal (stderr)
        child.sendline("hello")
        child.expect("> ")
        child.sendeof()
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert out.read_text() == "ECHO:hello\n"
