"""What each CLI leaves on disk, removed when it ends and swept at start.

Measured on 2.1.330: every CLI writes `$CLAUDE_CONFIG_DIR/sessions/<pid>.json` (0644, with
its cwd and `messagingSocketPath`) and `<pid>.<hash>.key`, each through a staging file
`<name>.tmp.<8 hex>` renamed into place, a socket `$TMPDIR/cc-socks/<pid>.sock` and a
`$TMPDIR/claude-<uid>/fswatch-probe-*` directory; a killed CLI removes none of them, and one
killed while starting can leave a staging file or a key with no `<pid>.json` at all.
Each CLI gets a private TMPDIR (`<data>/tmp/cli-<server pid>-*`), removed when it is reaped.
Only files of CLIs claude-max started are touched: found by the pid of a CLI it has just
reaped, or, at start, by pointing into claude-max's own TMPDIR (the user's interactive
sessions use another one) and belonging to a process that no longer runs. A `<pid>.` file
with no `<pid>.json` beside it, of a process that no longer runs, is named after a process that
is gone and read by nobody: swept whoever wrote it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PROBE_AGE = 120.0  # seconds after which an fswatch probe directory is surely stale


def config_dir(env: Mapping[str, str]) -> Path:
    return Path(env.get("CLAUDE_CONFIG_DIR") or Path(env.get("HOME") or Path.home()) / ".claude")


def after_exit(pid: int, env: Mapping[str, str]) -> None:
    """Remove the files of the CLI `pid`, which has just been reaped."""
    sessions = config_dir(env) / "sessions"
    _remove_record(sessions / f"{pid}.json", pid)
    for path in _pid_files(sessions, pid):
        with contextlib.suppress(OSError):
            path.unlink()
    tmp = env.get("TMPDIR")
    if tmp and Path(tmp).name.startswith(PRIVATE_PREFIX):
        remove_tree(Path(tmp))  # its socket, probe dirs, saved images, system prompt file


PRIVATE_PREFIX = "cli-"
# `<pid>.<hash>.key` and the staging files `<pid>.json.tmp.<hex>`, `<pid>.<hash>.key.tmp.<hex>`
_PID_FILE = re.compile(r"(\d+)\.(?:[^/]+\.key|json\.tmp\.[0-9a-f]+)(?:\.tmp\.[0-9a-f]+)?")


def _pid_files(sessions: Path, pid: int) -> list[Path]:
    """The per-process files of `pid` other than its `<pid>.json` record."""
    return [p for p in _glob(sessions, f"{pid}.*") if _owner(p) == pid]


def _owner(path: Path) -> int | None:
    match = _PID_FILE.fullmatch(path.name)
    return int(match.group(1)) if match else None


def private_tmpdir(tmpdir: Path) -> Path:
    """A new 0700 TMPDIR for one CLI, named after this process so a sweep knows its owner."""
    tmpdir.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{PRIVATE_PREFIX}{os.getpid()}-", dir=tmpdir))


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _remove_record(record: Path, pid: int) -> None:
    """A CLI's `<pid>.json` and the socket it names: in its TMPDIR, or in
    `/tmp/cc-socks-<uid>/` when that path would be too long for a socket (measured)."""
    data = _read(record)
    socket = Path(str(data.get("messagingSocketPath") or ""))
    with contextlib.suppress(OSError):
        if socket.name == f"{pid}.sock":
            socket.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        record.unlink(missing_ok=True)


def _read(record: Path) -> dict[str, Any]:
    try:
        data = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def sweep(env: Mapping[str, str], tmpdir: Path, workdir: Path | None = None) -> int:
    """At start: the files of claude-max's CLIs that died without cleaning up (the server
    was killed), and system prompt files of servers that are gone. Returns files removed."""
    removed = 0
    sessions = config_dir(env) / "sessions"
    for record in _glob(sessions, "*.json"):
        pid = _int(record.stem)
        if pid is None or _alive(pid) or not _ours(record, tmpdir, workdir):
            continue
        _remove_record(record, pid)
        removed += 1
        for path in _pid_files(sessions, pid):
            with contextlib.suppress(OSError):
                path.unlink()
                removed += 1
    for path in _glob(sessions, "*.*"):  # a CLI killed while starting: no record to go by
        pid = _owner(path)
        if pid is None or (sessions / f"{pid}.json").exists() or _alive(pid):
            continue
        with contextlib.suppress(OSError):
            path.unlink()
            removed += 1
    for private in _glob(tmpdir, f"{PRIVATE_PREFIX}*"):
        owner = _int(private.name.removeprefix(PRIVATE_PREFIX).split("-", 1)[0])
        if owner is not None and not _alive(owner):
            remove_tree(private)
            removed += 1
    # from releases that shared one TMPDIR: loose prompt files, sockets, probes
    for stale in _glob(tmpdir, "system-*.txt"):
        if time.time() - _mtime(stale) > PROBE_AGE:
            with contextlib.suppress(OSError):
                stale.unlink()
                removed += 1
    for sock in _glob(tmpdir / "cc-socks", "*.sock"):
        pid = _int(sock.stem)
        if pid is not None and not _alive(pid):
            with contextlib.suppress(OSError):
                sock.unlink()
                removed += 1
    return removed + _old_probes(tmpdir)


def _old_probes(tmpdir: Path, age: float = PROBE_AGE) -> int:
    removed = 0
    now = time.time()
    for probe in _glob(tmpdir, "claude-*/fswatch-probe-*"):
        if now - _mtime(probe) >= age:
            shutil.rmtree(probe, ignore_errors=True)
            removed += 1
    return removed


def _ours(record: Path, tmpdir: Path, workdir: Path | None) -> bool:
    """Started by claude-max: its socket is in our TMPDIR, or it ran in our private cwd."""
    data = _read(record)
    socket = str(data.get("messagingSocketPath") or "")
    if socket and tmpdir.resolve() in Path(socket).resolve().parents:
        return True
    cwd = str(data.get("cwd") or "")
    return workdir is not None and bool(cwd) and Path(cwd).resolve() == workdir.resolve()


def _glob(base: Path, pattern: str) -> list[Path]:
    try:
        return list(base.glob(pattern))
    except OSError:
        return []


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return time.time()


def _alive(pid: int) -> bool:
    """Running: a zombie (killed, not yet reaped by whoever adopted it) counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[:1] != ["Z"]
