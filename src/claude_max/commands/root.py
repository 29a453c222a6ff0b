"""The `claude-max` Typer app: the root options, and every command built only when used.

Typer turns each command's signature into click parameters when the app starts, evaluating
every annotation: for all seven commands that took longer than importing typer itself. Here the
root group holds a table of command names instead, and a command's module is imported and
built the first time click asks for it, so `claude-max models` builds `models` alone, and a
TAB on `claude-max mo` only what starts with `mo`. `--help` still builds them all (it lists
them). To add a command, add a row to COMMANDS.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, MutableMapping
from typing import Annotated, Any

import typer
from typer.core import CompletionItem, TyperGroup  # type: ignore[attr-defined]

from claude_max import __version__

# name -> (module, attribute: a command function or a Typer sub-app, help panel)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "chat": ("claude_max.commands.chat", "chat", "Chat"),
    "serve": ("claude_max.commands.serve", "serve", "Server"),
    "models": ("claude_max.commands.models", "models", "Manage"),
    "usage": ("claude_max.commands.usage", "usage", "Manage"),
    "stats": ("claude_max.commands.stats", "stats", "Manage"),
    "sessions": ("claude_max.commands.sessions", "app", "Manage"),
    "doctor": ("claude_max.commands.doctor", "doctor", "Manage"),
}


def build(name: str) -> Any:
    """The click command for `name`, as `app.command()` / `app.add_typer()` would make it."""
    module, attr, panel = COMMANDS[name]
    # __import__ rather than importlib.import_module: `python -X importtime` (what
    # tests/test_startup.py reads) only sees imports made through the import statement's path.
    target = getattr(__import__(module, fromlist=[attr]), attr)
    holder = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name, rich_help_panel=panel)
        command = typer.main.get_command(holder).commands[name]  # type: ignore[attr-defined]
    else:
        holder.command(name=name, rich_help_panel=panel)(target)
        command = typer.main.get_command(holder)  # one command: typer returns it alone
    command.name = name
    command.rich_help_panel = panel
    return command


class _Commands(MutableMapping[str, Any]):
    """`TyperGroup.commands`, with each value built on first access."""

    def __init__(self) -> None:
        self._built: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in COMMANDS:
            raise KeyError(name)
        if name not in self._built:
            self._built[name] = build(name)
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        raise TypeError("commands are fixed")

    def __iter__(self) -> Iterator[str]:
        return iter(COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS)


class LazyGroup(TyperGroup):
    """The root group: knows its commands' names, builds a command when asked for it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _Commands()

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)  # the order of the table, not sorted

    def shell_complete(self, ctx: Any, incomplete: str) -> list[Any]:
        """Complete command names building only the ones that match (zsh/fish want their help)."""
        items = [
            CompletionItem(name, help=self.commands[name].get_short_help_str())
            for name in COMMANDS
            if name.startswith(incomplete)
        ]
        # The root's own options (--version, --debug...) when the user typed a dash.
        items.extend(super(TyperGroup, self).shell_complete(ctx, incomplete))
        return items


app = typer.Typer(
    name="claude-max",
    cls=LazyGroup,
    help="Use a Claude Max subscription from any OpenAI- or Anthropic-compatible client.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        print(f"claude-max {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool | None,
        typer.Option("--version", "-V", callback=_version, is_eager=True, help="Show the version."),
    ] = None,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug", envvar="CLAUDE_MAX_DEBUG", help="Show tracebacks instead of short errors."
        ),
    ] = False,
) -> None:
    """Use a Claude Max subscription from any OpenAI- or Anthropic-compatible client."""
    if debug:
        os.environ["CLAUDE_MAX_DEBUG"] = "1"
