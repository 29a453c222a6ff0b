"""`claude-max stats`: the request history over a period, from the store (no server needed)."""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

import typer

PERIODS = ("24h", "7d", "30d")
GROUPINGS = ("client", "model", "day", "hour")  # claude_max.usage.report.GROUPINGS


def _complete_since(incomplete: str) -> list[str]:
    return [p for p in PERIODS if p.startswith(incomplete)]


def _complete_by(incomplete: str) -> list[str]:
    return [g for g in GROUPINGS if g.startswith(incomplete)]


def load(since: str, by: str) -> dict[str, Any]:
    """The report over the last `since`, grouped `by`, read from the store in CLAUDE_MAX_HOME."""
    from claude_max.core.settings import default_home
    from claude_max.sessions.db import DB_NAME
    from claude_max.usage import history, report
    from claude_max.usage.plan import read_plan

    span = report.parse_since(since)
    until = time.time()
    home = default_home()
    rows: list[history.Row] = []
    if (home / DB_NAME).exists():
        db = history.open_db(home / DB_NAME)
        try:
            rows = history.read(db, until - span, until)
        finally:
            db.close()
    return report.build(
        rows, since=until - span, until=until, period=since, by=by, plan=read_plan(home)
    )


def stats(
    since: Annotated[
        str,
        typer.Option(
            help="Period to report: 24h, 7d, 30d (any number of m, h, d or w).",
            autocompletion=_complete_since,
        ),
    ] = "24h",
    by: Annotated[
        str,
        typer.Option(help="Split by client, model, day or hour.", autocompletion=_complete_by),
    ] = "model",
    json_output: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Requests, errors, tokens, list-price cost, time to first token and warm hits, from the
    request history the server records; plus the plan windows of the last reading.

    Examples:

      claude-max stats

      claude-max stats --since 7d --by client

      claude-max stats --since 30d --by day --json
    """
    if by not in GROUPINGS:
        raise typer.BadParameter(f"must be one of {', '.join(GROUPINGS)}", param_hint="--by")
    try:
        data = load(since, by)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--since") from None
    if json_output:
        print(json.dumps(data, indent=2))
        return
    from claude_max.terminal.console import stdout_console
    from claude_max.terminal.usage import render

    render(data, stdout_console())
