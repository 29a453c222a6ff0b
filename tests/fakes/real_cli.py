"""Where the tests find the real pinned Claude Code CLI (installed by .ci/run)."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT = Path.home() / ".cache/claude-max-ci/cli/node_modules/.bin/claude"
REAL_CLAUDE = Path(os.environ.get("CLAUDE_MAX_TEST_CLAUDE") or DEFAULT)
