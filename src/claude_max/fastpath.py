"""Everyday invocations answered before typer is imported (it alone costs ~60 ms).

`cli.main` calls `answer` first; None means "not one of mine" and the Typer app runs as
always. What is answered here, each exactly as the app would (tests/test_fastpath.py):

- `--version` / `-V`;
- `claude-max [COMMAND...] --help` (or `-h`), and `claude-max` alone: the help text stored in
  `app_snapshot.json`, when the terminal is at least 80 columns wide (the snapshot's width);
- `models`, `models -q|--quiet|--json`: `terminal/model_list.show`, which the Typer command
  calls too;
- TAB completion (`fastcomplete.py`).

Anything with more words, another width, or a `CLAUDE_MAX_DEBUG` that is not a boolean (the
root option would reject it) goes to typer.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing costs ~4 ms of a 70 ms budget; mypy reads this as True
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

HELP_FLAGS = ("--help", "-h")
# What click's boolean type accepts for `--debug`'s CLAUDE_MAX_DEBUG ("" is unset).
BOOLEANS = {"", "1", "0", "yes", "no", "true", "false", "on", "off", "t", "f", "y", "n"}
MODELS_FLAGS: dict[tuple[str, ...], dict[str, bool]] = {
    (): {"json_": False, "quiet": False},
    ("-q",): {"json_": False, "quiet": True},
    ("--quiet",): {"json_": False, "quiet": True},
    ("--json",): {"json_": True, "quiet": False},
}


def answer(argv: list[str], environ: Mapping[str, str]) -> int | None:
    """Answer `claude-max ARGV` here and return its exit code, or None for the Typer app."""
    if environ.get("_CLAUDE_MAX_COMPLETE"):
        from claude_max import fastcomplete

        return fastcomplete.answer(environ, snapshot())
    if argv in (["--version"], ["-V"]):
        from claude_max import __version__

        print(f"claude-max {__version__}")
        return 0
    if environ.get("CLAUDE_MAX_DEBUG", "").strip().lower() not in BOOLEANS:
        return None
    if not argv:  # the app's no_args_is_help: the help, as a usage error
        return 2 if _help([], environ) == 0 else None
    if argv[-1] in HELP_FLAGS:
        return _help(argv[:-1], environ)
    if argv[:1] == ["models"] and tuple(argv[1:]) in MODELS_FLAGS:
        from claude_max.terminal.model_list import show

        show(**MODELS_FLAGS[tuple(argv[1:])])
        return 0
    return None


def _help(path: list[str], environ: Mapping[str, str]) -> int | None:
    data = snapshot()
    text = data["help"].get(" ".join(path))
    if text is None or help_width(environ) != data["help_width"]:
        return None
    sys.stdout.write(text)
    return 0


def help_width(environ: Mapping[str, str]) -> int:
    """The width click wraps help to: `max(min(columns, 80) - 2, 50)`, with the columns of
    `shutil.get_terminal_size()` (importing shutil would cost its bz2 and lzma imports)."""
    try:
        columns = int(environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
        columns = columns or 80
    return max(min(columns, 80) - 2, 50)


def snapshot() -> dict[str, Any]:
    """`app_snapshot.json` (see `snapshot.py`, which writes it)."""
    import json

    path = os.path.join(os.path.dirname(__file__), "app_snapshot.json")
    with open(path, encoding="utf-8") as file:
        return json.load(file)  # type: ignore[no-any-return]
