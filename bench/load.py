"""Load: many requests at once through `claude-max serve`, against its concurrency limit.

N requests (default 200) from C concurrent clients (default 32, httpx.AsyncClient, keep-alive),
cycling through four kinds: OpenAI and Anthropic, streaming and not. Each client sends its next
request as soon as the previous one has ended (a closed loop); after a 429 it waits the
`retry-after` seconds first, as a polite client would (`--no-backoff`: it does not). Modes:

  fake   the fake CLI (tests/fakes/claude) in scenario `slow` with FAKE_CLAUDE_CHUNKS=5 and
         FAKE_CLAUDE_DELAY_MS=20: each request holds its slot ~100 ms beyond the fake's
         ~40 ms start-up, so that requests overlap (`--fake-delay-ms 0`: scenario `echo`)
  real   the real CLI against an in-process FakeUpstream that answers a short text in 4
         chunks, 25 ms apart (`--upstream-delay-ms`)

each against servers with the given limits (default: the server's defaults, then
`--max-concurrency 8 --max-queue 64`). Per run: completed (200 and the right answer),
rejected (429 in the caller's error shape, with a retry-after), failed (anything else); latency
p50/p99 of each; the server's RSS and the sum over its CLI children (sampled from /proc), the
peak number of live CLI children (must never exceed --max-concurrency, plus the warm pool's
size if /health reports one), the CLIs still running once the load is over (at most the warm
pool's), and leftover processes after the server stopped (must be zero). Usage:

  .venv/bin/python bench/load.py [--mode both|fake|real] [--requests 200] [--concurrency 32]
                                 [--limits default,8:64] [--server-env CLAUDE_MAX_WARM=0] [--json]

Exit 1 if a request failed, the CLI count exceeded its bound, or a process was left behind.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    ANTHROPIC_HEADERS,
    FAKE_CLAUDE,
    PROMPT,
    REAL_CLAUDE,
    Server,
    anthropic_body,
    leftovers,
    loadavg,
    new_tag,
    openai_body,
    percentile,
    proc_mem,
    server_env,
    table,
)
from upstream import FakeUpstream, cli_env

KINDS = ("openai", "openai-stream", "anthropic", "anthropic-stream")
FAKE_REPLY = "ECHO:" + PROMPT
REAL_REPLY = "Hello! This is a short benchmark reply."
SERVER_DEFAULTS = (4, 16)  # claude-max serve's --max-concurrency / --max-queue
PAGE_MIB = os.sysconf("SC_PAGE_SIZE") / 2**20
EXAMPLES = 5  # failures shown per run


# --------------------------------------------------------------------------- sampling /proc


def _stat(pid: int) -> tuple[int, str, int] | None:
    """(ppid, state, rss pages) of `pid`, or None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    fields = raw[raw.rindex(b")") + 2 :].split()  # fields[0] is field 3 (state)
    return int(fields[1]), fields[0].decode(), int(fields[21])


@dataclass
class Snapshot:
    server_mib: float  # the server's RSS
    clis: list[int]  # the server's live (non-zombie) children: the CLIs
    zombies: list[int]  # children that exited and are not reaped yet (no memory, no CPU)
    descendants: list[int]  # everything below the server, zombies included
    clis_mib: float  # summed RSS of the descendants


class Sampler(threading.Thread):
    """Polls /proc every `interval` s: the server's RSS, its children (the CLIs) and all its
    descendants with their summed RSS; keeps the peaks and every CLI pid seen."""

    def __init__(self, server_pid: int, interval: float) -> None:
        super().__init__(daemon=True, name="load-sampler")
        self.server_pid = server_pid
        self.interval = interval
        self.stopping = threading.Event()
        self.samples = 0
        self.peak_clis = 0  # live direct children at one instant
        self.peak_zombies = 0
        self.peak_descendants = 0
        self.peak_server_mib = 0.0
        self.peak_clis_mib = 0.0  # summed RSS of all descendants, at one instant
        self.peak_total_mib = 0.0  # server + descendants, at one instant
        self.seen: set[int] = set()  # CLI pids seen: ~ the CLIs started during the load
        self.grandchildren: set[str] = set()  # names of what the CLIs themselves start
        self.error: BaseException | None = None

    def snapshot(self) -> Snapshot:
        procs: dict[int, tuple[int, str, int]] = {}
        for entry in os.scandir("/proc"):
            if entry.name.isdigit() and (info := _stat(int(entry.name))) is not None:
                procs[int(entry.name)] = info
        children: dict[int, list[int]] = {}
        for pid, (ppid, _, _) in procs.items():
            children.setdefault(ppid, []).append(pid)
        direct = children.get(self.server_pid, [])
        found, todo = [], list(direct)
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(children.get(pid, []))
        return Snapshot(
            server_mib=procs.get(self.server_pid, (0, "", 0))[2] * PAGE_MIB,
            clis=[p for p in direct if procs[p][1] != "Z"],
            zombies=[p for p in direct if procs[p][1] == "Z"],
            descendants=found,
            clis_mib=sum(procs[p][2] for p in found) * PAGE_MIB,
        )

    def sample(self) -> None:
        snap = self.snapshot()
        self.samples += 1
        self.seen.update(snap.clis)
        self.peak_clis = max(self.peak_clis, len(snap.clis))
        self.peak_zombies = max(self.peak_zombies, len(snap.zombies))
        self.peak_descendants = max(self.peak_descendants, len(snap.descendants))
        self.peak_server_mib = max(self.peak_server_mib, snap.server_mib)
        self.peak_clis_mib = max(self.peak_clis_mib, snap.clis_mib)
        self.peak_total_mib = max(self.peak_total_mib, snap.server_mib + snap.clis_mib)
        for pid in set(snap.descendants) - set(snap.clis) - set(snap.zombies):
            with contextlib.suppress(OSError):
                self.grandchildren.add(Path(f"/proc/{pid}/comm").read_text().strip())

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                self.sample()
                self.stopping.wait(self.interval)
        except BaseException as exc:  # reported by the caller
            self.error = exc

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=5)


# --------------------------------------------------------------------------- requests


@dataclass
class Outcome:
    kind: str
    status: str  # ok | rejected | failed
    latency: float  # s, request sent -> end of the response body
    detail: str = ""
    retry_after: float = 0.0


def _request(kind: str) -> tuple[str, dict[str, Any], dict[str, str]]:
    stream = kind.endswith("-stream")
    if kind.startswith("openai"):
        return "/v1/chat/completions", openai_body(None, stream), {}
    return "/v1/messages", anthropic_body(None, stream), ANTHROPIC_HEADERS


def _stream_text(kind: str, lines: list[str]) -> str:
    """The answer of an SSE body; raises if it has an error or lacks its final event."""
    text, done = "", False
    for line in lines:
        if not line.startswith("data: "):
            continue
        data = line[6:]
        if data == "[DONE]":
            done = True
            continue
        event = json.loads(data)
        if "error" in event or event.get("type") == "error":
            raise ValueError(f"error event {data[:200]}")
        if kind.startswith("openai"):
            for choice in event.get("choices", []):
                text += (choice.get("delta") or {}).get("content") or ""
        elif event.get("type") == "content_block_delta":
            text += event["delta"].get("text", "")
        elif event.get("type") == "message_stop":
            done = True
    if not done:
        raise ValueError("stream ended without [DONE] / message_stop")
    return text


def _plain_text(kind: str, body: dict[str, Any]) -> str:
    if kind.startswith("openai"):
        return str(body["choices"][0]["message"]["content"])
    return "".join(b.get("text", "") for b in body["content"])


def _rejection(kind: str, headers: httpx.Headers, raw: bytes) -> tuple[str, float]:
    """'' and the retry-after of a well-formed 429, else what is wrong with it."""
    try:
        retry_after = float(headers.get("retry-after", ""))
    except ValueError:
        return f"429 without a numeric retry-after: {headers.get('retry-after')!r}", 0.0
    if retry_after <= 0:
        return f"429 with retry-after {retry_after}", 0.0
    try:
        body = json.loads(raw)
    except ValueError:
        return f"429 with a non-JSON body: {raw[:200]!r}", 0.0
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not error.get("message"):
        return f"429 without an error object: {raw[:200]!r}", 0.0
    if kind.startswith("openai"):
        good = error.get("type") == "rate_limit_error" and error.get("code") == (
            "rate_limit_exceeded"
        )
    else:
        good = body.get("type") == "error" and error.get("type") == "rate_limit_error"
    if not good:
        return f"429 not in the {kind.split('-')[0]} shape: {raw[:200]!r}", 0.0
    return "", retry_after


async def one(client: httpx.AsyncClient, url: str, kind: str, reply: str) -> Outcome:
    path, body, headers = _request(kind)
    t0 = time.perf_counter()
    try:
        async with client.stream("POST", url + path, json=body, headers=headers) as r:
            if r.status_code == 200 and kind.endswith("-stream"):
                lines = [line async for line in r.aiter_lines()]
                raw = b""
            else:
                raw = await r.aread()
        latency = time.perf_counter() - t0
    except (httpx.HTTPError, OSError) as exc:
        return Outcome(kind, "failed", time.perf_counter() - t0, f"{type(exc).__name__}: {exc}")
    if r.status_code == 429:
        problem, retry_after = _rejection(kind, r.headers, raw)
        if problem:
            return Outcome(kind, "failed", latency, problem)
        return Outcome(kind, "rejected", latency, retry_after=retry_after)
    if r.status_code != 200:
        return Outcome(kind, "failed", latency, f"HTTP {r.status_code}: {raw[:300]!r}")
    try:
        text = (
            _stream_text(kind, lines)
            if kind.endswith("-stream")
            else _plain_text(kind, json.loads(raw))
        )
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        return Outcome(kind, "failed", latency, f"bad 200: {exc}")
    if text != reply:
        return Outcome(kind, "failed", latency, f"wrong answer {text[:100]!r}")
    return Outcome(kind, "ok", latency)


async def drive(
    url: str, requests: int, concurrency: int, reply: str, backoff: bool, deadline: float
) -> dict[str, Any]:
    """`requests` requests from `concurrency` closed-loop clients; /health polled meanwhile
    for the server's own view (slots in use, requests waiting)."""
    outcomes: list[Outcome] = []
    jobs = iter(range(requests))
    peak = {"active": 0, "waiting": 0}
    health_s: list[float] = []  # /health round trips during the load: HTTP alone, no limiter
    limits = httpx.Limits(max_connections=concurrency + 1, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=120.0, limits=limits) as client:

        async def worker() -> None:
            for i in jobs:
                out = await one(client, url, KINDS[i % len(KINDS)], reply)
                outcomes.append(out)
                if backoff and out.status == "rejected":
                    await asyncio.sleep(out.retry_after)

        async def watch() -> None:
            async with httpx.AsyncClient(timeout=10.0) as probe:
                while True:
                    with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
                        t0 = time.perf_counter()
                        r = await probe.get(f"{url}/health")
                        health_s.append(time.perf_counter() - t0)
                        counts = r.json()["requests"]
                        peak["active"] = max(peak["active"], counts["active"])
                        peak["waiting"] = max(peak["waiting"], counts["waiting"])
                    await asyncio.sleep(0.05)

        watcher = asyncio.ensure_future(watch())
        t0 = time.perf_counter()
        timed_out = False
        try:
            await asyncio.wait_for(
                asyncio.gather(*(worker() for _ in range(concurrency))), deadline
            )
        except asyncio.TimeoutError:
            timed_out = True
        finally:
            wall = time.perf_counter() - t0
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
    for _ in range(requests - len(outcomes)):  # cut off by the deadline, or never sent
        outcomes.append(Outcome("?", "failed", deadline, f"not finished within {deadline} s"))
    return {
        "outcomes": outcomes,
        "wall_s": wall,
        "timed_out": timed_out,
        "health_peak": peak,
        "health_latency": _lat(health_s),
    }


# --------------------------------------------------------------------------- one run


def _lat(values: list[float]) -> dict[str, float | int | None]:
    ms = [v * 1000 for v in values]
    if not ms:
        return {"n": 0, "p50_ms": None, "p99_ms": None, "max_ms": None}
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "max_ms": round(max(ms), 1),
    }


def run_once(
    mode: str,
    claude: Path,
    base_env: dict[str, str],
    root: Path,
    limits: tuple[int, int] | None,
    args: argparse.Namespace,
    reply: str,
) -> dict[str, Any]:
    """One server with the given limits (None: its defaults), warmed up, under load."""
    tag = new_tag()
    label = "default" if limits is None else f"{limits[0]}:{limits[1]}"
    run_dir = root / f"{mode}-{label.replace(':', '-')}"
    run_dir.mkdir()
    env = server_env(base_env, claude=claude, max_home=run_dir / "claude-max-home", tag=tag)
    if limits is not None:  # the options' environment variables (typer envvar)
        env["CLAUDE_MAX_MAX_CONCURRENCY"], env["CLAUDE_MAX_MAX_QUEUE"] = map(str, limits)
    env.update(args.server_env)
    max_concurrency, max_queue = limits or SERVER_DEFAULTS
    load_start = loadavg()
    server: Server | None = None
    sampler: Sampler | None = None
    try:
        server = Server(env, run_dir / "server.log").start()
        assert server.proc is not None
        pid, url = server.proc.pid, server.url
        health = httpx.get(f"{url}/health", timeout=10).json()
        if health["requests"]["limit"] != max_concurrency:
            raise RuntimeError(f"server limit {health['requests']} != {max_concurrency}")
        # A warm pool (if the server has one) keeps CLIs started outside the request slots.
        warm_size = int(health.get("warm", {}).get("size", 0))
        # Warm-up: one request of each kind, one at a time (first-request costs, page cache).
        warm = asyncio.run(drive(url, len(KINDS), 1, reply, backoff=False, deadline=120))
        bad = [o for o in warm["outcomes"] if o.status != "ok"]
        if bad:
            raise RuntimeError(f"warm-up failed: {bad[0]}")
        mem_before = proc_mem(pid)
        sampler = Sampler(pid, args.sample_ms / 1000)
        before = set(sampler.snapshot().clis)  # the warm pool's, if any
        sampler.start()
        res = asyncio.run(
            drive(url, args.requests, args.concurrency, reply, args.backoff, args.deadline)
        )
        # Once the load is over only the warm pool's CLIs may be left under the idle server.
        idle_deadline = time.monotonic() + 5
        while True:
            after = sampler.snapshot()
            if len(after.clis) <= warm_size or time.monotonic() >= idle_deadline:
                break
            time.sleep(0.05)
        sampler.stop()
        if sampler.error is not None:
            raise RuntimeError(f"sampler failed: {sampler.error!r}")
        mem_after = proc_mem(pid)
        warm_stats = httpx.get(f"{url}/health", timeout=10).json().get("warm")
    finally:
        if sampler is not None:
            sampler.stop()
        if server is not None:
            server.stop()
    time.sleep(0.2)
    left = leftovers(
        tag,
        [server.pattern if server else "claude-max serve --port", str(claude)],
        [server.proc.pid] if server and server.proc else [],
    )

    outcomes: list[Outcome] = res["outcomes"]
    by = {s: [o for o in outcomes if o.status == s] for s in ("ok", "rejected", "failed")}
    return {
        "mode": mode,
        "limits": label,
        "max_concurrency": max_concurrency,
        "max_queue": max_queue,
        "requests": args.requests,
        "concurrency": args.concurrency,
        "completed": len(by["ok"]),
        "rejected": len(by["rejected"]),
        "failed": len(by["failed"]),
        "completed_by_kind": {k: sum(o.kind == k for o in by["ok"]) for k in KINDS},
        "failures": [f"{o.kind}: {o.detail}" for o in by["failed"][:EXAMPLES]],
        "latency_completed": _lat([o.latency for o in by["ok"]]),
        "latency_rejected": _lat([o.latency for o in by["rejected"]]),
        "wall_s": round(res["wall_s"], 2),
        "completed_per_s": round(len(by["ok"]) / res["wall_s"], 2) if res["wall_s"] else None,
        "timed_out": res["timed_out"],
        "health_peak": res["health_peak"],
        "latency_health": res["health_latency"],
        "warm_size": warm_size,
        "warm_stats": warm_stats,
        "peak_clis": sampler.peak_clis,
        "peak_zombies": sampler.peak_zombies,
        "peak_descendants": sampler.peak_descendants,
        "grandchildren": sorted(sampler.grandchildren),
        "cli_starts": len(sampler.seen - before),
        "clis_after_load": len(after.clis),
        "samples": sampler.samples,
        "rss_mib": {
            "server_before": mem_before.get("VmRSS"),
            "server_after": mem_after.get("VmRSS"),
            "server_peak_sampled": round(sampler.peak_server_mib, 1),
            "server_hwm": mem_after.get("VmHWM"),
            "clis_peak": round(sampler.peak_clis_mib, 1),
            "total_peak": round(sampler.peak_total_mib, 1),
        },
        "loadavg_start": load_start,
        "loadavg_end": loadavg(),
        "leftover_processes": len(left),
        "leftover_pids": left,
    }


def bench(args: argparse.Namespace) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    modes = ("fake", "real") if args.mode == "both" else (args.mode,)
    with tempfile.TemporaryDirectory(prefix="cm-bench-load-") as tmp:
        root = Path(tmp)
        for mode in modes:
            if mode == "fake":
                (root / "fake-home").mkdir()
                base = {
                    "PATH": "/usr/bin:/bin",
                    "HOME": str(root / "fake-home"),
                    "CLAUDE_CONFIG_DIR": str(root / "fake-home" / ".claude"),
                    "LANG": "C.UTF-8",
                    "FAKE_CLAUDE_SCENARIO": "slow" if args.fake_delay_ms else "echo",
                    "FAKE_CLAUDE_CHUNKS": "5",
                    "FAKE_CLAUDE_DELAY_MS": str(args.fake_delay_ms),
                }
                for limits in args.limits:
                    runs.append(run_once(mode, FAKE_CLAUDE, base, root, limits, args, FAKE_REPLY))
                continue
            script = {
                "default": {
                    "type": "text",
                    "text": REAL_REPLY,
                    "chunks": 4,
                    "delay_ms": args.upstream_delay_ms,
                }
            }
            fake = FakeUpstream(script)
            fake.keep_requests = False
            fake.start()
            try:
                base = cli_env(fake.url, root / "cli-home")
                for limits in args.limits:
                    runs.append(run_once(mode, args.claude, base, root, limits, args, REAL_REPLY))
            finally:
                fake.stop()
    return {
        "benchmark": "load",
        "requests": args.requests,
        "concurrency": args.concurrency,
        "backoff": args.backoff,
        "server_env": dict(args.server_env),
        "fake": {
            "scenario": "slow" if args.fake_delay_ms else "echo",
            "chunks": 5,
            "delay_ms": args.fake_delay_ms,
        },
        "real": {"cli": str(args.claude), "upstream_chunks": 4, "delay_ms": args.upstream_delay_ms},
        "cores": len(os.sched_getaffinity(0)),
        "runs": runs,
    }


# --------------------------------------------------------------------------- output


def problems(run: dict[str, Any]) -> list[str]:
    out = []
    if run["failed"]:
        out.append(f"{run['failed']} failed")
    bound = run["max_concurrency"] + run["warm_size"]
    if run["peak_clis"] > bound:
        out.append(
            f"{run['peak_clis']} CLIs at once > --max-concurrency {run['max_concurrency']}"
            + (f" + warm pool {run['warm_size']}" if run["warm_size"] else "")
        )
    if run["clis_after_load"] > run["warm_size"]:
        out.append(
            f"{run['clis_after_load']} CLIs still running 5 s after the load "
            f"(warm pool: {run['warm_size']})"
        )
    if run["leftover_processes"]:
        out.append(f"{run['leftover_processes']} leftover processes {run['leftover_pids']}")
    return out


def render(report: dict[str, Any]) -> str:
    fake, real = report["fake"], report["real"]
    head = [
        f"Load benchmark: {report['requests']} requests at concurrency {report['concurrency']} "
        f"({'clients wait retry-after after a 429' if report['backoff'] else 'no back-off'}), "
        f"{report['cores']} cores" + "".join(f", {k}={v}" for k, v in report["server_env"].items()),
        f"fake = tests/fakes/claude scenario {fake['scenario']}, {fake['chunks']} deltas "
        f"{fake['delay_ms']} ms apart; real = {real['cli']} against FakeUpstream, "
        f"{real['upstream_chunks']} chunks {real['delay_ms']} ms apart",
    ]
    rows = []
    for r in report["runs"]:
        ok, rej, mem = r["latency_completed"], r["latency_rejected"], r["rss_mib"]
        rows.append(
            [
                r["mode"],
                f"{r['max_concurrency']}/{r['max_queue']}",
                r["completed"],
                r["rejected"],
                r["failed"],
                ok["p50_ms"] if ok["n"] else "-",
                ok["p99_ms"] if ok["n"] else "-",
                rej["p50_ms"] if rej["n"] else "-",
                rej["p99_ms"] if rej["n"] else "-",
                r["wall_s"],
                r["completed_per_s"],
                f"{r['peak_clis']}/{r['max_concurrency']}"
                + (f"+{r['warm_size']}" if r["warm_size"] else ""),
                r["cli_starts"],
                f"{r['health_peak']['waiting']}",
                f"{mem['server_before']}->{mem['server_after']}",
                mem["server_hwm"],
                mem["clis_peak"],
                mem["total_peak"],
                r["leftover_processes"],
            ]
        )
    body = table(
        [
            "mode",
            "conc/queue",
            "ok",
            "429",
            "failed",
            "ok p50",
            "ok p99",
            "429 p50",
            "429 p99",
            "wall s",
            "ok/s",
            "peak CLIs",
            "CLI starts",
            "peak wait",
            "server RSS",
            "srv peak",
            "CLIs RSS pk",
            "total pk",
            "leftover",
        ],
        rows,
    )
    foot = [
        "",
        "ms / MiB. latency = request sent -> end of the response body; peak CLIs = most live "
        "children of the server at once (/proc, every sample) / --max-concurrency (+ warm "
        "pool size); CLI starts = CLI pids seen during the load; peak wait = most requests "
        "queued for a slot (/health); server RSS = VmRSS after warm-up -> after the load; "
        "srv peak = VmHWM; CLIs RSS pk = peak summed RSS of the server's descendants; "
        "total pk = peak of server + descendants at one instant.",
    ]
    for r in report["runs"]:
        tag = f"{r['mode']} {r['max_concurrency']}/{r['max_queue']}"
        foot.append(
            f"{tag}: load {r['loadavg_start']} -> {r['loadavg_end']}, {r['samples']} samples, "
            f"peak descendants {r['peak_descendants']} {r['grandchildren'] or ''}, "
            f"completed by kind {r['completed_by_kind']}, "
            f"429 max {r['latency_rejected']['max_ms']} ms, /health during the load p50 "
            f"{r['latency_health']['p50_ms']} p99 {r['latency_health']['p99_ms']} ms, "
            f"peak unreaped CLIs {r['peak_zombies']}"
            + (f", warm pool {r['warm_stats']}" if r["warm_size"] else "")
        )
        for failure in r["failures"]:
            foot.append(f"  failed: {failure}")
        for problem in problems(r):
            foot.append(f"  PROBLEM: {problem}")
    return "\n".join([*head, "", body, *foot])


def _limits(text: str) -> list[tuple[int, int] | None]:
    out: list[tuple[int, int] | None] = []
    for item in text.split(","):
        item = item.strip()
        if item == "default":
            out.append(None)
            continue
        conc, _, queue = item.partition(":")
        try:
            pair = (int(conc), int(queue))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{item!r}: want default or CONC:QUEUE") from None
        if not 1 <= pair[0] <= 64 or not 0 <= pair[1] <= 1000:
            raise argparse.ArgumentTypeError(f"{item!r}: concurrency 1..64, queue 0..1000")
        out.append(pair)
    return out


def _env_pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"{text!r}: want NAME=VALUE")
    return name, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("both", "fake", "real"), default="both")
    parser.add_argument("--requests", type=int, default=200, help="requests per run")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent clients")
    parser.add_argument(
        "--limits",
        type=_limits,
        default=_limits("default,8:64"),
        help="server limits per run, comma-separated: default or CONC:QUEUE (default,8:64)",
    )
    parser.add_argument(
        "--no-backoff",
        dest="backoff",
        action="store_false",
        help="send the next request right after a 429 instead of waiting retry-after",
    )
    parser.add_argument("--fake-delay-ms", type=int, default=20, help="0: scenario echo")
    parser.add_argument("--upstream-delay-ms", type=int, default=25)
    parser.add_argument("--claude", type=Path, default=REAL_CLAUDE, help="the real CLI")
    parser.add_argument("--sample-ms", type=float, default=20, help="/proc sampling interval")
    parser.add_argument("--deadline", type=float, default=600, help="seconds per run, at most")
    parser.add_argument(
        "--server-env",
        type=_env_pair,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment of the servers, e.g. CLAUDE_MAX_WARM=0 (repeatable)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    args = parser.parse_args(argv)
    if not 1 <= args.requests <= 5000 or not 1 <= args.concurrency <= 256:
        parser.error("--requests must be 1..5000, --concurrency 1..256")
    if not 0 <= args.fake_delay_ms <= 1000 or not 0 <= args.upstream_delay_ms <= 1000:
        parser.error("--fake-delay-ms and --upstream-delay-ms must be 0..1000")
    if not 5 <= args.sample_ms <= 1000 or not 10 <= args.deadline <= 3600:
        parser.error("--sample-ms must be 5..1000, --deadline 10..3600")
    if args.mode != "fake":
        if not args.claude.exists():
            parser.error(f"no CLI at {args.claude}")
        args.claude = args.claude.resolve()
    report = bench(args)
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 1 if any(problems(r) for r in report["runs"]) else 0


if __name__ == "__main__":
    sys.exit(main())
