"""Server tests against the fake `claude` executable (depth 2): fast, and they see argv/stdin."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_claude_log import FAKE_CLAUDE
from fake_cli import FakeCLI
from starlette.testclient import TestClient

from claude_max.core.settings import Settings
from claude_max.server.app import create_app


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
