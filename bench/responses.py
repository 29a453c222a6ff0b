"""Time to first event and first token: /v1/responses vs /v1/chat/completions, same prompt.

One in-process FakeUpstream answers at once (a short reply in a few chunks); `claude-max serve`
runs the real CLI, without (`--warm 0`) and with (`--warm 2`) warm processes. The two
endpoints alternate request by request (in rotating order), so drifting machine load hits
them alike. Measured per streamed request, from sending it:

  first event   the first SSE `data:` line (response.created / the role chunk)
  first token   the first answer text (response.output_text.delta / a content delta)
  end           the end of the response body

Before each request on the pooled server the benchmark waits --settle seconds, so the pool
has refilled and its process booted (both endpoints share one launch spec, so one pool key).

Usage:

  .venv/bin/python bench/responses.py [--runs 15] [--json]   # ~2 min
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    PROMPT,
    REAL_CLAUDE,
    Server,
    leftovers,
    loadavg,
    new_tag,
    server_env,
    summary,
    table,
)
from upstream import FakeUpstream, cli_env

REPLY = "Hello! This is a short benchmark reply."
SCRIPT = {"default": {"type": "text", "text": REPLY, "chunks": 4}}
ENDPOINTS = {
    "chat": ("/v1/chat/completions", {"messages": [{"role": "user", "content": PROMPT}]}),
    "responses": ("/v1/responses", {"input": PROMPT}),
}


def timed(client: httpx.Client, url: str, kind: str) -> dict[str, float]:
    path, body = ENDPOINTS[kind]
    first_event = first_token = None
    text = ""
    t0 = time.perf_counter()
    with client.stream("POST", url + path, json={**body, "stream": True}) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            now = time.perf_counter() - t0
            first_event = first_event if first_event is not None else now
            data = json.loads(line[6:])
            if kind == "chat":
                piece = "".join(
                    (c.get("delta") or {}).get("content") or "" for c in data["choices"]
                )
            else:
                piece = data["delta"] if data["type"] == "response.output_text.delta" else ""
            if piece and first_token is None:
                first_token = now
            text += piece
    end = time.perf_counter() - t0
    if text != REPLY or first_event is None or first_token is None:
        raise RuntimeError(f"{kind}: unexpected answer {text!r}")
    return {"first_event": first_event, "first_token": first_token, "end": end}


def bench(args: argparse.Namespace) -> dict[str, Any]:
    tag = new_tag()
    results: dict[str, dict[str, list[float]]] = {}
    loads = {"start": loadavg()}
    with (
        tempfile.TemporaryDirectory(prefix="cm-bench-responses-") as tmp,
        FakeUpstream(SCRIPT) as fake,
    ):
        root = Path(tmp)
        base = cli_env(fake.url, root / "cli-home")
        for warm in ("0", "2"):
            env = server_env(base, claude=args.claude, max_home=root / f"home-{warm}", tag=tag)
            server = Server(env, root / f"serve-{warm}.log", ("--warm", warm)).start()
            try:
                with httpx.Client(timeout=args.timeout) as client:
                    for run in range(args.warmup + args.runs):
                        order = list(ENDPOINTS) if run % 2 == 0 else list(reversed(ENDPOINTS))
                        for kind in order:
                            if warm != "0":
                                time.sleep(args.settle)
                            timing = timed(client, server.url, kind)
                            if run < args.warmup:
                                continue
                            into = results.setdefault(f"warm {warm} {kind}", {})
                            for key, value in timing.items():
                                into.setdefault(key, []).append(value)
            finally:
                server.stop()
        loads["end"] = loadavg()
    return {
        "runs": args.runs,
        "variants": {
            name: {key: summary(values) for key, values in timings.items()}
            for name, timings in results.items()
        },
        "loadavg": loads,
        "leftover_processes": len(leftovers(tag, [str(args.claude)])),
    }


def render(report: dict[str, Any]) -> str:
    rows = [
        [name]
        + [f"{v[key]['median_ms']:.1f} / {v[key]['p90_ms']:.1f}" for key in ("first_event",
                                                                           "first_token", "end")]
        for name, v in report["variants"].items()
    ]  # fmt: skip
    head = ["variant", "first event ms (median / p90)", "first token", "end"]
    return (
        table(head, rows)
        + f"\nruns per variant: {report['runs']}, loadavg {report['loadavg']}, "
        + f"leftover processes: {report['leftover_processes']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="measured requests per variant")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured requests per variant")
    parser.add_argument("--claude", type=Path, default=REAL_CLAUDE, help="the real CLI")
    parser.add_argument("--settle", type=float, default=2.0, help="s before a pooled request")
    parser.add_argument("--timeout", type=float, default=30.0, help="bound of every request, s")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    if not 1 <= args.runs <= 500 or not 0 <= args.warmup <= 20:
        parser.error("--runs must be 1..500, --warmup 0..20")
    if not 0 <= args.settle <= 10 or not 1 <= args.timeout <= 300:
        parser.error("--settle must be 0..10 s, --timeout 1..300 s")
    if not args.claude.exists():
        parser.error(f"no CLI at {args.claude}")
    report = bench(args)
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0 if report["leftover_processes"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
