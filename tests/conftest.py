"""Shared fixtures: an isolated data dir for every test, and the three depths of CLI.

* depth 1, recorded output: `tests/data/transcripts/` (copied from the real CLI's captures);
* depth 2, `tests/fakes/claude`: a fake executable, scripted by FAKE_CLAUDE_* variables (run as
  `tests/fakes/bin/claude`, which starts it from cached bytecode);
* depth 3, the real pinned CLI (`CLAUDE_MAX_TEST_CLAUDE`, installed by .ci/run) against
  `tests/fakes/upstream.py`, a fake Anthropic API on loopback. These tests are marked `e2e`
  and run when CLAUDE_MAX_E2E=1; then a missing CLI or a skipped e2e test fails the run.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
FAKES = TESTS / "fakes"
FAKE_CLAUDE = FAKES / "bin" / "claude"  # tests/fakes/claude, from cached bytecode
E2E = os.environ.get("CLAUDE_MAX_E2E") == "1"

sys.path.insert(0, str(FAKES))

# The fake `claude` (`#!/usr/bin/env python3`) runs on the interpreter of the tests, found first
# on PATH: not a version manager's shim (pyenv's costs ~0.1 s of CPU per start, and the fast
# suite starts thousands of fakes) nor whatever other Python the PATH has.
os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])

from real_cli import REAL_CLAUDE  # noqa: E402
from serve_process import Server  # noqa: E402


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if E2E:
        if not REAL_CLAUDE.exists():
            raise pytest.UsageError(
                f"CLAUDE_MAX_E2E=1 but the pinned CLI is missing at {REAL_CLAUDE} "
                "(run .ci/run or set CLAUDE_MAX_TEST_CLAUDE)"
            )
        return
    skip = pytest.mark.skip(reason="end-to-end test: set CLAUDE_MAX_E2E=1 (see README)")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


_e2e_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if E2E and report.skipped and "e2e" in report.keywords:
        _e2e_skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if E2E and _e2e_skipped:
        print(f"\nERROR: {len(_e2e_skipped)} end-to-end test(s) were skipped with CLAUDE_MAX_E2E=1")
        session.exitstatus = 1


@pytest.fixture(autouse=True)
def claude_max_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "claude-max-home"
    monkeypatch.setenv("CLAUDE_MAX_HOME", str(home))
    # The CLI's own files (session transcripts) stay in the test's directory too.
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude-config"))
    for name in ("CLAUDE_MAX_CLAUDE_PATH", "CLAUDE_MAX_CWD", "CLAUDE_MAX_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture(scope="module")
def upstream() -> Iterator[object]:
    from upstream import FakeUpstream

    with FakeUpstream() as fake:
        yield fake


@pytest.fixture(scope="module", params=["0", "2"], ids=["cold", "warm"])
def real_server(
    upstream, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Server]:
    """The real pinned CLI behind `claude-max serve`, talking to the fake upstream; every
    end-to-end test runs without and with warm CLI processes."""
    from upstream import cli_env

    root = tmp_path_factory.mktemp("real")
    env = cli_env(upstream.url, root / "home")
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    env["CLAUDE_MAX_HOME"] = str(root / "claude-max-home")
    env["CLAUDE_MAX_CLAUDE_PATH"] = str(REAL_CLAUDE)
    server = Server(env, "--warm", request.param)
    yield server
    server.stop()


@pytest.fixture
def fake_upstream(upstream):
    """The module's fake upstream, with a default echo script and an empty request log."""
    upstream.set_script({"default": {"type": "echo", "prefix": "ECHO:"}})
    upstream.clear()
    return upstream


@pytest.fixture(autouse=True)
def static_catalog() -> Iterator[None]:
    """Every test starts from the static model catalog (a server in-process may adopt the
    CLI's own list)."""
    from claude_max.core import catalog

    catalog.adopt([])
    yield
    catalog.adopt([])
