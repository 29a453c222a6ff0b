"""Prometheus metrics for `GET /metrics`, with prometheus_client (imported when built).

Counters and histograms are fed a finished request's history row (`observe`); gauges of
what is going on right now (requests in flight and queued, the warm pool, CLI processes
alive, the plan windows) are read at scrape time from the server's state. One registry per
app, so that several servers in one process (tests) keep their own figures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from claude_max.usage.history import Row

SECONDS_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    def __init__(self, live: Callable[[], dict[str, Any]]) -> None:
        """`live()`: the figures of right now (see `_Live`)."""
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry(auto_describe=False)
        self.requests = Counter(
            "claude_max_requests",
            "API requests answered, by endpoint, model and HTTP status.",
            ["endpoint", "model", "status"],
            registry=self.registry,
        )
        self.tokens = Counter(
            "claude_max_tokens",
            "Tokens, by kind (input, output, cache_read, cache_write) and model.",
            ["kind", "model"],
            registry=self.registry,
        )
        self.cost = Counter(
            "claude_max_cost_usd",
            "What the requests would have cost at API list prices, in USD.",
            ["model"],
            registry=self.registry,
        )
        self.ttft = Histogram(
            "claude_max_time_to_first_token_seconds",
            "Time from a request's arrival to its first token.",
            ["endpoint"],
            buckets=SECONDS_BUCKETS,
            registry=self.registry,
        )
        self.duration = Histogram(
            "claude_max_request_duration_seconds",
            "Time from a request's arrival to the last byte of its response.",
            ["endpoint"],
            buckets=SECONDS_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_Live(live))

    def observe(self, row: Row) -> None:
        model = row.model or "none"  # never the client's own string: labels stay bounded
        self.requests.labels(row.endpoint, model, str(row.status)).inc()
        for kind, count in (
            ("input", row.input_tokens),
            ("output", row.output_tokens),
            ("cache_read", row.cache_read_tokens),
            ("cache_write", row.cache_write_tokens),
        ):
            if count:
                self.tokens.labels(kind, model).inc(count)
        if row.cost_usd:
            self.cost.labels(model).inc(row.cost_usd)
        if row.ttft_ms is not None and row.status < 400:
            self.ttft.labels(row.endpoint).observe(row.ttft_ms / 1000)
        self.duration.labels(row.endpoint).observe(row.duration_ms / 1000)

    def exposition(self) -> bytes:
        from prometheus_client import generate_latest

        exposition: bytes = generate_latest(self.registry)
        return exposition


class _Live:
    """Gauges read at scrape time. `live()` returns: in_flight, queued, cli_processes,
    pool (Pool.stats() or None) and plan (`read_plan` or None)."""

    def __init__(self, live: Callable[[], dict[str, Any]]) -> None:
        self.live = live

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        now = self.live()
        yield GaugeMetricFamily(
            "claude_max_requests_in_flight", "Requests holding a slot.", value=now["in_flight"]
        )
        yield GaugeMetricFamily(
            "claude_max_requests_queued", "Requests waiting for a slot.", value=now["queued"]
        )
        yield GaugeMetricFamily(
            "claude_max_cli_processes", "CLI processes alive.", value=now["cli_processes"]
        )
        pool = now["pool"] or {}
        yield GaugeMetricFamily(
            "claude_max_warm_pool_size", "Warm processes kept at most.", value=pool.get("size", 0)
        )
        yield GaugeMetricFamily(
            "claude_max_warm_pool_ready", "Warm processes ready.", value=pool.get("ready", 0)
        )
        yield CounterMetricFamily(
            "claude_max_warm_pool_hits",
            "Runs that took a ready warm process.",
            value=pool.get("hits", 0),
        )
        yield CounterMetricFamily(
            "claude_max_warm_pool_misses",
            "Runs that had to start a CLI.",
            value=pool.get("misses", 0),
        )
        yield CounterMetricFamily(
            "claude_max_warm_pool_ahead_hits",
            "Runs of a long history that took the CLI started ahead for exactly that history.",
            value=pool.get("ahead_hits", 0),
        )
        plan = now["plan"]
        utilization = GaugeMetricFamily(
            "claude_max_plan_window_utilization",
            "Share of the plan window used (0..1), from the last reading.",
            labels=["window"],
        )
        resets = GaugeMetricFamily(
            "claude_max_plan_window_resets_at_seconds",
            "When the plan window resets (unix time), from the last reading.",
            labels=["window"],
        )
        for name, window in (plan or {}).get("windows", {}).items():
            utilization.add_metric([name], window["utilization"])
            if window["resets_at"] is not None:
                resets.add_metric([name], window["resets_at"])
        yield utilization
        yield resets
