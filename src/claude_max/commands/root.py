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
from typer.core import CompletionItem, TyperCommand, TyperGroup  # type: ignore[attr-defined]

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

HELP_TERM_MAX = 30  # click's default: longer option names put their help on the next line


def build(name: str) -> Any:
    """The click command for `name`, as `app.command()` / `app.add_typer()` would make it."""
    module, attr, panel = COMMANDS[name]
    # __import__ rather than importlib.import_module: `python -X importtime` (what
    # tests/test_startup.py reads) only sees imports made through the import statement's path.
    target = getattr(__import__(module, fromlist=[attr]), attr)
    holder = typer.Typer(
        add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None
    )
    if isinstance(target, typer.Typer):
        for info in target.registered_commands:  # its subcommands: panels and stable help too
            if info.cls in (None, TyperCommand):
                info.cls = PanelCommand
        holder.add_typer(target, name=name, cls=StableGroup, rich_help_panel=panel)
        command = typer.main.get_command(holder).commands[name]  # type: ignore[attr-defined]
    else:
        holder.command(name=name, cls=PanelCommand, rich_help_panel=panel)(target)
        command = typer.main.get_command(holder)  # one command: typer returns it alone
    command.name = name
    command.rich_help_panel = panel
    return command


class _StableHelpOption:
    """click builds the help option's names through a set, so `-h, --help` and `--help, -h`
    alternate between runs (string hashes are salted): keep the configured order, so help and
    completion are the same every time (the fast paths' snapshot depends on it)."""

    def get_help_option_names(self, ctx: Any) -> list[str]:
        names = super().get_help_option_names(ctx)  # type: ignore[misc]
        return sorted(names, key=list(ctx.help_option_names).index)


class PanelCommand(_StableHelpOption, TyperCommand):
    """A command whose plain help lists its options under their `rich_help_panel` headings
    (Model, Output, ...) as rich's help did; typer's plain help puts them all in "Options".
    One column width for every section, so the help reads as one table."""

    def format_options(self, ctx: Any, formatter: Any) -> None:
        sections: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                title = "Arguments"
            else:
                title = getattr(param, "rich_help_panel", None) or "Options"
            sections.setdefault(title, []).append(record)
        rows = [row for section in sections.values() for row in section]
        width = min(max((len(term) for term, _ in rows), default=0), HELP_TERM_MAX)
        for title, section in sections.items():
            with formatter.section(title):
                formatter.write_dl(
                    [(term.ljust(width) if text else term, text) for term, text in section],
                    col_max=HELP_TERM_MAX,
                )


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


class StableGroup(_StableHelpOption, TyperGroup):
    """A Typer sub-app's group (`sessions`), with its help option in a stable order."""


class LazyGroup(StableGroup):
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
    # Plain click help, not rich: rich costs ~50 ms to import and as much to lay out, which
    # put `--help` over its budget; plain help is also what `claude_max/app_snapshot.json`
    # stores for the fast path (cli.py), since it depends on nothing but the width.
    rich_markup_mode=None,
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
