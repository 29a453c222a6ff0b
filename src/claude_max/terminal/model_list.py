"""What `claude-max models` prints: the table, `-q` ids or `--json`, from the built-in catalog.

Typer-free on purpose: `cli.main` calls `show` directly for the plain forms of the command
(`models`, `-q`, `--json`) without importing typer (STYLE.md §2.2: 80 ms), and the Typer face
(`commands/models.py`) calls it for everything else, so both print the same.
"""

from __future__ import annotations

import sys

from claude_max.core import catalog

HEADERS = ("ID", "ALIAS", "CONTEXT", "MAX OUTPUT", "DEFAULT")
GAP = " " * 4


def show(*, json_: bool, quiet: bool) -> None:
    """Print the catalog as `--json`, `-q` ids, or the table (plus a source note for a person)."""
    rows = sorted(catalog.MODELS, key=lambda m: (m.alias, m.id))
    default = catalog.default_model().id
    if json_:
        import json

        print(json.dumps([as_json(m, m.id == default) for m in rows], indent=2))
        return
    if quiet:
        print("\n".join(m.id for m in rows))
        return
    print(table(rows, default))
    if _interactive():
        print(source_note(), file=sys.stderr)


def as_json(model: catalog.Model, default: bool) -> dict[str, object]:
    """One model in `--json`: a stable shape with snake_case keys (README documents it)."""
    return {
        "id": model.id,
        "alias": model.alias,
        "display_name": model.display_name,
        "context_window": model.context_window,
        "max_output_tokens": model.max_output_tokens,
        "default": default,
    }


def table(rows: list[catalog.Model], default: str) -> str:
    """ollama's shape: upper-case headers, no borders, left-aligned, four spaces apart.

    Plain integers (no `1M`), so `sort -n` works; no trailing spaces.
    """
    cells = [HEADERS] + [
        (
            m.id,
            m.alias,
            str(m.context_window),
            str(m.max_output_tokens),
            "yes" if m.id == default else "",
        )
        for m in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(HEADERS))]
    return "\n".join(
        GAP.join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in cells
    )


def source_note() -> str:
    (major, minor, _), _until = catalog.CLI_VERSION_RANGE
    return f"from claude-max's built-in catalog for Claude Code {major}.{minor}.x"


def _interactive() -> bool:
    """Decorate only for a person: both stdout and stderr are terminals (tests patch this)."""
    return sys.stdout.isatty() and sys.stderr.isatty()
