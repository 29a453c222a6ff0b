"""`claude-max models`: table, `-q` and `--json`; the built-in catalog without a CLI (these
first tests), the CLI's own list kept per version with one (tests/commands/test_models_cli.py)."""

from __future__ import annotations

import json
import re

import pytest

from claude_max.core import catalog
from claude_max.terminal import model_list as models_command

TABLE = """\
ID                   ALIAS     CONTEXT    MAX OUTPUT    DEFAULT
claude-fable-5-2     fable     1000000    128000
claude-haiku-5-5     haiku     1000000    128000
claude-opus-5-5      opus      1000000    128000        yes
claude-sonnet-5-5    sonnet    1000000    128000
"""


@pytest.fixture(autouse=True)
def no_cli(monkeypatch, tmp_path):
    """No `claude` on PATH (whatever the machine has): the built-in catalog."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))


def by_alias_then_id() -> list[catalog.Model]:
    return sorted(catalog.MODELS, key=lambda m: (m.alias, m.id))


def test_table_goes_to_stdout_alone(invoke):
    result = invoke("models")
    assert result.exit_code == 0
    assert result.stdout == TABLE
    assert result.stderr == ""  # CliRunner's streams are not terminals: no source note


def test_table_shape_follows_the_catalog(invoke):
    lines = invoke("models").stdout.splitlines()
    assert re.split(r" {4,}", lines[0]) == ["ID", "ALIAS", "CONTEXT", "MAX OUTPUT", "DEFAULT"]
    assert all(line == line.rstrip() for line in lines)
    rows = [re.split(r" {4,}", line) for line in lines[1:]]
    assert [r[0] for r in rows] == [m.id for m in by_alias_then_id()]
    for row, model in zip(rows, by_alias_then_id(), strict=True):
        assert row[1:4] == [model.alias, str(model.context_window), str(model.max_output_tokens)]
    defaults = [r[0] for r in rows if r[-1] == "yes"]
    assert defaults == [catalog.default_model().id]


def test_columns_line_up(invoke):
    lines = invoke("models").stdout.splitlines()
    starts = [m.start() for m in re.finditer(r"\S+(?: \S+)*", lines[0])]
    for line in lines[1:]:
        for start in starts[1:4]:
            assert line[start - 1] == " " and line[start] != " "


def test_quiet_prints_only_ids(invoke):
    result = invoke("models", "-q")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [m.id for m in by_alias_then_id()]
    assert result.stderr == ""
    assert invoke("models", "--quiet").stdout == result.stdout


def test_json_is_a_stable_array(invoke):
    result = invoke("models", "--json")
    assert result.exit_code == 0
    assert result.stderr == ""
    document = json.loads(result.stdout)
    assert isinstance(document, list)
    assert [m["id"] for m in document] == [m.id for m in by_alias_then_id()]
    for item, model in zip(document, by_alias_then_id(), strict=True):
        assert list(item) == [
            "id",
            "alias",
            "display_name",
            "context_window",
            "max_output_tokens",
            "default",
        ]
        assert item == {
            "id": model.id,
            "alias": model.alias,
            "display_name": model.display_name,
            "context_window": model.context_window,
            "max_output_tokens": model.max_output_tokens,
            "default": model.alias == catalog.DEFAULT_ALIAS,
        }
    assert [m["alias"] for m in document if m["default"]] == [catalog.DEFAULT_ALIAS]


def test_json_and_quiet_together_is_a_usage_error(invoke):
    result = invoke("models", "--json", "-q")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "cannot be combined with --json" in result.stderr


def test_unknown_option_is_a_usage_error(invoke):
    result = invoke("models", "--wide")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "No such option" in result.stderr


def test_on_a_terminal_stderr_says_where_the_data_came_from(invoke, monkeypatch):
    monkeypatch.setattr(models_command, "_interactive", lambda: True)
    result = invoke("models")
    assert result.exit_code == 0
    assert result.stdout == TABLE
    assert result.stderr.startswith("from claude-max's built-in catalog for Claude Code 2.1.x (")
    assert result.stderr.endswith("(the Claude Code CLI (`claude`) is not on PATH)\n")  # why


@pytest.mark.parametrize("flag", ["-q", "--json"])
def test_machine_output_never_has_the_note(invoke, monkeypatch, flag):
    monkeypatch.setattr(models_command, "_interactive", lambda: True)
    result = invoke("models", flag)
    assert result.exit_code == 0
    assert result.stderr == ""


def test_source_note_follows_the_supported_cli_range():
    (major, minor, _), _ = catalog.CLI_VERSION_RANGE
    assert models_command.source_note().endswith(f"Claude Code {major}.{minor}.x")


def test_help_documents_every_option(invoke):
    result = invoke("models", "--help")
    assert result.exit_code == 0
    for text in ("--json", "-q", "--quiet", "List the models claude-max accepts."):
        assert text in result.stdout
    assert result.stderr == ""
