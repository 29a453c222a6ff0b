"""The sweep at start and the clean-up after a reaped CLI, on the files the real CLI writes
(names measured on 2.1.330), including those of a CLI killed while starting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from waiting import wait_until

from claude_max.core import leftovers


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def config(tmp_path: Path) -> tuple[dict[str, str], Path, Path]:
    home = tmp_path / "home"
    sessions = home / ".claude" / "sessions"
    sessions.mkdir(parents=True)
    tmpdir = tmp_path / "data" / "tmp"
    tmpdir.mkdir(parents=True)
    return {"HOME": str(home)}, sessions, tmpdir


def record(sessions: Path, pid: int, socket: Path) -> None:
    body = {"pid": pid, "messagingSocketPath": str(socket)}
    sessions.joinpath(f"{pid}.json").write_text(json.dumps(body))


def test_a_dead_cli_of_ours_leaves_nothing_staging_files_included(tmp_path):
    env, sessions, tmpdir = config(tmp_path)
    pid = dead_pid()
    record(sessions, pid, tmpdir / "cli-1-x" / "cc-socks" / f"{pid}.sock")
    names = [f"{pid}.ab12.key", f"{pid}.ab12.key.tmp.a85e13a1", f"{pid}.json.tmp.0011aabb"]
    for name in names:
        sessions.joinpath(name).write_text("x")
    assert leftovers.sweep(env, tmpdir) == 4
    assert list(sessions.iterdir()) == []


def test_a_cli_killed_while_starting_has_no_record_and_is_swept(tmp_path):
    env, sessions, tmpdir = config(tmp_path)
    pid = dead_pid()
    sessions.joinpath(f"{pid}.9e4d.key.tmp.a85e13a1").write_text("x")
    sessions.joinpath(f"{pid}.9e4d.key").write_text("x")
    assert leftovers.sweep(env, tmpdir) == 2
    assert list(sessions.iterdir()) == []


def test_the_users_own_files_and_live_processes_are_never_touched(tmp_path):
    env, sessions, tmpdir = config(tmp_path)
    dead = dead_pid()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        # a dead interactive session of the user's, outside our TMPDIR: its record and key stay
        record(sessions, dead, tmp_path / "elsewhere" / "cc-socks" / f"{dead}.sock")
        sessions.joinpath(f"{dead}.ab.key").write_text("x")
        # a running CLI starting up: its staging file stays
        sessions.joinpath(f"{alive.pid}.cd.key.tmp.0123abcd").write_text("x")
        sessions.joinpath("notes.txt").write_text("x")
        before = sorted(p.name for p in sessions.iterdir())
        assert leftovers.sweep(env, tmpdir) == 0
        assert sorted(p.name for p in sessions.iterdir()) == before
    finally:
        alive.kill()
        alive.wait()


def test_after_exit_removes_the_reaped_clis_files_and_only_those(tmp_path):
    env, sessions, tmpdir = config(tmp_path)
    pid, other = dead_pid(), dead_pid()
    for name in [f"{pid}.json", f"{pid}.ab.key", f"{pid}.ab.key.tmp.a85e13a1", f"{other}.ab.key"]:
        sessions.joinpath(name).write_text("{}")
    leftovers.after_exit(pid, env)
    assert [p.name for p in sessions.iterdir()] == [f"{other}.ab.key"]


def test_a_zombie_counts_as_gone():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    stat = Path(f"/proc/{child.pid}/stat")
    # not reaped: a zombie until wait(); os.kill(pid, 0) still succeeds on it
    assert wait_until(lambda: stat.read_text().rsplit(")", 1)[-1].split()[0] == "Z", 10)
    try:
        assert not leftovers._alive(child.pid)
    finally:
        child.wait()
    assert leftovers._alive(os.getpid())
