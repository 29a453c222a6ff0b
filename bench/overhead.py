"""The proxy's own overhead: `claude-max serve` in front of the instant fake CLI.

The fake `claude` (tests/fakes/claude, scenario echo) answers at once, so what remains of a
request's latency is process start-up of the fake plus claude-max's own work. Variants, run
request by request in rotating order:

  fake-direct       the fake spawned directly with the server's argv, environment, cwd and
                    stdin (core/argv.py: the user line, stdin closed after the result), to exit
  core-inprocess    claude_max.core.run.complete() in this process (asyncio spawn, parsing,
                    stop scanning; no HTTP)
  openai            POST /v1/chat/completions, stream=false, through the server
  openai-stream     the same with stream=true, to the end of the response body
  anthropic         POST /v1/messages, stream=false
  anthropic-stream  the same with stream=true
  health            GET /health: the HTTP round trip alone, no CLI

Added latency = median server latency - median fake-direct latency. The server's CPU time per
request comes from /proc/<pid>/stat (utime+stime) read before and after each request; the
fake's CPU (cutime+cstime, counted when the server reaps it) is reported apart. Usage:

  .venv/bin/python bench/overhead.py [--requests 50] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    FAKE_CLAUDE,
    PROMPT,
    Server,
    Timing,
    anthropic_plain,
    anthropic_stream,
    leftovers,
    loadavg,
    new_tag,
    openai_plain,
    openai_stream,
    proc_cpu,
    proc_mem,
    server_argv_cli,
    server_env,
    summary,
    table,
)

REPLY = "ECHO:" + PROMPT
SERVER_KINDS = ("openai", "openai-stream", "anthropic", "anthropic-stream", "health")
SETTLE_S = 0.01  # after a response, before reading the server's CPU counters


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=50, help="measured requests per variant")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured requests per variant")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    args = parser.parse_args(argv)
    if not 1 <= args.requests <= 5000 or not 0 <= args.warmup <= 100:
        parser.error("--requests must be 1..5000, --warmup 0..100")
    report = bench(args.requests, args.warmup)
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0 if report["leftover_processes"] == 0 else 1


def bench(requests: int, warmup: int) -> dict[str, Any]:
    tag = new_tag()
    load_start = loadavg()
    server: Server | None = None
    with tempfile.TemporaryDirectory(prefix="cm-bench-overhead-") as tmp:
        root = Path(tmp)
        max_home = root / "claude-max-home"
        (root / "home").mkdir()
        base = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(root / "home"),
            "CLAUDE_CONFIG_DIR": str(root / "home" / ".claude"),
            "LANG": "C.UTF-8",
            "FAKE_CLAUDE_SCENARIO": "echo",
        }
        env = server_env(base, claude=FAKE_CLAUDE, max_home=max_home, tag=tag)
        # The in-process variant's fakes inherit os.environ: give it the server's environment
        # (PATH matters: `#!/usr/bin/env python3` through a pyenv shim costs ~70 ms a run).
        saved_environ = dict(os.environ)
        os.environ.update(env)
        loop = asyncio.new_event_loop()
        try:
            server = Server(env, root / "server.log").start()
            assert server.proc is not None
            pid, url = server.proc.pid, server.url
            with httpx.Client(timeout=60.0) as client:
                variants: dict[str, Callable[[], Timing]] = {
                    "fake-direct": lambda: server_argv_cli(FAKE_CLAUDE, env, max_home, None),
                    "core-inprocess": lambda: core_inprocess(loop, max_home),
                    "openai": lambda: openai_plain(client, url, None),
                    "openai-stream": lambda: openai_stream(client, url, None),
                    "anthropic": lambda: anthropic_plain(client, url, None),
                    "anthropic-stream": lambda: anthropic_stream(client, url, None),
                    "health": lambda: health(client, url),
                }
                names = list(variants)
                for _ in range(warmup):
                    for name in names:
                        check(name, variants[name]())
                mem_warm = proc_mem(pid)
                samples: dict[str, list[Timing]] = {n: [] for n in names}
                server_cpu = dict.fromkeys(names, 0.0)
                child_cpu = dict.fromkeys(names, 0.0)
                for i in range(requests):
                    shift = i % len(names)
                    for name in names[shift:] + names[:shift]:
                        own0, kids0 = proc_cpu(pid)
                        direct0 = _children_cpu()
                        samples[name].append(check(name, variants[name]()))
                        time.sleep(SETTLE_S)
                        own1, kids1 = proc_cpu(pid)
                        server_cpu[name] += own1 - own0
                        if name in SERVER_KINDS:
                            child_cpu[name] += kids1 - kids0
                        else:
                            child_cpu[name] += _children_cpu() - direct0
                mem_end = proc_mem(pid)
        finally:
            loop.close()
            os.environ.clear()
            os.environ.update(saved_environ)
            if server is not None:
                server.stop()
        time.sleep(0.2)
        left = leftovers(
            tag,
            [server.pattern if server else "claude-max serve --port", str(FAKE_CLAUDE)],
            [server.proc.pid] if server and server.proc else [],
        )

    results: dict[str, Any] = {}
    for name, ts in samples.items():
        entry: dict[str, Any] = {"latency": summary([t.end for t in ts])}
        if name.endswith("-stream") or name == "fake-direct":
            entry["first_token"] = summary([t.first for t in ts])
        if name in SERVER_KINDS:
            entry["server_cpu_ms_per_request"] = round(server_cpu[name] / requests * 1000, 2)
        entry["fake_cpu_ms_per_request"] = round(child_cpu[name] / requests * 1000, 2)
        results[name] = entry
    direct = results["fake-direct"]["latency"]["median_ms"]
    added = {
        name: round(results[name]["latency"]["median_ms"] - direct, 2)
        for name in (*SERVER_KINDS, "core-inprocess")
        if name != "health"
    }
    return {
        "benchmark": "overhead",
        "cli": str(FAKE_CLAUDE),
        "requests": requests,
        "warmup": warmup,
        "cores": len(os.sched_getaffinity(0)),
        "loadavg_start": load_start,
        "loadavg_end": loadavg(),
        "results": results,
        "added_latency_ms": added,
        "server_rss_mib": {"after_warmup": mem_warm, "end": mem_end},
        "leftover_processes": len(left),
        "leftover_pids": left,
    }


def core_inprocess(loop: asyncio.AbstractEventLoop, max_home: Path) -> Timing:
    from claude_max.core.conversation import Conversation, TextPart, Turn
    from claude_max.core.run import complete
    from claude_max.core.settings import Settings

    settings = Settings(home=max_home, claude_path=str(FAKE_CLAUDE))
    conv = Conversation(turns=(Turn("user", (TextPart(PROMPT),)),))
    t0 = time.perf_counter()
    reply = loop.run_until_complete(asyncio.wait_for(complete(conv, settings), 60))
    end = time.perf_counter() - t0
    return Timing(end, end, end, reply.text)


def health(client: httpx.Client, url: str) -> Timing:
    """GET /health: the HTTP round trip alone (no CLI)."""
    t0 = time.perf_counter()
    r = client.get(f"{url}/health")
    end = time.perf_counter() - t0
    r.raise_for_status()
    return Timing(end, end, end, REPLY)  # nothing to check


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def check(name: str, timing: Timing) -> Timing:
    if timing.text != REPLY:
        raise RuntimeError(f"{name}: unexpected answer {timing.text!r}")
    return timing


def render(report: dict[str, Any]) -> str:
    rows = []
    for name, res in report["results"].items():
        first = res.get("first_token", {}).get("median_ms", "")
        rows.append(
            [
                name,
                res["latency"]["median_ms"],
                res["latency"]["p90_ms"],
                first,
                report["added_latency_ms"].get(name, ""),
                res.get("server_cpu_ms_per_request", ""),
                res["fake_cpu_ms_per_request"],
            ]
        )
    head = (
        f"Overhead benchmark: fake CLI, {report['requests']} requests per variant "
        f"(+{report['warmup']} warm-up), {report['cores']} cores, "
        f"load {report['loadavg_start']} -> {report['loadavg_end']}"
    )
    body = table(
        [
            "variant",
            "latency med",
            "latency p90",
            "first med",
            "added med",
            "server CPU/req",
            "fake CPU/req",
        ],
        rows,
    )
    mem = report["server_rss_mib"]
    foot = [
        "",
        "ms; latency = to the end of the response (direct: to the fake's exit); "
        "added = median - fake-direct median; CPU from /proc (10 ms ticks, averaged).",
        f"Server RSS: {mem['after_warmup'].get('VmRSS')} MiB after warm-up, "
        f"{mem['end'].get('VmRSS')} MiB at the end, peak {mem['end'].get('VmHWM')} MiB",
        f"Leftover processes: {report['leftover_processes']} {report['leftover_pids'] or ''}",
    ]
    return "\n".join([head, "", body, *foot])


if __name__ == "__main__":
    sys.exit(main())
