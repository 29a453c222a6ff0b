"""The server CPU that request history and metrics add per request (target: under 0.5 ms).

    .venv/bin/python bench/recording.py               # --requests 3000 (default), --json

In-process and bounded: an ASGI app that streams a recorded CLI run's events as SSE chunks
(tests/data/transcripts) is driven N times bare, then N times behind the `Observe` middleware
with the turn path's `Observer.see` on every event, the Prometheus counters, and the history
writer's thread inserting the rows into a temporary SQLite store (flushed before the clock
stops). CPU is `time.process_time()`, so the writer thread's work counts. Also timed apart:
each piece alone (observer, metrics, writer).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from claude_max.core.parse import StreamParser
from claude_max.server.recording import STATE_KEY, Observe, Recording
from claude_max.usage.history import Observer, Row, Writer
from claude_max.usage.metrics import Metrics

TRANSCRIPT = Path(__file__).parents[1] / "tests/data/transcripts/stream_json_thinking.stdout"
BODY = {"model": "sonnet", "stream": True, "messages": [{"role": "user", "content": "hi"}]}


def events() -> list[Any]:
    parser = StreamParser()
    found: list[Any] = []
    for line in TRANSCRIPT.read_bytes().splitlines():
        found.extend(parser.feed(line))
    return found


EVENTS = events()
CHUNK = b'data: {"choices":[{"delta":{"content":"x"}}]}\n\n'


async def app(scope: dict, receive: Any, send: Any) -> None:
    """The route's part: show each event to the request's observer, send a chunk per event."""
    seen = scope.get("state", {}).get(STATE_KEY)
    if seen is not None:
        seen.asked(BODY)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    for event in EVENTS:
        if seen is not None:
            seen.see(event)
        await send({"type": "http.response.body", "body": CHUNK, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


def scope(state: Any) -> dict:
    return {
        "type": "http",
        "method": "POST",
        "path": "/v1/chat/completions",
        "headers": [(b"user-agent", b"bench/1"), (b"content-type", b"application/json")],
        "app": SimpleNamespace(state=state),
        "state": {},
    }


async def drive(asgi: Any, state: Any, n: int) -> None:
    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        pass

    for _ in range(n):
        await asgi(scope(state), receive, send)


def cpu_per_request(asgi: Any, state: Any, n: int, writer: Writer | None = None) -> float:
    """Process CPU ms per request (all threads), the writer flushed inside the measurement."""
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(drive(asgi, state, 50))  # warm-up
        if writer:
            writer.flush()
        start = time.process_time()
        loop.run_until_complete(drive(asgi, state, n))
        if writer:
            writer.flush()
        return (time.process_time() - start) * 1000 / n
    finally:
        loop.close()


def live() -> dict[str, Any]:
    return {"in_flight": 0, "queued": 0, "cli_processes": 0, "pool": None, "plan": None}


def piece(fn: Any, n: int) -> float:
    start = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - start) * 1000 / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3, help="repeat and keep the median")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    n = args.requests

    with tempfile.TemporaryDirectory() as tmp:
        writer = Writer(Path(tmp) / "sessions.db")
        metrics = Metrics(live)
        recorded = SimpleNamespace(usage=Recording(writer, metrics))
        observed = Observe(app)
        bare, full = [], []
        for _ in range(args.rounds):
            bare.append(cpu_per_request(app, SimpleNamespace(), n))
            full.append(cpu_per_request(observed, recorded, n, writer))

        def observe_one() -> None:
            seen = Observer(time.perf_counter())
            seen.asked(BODY)
            for event in EVENTS:
                seen.see(event)

        row = Row(
            at=time.time(),
            protocol="openai",
            endpoint="/v1/chat/completions",
            client="bench/1",
            key_label=None,
            model_asked="sonnet",
            model="claude-sonnet-5-5",
            stream=True,
            status=200,
            error=None,
            error_message=None,
            input_tokens=10,
            output_tokens=20,
            ttft_ms=100.0,
            duration_ms=200.0,
            warm=True,
        )
        observer_ms = piece(observe_one, n)
        metrics_ms = piece(lambda: metrics.observe(row), n)
        start = time.process_time()
        for _ in range(n):
            writer.put(row)
        writer.flush()
        writer_ms = (time.process_time() - start) * 1000 / n
        rows = len(writer.read(0))
        writer.close()

    result = {
        "requests": n,
        "events_per_request": len(EVENTS),
        "bare_cpu_ms": round(statistics.median(bare), 4),
        "recorded_cpu_ms": round(statistics.median(full), 4),
        "added_cpu_ms": round(statistics.median(full) - statistics.median(bare), 4),
        "observer_see_ms": round(observer_ms, 4),
        "metrics_observe_ms": round(metrics_ms, 4),
        "writer_put_and_insert_ms": round(writer_ms, 4),
        "rows_written": rows,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{n} streamed requests of {len(EVENTS)} events each, median of {args.rounds} rounds")
    print(f"  bare app               {result['bare_cpu_ms']:.4f} ms CPU per request")
    print(f"  with history+metrics   {result['recorded_cpu_ms']:.4f} ms")
    print(f"  added                  {result['added_cpu_ms']:.4f} ms  (target < 0.5 ms)")
    print("pieces, per request:")
    print(f"  Observer.see x{len(EVENTS):<3}      {observer_ms:.4f} ms")
    print(f"  Metrics.observe        {metrics_ms:.4f} ms")
    print(f"  Writer put + insert    {writer_ms:.4f} ms (batched on its thread)")
    print(f"  rows written           {rows}")


if __name__ == "__main__":
    main()
