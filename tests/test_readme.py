"""The README documents every command and every option (help text is part of the product)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer

from claude_max.cli import app

README = (Path(__file__).parents[1] / "README.md").read_text()


def options() -> list[tuple[str, str]]:
    command = typer.main.get_command(app)
    found = []
    for name, sub in command.commands.items():  # type: ignore[attr-defined]
        for param in sub.params:
            for opt in param.opts:
                if opt.startswith("--") and opt != "--help":
                    found.append((name, opt))
    return found


@pytest.mark.parametrize(("command", "option"), options())
def test_option_is_in_the_readme(command, option):
    mentioned = re.search(r"(?<![\w-])" + re.escape(option) + r"(?![\w-])", README)
    assert mentioned, f"README does not mention `{option}` of `claude-max {command}`"


@pytest.mark.parametrize("command", ["serve", "chat", "models", "doctor", "stats"])
def test_command_is_in_the_readme(command):
    assert f"claude-max {command}" in README
