"""TAB completion without typer: the completion scripts' protocol, answered from the snapshot.

Each TAB runs `claude-max` with `_CLAUDE_MAX_COMPLETE=complete_<shell>` (see `completions/`);
through typer that costs its import (~60 ms) plus building the command. This module gives the
same answer from `app_snapshot.json` for the TABs people press: a command or subcommand name,
an option name, a value of an option or argument whose completer lives in
`claude_max.completions`. It follows click's `_resolve_context` / `_resolve_incomplete` for the
words it understands and returns None (typer answers) for anything else: an unknown word, `--`,
`-abc` clusters, `--opt=value`, an option with a callback (`--version`), powershell.
`tests/test_fastpath.py` checks both answer alike, shell by shell, over every command's words.
"""

from __future__ import annotations

import re
import sys

TYPE_CHECKING = False  # typing costs ~4 ms of a 70 ms budget; mypy reads this as True
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

Item = tuple[str, "str | None"]  # a candidate and its help


def answer(environ: Mapping[str, str], snapshot: dict[str, Any]) -> int | None:
    """Print the candidates for the shell named in `_CLAUDE_MAX_COMPLETE`; the exit code,
    or None when typer must answer."""
    instruction, _, shell = environ.get("_CLAUDE_MAX_COMPLETE", "").partition("_")
    if instruction != "complete" or shell not in ("bash", "zsh", "fish"):
        return None
    words = _bash_words(environ) if shell == "bash" else _typed_words(environ)
    if words is None:
        return None
    items = candidates(snapshot["commands"], *words)
    if items is None:
        return None
    if shell == "fish":
        lines = [f"{v}\t{_one_line(h)}" if h else v for v, h in items]
        if environ.get("_TYPER_COMPLETE_FISH_ACTION") == "is-args":
            return 0 if lines else 1  # fish asks "any candidates?" first, without output
        print("\n".join(lines))
    elif shell == "zsh":
        lines = [f'"{_zsh(v)}":"{_zsh(h)}"' if h else f'"{_zsh(v)}"' for v, h in items]
        print(f"_arguments '*: :(({chr(10).join(lines)}))'" if lines else "_files")
    else:
        print("\n".join(v for v, _ in items))
    return 0


def _bash_words(environ: Mapping[str, str]) -> tuple[list[str], str] | None:
    try:
        words = split(environ["COMP_WORDS"])
        index = int(environ["COMP_CWORD"])
    except (KeyError, ValueError):
        return None
    return words[1:index], words[index] if index < len(words) else ""


def _typed_words(environ: Mapping[str, str]) -> tuple[list[str], str]:
    """zsh and fish send the line up to the cursor: the last word is incomplete unless the line
    ends with a space."""
    line = environ.get("_TYPER_COMPLETE_ARGS", "")
    args = split(line)[1:]
    if args and not line.endswith(" "):
        return args[:-1], args[-1]
    return args, ""


def split(line: str) -> list[str]:
    """Shell words as click splits them: shlex, keeping a word with an open quote."""
    import shlex

    lexer = shlex.shlex(line, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    words: list[str] = []
    try:
        words.extend(lexer)
    except ValueError:
        words.append(lexer.token)
    return words


def _one_line(text: str) -> str:
    return re.sub(r"\s", " ", text)


def _zsh(text: str) -> str:
    return (
        text.replace('"', '""')
        .replace("'", "''")
        .replace("$", "\\$")
        .replace("`", "\\`")
        .replace(":", r"\\:")
    )


def candidates(commands: dict[str, Any], args: list[str], incomplete: str) -> list[Item] | None:
    """What click would complete for `claude-max ARGS INCOMPLETE`, or None if unsure."""
    path: list[str] = []
    node = commands[""]
    used: set[str] = set()
    positional = 0
    pending = None  # an option still waiting for its value
    for word in args:
        if pending is not None:
            if word.startswith("-"):
                return None  # click would take it as the value: leave that to click
            pending = None
            continue
        if word.startswith("-") and word != "-":
            param = _option(node, word)
            if param is None or param["callback"]:
                return None
            used.add(param["name"])
            if not param["flag"]:
                if param["nargs"] != 1:
                    return None
                pending = param
            continue
        if node["group"]:
            key = " ".join([*path, word])
            if key not in commands:
                return None
            path.append(word)
            node, used, positional = commands[key], set(), 0
        else:
            positional += 1
    if incomplete == "=":
        incomplete = ""
    elif "=" in incomplete and incomplete.startswith("-"):
        return None
    if incomplete.startswith("-"):
        if pending is not None:
            return None  # click drops the valueless option: not worth copying
        return _options(node, used, incomplete)
    if pending is not None:
        return _values(pending, incomplete)
    fits, argument = _open_argument(node, positional)
    if not fits:
        return None
    if argument is not None:
        return _values(argument, incomplete)
    items: list[Item] = [(n, h) for n, h in node["subcommands"] if n.startswith(incomplete)]
    if incomplete and not incomplete[0].isalnum():
        items.extend(_options(node, used, incomplete))
    return items


def _option(node: dict[str, Any], word: str) -> dict[str, Any] | None:
    params: list[dict[str, Any]] = node["params"]
    for param in params:
        if param["option"] and word in (*param["opts"], *param["secondary_opts"]):
            return param
    return None


def _options(node: dict[str, Any], used: set[str], incomplete: str) -> list[Item]:
    """click's Command.shell_complete: option names not given yet (unless repeatable)."""
    return [
        (name, param["help"])
        for param in node["params"]
        if param["option"] and not param["hidden"]
        if param["multiple"] or param["name"] not in used
        for name in (*param["opts"], *param["secondary_opts"])
        if name.startswith(incomplete)
    ]


def _open_argument(node: dict[str, Any], given: int) -> tuple[bool, dict[str, Any] | None]:
    """The first argument still taking values after `given` positional words (None: all are
    filled), and whether the words fit the cases handled here (nargs 1, or -1 last)."""
    arguments: list[dict[str, Any]] = [p for p in node["params"] if not p["option"]]
    for i, param in enumerate(arguments):
        if param["nargs"] == -1:
            return i == len(arguments) - 1, param
        if param["nargs"] != 1:
            return False, None
        if given == 0:
            return True, param
        given -= 1
    return given == 0, None


def _values(param: dict[str, Any], incomplete: str) -> list[Item] | None:
    kind = param["values"]
    if kind == "none":
        return []
    if kind == "echo":
        return [(incomplete, None)]
    if not kind:
        return None
    module, _, name = kind.partition(":")
    __import__(module)
    found = getattr(sys.modules[module], name)(incomplete)
    items = [(c, None) if isinstance(c, str) else (c[0], c[1]) for c in found]
    return [(v, h) for v, h in items if v.startswith(incomplete)]
