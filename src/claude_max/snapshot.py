"""`app_snapshot.json`: the Typer app's help texts and completion table, for the fast paths.

`claude-max --help`, `chat --help` and a TAB press must answer in 80-140 ms; importing typer
alone takes 60. So `cli.main` answers them from this snapshot without importing typer
(`fastpath.py`, `fastcomplete.py`), and the snapshot is generated from the live app, here:

    python -m claude_max.completions            # writes it with the completion scripts
    python -m claude_max.completions --check    # exit 1 if it is stale

`tests/test_fastpath.py` fails when the committed snapshot differs from a fresh one, and checks
that each fast answer equals the Typer app's own.

What it holds: `help`, each command's plain help at the width click gives a terminal of 80
columns or more (`help_width`; other widths go to typer); `commands`, for each command path
("" is the root, "sessions show" a subcommand) its subcommands as typer completes them, and its
parameters with what completes their values: "none", "echo" (a path: typer echoes what was
typed), "module:function" for a completer in `claude_max.completions` (typer-free), or null
when only typer can tell (the fast path then hands the TAB to typer).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PROG = "claude-max"
PATH = Path(__file__).with_name("app_snapshot.json")
HELP_COLUMNS = 80  # a terminal this wide or wider gets the stored help
# Completers the fast path may import: this module promises not to import typer.
LIGHT_COMPLETERS = "claude_max.completions"


def render() -> str:
    """The snapshot's text, generated from the app as it is now."""
    import typer

    from claude_max.commands.root import app

    root = typer.main.get_command(app)
    ctx = root.make_context(PROG, [], resilient_parsing=True)
    commands: dict[str, Any] = {}
    help_texts: dict[str, str] = {}
    _walk(root, ctx, (), commands, help_texts)
    data = {
        "generated_by": "python -m claude_max.completions (do not edit)",
        "help_width": max(min(HELP_COLUMNS, 80) - 2, 50),  # click's HelpFormatter
        "help": help_texts,
        "commands": commands,
    }
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def _walk(
    command: Any, ctx: Any, path: tuple[str, ...], commands: dict[str, Any], help: dict[str, str]
) -> None:
    key = " ".join(path)
    help[key] = _help(path)
    subcommands = getattr(command, "commands", None)
    entry: dict[str, Any] = {
        "group": subcommands is not None,
        # What the group's own completion lists for an empty word, in its order and with its
        # help: for any other word, typer lists these filtered by prefix.
        "subcommands": [[i.value, i.help] for i in command.shell_complete(ctx, "")]
        if subcommands is not None
        else [],
        "params": [_param(p, ctx) for p in command.get_params(ctx)],
    }
    commands[key] = entry
    for name in sorted(subcommands or ()):
        sub = command.get_command(ctx, name)
        sub_ctx = sub.make_context(name, [], parent=ctx, resilient_parsing=True)
        _walk(sub, sub_ctx, (*path, name), commands, help)


def _param(param: Any, ctx: Any) -> dict[str, Any]:
    option = param.param_type_name == "option"
    return {
        "name": param.name,
        "option": option,
        "opts": list(param.opts) if option else [],
        "secondary_opts": list(param.secondary_opts) if option else [],
        "flag": bool(option and (param.is_flag or param.count)),
        "nargs": param.nargs,
        "multiple": bool(param.multiple),
        "hidden": bool(getattr(param, "hidden", False)),
        "callback": param.callback is not None,
        "help": getattr(param, "help", None),
        "values": _values(param, ctx),
    }


def _values(param: Any, ctx: Any) -> str | None:
    """What completes this parameter's value (see the module docstring)."""
    custom = getattr(param, "_custom_shell_complete", None)
    if custom is None:
        probe = param.type.shell_complete(ctx, param, "zz")
        if probe == []:
            return "none"
        if len(probe) == 1 and probe[0].value == "zz" and probe[0].help is None:
            return "echo"
        return None
    # typer wraps `autocompletion=f` twice: compat_autocompletion(autocompletion=wrapper(f)).
    cells = dict(zip(custom.__code__.co_freevars, custom.__closure__ or (), strict=False))
    wrapper = cells["autocompletion"].cell_contents if "autocompletion" in cells else None
    function = getattr(wrapper, "__wrapped__", None)
    if function is None or function.__module__ != LIGHT_COMPLETERS:
        return None
    return f"{function.__module__}:{function.__qualname__}"


def _help(path: tuple[str, ...]) -> str:
    """`claude-max PATH --help` as the app prints it on an 80-column terminal (not through
    typer's CliRunner: it forces its own width)."""
    import contextlib
    import io
    import os

    from claude_max.commands.root import app

    out = io.StringIO()
    columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(HELP_COLUMNS)
    try:
        with contextlib.redirect_stdout(out):
            code = app([*path, "--help"], prog_name=PROG, standalone_mode=False)
    finally:
        if columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = columns
    if code not in (0, None):
        raise RuntimeError(f"`{PROG} {' '.join(path)} --help` failed ({code})")
    return out.getvalue()


def stale() -> bool:
    """True when the committed snapshot differs from a fresh one."""
    return not PATH.exists() or PATH.read_text() != render()


def write() -> bool:
    """Write the snapshot; True if it changed."""
    text = render()
    if PATH.exists() and PATH.read_text() == text:
        return False
    PATH.write_text(text)
    return True
