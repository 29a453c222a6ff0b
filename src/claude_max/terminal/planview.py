"""The plan's windows as text: bars with reset times (`claude-max usage`, `chat -u`)."""

from __future__ import annotations

import time

from claude_max.core.plan import PlanReading, duration_words, reset_words, window_name

BAR = 24


def bar(utilization: float) -> str:
    filled = round(max(0.0, min(1.0, utilization)) * BAR)
    return "[" + "█" * filled + "░" * (BAR - filled) + "]"


def lines(reading: PlanReading, now: float | None = None) -> list[str]:
    """One line per window, then extra usage and when the reading was taken."""
    now = time.time() if now is None else now
    out: list[str] = []
    names = [window_name(n) or n for n in reading.windows]
    width = max((len(n) for n in names), default=6)
    for name, window in zip(names, reading.windows.values(), strict=True):
        used = window.utilization
        text = f"{name:<{width}}  {bar(used or 0.0)} {round((used or 0.0) * 100):>3}%"
        if window.status and window.status != "allowed":
            text += f"  {window.status.replace('_', ' ')}"
        if window.resets_at:
            text += f"  resets {reset_words(window.resets_at, now)}"
        out.append(text)
    overage = reading.overage
    extra = f"Extra usage: {overage.status or 'unknown'}"
    if overage.disabled_reason:
        extra += f" ({overage.disabled_reason.replace('_', ' ')})"
    if reading.drew_from_extra_usage:
        extra += ", in use"
    out.append(extra)
    out.append(f"Status: {reading.status.replace('_', ' ')} · read {ago(reading.observed_at, now)}")
    return out


def ago(then: float, now: float) -> str:
    seconds = now - then
    return "just now" if seconds < 60 else f"{duration_words(seconds)} ago"


def summary(reading: PlanReading, now: float | None = None) -> str:
    """One line for `chat -u`: "Plan: 5-hour 42% (resets at 14:00 UTC, in 2 h 13 min) · …"."""
    parts = []
    for name, window in reading.windows.items():
        text = f"{window_name(name)} {round((window.utilization or 0.0) * 100)}%"
        if window.resets_at:
            text += f" (resets {reset_words(window.resets_at, now)})"
        parts.append(text)
    if reading.drew_from_extra_usage:
        parts.append("extra usage in use")
    return "Plan: " + " · ".join(parts)
