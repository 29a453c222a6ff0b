"""Script the fake `claude` through FAKE_CLAUDE_* variables and read what it was sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fake_claude_log import read_log


class FakeCLI:
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
        """The model runs that served a request: not `claude --version` at a server's
        start-up, nor warm processes still waiting for a request, nor a server asking for
        the CLI's model list."""
        return [
            c
            for c in read_log(self.log)
            if "-p" in c["argv"] and not all(map(_asks_models, _requests(c["stdin"])))
        ]

    def model_lists(self) -> list[dict[str, Any]]:
        """The runs that only asked for the CLI's model list (`initialize`)."""
        return [c for c in read_log(self.log) if c["stdin"] and all(map(_asks_models, c["stdin"]))]

    def call(self) -> dict[str, Any]:
        [call] = self.calls()
        return call


def _requests(stdin: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A run's stdin lines but its answers to the CLI's own requests (a warm process with
    client tools has answered the SDK MCP handshake before any request reached it)."""
    return [line for line in stdin if line.get("type") != "control_response"]


def _asks_models(line: dict[str, Any]) -> bool:
    return line.get("type") == "control_request" and line["request"].get("subtype") == "initialize"


def messages(call: dict[str, Any]) -> list[dict[str, Any]]:
    """The conversation lines a run got on stdin (not control requests)."""
    return [line for line in call["stdin"] if line.get("type") in ("user", "assistant")]


def history(call: dict[str, Any]) -> list[dict[str, Any]]:
    """The messages a run's CLI had before its stdin lines: its resumed session's transcript."""
    return list(call.get("resumed") or [])


def model(call: dict[str, Any]) -> str | None:
    """The model a run answered with: a warm process may have been switched with set_model."""
    for line in reversed(call["stdin"]):
        if line.get("type") == "control_request" and line["request"].get("subtype") == "set_model":
            return str(line["request"]["model"])
    flags = [a for a in call["argv"] if a.startswith("--model=")]
    return flags[-1].split("=", 1)[1] if flags else None
