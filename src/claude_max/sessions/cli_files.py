"""The CLI's own transcript files (~140 KB per session), removed with the sessions they back.

The CLI keeps each session at `$CLAUDE_CONFIG_DIR/projects/<cwd, mangled>/<session id>.jsonl`
(FACTS §4). Session ids are UUIDs, unique across projects, so the file is found by id alone,
whatever the mangling of the working directory.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def config_dir() -> Path:
    return Path(os.environ.get("CLAUDE_CONFIG_DIR") or Path.home() / ".claude")


def remove(cli_session_ids: Iterable[str | None]) -> int:
    """Delete the CLI's files for these sessions; returns how many transcripts were removed."""
    projects = config_dir() / "projects"
    removed = 0
    for session_id in cli_session_ids:
        if not session_id or not _UUID.match(session_id):
            continue  # never a pattern from elsewhere in a glob
        for transcript in projects.glob(f"*/{session_id}.jsonl"):
            transcript.unlink(missing_ok=True)
            removed += 1
            sidecar = transcript.with_suffix("")  # a directory the CLI may keep beside it
            if sidecar.is_dir():
                shutil.rmtree(sidecar, ignore_errors=True)
    return removed
