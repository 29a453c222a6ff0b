"""`claude-max usage`: how much of the subscription's windows is used, and when they reset.

From the last reading (`<home>/plan.json`, written whenever any face ran a request), or, when
there is none (or with `--refresh`), from one tiny request through the CLI: the plan's state
comes only with an answer (CLI.md §12).
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from claude_max.core import plan
    from claude_max.core.settings import Settings

PROBE_PROMPT = "Reply with the single word OK."


def usage(
    json_: Annotated[
        bool, typer.Option("--json", help="The reading as JSON (the plan.json schema).")
    ] = False,
    refresh: Annotated[
        bool,
        typer.Option(
            "--refresh", help="Ask the CLI now (one tiny request) instead of the last reading."
        ),
    ] = False,
) -> None:
    """Show the plan's windows (5-hour, 7-day) as bars with their reset times.

    Examples:

      claude-max usage

      claude-max usage --json
    """
    from claude_max.core import plan
    from claude_max.core.errors import ClaudeMaxError
    from claude_max.core.settings import Settings
    from claude_max.terminal import console
    from claude_max.terminal.planview import lines

    settings = Settings.from_env()
    reading = None if refresh else plan.load(settings.home)
    try:
        if reading is None:
            reading = _probe(settings)
        if reading is None:
            raise ClaudeMaxError(
                "The CLI reported no plan state: only a Claude subscription has one (an API "
                "key has none).",
                hint="See: claude-max doctor",
            )
    except ClaudeMaxError as exc:
        if console.debug_enabled():
            raise
        console.error(exc.message, exc.hint)
        raise typer.Exit(1) from None
    if json_:
        sys.stdout.write(json.dumps(reading.to_json(), indent=2) + "\n")
        return
    sys.stdout.write("\n".join(lines(reading)) + "\n")


def _probe(settings: Settings) -> plan.PlanReading | None:
    """One tiny request; the core saves the plan reading it brings."""
    import asyncio

    from claude_max.core import plan
    from claude_max.core.conversation import Conversation, Options, TextPart, Turn
    from claude_max.core.errors import PlanLimitReached
    from claude_max.core.run import complete

    if sys.stderr.isatty():
        print("No plan reading yet: asking the CLI (one tiny request)…", file=sys.stderr)
    conv = Conversation(
        turns=(Turn("user", (TextPart(PROBE_PROMPT),)),), options=Options(max_tokens=1)
    )
    try:
        reply = asyncio.run(complete(conv, settings))
    except PlanLimitReached:  # the limit is the reading
        return plan.load(settings.home)
    return reply.result.plan
