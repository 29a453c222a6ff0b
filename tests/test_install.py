"""The README's install steps, run verbatim on a fresh clone, put a working `claude-max` in place.

Slow (a clone, a pipx venv, a dev venv with the test extras), so it runs when
CLAUDE_MAX_INSTALL_TESTS=1 (.ci/run sets it). `pipx` comes from the `release` extra. Only the
README block's own lines are run, in bash, with REPO_URL pointing at a fresh clone of this
commit; HOME, PIPX_HOME and PIPX_BIN_DIR are throwaway directories.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from claude_max import __version__

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("CLAUDE_MAX_INSTALL_TESTS") != "1",
        reason="installs from a fresh clone (minutes): set CLAUDE_MAX_INSTALL_TESTS=1",
    ),
    pytest.mark.timeout(900),
]


def block(name: str) -> str:
    """The ```sh block right after `<!-- install:NAME ... -->` in the README."""
    match = re.search(rf"<!-- install:{name}\b[^>]*-->\n```sh\n(.*?)```", README, re.S)
    assert match, f"README has no install:{name} block"
    return match.group(1)


def test_readme_blocks_are_found():
    assert "pipx install" in block("user")
    assert "git clone" in block("dev")


@pytest.fixture
def sandbox(tmp_path: Path) -> dict[str, str]:
    """A fresh clone of HEAD and an environment that touches nothing of the real user."""
    clone = tmp_path / "origin"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=120)
    home = tmp_path / "home"
    home.mkdir()
    bin_dir = tmp_path / "bin"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIPX_", "CLAUDE_MAX"))}
    return env | {
        "REPO_URL": f"file://{clone}",
        "HOME": str(home),
        "PIPX_HOME": str(tmp_path / "pipx"),
        "PIPX_BIN_DIR": str(bin_dir),
        "PIPX_MAN_DIR": str(tmp_path / "man"),
        # pipx from this venv (the `release` extra), then the bin dir pipx fills
        "PATH": os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), env["PATH"]]),
        "CLAUDE_MAX_HOME": str(tmp_path / "claude-max-home"),
    }


def run_block(text: str, env: dict[str, str], cwd: Path) -> str:
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", text],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_user_install_puts_claude_max_on_path(sandbox, tmp_path):
    if not shutil.which("pipx", path=sandbox["PATH"]):
        pytest.fail("pipx is missing: pip install -e '.[release]'")
    out = run_block(block("user"), sandbox, tmp_path)
    assert out.strip().endswith(f"claude-max {__version__}")
    assert (Path(sandbox["PIPX_BIN_DIR"]) / "claude-max").exists()


def test_developer_install_in_a_venv(sandbox, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    out = run_block(block("dev"), sandbox, work)
    assert out.strip().endswith(f"claude-max {__version__}")
    assert (work / "claude-max" / ".venv" / "bin" / "claude-max").exists()
