"""The subscription's plan state: one reading of its windows (five hours, seven days) and
extra usage, as the CLI reports it in `rate_limit_event` lines (CLI.md §12).

The latest reading is kept in `<home>/plan.json` so that commands can show it with the server
stopped. Its schema is shared with `claude-max stats`::

    {"observed_at": 1796000000.0, "status": "allowed|allowed_warning|rejected",
     "representative": "five_hour", "resets_at": 1796000000,
     "overage": {"status": "allowed", "in_use": false, "disabled_reason": null},
     "windows": {"five_hour": {"utilization": 0.42, "resets_at": 1796000000,
                               "status": "allowed"}, "seven_day": {...}},
     "using_overage": false}
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

FILE_NAME = "plan.json"
WINDOW_NAMES = {
    "five_hour": "5-hour",
    "seven_day": "7-day",
    "seven_day_opus": "7-day Opus",
    "seven_day_sonnet": "7-day Sonnet",
}
# The API's header names for the windows (anthropic-ratelimit-unified-<short>-*).
_SHORT = {"five_hour": "5h", "seven_day": "7d", "seven_day_opus": "7d_opus"}


@dataclass(frozen=True, slots=True)
class Window:
    utilization: float | None
    resets_at: int | None
    status: str | None


@dataclass(frozen=True, slots=True)
class Overage:
    status: str | None = None
    in_use: bool = False
    disabled_reason: str | None = None


@dataclass(frozen=True, slots=True)
class PlanReading:
    """What the plan looked like when one upstream response arrived."""

    observed_at: float
    status: str  # allowed | allowed_warning | rejected
    representative: str | None  # the window that decides: five_hour, seven_day, ...
    resets_at: int | None
    overage: Overage = field(default_factory=Overage)
    windows: dict[str, Window] = field(default_factory=dict)
    using_overage: bool = False

    @property
    def drew_from_extra_usage(self) -> bool:
        return self.using_overage or self.overage.in_use

    @property
    def rejected(self) -> bool:
        return self.status == "rejected"

    def exhausted(self, now: float | None = None) -> bool:
        """Rejected, and not yet past its reset time."""
        now = time.time() if now is None else now
        return self.rejected and (self.resets_at is None or self.resets_at > now)

    def to_json(self) -> dict[str, Any]:
        return {
            "observed_at": self.observed_at,
            "status": self.status,
            "representative": self.representative,
            "resets_at": self.resets_at,
            "overage": {
                "status": self.overage.status,
                "in_use": self.overage.in_use,
                "disabled_reason": self.overage.disabled_reason,
            },
            "windows": {
                name: {"utilization": w.utilization, "resets_at": w.resets_at, "status": w.status}
                for name, w in self.windows.items()
            },
            "using_overage": self.using_overage,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlanReading:
        overage = data.get("overage") or {}
        return cls(
            observed_at=float(data.get("observed_at") or 0),
            status=str(data.get("status") or "allowed"),
            representative=data.get("representative"),
            resets_at=_int(data.get("resets_at")),
            overage=Overage(
                overage.get("status"),
                bool(overage.get("in_use")),
                overage.get("disabled_reason"),
            ),
            windows={
                str(name): Window(
                    _float(w.get("utilization")), _int(w.get("resets_at")), w.get("status")
                )
                for name, w in (data.get("windows") or {}).items()
                if isinstance(w, dict)
            },
            using_overage=bool(data.get("using_overage")),
        )

    @classmethod
    def from_event(cls, info: dict[str, Any], now: float | None = None) -> PlanReading | None:
        """From a `rate_limit_event`'s `rate_limit_info` (CLI.md §12); None for the bare
        `{"status": "allowed"}` the CLI prints when the response had no plan headers."""
        if not info.get("unifiedWindows") and not info.get("resetsAt"):
            return None
        windows = {
            str(name): Window(
                _float(w.get("utilization")), _int(w.get("resetsAt")), w.get("status")
            )
            for name, w in (info.get("unifiedWindows") or {}).items()
            if isinstance(w, dict)
        }
        representative = info.get("rateLimitType")
        if representative and representative not in windows:
            windows[representative] = Window(
                _float(info.get("utilization")), _int(info.get("resetsAt")), info.get("status")
            )
        return cls(
            observed_at=time.time() if now is None else now,
            status=str(info.get("status") or "allowed"),
            representative=representative,
            resets_at=_int(info.get("resetsAt")),
            overage=Overage(
                info.get("overageStatus"),
                bool(info.get("overageInUse")),
                info.get("overageDisabledReason"),
            ),
            windows=windows,
            using_overage=bool(info.get("isUsingOverage")),
        )

    # -- how it is shown

    def limit_message(self, now: float | None = None) -> str:
        """ "Your 5-hour limit is reached; it resets at 14:00 UTC, in 2 h 13 min"."""
        name = window_name(self.representative)
        text = f"Your {name} limit is reached" if name else "Your plan's limit is reached"
        if self.resets_at:
            text += f"; it resets {reset_words(self.resets_at, now)}"
        return text

    def retry_after(self, now: float | None = None) -> int | None:
        """Seconds until the deciding window resets (at least 1), if known."""
        if not self.resets_at:
            return None
        now = time.time() if now is None else now
        return max(1, int(self.resets_at - now + 0.999))

    def anthropic_headers(self) -> dict[str, str]:
        """The `anthropic-ratelimit-unified-*` headers the real API sends (CLI.md §12)."""
        p = "anthropic-ratelimit-unified-"
        out = {f"{p}status": self.status}
        if self.resets_at:
            out[f"{p}reset"] = str(self.resets_at)
        if self.representative:
            out[f"{p}representative-claim"] = self.representative
        for name, w in self.windows.items():
            short = _SHORT.get(name, name)
            if w.status:
                out[f"{p}{short}-status"] = w.status
            if w.utilization is not None:
                out[f"{p}{short}-utilization"] = _num(w.utilization)
            if w.resets_at:
                out[f"{p}{short}-reset"] = str(w.resets_at)
        if self.overage.status:
            out[f"{p}overage-status"] = self.overage.status
        out[f"{p}overage-in-use"] = "true" if self.overage.in_use else "false"
        if self.overage.disabled_reason:
            out[f"{p}overage-disabled-reason"] = self.overage.disabled_reason
        return out

    def plan_headers(self) -> dict[str, str]:
        """The same reading as `x-claude-max-plan-*` (for OpenAI-protocol responses)."""
        out = {"x-claude-max-plan-status": self.status}
        if self.resets_at:
            out["x-claude-max-plan-reset"] = str(self.resets_at)
        if self.representative:
            out["x-claude-max-plan-window"] = self.representative
        for name, w in self.windows.items():
            key = name.replace("_", "-")
            if w.utilization is not None:
                out[f"x-claude-max-plan-{key}-utilization"] = _num(w.utilization)
            if w.resets_at:
                out[f"x-claude-max-plan-{key}-reset"] = str(w.resets_at)
        return out


def window_name(window: str | None) -> str | None:
    if not window:
        return None
    return WINDOW_NAMES.get(window, window.replace("_", " "))


def reset_words(resets_at: float, now: float | None = None) -> str:
    """ "at 14:00 UTC, in 2 h 13 min" (with the date when it is not today)."""
    now = time.time() if now is None else now
    at = datetime.fromtimestamp(resets_at, timezone.utc)
    today = datetime.fromtimestamp(now, timezone.utc).date()
    clock = at.strftime("%H:%M UTC") if at.date() == today else at.strftime("%a %d %b %H:%M UTC")
    return f"at {clock}, in {duration_words(resets_at - now)}"


def duration_words(seconds: float) -> str:
    seconds = max(0, int(seconds + 0.5))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return f"{seconds} s"


# -- persistence


def path(home: Path) -> Path:
    return home / FILE_NAME


def save(home: Path, reading: PlanReading) -> None:
    """Write atomically (a reader never sees half a file)."""
    home.mkdir(parents=True, exist_ok=True)
    tmp = home / f".{FILE_NAME}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(reading.to_json(), indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path(home))


def load(home: Path) -> PlanReading | None:
    with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
        data = json.loads(path(home).read_text(encoding="utf-8"))
        if isinstance(data, dict):
            return PlanReading.from_json(data)
    return None


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _num(value: float) -> str:
    return f"{value:g}"
