"""The usage report: request history rows aggregated over a period, for `claude-max stats`,
the dashboard and its JSON endpoint. Pure functions over `history.Row`s; times are bucketed in
the local time of the process that builds the report."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from claude_max.usage.history import Row

GROUPINGS = ("client", "model", "day", "hour")
RECENT_ERRORS = 20
_SINCE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*$")
_UNIT = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(text: str) -> float:
    """'24h', '7d', '30d' (also m and w, and decimals) in seconds; ValueError otherwise."""
    match = _SINCE.match(text.lower())
    if not match or float(match[1]) <= 0:
        raise ValueError(f"'{text}' is not a period like 24h, 7d or 30d")
    return float(match[1]) * _UNIT[match[2]]


def client_of(row: Row) -> str:
    """Who sent it: the API key's name when keys are named, else the user agent."""
    return row.key_label or row.client or "(unknown)"


def _day(t: float) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(t))


def _hour(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:00", time.localtime(t))


KEYS: dict[str, Callable[[Row], str]] = {
    "client": client_of,
    "model": lambda row: row.model or row.model_asked or "(none)",
    "day": lambda row: _day(row.at),
    "hour": lambda row: _hour(row.at),
}


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..1) of sorted `values`; None when empty."""
    if not values:
        return None
    return values[max(0, math.ceil(p * len(values)) - 1)]


def is_error(row: Row) -> bool:
    return row.status >= 400 or row.error is not None


def figures(rows: Iterable[Row]) -> dict[str, Any]:
    """Requests, errors, tokens, list-price cost, TTFT and duration percentiles, warm hits."""
    count = errors = inp = out = cache_read = cache_write = runs = warm = 0
    cost = 0.0
    ttfts: list[float] = []
    durations: list[float] = []
    for row in rows:
        count += 1
        errors += is_error(row)
        inp += row.input_tokens
        out += row.output_tokens
        cache_read += row.cache_read_tokens
        cache_write += row.cache_write_tokens
        cost += row.cost_usd
        durations.append(row.duration_ms)
        if row.ttft_ms is not None and not is_error(row):
            ttfts.append(row.ttft_ms)
        if row.warm is not None:
            runs += 1
            warm += row.warm
    ttfts.sort()
    durations.sort()
    return {
        "requests": count,
        "errors": errors,
        "input_tokens": inp,
        "output_tokens": out,
        "cache_read_tokens": cache_read,
        "cache_write_tokens": cache_write,
        "cost_usd": round(cost, 6),
        "ttft_p50_ms": percentile(ttfts, 0.5),
        "ttft_p95_ms": percentile(ttfts, 0.95),
        "duration_p50_ms": percentile(durations, 0.5),
        "duration_p95_ms": percentile(durations, 0.95),
        "warm_hits": warm,
        "cli_runs": runs,
        "warm_hit_rate": round(warm / runs, 4) if runs else None,
    }


def grouped(rows: list[Row], by: str) -> list[dict[str, Any]]:
    """Figures per group: time groups oldest first, others busiest first."""
    key = KEYS[by]
    groups: dict[str, list[Row]] = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    result = [{"key": k, **figures(v)} for k, v in groups.items()]
    if by in ("day", "hour"):
        return sorted(result, key=lambda g: g["key"])
    return sorted(result, key=lambda g: (-g["requests"], g["key"]))


def series(rows: list[Row], since: float, until: float) -> dict[str, Any]:
    """Requests and tokens per hour (periods up to two days) or per day, empty buckets kept."""
    unit = "hour" if until - since <= 2 * 86400 else "day"
    key, step = (_hour, 3600) if unit == "hour" else (_day, 86400)
    buckets: dict[str, list[Row]] = {}
    t = since
    while t < until:
        buckets.setdefault(key(t), [])
        t += step
    buckets.setdefault(key(until), [])
    for row in rows:
        buckets.setdefault(key(row.at), []).append(row)
    points = []
    for name in sorted(buckets):
        f = figures(buckets[name])
        points.append(
            {
                "key": name,
                "requests": f["requests"],
                "errors": f["errors"],
                "input_tokens": f["input_tokens"],
                "output_tokens": f["output_tokens"],
                "cache_read_tokens": f["cache_read_tokens"],
                "cache_write_tokens": f["cache_write_tokens"],
                "cost_usd": f["cost_usd"],
            }
        )
    return {"unit": unit, "points": points}


def recent_errors(rows: list[Row], limit: int = RECENT_ERRORS) -> list[dict[str, Any]]:
    errors = [r for r in rows if is_error(r)][-limit:]
    return [
        {
            "at": r.at,
            "endpoint": r.endpoint,
            "client": client_of(r),
            "model": r.model or r.model_asked,
            "status": r.status,
            "error": r.error,
            "message": r.error_message,
        }
        for r in reversed(errors)
    ]


def build(
    rows: list[Row],
    *,
    since: float,
    until: float,
    period: str,
    by: str = "model",
    plan: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything `stats --json` and the dashboard show, as plain JSON-ready data."""
    if by not in KEYS:
        raise ValueError(f"--by must be one of {', '.join(GROUPINGS)}")
    return {
        "period": period,
        "since": since,
        "until": until,
        "by": by,
        "total": figures(rows),
        "groups": grouped(rows, by),
        "clients": grouped(rows, "client"),
        "models": grouped(rows, "model"),
        "series": series(rows, since, until),
        "recent_errors": recent_errors(rows),
        "plan": plan,
    }
