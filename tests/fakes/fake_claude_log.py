"""Read what the fake ``claude`` (tests/fakes/claude) recorded in ``$FAKE_CLAUDE_LOG``.

The fake appends three kinds of JSON lines, each written with one ``write()`` so that
concurrent fakes sharing a log do not interleave:

- on start: ``{"argv", "cwd", "pid", "pgid", "env", "stdin": [], "time"}`` (``env`` keeps only
  ``CLAUDE*``, ``ANTHROPIC*``, ``TMPDIR*`` and ``FAKE_*`` variables; with
  ``--system-prompt-file`` also ``"system_prompt_file": {"path", "content"}``, read at start);
- per stdin line, before the fake acts on it: ``{"pid", "stdin_line", "time"}`` (the parsed
  JSON, or the raw string when the line is not JSON);
- with ``--resume``, when the first message arrives: ``{"pid", "resumed", "time"}``, the
  messages of the session's transcript (``None`` if there was none);
- on a normal exit or SIGTERM: ``{"pid", "exit_code", "reason", "time"}`` (none after SIGKILL).

``read_log`` folds them into one dict per invocation.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

# The fake itself, and what the tests run as `claude`: the same, started from cached bytecode
# (the launcher finds the fake next to its own directory: copy FAKE_CLAUDE_SCRIPT, not it).
FAKE_CLAUDE_SCRIPT = Path(__file__).resolve().with_name("claude")
FAKE_CLAUDE = FAKE_CLAUDE_SCRIPT.parent / "bin" / "claude"
TRANSCRIPTS_DIR = Path(__file__).resolve().parent.parent / "data" / "transcripts"


def read_log(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Return one dict per invocation, in start order.

    Keys: ``argv`` (``sys.argv``, so ``argv[0]`` is the fake's path), ``cwd``, ``pid``,
    ``pgid``, ``env``, ``stdin`` (list of parsed stdin lines), ``exit_code`` (``None`` while
    running or after SIGKILL), ``exit_reason``, ``time``, and ``system_prompt_file`` and
    ``resumed`` if given.
    A missing log reads as no invocations; a torn last line is skipped.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    invocations: list[dict[str, Any]] = []
    by_pid: dict[int, dict[str, Any]] = {}
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if "argv" in record:
            invocation = dict(record)
            invocation["stdin"] = list(record.get("stdin", []))
            invocation.setdefault("exit_code", None)
            invocation.setdefault("exit_reason", None)
            invocations.append(invocation)
            by_pid[record["pid"]] = invocation  # a reused pid maps to the newest process
            continue
        owner = by_pid.get(record.get("pid"))
        if owner is None:
            continue
        if "stdin_line" in record:
            owner["stdin"].append(record["stdin_line"])
        elif "resumed" in record:
            owner["resumed"] = record["resumed"]
        elif "exit_code" in record:
            owner["exit_code"] = record["exit_code"]
            owner["exit_reason"] = record.get("reason")
    return invocations
