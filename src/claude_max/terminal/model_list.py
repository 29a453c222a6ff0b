"""What `claude-max models` prints: the table, `-q` ids or `--json`, the same list `/v1/models`
serves.

That is the CLI's own list (its `initialize` answer, read once per CLI version and kept under
the claude-max home: `core/model_cache.py`), so a model released after this claude-max is
shown on the day the CLI learns it. Warm, it starts nothing (the kept list of the installed
executable); cold (a new CLI version) it asks the CLI once (~300 ms, bounded) and keeps the
answer; without a CLI, or one that cannot answer, the built-in catalog. On a terminal, one line
on stderr says where the list came from.

Typer-free on purpose: `cli.main` calls `show` directly for the plain forms of the command
(`models`, `-q`, `--json`) without importing typer (STYLE.md §2.2: 80 ms), and the Typer face
(`commands/models.py`) calls it for everything else, so both print the same.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from claude_max.core import catalog

if TYPE_CHECKING:
    from claude_max.core.model_cache import Listing

HEADERS = ("ID", "ALIAS", "CONTEXT", "MAX OUTPUT", "DEFAULT")
GAP = " " * 4


def show(*, json_: bool, quiet: bool, refresh: bool = False) -> None:
    """Print the list as `--json`, `-q` ids, or the table (plus a source note for a person)."""
    from claude_max.core import model_cache
    from claude_max.core.settings import Settings

    listing = model_cache.load(Settings.from_env(), refresh=refresh)
    rows = sorted((m for m in listing.models if m.resolved is None), key=lambda m: (m.alias, m.id))
    default = default_id(listing.models)
    if listing.failed:  # the CLI is there but did not answer: say so even when piped
        print(f"warning: {listing.why}; showing claude-max's built-in catalog", file=sys.stderr)
    if json_:
        import json

        print(json.dumps([as_json(m, m.id == default) for m in rows], indent=2))
        return
    if quiet:
        print("\n".join(m.id for m in rows))
        return
    print(table(rows, default))
    if _interactive() and not listing.failed:
        print(source_note(listing), file=sys.stderr)


def default_id(models: list[catalog.Model]) -> str:
    """The model a request without `model` gets: what the default alias stands for here."""
    for m in models:
        if m.id == catalog.DEFAULT_ALIAS and m.resolved:
            return m.resolved
    return catalog.default_model().id


def as_json(model: catalog.Model, default: bool) -> dict[str, object]:
    """One model in `--json`: a stable shape with snake_case keys (README documents it)."""
    return {
        "id": model.id,
        "alias": model.alias,
        "display_name": model.display_name,
        "context_window": model.context_window or None,  # null: the CLI does not say
        "max_output_tokens": model.max_output_tokens or None,
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
            str(m.context_window or "-"),
            str(m.max_output_tokens or "-"),
            "yes" if m.id == default else "",
        )
        for m in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(HEADERS))]
    return "\n".join(
        GAP.join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in cells
    )


def source_note(listing: Listing | None = None) -> str:
    """Where the list came from, for a person."""
    if listing is not None and listing.version is not None:
        how = "read just now" if listing.fresh else "kept; --refresh reads it again"
        return f"from Claude Code {listing.version}'s own model list ({how})"
    (major, minor, _), _until = catalog.CLI_VERSION_RANGE
    note = f"from claude-max's built-in catalog for Claude Code {major}.{minor}.x"
    if listing is None or not listing.why:
        return note
    why = listing.why.rstrip(".")
    return f"{note} ({why[:1].lower()}{why[1:]})"


def _interactive() -> bool:
    """Decorate only for a person: both stdout and stderr are terminals (tests patch this)."""
    return sys.stdout.isatty() and sys.stderr.isatty()
