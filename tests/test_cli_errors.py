"""Every mistake a newcomer makes ends in one `Error:` line and one hint, never a traceback.

Run through the real entry point (`python -m claude_max`), because a traceback is what the
entry point prints when nothing catches an error; CliRunner would hide that.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest
from fake_claude_log import FAKE_CLAUDE


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def claude_max(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDE_MAX_DEBUG")}
    return subprocess.run(
        [sys.executable, "-m", "claude_max", *args],
        env=base | {"CLAUDE_MAX_CLAUDE_PATH": str(FAKE_CLAUDE)} | (env or {}),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_one_error(result: subprocess.CompletedProcess, code: int, says: str) -> None:
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert result.returncode == code, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr  # `Error: ...` and its hint, nothing else
    assert lines[0].startswith("Error: ") and says in lines[0], lines[0]
    assert lines[1].strip() and not lines[1].startswith("Error"), lines[1]
    assert "listening" not in result.stderr


CASES = {
    "port too high": (["serve", "--port", "99999"], {}, 2, "99999"),
    "port negative": (["serve", "--port", "-1"], {}, 2, "-1"),
    "port from env": (["serve"], {"CLAUDE_MAX_PORT": "70000"}, 2, "70000"),
    "CLI that dies": (["chat", "--claude-path", "/bin/false", "hi"], {}, 1, "exited"),
    "both -c and -r": (["chat", "-c", "-r", "abc", "hi"], {}, 2, "-c/--continue"),
}


@pytest.mark.parametrize("case", CASES)
def test_mistakes_are_one_line(case):
    args, env, code, says = CASES[case]
    assert_one_error(claude_max(*args, env=env), code, says)


def test_a_cli_that_dies_at_once_never_gives_a_traceback():
    """`/bin/false` closes its stdin while we write the prompt: a race, so try it a few times."""
    for _ in range(5):
        assert_one_error(claude_max("chat", "--claude-path", "/bin/false", "hi"), 1, "exited")


@pytest.mark.parametrize("command", [["chat", "hi"], ["serve", "--port", "0"]])
def test_data_directory_that_cannot_be_written(tmp_path, command):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = claude_max(*command, env={"CLAUDE_MAX_HOME": str(blocker / "home")})
    assert_one_error(result, 1, "data directory")


def test_busy_port_with_debug_off(busy_port):
    result = claude_max("serve", "--port", str(busy_port), env={"CLAUDE_MAX_DEBUG": "0"})
    assert_one_error(result, 1, "already in use")


@pytest.mark.parametrize("command", [["chat", "hi"], ["serve", "--port", "0"]])
def test_missing_cwd_is_an_error_and_never_created(tmp_path, command):
    missing = tmp_path / "no" / "such" / "dir"
    result = claude_max(*command, "--cwd", str(missing))
    assert_one_error(result, 2, "does not exist")
    assert not missing.exists() and not missing.parent.exists()


def test_debug_shows_the_traceback(busy_port):
    result = claude_max("serve", "--port", str(busy_port), env={"CLAUDE_MAX_DEBUG": "1"})
    assert result.returncode == 1
    assert "Traceback" in result.stderr
