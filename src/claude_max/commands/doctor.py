"""`claude-max doctor`: is the CLI installed, logged in, able to answer; can we serve here.

The checks live in `commands/doctor_checks.py`; this module only renders them. The checklist is the
command's answer, so it goes to stdout, one line per check as each finishes (flutter doctor's
shape): `✓` / `!` / `✗` in colour on a terminal, `[ok]` / `[warn]` / `[fail]` otherwise, and
an indented fix line under every problem. Timings and the CLI's stderr (`-v`) and the spinner
go to stderr. A skipped check (`--no-probe`, or no CLI to run it with) is `skip` and never
changes the exit code; only a `fail` does.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from claude_max.core.settings import DEFAULT_PORT, Settings

if TYPE_CHECKING:
    from rich.console import Console

    from claude_max.commands.doctor_checks import Busy, Check

SYMBOLS = {"ok": "✓", "warn": "!", "fail": "✗", "skip": "-"}
COLOURS = {"ok": "green", "warn": "yellow", "fail": "red", "skip": "dim"}
PLAIN_WIDTH = len("[fail] ")


def doctor(
    json_: Annotated[
        bool,
        typer.Option("--json", help="A JSON array of {check, status, detail, fix} on stdout."),
    ] = False,
    no_probe: Annotated[
        bool, typer.Option("--no-probe", help="Skip the live one-token request.")
    ] = False,
    timeout: Annotated[
        float,
        typer.Option(min=1.0, help="Seconds the live probe may take before it fails."),
    ] = 30.0,
    verbose: Annotated[
        bool,
        typer.Option("-v", "--verbose", help="Show each check's timing and the CLI's stderr."),
    ] = False,
    port: Annotated[
        int,
        typer.Option(
            envvar="CLAUDE_MAX_PORT", min=1, max=65535, help="The port `serve` would use."
        ),
    ] = DEFAULT_PORT,
    claude_path: Annotated[
        str | None,
        typer.Option(
            envvar="CLAUDE_MAX_CLAUDE_PATH",
            help="Path to the claude executable (default: claude on PATH).",
        ),
    ] = None,
) -> None:
    """Check that claude-max can work on this machine.

    One line per check; every problem comes with a one-line fix.

    Exit 1 if a check failed (warnings and skipped checks don't count).

    Examples:

      claude-max doctor

      claude-max doctor --no-probe

      claude-max doctor --json | jq '.[] | select(.status != "ok")'
    """
    from claude_max.commands.doctor_checks import run_checks

    settings = Settings.from_env(claude_path=claude_path, port=port)
    checks: list[Check] = []
    render = None if json_ else Renderer()
    for check in run_checks(settings, probe=not no_probe, timeout=timeout, busy=_busy(json_)):
        checks.append(check)
        if render is not None:
            render.check(check)
        if verbose:
            _details(check)
    if render is not None:
        render.summary(checks)
    else:
        import json

        print(json.dumps([c.as_json() for c in checks], indent=2, ensure_ascii=False))
    if any(c.status == "fail" for c in checks):
        raise typer.Exit(1)


class Renderer:
    """The human checklist on stdout: symbols and colour only on a UTF-8 colour terminal."""

    def __init__(self) -> None:
        from claude_max.terminal.console import fancy, stdout_console

        console = stdout_console()
        self.console: Console | None = console if fancy(console) else None

    def check(self, check: Check) -> None:
        if self.console is None:
            prefix = f"[{check.status}]".ljust(PLAIN_WIDTH)
            print(f"{prefix}{check.title}: {check.detail}", flush=True)
            if check.fix and check.status != "ok":
                print(f"{' ' * PLAIN_WIDTH}{check.fix}", flush=True)
            return
        from rich.markup import escape

        colour = COLOURS[check.status]
        self.console.print(
            f"[bold {colour}]{SYMBOLS[check.status]}[/] {escape(check.title)}: "
            f"{escape(check.detail)}"
        )
        if check.fix and check.status != "ok":
            self.console.print(f"  [{colour}]{escape(check.fix)}[/]")
        self.console.file.flush()

    def summary(self, checks: list[Check]) -> None:
        text = summary(checks)
        if self.console is None:
            print(f"\n{text}", flush=True)
        else:
            failed = any(c.status == "fail" for c in checks)
            self.console.print(f"\n[bold {'red' if failed else 'default'}]{text}[/]")


def summary(checks: list[Check]) -> str:
    fails = sum(c.status == "fail" for c in checks)
    warns = sum(c.status == "warn" for c in checks)
    warnings = f"{warns} warning{'s' if warns != 1 else ''}"
    if fails:
        failed = f"{fails} check{'s' if fails != 1 else ''} failed"
        return f"{failed}, {warnings}." if warns else f"{failed}."
    return f"No problems found, {warnings}." if warns else "No problems found."


def _busy(json_: bool) -> Busy:
    """A spinner on stderr around the slow checks, only for a person watching."""
    import contextlib

    from claude_max.terminal.console import stderr_console, stderr_is_interactive

    if json_ or not stderr_is_interactive():
        return lambda message: contextlib.nullcontext()
    console = stderr_console()
    return lambda message: console.status(message)


def _details(check: Check) -> None:
    """`-v`: how long the check's subprocess took and what it said on stderr."""
    if check.seconds is None and not check.stderr.strip():
        return
    lines = []
    if check.seconds is not None:
        lines.append(f"  {check.check}: {check.seconds * 1000:.0f} ms")
    tail = check.stderr.strip().splitlines()[-20:]
    lines += [f"  {check.check} stderr: {line}" for line in tail]
    sys.stdout.flush()
    print("\n".join(lines), file=sys.stderr, flush=True)
