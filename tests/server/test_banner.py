"""The `serve` banner tells the truth: the real port of `--port 0`, a URL a client can use, and
who may connect."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from fake_claude_log import FAKE_CLAUDE

from claude_max.core.settings import Settings
from claude_max.server.listen import banner


@pytest.fixture
def serve() -> Iterator:
    procs: list[subprocess.Popen] = []

    def start(*args: str) -> tuple[subprocess.Popen, list[str]]:
        env = os.environ | {"CLAUDE_MAX_CLAUDE_PATH": str(FAKE_CLAUDE)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "claude_max", "serve", "--warm", "0", *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        procs.append(proc)
        assert proc.stderr is not None
        lines = []
        for line in proc.stderr:  # the banner ends with the auth line
            lines.append(line.rstrip("\n"))
            if line.startswith("  auth:"):
                break
        return proc, lines

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(10)
        if proc.stderr:
            proc.stderr.close()


def test_port_zero_prints_the_port_chosen_and_it_answers(serve):
    _, lines = serve("--port", "0")
    [export] = [line for line in lines if "OPENAI_BASE_URL=" in line]
    base = export.split("=", 1)[1]
    assert not base.endswith(":0/v1")
    assert httpx.get(base.removesuffix("/v1") + "/health", timeout=10).status_code == 200


def test_all_interfaces_without_a_key(serve):
    _, lines = serve("--host", "0.0.0.0", "--port", "0", "--allow-remote-without-key")
    text = "\n".join(lines)
    assert "loopback only" not in text
    assert "0.0.0.0" not in "".join(line for line in lines if "export" in line)
    [export] = [line for line in lines if "OPENAI_BASE_URL=" in line]
    assert export.split("=", 1)[1].startswith("http://127.0.0.1:")
    assert "auth: NONE" in text
    assert httpx.get(export.split("=", 1)[1].removesuffix("/v1") + "/health").status_code == 200


def test_banner_for_loopback_and_key():
    text = banner(Settings(host="127.0.0.1", port=8080))
    assert "http://127.0.0.1:8080/v1" in text and "auth: none (loopback only)" in text
    keyed = banner(Settings(host="::", port=9000, api_key="k"))
    assert "OPENAI_BASE_URL=http://[::1]:9000/v1" in keyed and "auth: API key required" in keyed
