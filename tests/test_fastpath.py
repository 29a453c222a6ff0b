"""The fast paths (`fastpath.py`, `fastcomplete.py`) answer exactly as the Typer app does.

Each answer is produced twice in this process, by `cli.main()` and by `cli.main(fast=False)`
(the app itself), and compared byte for byte with its exit code: every stored help text, the
plain `models` forms, and TAB completion in bash, zsh and fish over words generated from every
command, option and argument the app has. The snapshot they answer from must be current.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys

import pytest
import typer

from claude_max import cli, fastcomplete, fastpath, snapshot
from claude_max.commands import root


def run(capsys, monkeypatch, argv: list[str], env: dict[str, str], fast: bool) -> tuple:
    """(exit code, stdout, stderr) of `claude-max ARGV` through one path."""
    for name in list(os.environ):
        if name.startswith(("_CLAUDE_MAX", "_TYPER", "COMP_")):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "argv", ["claude-max", *argv])
    capsys.readouterr()
    try:
        cli.main(fast=fast)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out, err = capsys.readouterr()
    return code, out, err


def both(capsys, monkeypatch, argv: list[str], env: dict[str, str] | None = None):
    env = env or {}
    return run(capsys, monkeypatch, argv, env, True), run(capsys, monkeypatch, argv, env, False)


def test_snapshot_is_current():
    assert not snapshot.stale(), (
        "src/claude_max/app_snapshot.json is out of date: run `python -m claude_max.completions`"
    )


# --- help ----------------------------------------------------------------------------------

HELP_PATHS = sorted(fastpath.snapshot()["help"])


@pytest.mark.parametrize("path", HELP_PATHS, ids=lambda p: p or "root")
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_is_the_apps(capsys, monkeypatch, path, flag):
    argv = [*path.split(), flag]
    fast, full = both(capsys, monkeypatch, argv, {"COLUMNS": "120"})
    assert fast == full
    assert fast[0] == 0 and fast[1].startswith(f"Usage: claude-max {path}".rstrip())
    assert fastpath.answer(argv, {"COLUMNS": "120"}) == 0  # it was the fast path's answer


def test_no_arguments_is_the_root_help_and_exit_2(capsys, monkeypatch):
    fast, full = both(capsys, monkeypatch, [], {"COLUMNS": "100"})
    assert fast == full
    assert fast[0] == 2 and fast[1] == fastpath.snapshot()["help"][""]
    assert fastpath.answer([], {"COLUMNS": "100"}) == 2


@pytest.mark.parametrize("columns", ["60", "79"])
def test_a_narrow_terminal_gets_typers_help_at_its_width(capsys, monkeypatch, columns):
    assert fastpath.answer(["chat", "--help"], {"COLUMNS": columns}) is None
    fast, full = both(capsys, monkeypatch, ["chat", "--help"], {"COLUMNS": columns})
    assert fast == full
    assert max(len(line) for line in fast[1].splitlines()) <= int(columns) - 2


@pytest.mark.parametrize("columns", [None, "", "0", "abc", "40", "79", "80", "200"])
def test_help_width_is_clicks(monkeypatch, columns):
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    click_width = max(min(shutil.get_terminal_size().columns, 80) - 2, 50)
    assert fastpath.help_width(os.environ) == click_width


def test_help_only_for_exact_command_paths():
    env = {"COLUMNS": "100"}
    for argv in (["chat", "-q", "--help"], ["nope", "--help"], ["--debug", "--help"]):
        assert fastpath.answer(argv, env) is None
    assert fastpath.answer(["chat", "--help"], env | {"CLAUDE_MAX_DEBUG": "maybe"}) is None


# --- models --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv", [["models"], ["models", "-q"], ["models", "--quiet"], ["models", "--json"]]
)
def test_models_is_the_apps(capsys, monkeypatch, argv):
    fast, full = both(capsys, monkeypatch, argv)
    assert fast == full
    assert fast[0] == 0 and fast[1]
    assert fastpath.answer(argv, {}) == 0


@pytest.mark.parametrize(
    "argv", [["models", "-q", "--json"], ["models", "--wide"], ["models", "x"]]
)
def test_other_models_forms_go_to_typer(capsys, monkeypatch, argv):
    assert fastpath.answer(argv, {}) is None
    fast, full = both(capsys, monkeypatch, argv)
    assert fast == full and fast[0] == 2


def test_version_is_the_apps(capsys, monkeypatch):
    for flag in ("--version", "-V"):
        fast, full = both(capsys, monkeypatch, [flag])
        assert fast == full and fast[1].startswith("claude-max ")


# --- TAB completion ------------------------------------------------------------------------


def typed_lines() -> list[str]:
    """Lines a user might TAB on: built from every command, option and argument of the app."""
    commands = fastpath.snapshot()["commands"]
    lines = []
    for key, node in commands.items():
        base = " ".join(["claude-max", *key.split()])
        lines += [f"{base} ", f"{base} -", f"{base} --", f"{base} x"]
        for name, _ in node["subcommands"]:
            lines += [f"{base} {name[:1]}", f"{base} {name}"]
        for param in node["params"]:
            if not param["option"]:
                lines += [f"{base} word ", f"{base} word -", f"{base} s"]
                continue
            names = (*param["opts"], *param["secondary_opts"])
            first, last = names[0], names[-1]
            lines += [f"{base} {first[:3]}", f"{base} {last}", f"{base} {last} "]
            if param["flag"]:
                lines += [f"{base} {first} -"]
            else:
                lines += [f"{base} {first} o", f"{base} {first} x -", f"{base} {first} x "]
    return list(dict.fromkeys(lines))


UNUSUAL = [
    "claude-max -- ",
    "claude-max chat -- x",
    "claude-max chat -qu ",
    "claude-max chat --model=o",
    "claude-max chat --model=",
    "claude-max chat --nope ",
    "claude-max chat -m -q ",
    "claude-max chat -m -",
    "claude-max --version ",
    "claude-max --help ",
    "claude-max nope ",
    "claude-max chat a b ",
    "claude-max stats --since ",
]


def shell_env(shell: str, line: str, action: str = "get-args") -> dict[str, str]:
    env = {"_CLAUDE_MAX_COMPLETE": f"complete_{shell}", "COLUMNS": "100"}
    if shell == "bash":
        return env | {"COMP_WORDS": line, "COMP_CWORD": str(len(line.split(" ")) - 1)}
    env["_TYPER_COMPLETE_ARGS"] = line
    if shell == "fish":
        env["_TYPER_COMPLETE_FISH_ACTION"] = action
    return env


@pytest.fixture
def saved_sessions(claude_max_home):
    """Two saved chats, so session ids complete to something."""
    from claude_max.sessions.store import SessionStore

    claude_max_home.mkdir(parents=True, exist_ok=True)
    store = SessionStore.default()
    store.create(id="s1-first", model="opus", title="The first: chat", source="chat")
    store.create(id="s2-second", model=None, title='Say "$hi"', source="chat")
    store.close()


SHELLS = [("bash", ""), ("zsh", ""), ("fish", "get-args"), ("fish", "is-args")]


@pytest.mark.parametrize(("shell", "action"), SHELLS, ids=["bash", "zsh", "fish", "fish-is-args"])
def test_tab_is_the_apps(capsys, monkeypatch, saved_sessions, shell, action):
    # The app builds itself and each command on every run: once is enough here.
    monkeypatch.setattr(root, "build", functools.cache(root.build))
    get_command, built = typer.main.get_command, typer.main.get_command(root.app)
    monkeypatch.setattr(
        typer.main, "get_command", lambda app: built if app is root.app else get_command(app)
    )
    lines = typed_lines() + UNUSUAL
    answered = 0
    for line in lines:
        env = shell_env(shell, line, action)
        fast, full = both(capsys, monkeypatch, [], env)
        assert fast == full, f"{shell} {action}: {line!r}"
        answered += fastcomplete.answer(env, fastpath.snapshot()) is not None
    # Most TABs are the fast path's (the rest: --version, stats' own completers, the unusual).
    assert answered > 0.8 * len(lines)


@pytest.mark.parametrize(
    "line",
    [
        "claude-max mo",
        "claude-max chat --model ",
        "claude-max chat -",
        "claude-max chat -q -",
        "claude-max sessions ",
        "claude-max sessions show ",
        "claude-max sessions delete s1 s",
        "claude-max serve --port 8080 --",
        'claude-max chat -m "o',
        "claude-max sessions delete a b ",
        "claude-max serve --port 1 --port ",
    ],
)
def test_everyday_tabs_are_answered_fast(saved_sessions, line):
    for shell, action in SHELLS:
        assert fastcomplete.answer(shell_env(shell, line, action), fastpath.snapshot()) is not None


@pytest.mark.parametrize("line", UNUSUAL)
def test_unusual_tabs_go_to_typer(line):
    assert fastcomplete.answer(shell_env("bash", line), fastpath.snapshot()) is None


def test_session_ids_complete_with_their_titles(capsys, monkeypatch, saved_sessions):
    fast, _ = both(capsys, monkeypatch, [], shell_env("fish", "claude-max sessions show s"))
    assert fast[1].splitlines() == ['s2-second\tSay "$hi"', "s1-first\tThe first: chat"]


def test_other_instructions_go_to_typer():
    assert fastcomplete.answer({"_CLAUDE_MAX_COMPLETE": "source_bash"}, {}) is None
    assert fastcomplete.answer({"_CLAUDE_MAX_COMPLETE": "complete_powershell"}, {}) is None
    assert fastcomplete.answer({"_CLAUDE_MAX_COMPLETE": "complete_bash"}, {}) is None  # no words


def test_split_keeps_an_open_quote():
    assert fastcomplete.split('claude-max chat "hel') == ["claude-max", "chat", "hel"]


def test_plain_help_keeps_the_panels_as_sections():
    """Help is click's plain help (no rich: its import alone was ~50 ms), with the options
    still grouped under their panels, and `-h, --help` in that order every run."""
    text = fastpath.snapshot()["help"]["chat"]
    headings = [line for line in text.splitlines() if line and not line.startswith(" ")]
    assert headings[1:] == [
        "Arguments:",
        "Model:",
        "Output:",
        "Session:",
        "Claude CLI:",
        "Options:",
    ]
    assert "  -h, --help " in text and "\x1b[" not in text
    assert all(len(line) <= 78 for line in text.splitlines())
