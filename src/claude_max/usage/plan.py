"""The last plan reading (rate-limit windows), as the server persists it to `<home>/plan.json`.

`read_plan` is the one place `stats`, `/metrics` and the dashboard read it: point it at the
module that owns the reading once there is one. A missing or malformed file means no plan is
shown; fields of the wrong type are dropped, never raised.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PLAN_FILE = "plan.json"


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def read_plan(home: Path) -> dict[str, Any] | None:
    """The last reading: `{observed_at, status, representative, resets_at, using_overage,
    overage, windows: {name: {utilization (0..1), resets_at, status}}}`, or None."""
    try:
        raw = json.loads((home / PLAN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict) or _number(raw.get("observed_at")) is None:
        return None
    windows: dict[str, dict[str, Any]] = {}
    given = raw.get("windows")
    for name, window in (given if isinstance(given, dict) else {}).items():
        if isinstance(name, str) and isinstance(window, dict):
            utilization = _number(window.get("utilization"))
            if utilization is not None:
                windows[name] = {
                    "utilization": utilization,
                    "resets_at": _number(window.get("resets_at")),
                    "status": _text(window.get("status")),
                }
    overage = raw.get("overage")
    return {
        "observed_at": _number(raw.get("observed_at")),
        "status": _text(raw.get("status")),
        "representative": _text(raw.get("representative")),
        "resets_at": _number(raw.get("resets_at")),
        "using_overage": raw.get("using_overage") is True,
        "overage": overage if isinstance(overage, dict) else None,
        "windows": windows,
    }
