"""Shell completion: `completions/` is current, the scripts work in real shells, completers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import pytest
import typer
from typer.testing import CliRunner

from claude_max import completions
from claude_max.core import catalog

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "completions"
BIN = Path(sys.executable).parent
SCRIPT = BIN / "claude-max"
needs_script = pytest.mark.skipif(not SCRIPT.exists(), reason=f"no console script at {SCRIPT}")


def shell_env(**extra: str) -> dict[str, str]:
    """The test's environment with our `claude-max` first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("_CLAUDE_MAX")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env | extra


@pytest.mark.parametrize("shell", sorted(completions.FILES))
def test_committed_script_is_current(shell):
    path = COMMITTED / completions.FILES[shell]
    fresh = completions.script(shell)
    committed = path.read_text() if path.exists() else None
    assert committed == fresh, (
        f"{path.relative_to(ROOT)} is out of date: run `python -m claude_max.completions`"
    )


def test_default_directory_is_the_repository_one():
    assert completions.default_dir() == COMMITTED


@pytest.mark.parametrize("shell", sorted(completions.FILES))
def test_scripts_complete_claude_max(shell):
    text = completions.script(shell)
    assert "_CLAUDE_MAX_COMPLETE=complete_" in text
    assert "claude-max" in text
    assert text.endswith("\n") and not text.endswith("\n\n")


def test_zsh_script_is_autoloadable():
    lines = completions.script("zsh").splitlines()
    assert lines[0] == "#compdef claude-max"  # compinit reads only the first line
    assert any("loadautofunc" in line for line in lines)


def test_unknown_shell_is_refused():
    with pytest.raises(ValueError, match="unsupported shell 'tcsh'"):
        completions.script("tcsh")


def test_module_check_and_write(tmp_path, capsys):
    assert completions.main([str(tmp_path), "--check"]) == 1
    err = capsys.readouterr().err
    assert err.count("stale: ") == 3
    assert "run `python -m claude_max.completions`" in err

    assert completions.main([str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(completions.FILES.values())
    assert capsys.readouterr().err.count("wrote ") == 3

    assert completions.main([str(tmp_path), "--check"]) == 0
    assert completions.main([str(tmp_path)]) == 0  # nothing changed, nothing written
    assert capsys.readouterr().err == ""


def test_module_runs_with_python_dash_m(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "claude_max.completions", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    for shell, name in completions.FILES.items():
        assert (tmp_path / name).read_text() == completions.script(shell)


# --- completion queries: what a TAB press runs ---------------------------------------------


@needs_script
def test_completion_query_offers_commands():
    result = subprocess.run(
        [str(SCRIPT)],
        env=shell_env(
            _CLAUDE_MAX_COMPLETE="complete_bash", COMP_WORDS="claude-max mo", COMP_CWORD="1"
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["models"]


@needs_script
def test_completion_query_offers_options():
    result = subprocess.run(
        [str(SCRIPT)],
        env=shell_env(
            _CLAUDE_MAX_COMPLETE="complete_bash",
            COMP_WORDS="claude-max models --",
            COMP_CWORD="2",
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert {"--json", "--quiet", "--help"} <= set(result.stdout.split())


@needs_script
def test_chat_model_values_complete_from_the_catalog():
    result = subprocess.run(
        [str(SCRIPT)],
        env=shell_env(
            _CLAUDE_MAX_COMPLETE="complete_bash",
            COMP_WORDS="claude-max chat --model so",
            COMP_CWORD="3",
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "sonnet" in result.stdout.split()


@needs_script
def test_bash_script_completes_in_bash():
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    program = (
        f"source {COMMITTED / 'claude-max.bash'}\n"
        "COMP_WORDS=(claude-max mo); COMP_CWORD=1\n"
        "_claude_max_completion claude-max\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    result = subprocess.run(
        [bash, "--norc", "--noprofile", "-c", program],
        env=shell_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "models\n"


@needs_script
def test_fish_script_completes_in_fish(tmp_path):
    fish = shutil.which("fish")
    if fish is None:
        pytest.skip("fish is not installed")
    program = f"source {COMMITTED / 'claude-max.fish'}; complete -C 'claude-max mo'"
    result = subprocess.run(
        [fish, "--no-config", "-c", program],
        env=shell_env(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("models\t")


@needs_script
def test_zsh_script_completes_on_the_first_tab_when_autoloaded(tmp_path):
    """compinit autoloads `_claude-max` from $fpath; the very first TAB must complete."""
    zsh = shutil.which("zsh")
    if zsh is None:
        pytest.skip("zsh is not installed")
    pexpect = pytest.importorskip("pexpect")
    (tmp_path / ".zshrc").write_text(
        f"fpath=({COMMITTED} $fpath)\n"
        f"autoload -U compinit; compinit -u -d {tmp_path}/.zcompdump\n"
        "PS1='READY> '\n"
    )
    child = pexpect.spawn(
        zsh,
        ["-i"],
        env=shell_env(HOME=str(tmp_path), ZDOTDIR=str(tmp_path), TERM="dumb"),
        encoding="utf-8",
        timeout=20,
        dimensions=(24, 200),
    )
    try:
        child.expect_exact("READY> ")
        child.send("claude-max mo\t")
        child.expect_exact("claude-max models ")
    finally:
        child.close(force=True)


# --- value completers -----------------------------------------------------------------------


def test_complete_model_offers_aliases_then_ids():
    aliases = sorted(m.alias for m in catalog.MODELS)
    ids = sorted(m.id for m in catalog.MODELS)
    assert completions.complete_model("") == aliases + ids


@pytest.mark.parametrize(
    ("incomplete", "expected"),
    [
        ("so", ["sonnet"]),
        ("OP", ["opus"]),
        ("claude-h", ["claude-haiku-5-5"]),
        ("gpt", []),
    ],
)
def test_complete_model_filters_by_prefix(incomplete, expected):
    assert completions.complete_model(incomplete) == expected


def test_complete_model_works_as_a_typer_autocompletion():
    """What `chat -m/--model` gets once it passes `autocompletion=complete_model`."""
    app = typer.Typer()

    @app.command()
    def chat(
        model: Annotated[
            str | None,
            typer.Option("-m", "--model", autocompletion=completions.complete_model),
        ] = None,
    ) -> None:
        pass  # pragma: no cover

    result = CliRunner().invoke(
        app,
        [],
        prog_name="cm-test",
        env={"_CM_TEST_COMPLETE": "complete_bash", "COMP_WORDS": "cm-test -m s", "COMP_CWORD": "2"},
    )
    assert result.exit_code == 0
    assert result.stdout.split() == ["sonnet"]
