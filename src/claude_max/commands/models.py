"""`claude-max models`: the models the proxy accepts, from the built-in catalog.

It never starts the CLI: `claude`'s own model list only comes back in the `initialize` control
response, which costs a CLI start (~300 ms), and the catalog is what the proxy actually accepts
anyway (`core/catalog.py`). On a terminal, one line on stderr says where the data came from.
The output is `terminal/model_list.py`'s, which `cli.main` also calls without typer (fast path).
"""

from __future__ import annotations

from typing import Annotated

import typer

from claude_max.terminal.model_list import show


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
) -> None:
    """List the models claude-max accepts.

    Other full Claude model ids (claude-sonnet-4-5-20250929) go to the CLI unchanged.

    Examples:

      claude-max models

      claude-max models -q

      claude-max models --json | jq -r '.[] | select(.default) | .id'
    """
    if json_ and quiet:
        raise typer.BadParameter("cannot be combined with --json", param_hint="'-q' / '--quiet'")
    show(json_=json_, quiet=quiet)
