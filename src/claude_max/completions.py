"""Shell completion: the scripts in `completions/`, and value completers for options.

The scripts are generated from the app through Typer's own completion machinery
(`_CLAUDE_MAX_COMPLETE=source_<shell>`), so they stay in step with the commands;
`tests/test_completions.py` fails when the committed files are out of date. Regenerate with:

    python -m claude_max.completions            # writes <repo>/completions/ and the snapshot
    python -m claude_max.completions --check    # exit 1 if any file is stale

Without a directory argument it also writes `claude_max/app_snapshot.json`, the help texts and
completion table the fast paths answer from (`snapshot.py`, `fastcomplete.py`).

The scripts call `claude-max` again on every TAB, so completion latency is start-up time
(`bench/startup.py`). Completers here read only `core/catalog.py`: they never start `claude`.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # a TAB imports this module: no pathlib (~4 ms) until it is needed
if TYPE_CHECKING:
    from pathlib import Path

PROG = "claude-max"
COMPLETE_VAR = "_CLAUDE_MAX_COMPLETE"
FILES = {"bash": "claude-max.bash", "zsh": "_claude-max", "fish": "claude-max.fish"}
HEADER = "# Generated from the claude-max app by `python -m claude_max.completions`; do not edit."

# Typer's zsh script only registers its function (`compdef ...`), which is right when the script
# is sourced but gives nothing on the first TAB when zsh autoloads `_claude-max` from $fpath.
# Click 8.1's own template solves it this way: when autoloaded, complete at once.
_ZSH_AUTOLOAD = """\
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  # autoloaded from $fpath as _claude-max: complete this TAB too
  _claude_max_completion "$@"
fi
"""


def complete_model(incomplete: str) -> list[str]:
    """Values for `-m/--model`: aliases first (what people type), then full ids.

    Wire it with `typer.Option(..., autocompletion=complete_model)`.
    """
    from claude_max.core.catalog import MODELS

    prefix = incomplete.lower()
    aliases = sorted(m.alias for m in MODELS)
    ids = sorted(m.id for m in MODELS)
    return [name for name in (*aliases, *ids) if name.startswith(prefix)]


def complete_session(incomplete: str) -> list[tuple[str, str]]:
    """Values for a session id (`sessions show`, `sessions delete`, `chat -r`): the short ids
    the list shows, newest first, with the title as help. Reads the store only if it exists
    (a TAB never creates one) and never fails a TAB."""
    from claude_max.core.ids import short_id
    from claude_max.core.settings import default_home
    from claude_max.sessions.db import DB_NAME
    from claude_max.sessions.store import SessionStore

    path = default_home() / DB_NAME
    if not path.exists():
        return []
    try:
        store = SessionStore(path)
        try:
            found = store.recent(limit=200)
        finally:
            store.close()
    except Exception:  # a locked or broken store: no candidates, no traceback in the shell
        return []
    needle = incomplete.lower()
    return [
        (short_id(s.id), s.title)
        for s in found
        if s.id.lower().startswith(needle) or short_id(s.id).lower().startswith(needle)
    ]


def script(shell: str) -> str:
    """The completion script for `shell` (bash, zsh or fish), as the app generates it."""
    from typer.testing import CliRunner

    from claude_max.cli import app

    if shell not in FILES:
        raise ValueError(f"unsupported shell {shell!r}; expected one of {', '.join(FILES)}")
    result = CliRunner().invoke(
        app, [], prog_name=PROG, env={COMPLETE_VAR: f"source_{shell}"}, catch_exceptions=False
    )
    body = result.stdout.strip()
    if result.exit_code != 0 or not body:
        raise RuntimeError(f"could not generate the {shell} script: {result.output}")
    if shell == "zsh":
        # `#compdef` must stay the first line: compinit reads only that one.
        first, _, rest = body.partition("\n")
        return f"{first}\n{HEADER}\n{rest.strip()}\n\n{_ZSH_AUTOLOAD}"
    return f"{HEADER}\n{body}\n"


def default_dir() -> Path:
    """`completions/` at the repository root (this file is `<root>/src/claude_max/...`)."""
    from pathlib import Path

    return Path(__file__).resolve().parents[2] / "completions"


def write(directory: Path) -> list[Path]:
    """Write every script into `directory`; returns the files that changed."""
    directory.mkdir(parents=True, exist_ok=True)
    changed = []
    for shell, name in FILES.items():
        path = directory / name
        text = script(shell)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            changed.append(path)
    return changed


def stale(directory: Path) -> list[Path]:
    """The files in `directory` that are missing or differ from freshly generated ones."""
    paths = [(directory / name, shell) for shell, name in FILES.items()]
    return [p for p, shell in paths if not p.exists() or p.read_text() != script(shell)]


def main(argv: list[str] | None = None) -> int:
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(
        prog="python -m claude_max.completions",
        description="Write the bash, zsh and fish completion scripts for claude-max.",
    )
    parser.add_argument(
        "directory",
        nargs="?",
        type=Path,
        help=f"default: {default_dir()}, and the app snapshot too",
    )
    parser.add_argument("--check", action="store_true", help="only report stale files (exit 1)")
    args = parser.parse_args(argv)
    with_snapshot = args.directory is None
    args.directory = args.directory or default_dir()
    from claude_max import snapshot

    if args.check:
        old = stale(args.directory)
        if with_snapshot and snapshot.stale():
            old.append(snapshot.PATH)
        for path in old:
            print(f"stale: {path}", file=sys.stderr)
        if old:
            print("run `python -m claude_max.completions`", file=sys.stderr)
        return 1 if old else 0
    for path in write(args.directory):
        print(f"wrote {path}", file=sys.stderr)
    if with_snapshot and snapshot.write():
        print(f"wrote {snapshot.PATH}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
