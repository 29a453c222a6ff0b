"""Server tests against the fake `claude` executable (depth 2): fast, and they see argv/stdin."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_claude_log import FAKE_CLAUDE, read_log
from starlette.testclient import TestClient

from claude_max.core.settings import Settings
from claude_max.server.app import create_app


class FakeCLI:
    """Scripts the fake CLI through FAKE_CLAUDE_* variables and reads what it was sent."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, log: Path) -> None:
        self._monkeypatch = monkeypatch
        self.log = log
        monkeypatch.setenv("FAKE_CLAUDE_LOG", str(log))

    def use(self, scenario: str = "echo", **env: Any) -> FakeCLI:
        self._monkeypatch.setenv("FAKE_CLAUDE_SCENARIO", scenario)
        for key, value in env.items():
            self._monkeypatch.setenv(f"FAKE_CLAUDE_{key.upper()}", str(value))
        return self

    def calls(self) -> list[dict[str, Any]]:
        """The model runs that served a request: not the server's `claude --version` at
        start-up, nor warm processes still waiting for one."""
        return [c for c in read_log(self.log) if "-p" in c["argv"] and c["stdin"]]

    def call(self) -> dict[str, Any]:
        [call] = self.calls()
        return call


@pytest.fixture
def fake_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeCLI:
    return FakeCLI(monkeypatch, tmp_path / "fake-claude.log").use("echo")


@pytest.fixture(params=[0, 2], ids=["cold", "warm"])
def settings(request: pytest.FixtureRequest, claude_max_home: Path) -> Settings:
    """Every server test runs with the warm pool off and on: it must not change behaviour."""
    return Settings(home=claude_max_home, claude_path=str(FAKE_CLAUDE), warm=request.param)


@pytest.fixture
def client(settings: Settings, fake_cli: FakeCLI) -> Iterator[TestClient]:
    with TestClient(
        create_app(settings), base_url="http://127.0.0.1:8080", raise_server_exceptions=False
    ) as test_client:
        yield test_client
