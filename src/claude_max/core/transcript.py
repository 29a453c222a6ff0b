"""A conversation's earlier turns as a CLI session transcript, so one stdin line runs the turn.

Seeding history line by line (a user line with `shouldQuery: false`, its empty result, then
the assistant line: CLI.md §9) costs the CLI 12-15 ms per earlier exchange. A long history is
instead written as the transcript of a new session (`<config dir>/projects/<cwd>/<id>.jsonl`,
CLI.md §4) and the CLI is started with `--resume=<id>`: the cost no longer grows with the
history, and the upstream request is the same as seeding's (tests/e2e/test_long_history_e2e.py).

Measured with 2.1.330: the CLI loads the session at start and again, if it was missing then,
at its first line, but a process idle for some seconds has loaded it already; so a warm
process cannot be handed a history later, and such a CLI is started for its request.
On resume the CLI mends a session's end: a tool call left open gets an "interrupted" error
result, a last user message a "No response requested." answer. So the transcript stops
before a last assistant turn with tool calls (`split`; that turn is sent as a line, with the
new message right after it) and a last user message is followed by a synthetic API-error
assistant entry, which the CLI never sends to the model; the first entry is an informational
`system` one, also never sent (the CLI refuses a session without entries). The file is
removed when its CLI is reaped, unless it is a kept session (the CLI appends to it then).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from claude_max.core import stdin
from claude_max.core.conversation import ToolCallPart, Turn


def new_session_id() -> str:
    return str(uuid.uuid4())


def _project(cwd: str) -> str:
    """The CLI's directory name for `cwd`'s sessions (2.1.330; beyond 200 characters it adds
    a hash of its own, which is not reproduced here: see `pays`)."""
    return re.sub(r"[^A-Za-z0-9]", "-", cwd)


def path(env: Mapping[str, str], cwd: str, session_id: str) -> Path:
    """Where the CLI started with `env` in `cwd` looks for the session's transcript."""
    if env.get("CLAUDE_CONFIG_DIR"):
        config = Path(env["CLAUDE_CONFIG_DIR"])
    else:
        config = Path(env.get("HOME") or Path.home()) / ".claude"
    return config / "projects" / _project(cwd) / f"{session_id}.jsonl"


# A warm process (~90 ms to a first token) seeded at ~13 ms an exchange beats a cold start
# (~350 ms, CLI.md §8) for histories up to about 20 exchanges: longer ones go as a transcript.
SEED_LIMIT = 40


def long(turns: Sequence[Turn]) -> bool:
    """Whether a history of `turns` is long enough to go as a transcript (see `pays`)."""
    return len(turns) > SEED_LIMIT


def pays(turns: Sequence[Turn], cwd: str) -> bool:
    """Whether `turns` should reach the CLI started in `cwd` as a transcript rather than
    seeded lines (the CLI looks for a session only in the project directory of its cwd)."""
    return long(turns) and len(_project(cwd)) <= 200


def key(turns: Iterable[Turn]) -> str:
    """A digest of `turns` exactly as a transcript stores them (the messages the model is
    sent, byte for byte): a CLI started ahead on a transcript serves only a request whose
    stored history has the same key."""
    digest = hashlib.sha256()
    for turn in turns:
        digest.update(json.dumps([turn.role, _message(turn, ids=False)]).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def split(turns: Sequence[Turn]) -> int:
    """How many of `turns` the transcript holds: all but a last assistant turn that calls
    tools, which goes on stdin as a line (with the new message, its results, right after).
    On resume the CLI answers a tool call left open at the end of a transcript with an
    "interrupted" error tool_result of its own."""
    if turns and turns[-1].role == "assistant":
        if any(isinstance(p, ToolCallPart) for p in turns[-1].parts):
            return len(turns) - 1
    return len(turns)


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
    last = "assistant"
    for turn in turns:
        entry = {"parentUuid": parent, "type": turn.role, "message": _message(turn)}
        parent = str(uuid.uuid4())
        lines.append({**entry, "uuid": parent, "userType": "external", **common})
        last = turn.role
    if last == "user":
        # On resume the CLI answers a session that ends with a user message with a "No
        # response requested." assistant message of its own, unless an assistant message
        # follows: an API error's, which it never sends to the model.
        lines.append({"parentUuid": parent, **_API_ERROR, "uuid": str(uuid.uuid4()), **common})
    transcript.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    fd = os.open(transcript, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(data)


_API_ERROR: dict[str, Any] = {
    "type": "assistant",
    "isApiErrorMessage": True,
    "message": {
        "id": "msg_claude_max_history_end",
        "role": "assistant",
        "model": "<synthetic>",
        "content": [{"type": "text", "text": "API Error"}],
    },
}


def _message(turn: Turn, *, ids: bool = True) -> dict[str, Any]:
    """The message exactly as the stdin line that seeds it carries it."""
    if turn.role == "user":
        return dict(stdin.user_line(turn, query=False)["message"])
    message = dict(stdin.assistant_line(turn)["message"])
    if ids:  # the CLI joins transcript entries that share an assistant message id
        message["id"] = f"msg_{uuid.uuid4().hex}"
    return message


def remove(transcript: Path) -> None:
    """Delete the transcript and the directory the CLI may keep beside it."""
    transcript.unlink(missing_ok=True)
    sidecar = transcript.with_suffix("")
    if sidecar.is_dir():
        shutil.rmtree(sidecar, ignore_errors=True)
