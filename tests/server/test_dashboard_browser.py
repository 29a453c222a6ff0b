"""The dashboard in a real headless Chromium (Debian's `chromium`), after known traffic.

`claude-max serve` runs as a process with the fake `claude`; Chromium loads `/`, runs the page's
script (which fetches /v1/claude-max/stats) within a virtual-time budget, and dumps the DOM it
drew. A screenshot is kept in $CLAUDE_MAX_TEST_ARTIFACTS (CI) or the test's temp folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from fake_claude_log import FAKE_CLAUDE
from serve_process import Server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and os.environ.get("CLAUDE_MAX_E2E") == "1":
    pytest.fail("chromium is not installed (.ci/run installs Debian's package)", pytrace=False)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")

USAGE = {"input_tokens": 1234, "output_tokens": 56, "cache_read_input_tokens": 7890}
TRAFFIC = [("editor/1", "opus"), ("editor/1", "sonnet"), ("script/2", "opus")]


class Dom(HTMLParser):
    """The rendered figures: data-figure values, gauges, table rows (as lists of cell texts)."""

    def __init__(self) -> None:
        super().__init__()
        self.state: str | None = None
        self.figures: dict[str, str] = {}
        self.gauges: dict[str, str] = {}
        self.tables: dict[str, list[list[str]]] = {}
        self._figure: str | None = None
        self._table: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "body":
            self.state = a.get("data-state")
        if "data-figure" in a:
            self._figure = a["data-figure"]
        if tag == "svg" and (a.get("aria-label") or "").endswith("% used"):
            name, used, _ = a["aria-label"].split(" ")  # type: ignore[union-attr]
            self.gauges[name] = used
        if tag == "table":
            self._table = a.get("id")
            self.tables[self._table or ""] = []
        if tag == "tr" and self._table:
            self.tables[self._table].append([])
        if tag == "td" and self._table:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None and self._table:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        if tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._figure is not None:
            self.figures[self._figure] = data.strip()
            self._figure = None
        if self._cell is not None:
            self._cell.append(data)


def chromium(url: str, profile: Path, *args: str) -> str:
    """Load `url` headless, give its scripts 5 s of virtual time (fetches complete within it)."""
    assert CHROMIUM is not None
    argv = [
        CHROMIUM,
        "--headless",
        "--disable-gpu",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=5000",
        "--window-size=1280,1700",
        *args,
        url,
    ]
    if os.geteuid() == 0:
        argv.insert(1, "--no-sandbox")  # Chromium's sandbox refuses to run as root
    result = subprocess.run(argv, capture_output=True, text=True, timeout=90)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture
def served(tmp_path: Path):
    home = tmp_path / "home"
    home.mkdir()
    now = time.time()
    plan = {
        "observed_at": now - 60,
        "status": "allowed_warning",
        "windows": {
            "five_hour": {"utilization": 0.42, "resets_at": now + 7800, "status": "allowed"},
            "seven_day": {"utilization": 0.81, "resets_at": now + 3 * 86400, "status": "allowed"},
        },
    }
    (home / "plan.json").write_text(json.dumps(plan))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE_MAX", "FAKE_CLAUDE"))}
    env |= {
        "CLAUDE_MAX_HOME": str(home),
        "CLAUDE_MAX_CLAUDE_PATH": str(FAKE_CLAUDE),
        "FAKE_CLAUDE_SCENARIO": "echo",
        "FAKE_CLAUDE_USAGE": json.dumps(USAGE),
        "FAKE_CLAUDE_COST": "0.0421",
    }
    server = Server(env, "--warm", "0")
    try:
        for agent, model in TRAFFIC:
            answer = httpx.post(
                f"{server.url}/v1/chat/completions",
                json={"model": model, "messages": [{"role": "user", "content": "hi"}]},
                headers={"user-agent": agent},
                timeout=60,
            )
            assert answer.status_code == 200, answer.text
        refused = httpx.post(
            f"{server.url}/v1/messages",
            json={
                "model": "gpt-4o",
                "max_tokens": 9,
                "messages": [{"role": "user", "content": "x"}],
            },
            headers={"user-agent": "script/2"},
            timeout=60,
        )
        assert refused.status_code == 404
        yield server
    finally:
        server.stop()


def artifacts(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("CLAUDE_MAX_TEST_ARTIFACTS") or tmp_path / "artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_the_dashboard_shows_known_traffic(served, tmp_path):
    dom = Dom()
    dom.feed(chromium(f"{served.url}/", tmp_path / "profile", "--dump-dom"))
    assert dom.state == "ready", "the page did not finish drawing its figures"
    f = dom.figures
    assert (f["requests"], f["errors"]) == ("4", "1")
    assert (f["input_tokens"], f["output_tokens"]) == ("3,702", "168")  # 3 answers
    assert f["cache_read_tokens"] == "23,670"
    assert f["cost_usd"] == "$0.1263"
    assert f["warm_hit_rate"] == "0%"  # --warm 0
    assert f["ttft_p50_ms"].endswith(("ms", " s"))
    assert dom.gauges == {"five_hour": "42%", "seven_day": "81%"}
    clients = {row[0]: row for row in dom.tables["clients"] if row}
    assert clients["editor/1"][2:4] == ["2", "0"]  # requests, errors
    assert clients["script/2"][2:4] == ["2", "1"]
    models = {row[0]: row for row in dom.tables["models"] if row}
    assert models["claude-opus-5-5"][2] == "2" and models["claude-sonnet-5-5"][2] == "1"
    [error] = [row for row in dom.tables["errors"] if row]
    assert error[1:3] == ["404", "not_found_error"] and "gpt-4o" in error[3]

    shot = artifacts(tmp_path) / "dashboard.png"
    chromium(f"{served.url}/", tmp_path / "profile", f"--screenshot={shot}")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
