"""A conversation's earlier turns as a CLI session transcript, so one stdin line runs the turn.

Seeding history line by line (a user line with `shouldQuery: false`, its empty result, then
the assistant line: FACTS §9) costs the CLI 12-15 ms per earlier exchange. Instead, every CLI
started for a conversation of our own gets `--resume=<a new session id>`, and the run writes
the turns as that session's transcript (`<config dir>/projects/<cwd>/<id>.jsonl`, FACTS §4)
just before it sends the new message. The CLI reads the transcript only when its first stdin
line arrives (measured, 2.1.330), so a warm process started long before the request takes any
history, and the upstream request is the same as seeding's (tests/e2e/test_long_history_e2e.py).

The file starts with an informational `system` entry, which never reaches the model: the CLI
refuses to resume a session without entries ("No conversation found"), and with it a first
turn takes the same kind of process as a follow-up. A stateless run's file is removed when its
CLI is reaped; a kept session's is the session itself, which the CLI appends to.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from claude_max.core import argv as cli
from claude_max.core.conversation import Turn


def new_session_id() -> str:
    return str(uuid.uuid4())


def path(env: Mapping[str, str], cwd: str, session_id: str) -> Path:
    """Where the CLI started with `env` in `cwd` looks for the session's transcript."""
    if env.get("CLAUDE_CONFIG_DIR"):
        config = Path(env["CLAUDE_CONFIG_DIR"])
    else:
        config = Path(env.get("HOME") or Path.home()) / ".claude"
    return config / "projects" / re.sub(r"[^A-Za-z0-9]", "-", cwd) / f"{session_id}.jsonl"


def write(transcript: Path, turns: Iterable[Turn], cwd: str) -> None:
    """Write `turns` as the whole history of the session the file is named after."""
    session_id = transcript.stem
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    common = {"isSidechain": False, "timestamp": now, "cwd": cwd, "sessionId": session_id}
    parent = str(uuid.uuid4())
    lines = [
        {
            "parentUuid": None,
            "type": "system",
            "subtype": "informational",
            "content": "claude-max: the conversation so far",
            "level": "info",
            "uuid": parent,
            **common,
        }
    ]
    for turn in turns:
        entry = {"parentUuid": parent, "type": turn.role, "message": _message(turn)}
        parent = str(uuid.uuid4())
        lines.append({**entry, "uuid": parent, "userType": "external", **common})
    transcript.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    fd = os.open(transcript, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(data)


def _message(turn: Turn) -> dict[str, Any]:
    """The message exactly as the stdin line that seeds it carries it."""
    if turn.role == "user":
        return dict(cli.user_line(turn, query=False)["message"])
    # The CLI joins transcript entries that share an assistant message id: each gets its own.
    return {**cli.assistant_line(turn)["message"], "id": f"msg_{uuid.uuid4().hex}"}


def remove(transcript: Path) -> None:
    """Delete the transcript and the directory the CLI may keep beside it."""
    transcript.unlink(missing_ok=True)
    sidecar = transcript.with_suffix("")
    if sidecar.is_dir():
        shutil.rmtree(sidecar, ignore_errors=True)
