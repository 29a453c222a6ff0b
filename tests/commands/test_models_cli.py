"""`claude-max models` shows what /v1/models serves: the CLI's own list, read from the CLI once
per CLI version and kept (a warm run starts no process), the built-in catalog as the fallback,
saying which."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from fake_claude_log import FAKE_CLAUDE, FAKE_CLAUDE_SCRIPT, read_log
from starlette.testclient import TestClient

from claude_max.core import catalog
from claude_max.core.settings import Settings
from claude_max.server.app import create_app
from claude_max.terminal import model_list as models_command

NOVA = {
    "value": "nova",
    "resolvedModel": "claude-nova-6-0",
    "displayName": "Nova",
    "supportsEffort": True,
    "supportedEffortLevels": ["low", "high"],
    "supportsAdaptiveThinking": True,
}
OPUS = {**NOVA, "value": "opus", "resolvedModel": "claude-opus-5-5", "displayName": "Opus"}
DEFAULT = {**OPUS, "value": "default"}
TABLE = """\
ID                 ALIAS    CONTEXT    MAX OUTPUT    DEFAULT
claude-nova-6-0    nova     -          -
claude-opus-5-5    opus     1000000    128000        yes
"""


@pytest.fixture(autouse=True)
def static_catalog():
    """`catalog.adopt` is process-wide: every test starts and ends on the static catalog."""
    catalog.adopt([])
    yield
    catalog.adopt([])


@pytest.fixture
def new_models(fake_cli):
    return fake_cli.use("echo", models=json.dumps([DEFAULT, OPUS, NOVA]))


def runs(fake_cli) -> list[dict]:
    """Every process the command started (`--version` included)."""
    return read_log(fake_cli.log)


def test_cold_cache_reads_the_cli_once_then_a_warm_run_starts_nothing(invoke, new_models):
    cold = invoke("models")
    assert cold.exit_code == 0, cold.stderr
    assert cold.stdout == TABLE
    assert len(new_models.model_lists()) == 1
    started = len(runs(new_models))

    for args in ((), ("-q",), ("--json",)):
        assert invoke("models", *args).exit_code == 0
    assert len(runs(new_models)) == started  # warm: no `claude --version`, no initialize
    assert invoke("models", "-q").stdout == "claude-nova-6-0\nclaude-opus-5-5\n"
    document = json.loads(invoke("models", "--json").stdout)
    assert document[0] == {
        "id": "claude-nova-6-0",
        "alias": "nova",
        "display_name": "Nova",
        "context_window": None,  # the CLI does not say, and the catalog does not know it
        "max_output_tokens": None,
        "default": False,
    }


def test_the_note_says_where_the_list_came_from(invoke, new_models, monkeypatch):
    monkeypatch.setattr(models_command, "_interactive", lambda: True)
    version = "2.1.330"
    first = invoke("models")
    assert first.stderr == f"from Claude Code {version}'s own model list (read just now)\n"
    again = invoke("models")
    assert again.stderr == (
        f"from Claude Code {version}'s own model list (kept; --refresh reads it again)\n"
    )


def test_refresh_reads_the_cli_again(invoke, new_models):
    invoke("models")
    new_models.use("echo", models=json.dumps([OPUS]))
    assert invoke("models", "-q").stdout == "claude-nova-6-0\nclaude-opus-5-5\n"  # kept
    assert invoke("models", "-q", "--refresh").stdout == "claude-opus-5-5\n"
    assert len(new_models.model_lists()) == 2
    assert invoke("models", "-q").stdout == "claude-opus-5-5\n"  # the new list is kept


def test_an_updated_cli_is_read_again(invoke, new_models, tmp_path, monkeypatch):
    """A new CLI executable (another size or time) is a new version: no stale list."""
    claude = tmp_path / "bin" / "claude"
    claude.parent.mkdir()
    shutil.copy2(FAKE_CLAUDE_SCRIPT, claude)
    monkeypatch.setenv("CLAUDE_MAX_CLAUDE_PATH", str(claude))
    invoke("models")
    new_models.use("echo", models=json.dumps([OPUS]), version="2.1.400")
    claude.write_text(claude.read_text() + "\n# updated\n")
    assert invoke("models", "-q").stdout == "claude-opus-5-5\n"
    assert len(new_models.model_lists()) == 2


def test_same_list_as_the_server_and_its_cache_is_shared(invoke, new_models, claude_max_home):
    """What the server read is what the command shows, without asking the CLI again."""
    settings = Settings(home=claude_max_home, claude_path=str(FAKE_CLAUDE), warm=0)
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8080") as client:
        served = [m["id"] for m in client.get("/v1/models").json()["data"]]
    assert len(new_models.model_lists()) == 1
    catalog.adopt([])
    shown = json.loads(invoke("models", "--json").stdout)
    assert len(new_models.model_lists()) == 1  # the server's copy was used
    assert {m["id"] for m in shown} == {i for i in served if i.startswith("claude-")}
    assert [m["id"] for m in shown if m["default"]] == ["claude-opus-5-5"]


def test_a_cli_that_cannot_answer_falls_back_to_the_catalog_and_says_why(invoke, fake_cli):
    fake_cli.use("exit_silent")
    result = invoke("models", "-q")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == sorted(
        (m.id for m in catalog.MODELS), key=lambda i: catalog.known(i).alias
    )
    assert result.stderr.startswith("warning: Claude Code 2.1.330 did not list its models")
    assert "built-in catalog" in result.stderr


def test_a_cli_without_a_version_falls_back_too(invoke, fake_cli, tmp_path, monkeypatch):
    broken = tmp_path / "claude"
    broken.write_text("#!/bin/sh\nexit 3\n")
    broken.chmod(0o755)
    monkeypatch.setenv("CLAUDE_MAX_CLAUDE_PATH", str(broken))
    result = invoke("models", "--json")
    assert result.exit_code == 0
    assert [m["id"] for m in json.loads(result.stdout)] == [
        m.id for m in sorted(catalog.MODELS, key=lambda m: (m.alias, m.id))
    ]
    assert "--version` did not answer" in result.stderr


def test_no_cli_installed_is_the_catalog_quietly(invoke, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `claude` anywhere
    result = invoke("models", "-q")
    assert result.exit_code == 0 and result.stderr == ""
    assert len(result.stdout.splitlines()) == len(catalog.MODELS)
    assert not os.path.exists(tmp_path / "claude")


def test_a_warm_run_imports_nothing_heavy(invoke, new_models, claude_max_home):
    """The kept list is read with the start-up budget's imports (tests/test_startup.py): no
    asyncio, no CLI started (not even `claude --version`)."""
    invoke("models")  # cold: read from the CLI and kept
    started = len(runs(new_models))
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "claude_max", "models", "-q"],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout == "claude-nova-6-0\nclaude-opus-5-5\n"
    names = {
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "claude_max.core.model_cache" in names
    assert not names & {"asyncio", "claude_max.core.cli_models", "pydantic"}
    assert len(runs(new_models)) == started
