"""Command tests: CliRunner on the app, the fake `claude` executable as the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fake_claude_log import FAKE_CLAUDE, read_log
from typer.testing import CliRunner

from claude_max.cli import app


class FakeCLI:
    def __init__(self, monkeypatch: pytest.MonkeyPatch, log: Path) -> None:
        self._monkeypatch = monkeypatch
        self.log = log
        monkeypatch.setenv("FAKE_CLAUDE_LOG", str(log))
        monkeypatch.setenv("CLAUDE_MAX_CLAUDE_PATH", str(FAKE_CLAUDE))

    def use(self, scenario: str = "echo", **env: Any) -> FakeCLI:
        self._monkeypatch.setenv("FAKE_CLAUDE_SCENARIO", scenario)
        for key, value in env.items():
            self._monkeypatch.setenv(f"FAKE_CLAUDE_{key.upper()}", str(value))
        return self

    def runs(self) -> list[dict[str, Any]]:
        return [c for c in read_log(self.log) if "-p" in c["argv"]]


@pytest.fixture
def fake_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeCLI:
    return FakeCLI(monkeypatch, tmp_path / "fake-claude.log").use("echo")


@pytest.fixture
def invoke():
    runner = CliRunner()

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None):
        return runner.invoke(app, list(args), input=input, env=env, catch_exceptions=False)

    return run
