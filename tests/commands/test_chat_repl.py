"""The interactive chat in a real pseudo-terminal: two turns, /model, Ctrl-C, Ctrl-D."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pexpect
import pytest
from fake_claude_log import FAKE_CLAUDE, read_log
from waiting import gone, wait_until


def spawn_chat(env: dict[str, str], *args: str, timeout: int = 20) -> pexpect.spawn:
    """`claude-max chat ARGS` in a pseudo-terminal where Ctrl-C works as in a user's."""
    return pexpect.spawn(
        sys.executable,
        ["-m", "claude_max", "chat", *args],
        env=env,
        encoding="utf-8",
        timeout=timeout,
        preexec_fn=_ctrl_c_works,
    )


def _ctrl_c_works() -> None:
    """In the child, before exec: Ctrl-C's default action. A test suite started with SIGINT
    ignored (a background job of a shell without job control) would hand that on, and the
    chat, like any program, keeps a signal ignored at its start."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def pty_env(log: Path, home: Path, *, delay_ms: int, chunks: int) -> dict[str, str]:
    """A terminal running `claude-max` against the fake CLI's slow scenario."""
    return dict(
        os.environ,
        CLAUDE_MAX_CLAUDE_PATH=str(FAKE_CLAUDE),
        CLAUDE_MAX_HOME=str(home),
        FAKE_CLAUDE_LOG=str(log),
        FAKE_CLAUDE_SCENARIO="slow",
        FAKE_CLAUDE_DELAY_MS=str(delay_ms),
        FAKE_CLAUDE_CHUNKS=str(chunks),
        TERM="xterm",
        COLUMNS="100",
    )


@pytest.fixture
def repl(tmp_path: Path, claude_max_home: Path):
    log = tmp_path / "fake.log"
    env = pty_env(log, claude_max_home, delay_ms=30, chunks=3)
    child = spawn_chat(env)
    child.runs = lambda: [c for c in read_log(log) if "-p" in c["argv"]]
    child.home = claude_max_home
    yield child
    child.close(force=True)


def test_two_turns_model_switch_ctrl_c_and_ctrl_d(repl):
    repl.expect("Ctrl-D to quit")
    repl.expect("> ")
    repl.sendline("first question")
    repl.expect("ECHO:first question")
    repl.expect("> ")

    repl.sendline("/model haiku")
    repl.expect("model: haiku")
    repl.expect("> ")
    repl.sendline("second question")
    repl.expect("ECHO:second question")
    repl.expect("> ")
    first, second = repl.runs()
    assert "--model=haiku" in second["argv"]
    # the second turn resumes the CLI's session: only the new message is sent
    assert "--no-session-persistence" not in first["argv"]
    assert any(a.startswith("--resume=") for a in second["argv"])
    assert [line["message"]["content"] for line in second["stdin"]] == ["second question"]

    repl.setecho(False)
    repl.sendline("a long one " * 3)
    repl.expect("ECHO")  # the reply has started
    repl.sendintr()
    repl.expect("reply stopped")
    repl.expect("> ")
    third = repl.runs()[2]
    assert wait_until(lambda: gone(third["pid"])), "Ctrl-C left the reply's CLI process running"
    # stopped the CLI's way (an interrupt, not a kill), and the exchange the user saw is saved
    assert any(
        line.get("type") == "control_request" and line["request"]["subtype"] == "interrupt"
        for line in third["stdin"]
    )
    from claude_max.sessions.store import SessionStore

    with SessionStore(repl.home / "sessions.db") as store:
        [session] = store.recent()
        assert session.turns == 3
        assert session.transcript[-1]["text"].startswith("ECHO")  # the partial answer

    repl.sendintr()  # at an empty prompt: a hint, not an exit
    repl.expect("Ctrl-D or /exit")
    repl.sendeof()
    repl.expect(pexpect.EOF)
    repl.close()
    assert repl.exitstatus == 0


def test_multiline_and_exit_command(repl):
    repl.expect("> ")
    repl.sendline('"""')
    repl.sendline("line one")
    repl.sendline('line two"""')
    repl.expect("ECHO:line one")
    repl.expect("> ")
    assert repl.runs()[0]["stdin"][0]["message"]["content"] == "line one\nline two"
    repl.sendline("/exit")
    repl.expect(pexpect.EOF)
    repl.close()
    assert repl.exitstatus == 0


def test_ctrl_c_in_one_shot_mode_keeps_what_arrived_and_exits_130(tmp_path, claude_max_home):
    log = tmp_path / "fake.log"
    env = pty_env(log, claude_max_home, delay_ms=100, chunks=30)
    child = spawn_chat(env, "--raw", "a prompt long enough for thirty chunks")
    child.expect("ECHO:")  # part of the answer has arrived
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert "Traceback" not in child.before
    [run] = [c for c in read_log(log) if "-p" in c["argv"]]
    assert wait_until(lambda: gone(run["pid"]))
