"""Everyday commands load nothing heavy: checked on the import graph, not by timing.

`python -X importtime` lists every module a run imports. The server stack (starlette, uvicorn,
asyncio, `claude_max.server`) costs ~100 ms and belongs to `serve` alone; pydantic is what
typer 0.29 adds to every command and TAB press (the reason for `typer<0.29`, STYLE.md §2.2);
rich (~50 ms) only renders chat. `--version`, `--help`, `models` and TAB answer without typer
at all (`fastpath.py`; tests/test_fastpath.py checks they answer as the app does).
Timings live in `bench/startup.py`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).parent / "claude-max"
HEAVY = ("starlette", "uvicorn", "asyncio", "claude_max.server", "pydantic")
# typer renders help through rich unless told not to (root.py: rich_markup_mode=None), and
# zsh/fish TABs through typer.rich_utils (cli.py: _plain_completion_help).
PLAIN = ("rich",)

BASH_TAB = {
    "_CLAUDE_MAX_COMPLETE": "complete_bash",
    "COMP_WORDS": "claude-max mo",
    "COMP_CWORD": "1",
}
ZSH_TAB = {"_CLAUDE_MAX_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "claude-max mo"}
MODEL_TAB = {
    "_CLAUDE_MAX_COMPLETE": "complete_bash",
    "COMP_WORDS": "claude-max chat --model ",
    "COMP_CWORD": "3",
}


def imported(args: list[str], env: dict[str, str] | None = None) -> set[str]:
    """Top-level package and full names of every module `claude-max ARGS` imports."""
    # A completion query runs the console script, as the completion scripts do.
    target = [str(SCRIPT)] if env and "_CLAUDE_MAX_COMPLETE" in env else ["-m", "claude_max"]
    base = {k: v for k, v in os.environ.items() if not k.startswith("_CLAUDE_MAX")}
    result = subprocess.run(
        [sys.executable, "-X", "importtime", *target, *args],
        env=base | {"COLUMNS": "100"} | (env or {}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    names = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            names.update({name, name.split(".")[0]})
    assert "claude_max.cli" in names  # the parse worked
    return names


CASES = {
    "--help": (["--help"], None),
    "--version": (["--version"], None),
    "models": (["models"], None),
    "models -q": (["models", "-q"], None),
    "models --json": (["models", "--json"], None),
    "models --help": (["models", "--help"], None),
    "chat --help": (["chat", "--help"], None),
    "serve --help": (["serve", "--help"], None),
    "doctor --help": (["doctor", "--help"], None),
    "stats --help": (["stats", "--help"], None),
    "TAB bash": ([], BASH_TAB),
    "TAB zsh": ([], ZSH_TAB),
    "TAB chat --model": ([], MODEL_TAB),
    # typer's own paths: a narrow terminal's help, a TAB the fast path leaves to typer
    "chat --help (60 columns)": (["chat", "--help"], {"COLUMNS": "60"}),
    "TAB stats --since": (
        [],
        {
            "_CLAUDE_MAX_COMPLETE": "complete_zsh",
            "_TYPER_COMPLETE_ARGS": "claude-max stats --since ",
        },
    ),
}
# Answered before typer is imported (fastpath.py).
WITHOUT_TYPER = {
    "--help",
    "--version",
    "models",
    "models -q",
    "models --json",
    "models --help",
    "chat --help",
    "serve --help",
    "doctor --help",
    "stats --help",
    "TAB bash",
    "TAB zsh",
    "TAB chat --model",
}


@pytest.mark.parametrize("case", list(CASES))
def test_everyday_commands_import_nothing_heavy(case):
    args, env = CASES[case]
    if env and "_CLAUDE_MAX_COMPLETE" in env and not SCRIPT.exists():
        pytest.skip(f"no console script at {SCRIPT}")
    names = imported(args, env)
    forbidden = HEAVY + PLAIN + (("typer",) if case in WITHOUT_TYPER else ())
    found = sorted(name for name in forbidden if name in names)
    hint = (
        "typer>=0.29 imports pydantic for every command with a parameter: keep typer<0.29"
        if "pydantic" in found
        else "the fast path no longer answers it (fastpath.py; is app_snapshot.json current?)"
        if "typer" in found
        else "import them inside the command body that needs them"
    )
    assert not found, f"`claude-max {case}` imports {found}: {hint}"


# What each command may load of claude-max's own commands: the fast paths none; on typer's
# path a command builds only itself (typer's build of all seven cost as much as importing typer).
ONLY = {
    "--version": set(),
    "--help": set(),
    "models": set(),
    "models --json": set(),
    "TAB bash": set(),
    "TAB chat --model": set(),
    "doctor --help": set(),
    "chat --help (60 columns)": {"claude_max.commands.chat"},
    "TAB stats --since": {"claude_max.commands.stats"},
}
COMMAND_MODULES = {
    f"claude_max.commands.{name}"
    for name in ("chat", "serve", "models", "doctor", "sessions", "stats", "usage")
}


@pytest.mark.parametrize("case", list(ONLY))
def test_a_command_loads_only_itself(case):
    args, env = CASES[case]
    if env and "_CLAUDE_MAX_COMPLETE" in env and not SCRIPT.exists():
        pytest.skip(f"no console script at {SCRIPT}")
    names = imported(args, env)
    assert names & COMMAND_MODULES == ONLY[case]
    assert ("typer" in names) == bool(ONLY[case])
