"""`claude-max models`: the models the proxy accepts, the same list `/v1/models` serves.

That is the CLI's own list (its `initialize` answer, read once per CLI version and kept under
the claude-max home: `core/model_cache.py`), so a model released after this claude-max is
shown on the day the CLI learns it. Warm, it starts nothing (the kept list of the installed
executable); cold (a new CLI version) it asks the CLI once (~300 ms, bounded) and keeps the
answer; without a CLI, or one that cannot answer, the built-in catalog. On a terminal, one line
on stderr says where the list came from. The printing is `terminal/model_list.py`'s, which
`cli.main` also calls without typer (its fast path).
"""

from __future__ import annotations

from typing import Annotated

import typer


def models(
    json_: Annotated[
        bool,
        typer.Option(
            "--json",
            help="A JSON array: id, alias, display_name, context_window, max_output_tokens, "
            "default.",
        ),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("-q", "--quiet", help="Only the model ids, one per line.")
    ] = False,
    refresh: Annotated[
        bool,
        typer.Option(
            "--refresh", help="Read the list from the CLI again, instead of the kept copy."
        ),
    ] = False,
) -> None:
    """List the models claude-max accepts.

    The Claude Code CLI's own list, read once per CLI version and kept (the same list
    /v1/models serves); claude-max's built-in catalog when the CLI cannot give it.

    Other full Claude model ids (claude-sonnet-4-5-20250929) go to the CLI unchanged.

    Examples:

      claude-max models

      claude-max models -q

      claude-max models --json | jq -r '.[] | select(.default) | .id'
    """
    if json_ and quiet:
        raise typer.BadParameter("cannot be combined with --json", param_hint="'-q' / '--quiet'")
    from claude_max.terminal.model_list import show

    show(json_=json_, quiet=quiet, refresh=refresh)
