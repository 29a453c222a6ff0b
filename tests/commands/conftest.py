"""Command tests: CliRunner on the app, the fake `claude` executable as the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_claude_log import FAKE_CLAUDE
from fake_cli import FakeCLI
from typer.testing import CliRunner

from claude_max.cli import app


@pytest.fixture
def fake_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeCLI:
    monkeypatch.setenv("CLAUDE_MAX_CLAUDE_PATH", str(FAKE_CLAUDE))
    return FakeCLI(monkeypatch, tmp_path / "fake-claude.log").use("echo")


@pytest.fixture
def invoke():
    runner = CliRunner()

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None):
        return runner.invoke(app, list(args), input=input, env=env, catch_exceptions=False)

    return run
