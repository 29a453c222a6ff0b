"""Wait on conditions with a deadline (never a fixed sleep), and tell whether a process is gone."""

from __future__ import annotations

import os
import time
from collections.abc import Callable


def wait_until(predicate: Callable[[], object], deadline_s: float = 10.0) -> bool:
    """Poll `predicate` until it is true or the deadline passes; return whether it became true."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return bool(predicate())


def gone(pid: int) -> bool:
    """True once the process no longer exists (a zombie still exists: it must be reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False
