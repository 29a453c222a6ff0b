"""The `claude-max stats` report in the terminal: a rich table with small bar charts, and the
plan windows of the last reading."""

from __future__ import annotations

import time
from typing import Any

from rich.box import ASCII2, SIMPLE_HEAD
from rich.console import Console
from rich.markup import escape
from rich.table import Table

BAR_WIDTH = 12
HEADINGS = {"client": "Client", "model": "Model", "day": "Day", "hour": "Hour"}


def bar(value: float, most: float, *, width: int = BAR_WIDTH, ascii_only: bool = False) -> str:
    """A bar of `width` cells for value/most, in eighths of a cell (or `#` without UTF-8)."""
    if most <= 0 or value <= 0:
        return ""
    cells = value / most * width
    if ascii_only:
        return "#" * max(1, round(cells))
    eighths = max(1, round(cells * 8))
    return "█" * (eighths // 8) + ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")[eighths % 8]


def tokens(n: int) -> str:
    if n >= 10_000_000:
        return f"{n / 1e6:.0f}M"
    if n >= 1_000_000:
        return f"{n / 1e6:.1f}M"
    if n >= 100_000:
        return f"{n / 1e3:.0f}k"
    return f"{n:,}"


def ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"


def share(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def until(epoch: float, now: float) -> str:
    seconds = epoch - now
    if seconds <= 0:
        return "reset"
    hours, minutes = int(seconds // 3600), int(seconds % 3600 // 60)
    if hours >= 24:
        return f"in {hours // 24} d {hours % 24} h"
    return f"in {hours} h {minutes} min" if hours else f"in {minutes} min"


def _plan(data: dict[str, Any], console: Console, ascii_only: bool) -> None:
    plan = data.get("plan")
    if not plan or not plan["windows"]:
        console.print("[dim]Plan windows: no reading yet.[/]")
        return
    now = time.time()
    read = time.strftime("%Y-%m-%d %H:%M", time.localtime(plan["observed_at"]))
    console.print(f"[bold]Plan windows[/] [dim](read {read})[/]")
    for name, window in plan["windows"].items():
        used = max(0.0, min(1.0, window["utilization"]))
        colour = "red" if used >= 0.9 else "yellow" if used >= 0.7 else "green"
        filled = bar(used, 1.0, width=20, ascii_only=ascii_only)
        resets = ""
        if window["resets_at"]:
            at = time.strftime("%a %H:%M", time.localtime(window["resets_at"]))
            resets = f"  [dim]resets {until(window['resets_at'], now)} ({at})[/]"
        label = name.replace("_", " ")
        console.print(f"  {label:<10} [{colour}]{filled:<20}[/] {used:>4.0%}{resets}")
    if plan.get("using_overage"):
        console.print("  [yellow]using overage[/]")


def render(data: dict[str, Any], console: Console) -> None:
    ascii_only = not console.encoding.replace("-", "").lower().startswith("utf8")
    since = time.strftime("%Y-%m-%d %H:%M", time.localtime(data["since"]))
    period = escape(data["period"])
    console.print(f"[bold]Requests over the last {period}[/] [dim](since {since})[/]")
    total, groups = data["total"], data["groups"]
    if not groups:
        console.print("[dim]No requests recorded in this period.[/]")
    else:
        most = max(g["requests"] for g in groups)
        table = Table(
            box=ASCII2 if ascii_only else SIMPLE_HEAD,
            pad_edge=False,
            padding=0,
            show_footer=True,
        )
        table.add_column(HEADINGS[data["by"]], footer="Total", min_width=15, overflow="fold")
        for heading, footer in (
            ("Requests", f"{total['requests']:>5}"),
            ("Err", str(total["errors"])),
            ("Tokens in/out", _tokens(total)),
            ("Cost", f"${total['cost_usd']:.4f}"),
            ("TTFT p50/p95", _ttft(total)),
            ("Warm", share(total["warm_hit_rate"])),
        ):
            justify = "left" if heading == "Requests" else "right"
            table.add_column(heading, justify=justify, footer=footer, no_wrap=True)  # type: ignore[arg-type]
        for g in groups:
            chart = bar(g["requests"], most, width=7, ascii_only=ascii_only)
            table.add_row(
                escape(g["key"]),
                f"{g['requests']:>5} [cyan]{chart}[/]",
                f"[red]{g['errors']}[/]" if g["errors"] else "0",
                _tokens(g),
                f"${g['cost_usd']:.4f}",
                _ttft(g),
                share(g["warm_hit_rate"]),
            )
        console.print(table, soft_wrap=False)
        cache = (
            f"Cache: {tokens(total['cache_read_tokens'])} tokens read, "
            f"{tokens(total['cache_write_tokens'])} written. "
        )
        console.print(f"[dim]{cache}Cost is what the same tokens would cost at API list prices.[/]")
    _plan(data, console, ascii_only)


def _tokens(figures: dict[str, Any]) -> str:
    return f"{tokens(figures['input_tokens'])}/{tokens(figures['output_tokens'])}"


def _ttft(figures: dict[str, Any]) -> str:
    return f"{ms(figures['ttft_p50_ms'])}/{ms(figures['ttft_p95_ms'])}"
