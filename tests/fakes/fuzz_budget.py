"""How many examples a property-based fuzz test tries.

CI's full run (CLAUDE_MAX_E2E=1, `.ci/run`) tries them all; the fast suite a tenth (at least
50), so that it stays fast while every fuzz test still runs and can still fail. A failing
example found by either is kept in hypothesis's database (`.hypothesis/`) and tried first
the next time.
"""

from __future__ import annotations

import os

FULL_FUZZ = os.environ.get("CLAUDE_MAX_E2E") == "1"


def fuzz_examples(full: int) -> int:
    """`full` examples in the full run, a tenth of them (at least 50) in the fast suite."""
    return full if FULL_FUZZ else min(full, max(50, full // 10))
