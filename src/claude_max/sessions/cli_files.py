"""The CLI's own transcript files (~140 KB per session), removed with the sessions they back.

The CLI keeps each session at `$CLAUDE_CONFIG_DIR/projects/<cwd, mangled>/<session id>.jsonl`
(CLI.md §4). Session ids are UUIDs, unique across projects, so the file is found by id alone,
whatever the mangling of the working directory.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def config_dir() -> Path:
    return Path(os.environ.get("CLAUDE_CONFIG_DIR") or Path.home() / ".claude")


def find(cli_session_id: str) -> Path | None:
    """The CLI's transcript file of this session, if it exists."""
    if not _UUID.match(cli_session_id):
        return None  # never a pattern from elsewhere in a glob
    return next((config_dir() / "projects").glob(f"*/{cli_session_id}.jsonl"), None)


def size(transcript: Path) -> int:
    """Bytes the session takes on disk: its transcript and the directory beside it."""
    total = 0
    with contextlib.suppress(OSError):
        total += transcript.stat().st_size
    sidecar = transcript.with_suffix("")
    if sidecar.is_dir():
        for item in sidecar.rglob("*"):
            with contextlib.suppress(OSError):
                total += item.stat().st_size if item.is_file() else 0
    return total


def images(cli_session_id: str) -> list[Path]:
    """Directories where the CLI saved a session's images: `$TMPDIR/claude-<uid>/<project>/
    <session id>/` (FACTS §7), under claude-max's own TMPDIR."""
    if not _UUID.match(cli_session_id):
        return []
    from claude_max.core.settings import default_home

    tmp = default_home() / "tmp"
    return [
        *tmp.glob(f"claude-*/*/{cli_session_id}"),
        *tmp.glob(f"cli-*/claude-*/*/{cli_session_id}"),
    ]


def remove(cli_session_ids: Iterable[str | None]) -> int:
    """Delete the CLI's files for these sessions; returns how many transcripts were removed."""
    removed = 0
    for session_id in cli_session_ids:
        for saved in images(session_id) if session_id else []:
            shutil.rmtree(saved, ignore_errors=True)
        transcript = find(session_id) if session_id else None
        if transcript is None:
            continue
        transcript.unlink(missing_ok=True)
        removed += 1
        sidecar = transcript.with_suffix("")  # a directory the CLI may keep beside it
        if sidecar.is_dir():
            shutil.rmtree(sidecar, ignore_errors=True)
    return removed
