"""Time to first token and full response time: the cold CLI vs. the same CLI behind claude-max,
with the warm pool (`serve --warm 2`) and without it (`serve --warm 0`).

All variants answer from one in-process FakeUpstream (an instant, short reply in a few chunks),
run by run in rotating order so that drifting machine load hits them alike:

  cold            `claude -p --output-format stream-json --verbose --include-partial-messages
                  --tools "" [--system-prompt S] -- PROMPT`, stdin=/dev/null: from spawn to the
                  first stdout line with a text_delta (first) and to the process exit (end)
  cli-as-server   the CLI with the server's exact argv/env/stdin (core/argv.py), driven
                  directly: the CLI's share of the server's time, without HTTP or asyncio
  serve-openai    POST /v1/chat/completions stream=true through `claude-max serve --warm 0`
                  (real CLI, no pool): to the first chunk with non-empty delta.content, to
                  `data: [DONE]` (done) and to the end of the response body (end)
  serve-anthropic POST /v1/messages stream=true, max_tokens 1024, same server: to the first
                  text_delta, to message_stop, to the end of the body
  pool-openai     as serve-openai, through `claude-max serve --warm 2` (the default), after
  pool-anthropic  waiting (bounded) until the pool has refilled and its processes have booted;
                  /health's hit counter is read around every request

each without and then (a second block) with a client system prompt: every pooled request
kind keeps one launch spec per block, so a pool of 2 holds one process for each of the two
specs in use (OpenAI without max_tokens, Anthropic with max_tokens 1024). Then:

  streaming fidelity  FakeUpstream sends 10 text deltas 50 ms apart; the gaps between the
                      pieces as the client sees them, direct CLI vs. through the proxy
  start-up            `claude-max serve` launch -> first 200 from /health (and -> the first
                      warm process spawned), --warm 2 vs. --warm 0; idle RSS of the servers
                      and of the warm processes (/health rss_mb and /proc)

Usage:

  .venv/bin/python bench/ttft.py [--runs 15] [--json]   # ~5 min
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    CLK_TCK,
    REAL_CLAUDE,
    SYSTEM,
    Server,
    Timing,
    anthropic_stream,
    cold_cli,
    leftovers,
    loadavg,
    new_tag,
    openai_stream,
    percentile,
    proc_mem,
    server_argv_cli,
    server_env,
    summary,
    table,
)
from upstream import FakeUpstream, cli_env

REPLY = "Hello! This is a short benchmark reply."
FIDELITY_MARK = "FIDELITY"
FIDELITY_PROMPT = f"{FIDELITY_MARK}: say anything."
KINDS = (
    "cold",
    "cli-as-server",
    "serve-openai",
    "serve-anthropic",
    "pool-openai",
    "pool-anthropic",
)
PAGE_MIB = os.sysconf("SC_PAGE_SIZE") / 2**20


def fidelity_text(deltas: int) -> str:
    """`deltas` pieces of 4 characters: FakeUpstream splits it into exactly that many."""
    return "".join(f"<{i:02d}>" for i in range(deltas))


def script(deltas: int, gap_ms: float) -> dict[str, Any]:
    return {
        "default": {"type": "text", "text": REPLY, "chunks": 4, "delay_ms": 0},
        "rules": [
            {
                "when": {"contains": FIDELITY_MARK},
                "reply": {
                    "type": "text",
                    "text": fidelity_text(deltas),
                    "chunks": deltas,
                    "delay_ms": gap_ms,
                },
            }
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="measured runs per variant")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured runs per variant")
    parser.add_argument("--claude", type=Path, default=REAL_CLAUDE, help="the real CLI")
    parser.add_argument("--warm", type=int, default=2, help="--warm of the pooled server")
    parser.add_argument(
        "--settle",
        type=float,
        default=2.5,
        help="s a warm process must have lived (and 100 ms idle) before a pooled request",
    )
    parser.add_argument("--ready-timeout", type=float, default=15.0, help="bound of that wait, s")
    parser.add_argument("--fidelity-runs", type=int, default=5, help="runs per fidelity variant")
    parser.add_argument("--fidelity-deltas", type=int, default=10)
    parser.add_argument("--fidelity-gap-ms", type=float, default=50.0)
    parser.add_argument("--launches", type=int, default=5, help="server launches per --warm")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    args = parser.parse_args(argv)
    if not 1 <= args.runs <= 1000 or not 0 <= args.warmup <= 100:
        parser.error("--runs must be 1..1000, --warmup 0..100")
    if not 1 <= args.warm <= 16:
        parser.error("--warm must be 1..16 (the unpooled server always runs --warm 0)")
    if not 0 <= args.settle <= 10 or not 1 <= args.ready_timeout <= 120:
        parser.error("--settle must be 0..10 s, --ready-timeout 1..120 s")
    if not 0 <= args.fidelity_runs <= 100 or not 2 <= args.fidelity_deltas <= 50:
        parser.error("--fidelity-runs must be 0..100, --fidelity-deltas 2..50")
    if not 5 <= args.fidelity_gap_ms <= 1000 or not 0 <= args.launches <= 50:
        parser.error("--fidelity-gap-ms must be 5..1000, --launches 0..50")
    if not args.claude.exists():
        parser.error(f"no CLI at {args.claude}")

    report = bench(args.claude.resolve(), args)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(render(report))
    return 0 if report["leftover_processes"] == 0 else 1


# --------------------------------------------------------------------------- /proc and /health


@dataclass
class Child:
    pid: int
    age_s: float
    cpu_s: float
    rss_mib: float


def descendants(root: int) -> list[Child]:
    """Live (non-zombie) processes below `root`, from one scan of /proc."""
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    stats: dict[int, tuple[int, Child]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()  # fields[0] is field 3 (state)
        if fields[0] == "Z":
            continue
        stats[int(entry.name)] = (
            int(fields[1]),
            Child(
                pid=int(entry.name),
                age_s=uptime - int(fields[19]) / CLK_TCK,
                cpu_s=(int(fields[11]) + int(fields[12])) / CLK_TCK,
                rss_mib=int(fields[21]) * PAGE_MIB,
            ),
        )
    found, todo = [], [root]
    while todo:
        parent = todo.pop()
        for pid, (ppid, child) in stats.items():
            if ppid == parent:
                found.append(child)
                todo.append(pid)
    return found


def warm_stats(client: httpx.Client, url: str) -> dict[str, Any]:
    r = client.get(f"{url}/health", timeout=5.0)
    r.raise_for_status()
    return dict(r.json()["warm"])


@dataclass
class PoolWatch:
    """Waits for the pool server's refill and books every pooled request as a hit or miss."""

    client: httpx.Client
    server: Server
    settle: float
    timeout: float
    log: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def settled(self) -> tuple[dict[str, Any], float, bool]:
        """Until /health says no process is starting and one is ready, and every warm process
        (each live descendant of the server) is `settle` s old and used no CPU for 100 ms:
        `ready` counts a process as soon as it is spawned, its boot takes ~0.4 s of CPU more.
        Bounded by `timeout`; returns (warm stats, seconds waited, settled?)."""
        assert self.server.proc is not None
        t0 = time.monotonic()
        before: dict[int, float] = {}
        while True:
            stats = warm_stats(self.client, self.server.url)
            kids = {c.pid: c for c in descendants(self.server.proc.pid)}
            cpu = {pid: c.cpu_s for pid, c in kids.items()}
            quiet = cpu.keys() == before.keys() and all(
                cpu[pid] - before[pid] <= 1.5 / CLK_TCK for pid in cpu
            )
            if (
                stats["starting"] == 0
                and stats["ready"] >= 1
                and kids
                and all(c.age_s >= self.settle for c in kids.values())
                and quiet
            ):
                return stats, time.monotonic() - t0, True
            if time.monotonic() - t0 > self.timeout:
                return stats, time.monotonic() - t0, False
            before = cpu
            time.sleep(0.1)

    def wrap(self, name: str, request: Callable[[], Timing]) -> Callable[[], Timing]:
        def pooled() -> Timing:
            before, waited_pre, ok = self.settled()
            timing = request()
            after = warm_stats(self.client, self.server.url)
            _, waited, ok_after = self.settled()  # no CLI boots during the next variant
            self.log.setdefault(name, []).append(
                {
                    "hit": after["hits"] - before["hits"] == 1,
                    "miss": after["misses"] - before["misses"] == 1,
                    "settled": ok,
                    "refill_wait_s": round(waited, 3),
                    "settled_after": ok_after,
                    "pre_wait_s": round(waited_pre, 3),
                }
            )
            return timing

        return pooled


# --------------------------------------------------------------------------- the benchmark


def bench(claude: Path, args: argparse.Namespace) -> dict[str, Any]:
    tag = new_tag()
    loads: dict[str, list[float]] = {"start": loadavg()}
    version = subprocess.run(
        [str(claude), "--version"], capture_output=True, text=True, timeout=30, check=True
    ).stdout.strip()
    samples: dict[str, list[Timing]] = {}
    fidelity: dict[str, list[Timing]] = {}
    launches: dict[str, list[dict[str, float | None]]] = {}
    memory: dict[str, Any] = {}
    servers: list[Server] = []
    pool_log: dict[str, list[dict[str, Any]]] = {}
    pool_final: dict[str, Any] = {}
    fid_text = fidelity_text(args.fidelity_deltas)
    fake = FakeUpstream(script(args.fidelity_deltas, args.fidelity_gap_ms))
    fake.keep_requests = False
    with tempfile.TemporaryDirectory(prefix="cm-bench-ttft-") as tmp:
        root = Path(tmp)
        cold_cwd = root / "cold-cwd"
        cold_cwd.mkdir()
        max_home = root / "claude-max-home"
        fake.start()
        try:
            env = cli_env(fake.url, root / "cli-home")
            env["CMBENCH_TAG"] = tag
            senv = server_env(env, claude=claude, max_home=max_home, tag=tag)

            def new_server(warm: int) -> Server:
                server = Server(
                    senv, root / f"server-{len(servers)}.log", args=("--warm", str(warm))
                )
                servers.append(server)
                return server.start(poll=0.01)

            launches = measure_launches(new_server, args.warm, args.launches)
            loads["after_launches"] = loadavg()
            plain, pooled = new_server(0), new_server(args.warm)
            with httpx.Client(timeout=60.0) as client:
                watch = PoolWatch(client, pooled, args.settle, args.ready_timeout)
                for label, system in (("", None), ("+system", SYSTEM)):
                    variants = phase_variants(
                        label, system, claude, env, cold_cwd, max_home, client, plain, watch
                    )
                    rounds(variants, args.warmup, None)
                    watch.log.clear()  # warm-up misses (a new launch spec) are not counted
                    if not label:  # everything has served a request; the pool settles
                        watch.settled()
                        memory["after_warmup"] = idle_memory(client, plain, pooled)
                    rounds(variants, args.runs, samples)
                    pool_log.update(watch.log)
                    watch.log.clear()
                    if not label and args.fidelity_runs:
                        fid = fidelity_variants(claude, env, max_home, client, plain, watch)
                        rounds(fid, args.fidelity_runs, fidelity, fid_text)
                        pool_log.update({f"fidelity:{k}": v for k, v in watch.log.items()})
                        watch.log.clear()
                    loads[f"after_block{label or '-nosystem'}"] = loadavg()
                watch.settled()
                memory["at_end"] = idle_memory(client, plain, pooled)
                pool_final = warm_stats(client, pooled.url)
        finally:
            for server in servers:
                server.stop()
            fake.stop()
        time.sleep(0.2)
        left = leftovers(
            tag,
            ["claude-max serve --port", str(claude)],
            [s.proc.pid for s in servers if s.proc is not None],
        )
    loads["end"] = loadavg()
    results = {
        name: {
            "first_token": summary([t.first for t in ts]),
            "done": summary([t.done for t in ts]),
            "end": summary([t.end for t in ts]),
        }
        for name, ts in samples.items()
    }
    return {
        "benchmark": "ttft",
        "cli": str(claude),
        "cli_version": version,
        "runs": args.runs,
        "warmup": args.warmup,
        "pool_warm": args.warm,
        "settle_s": args.settle,
        "reply": script(args.fidelity_deltas, args.fidelity_gap_ms),
        "cores": len(os.sched_getaffinity(0)),
        "loadavg": loads,
        "results": results,
        **comparisons(results),
        "pool": pool_counts(pool_log, pool_final),
        "fidelity": fidelity_stats(fidelity, args.fidelity_gap_ms / 1000),
        "startup": {
            kind: {
                key: summary([x[key] for x in runs if x[key] is not None])
                for key in ("healthy_s", "first_warm_spawned_s")
                if any(x[key] is not None for x in runs)
            }
            for kind, runs in launches.items()
            if runs
        },
        "memory": memory,
        "leftover_processes": len(left),
        "leftover_pids": left,
    }


def phase_variants(
    label: str,
    system: str | None,
    claude: Path,
    env: Mapping[str, str],
    cold_cwd: Path,
    max_home: Path,
    client: httpx.Client,
    plain: Server,
    watch: PoolWatch,
) -> dict[str, Callable[[], Timing]]:
    pooled = watch.server.url
    return {
        f"cold{label}": lambda: cold_cli(claude, env, cold_cwd, system),
        f"cli-as-server{label}": lambda: server_argv_cli(claude, env, max_home, system),
        f"serve-openai{label}": lambda: openai_stream(client, plain.url, system),
        f"serve-anthropic{label}": lambda: anthropic_stream(client, plain.url, system),
        f"pool-openai{label}": watch.wrap(
            f"pool-openai{label}", lambda: openai_stream(client, pooled, system)
        ),
        f"pool-anthropic{label}": watch.wrap(
            f"pool-anthropic{label}", lambda: anthropic_stream(client, pooled, system)
        ),
    }


def fidelity_variants(
    claude: Path,
    env: Mapping[str, str],
    max_home: Path,
    client: httpx.Client,
    plain: Server,
    watch: PoolWatch,
) -> dict[str, Callable[[], Timing]]:
    p, pooled = FIDELITY_PROMPT, watch.server.url
    return {
        "cli-as-server": lambda: server_argv_cli(claude, env, max_home, None, prompt=p),
        "serve-openai": lambda: openai_stream(client, plain.url, None, prompt=p),
        "serve-anthropic": lambda: anthropic_stream(client, plain.url, None, prompt=p),
        "pool-openai": watch.wrap("pool-openai", lambda: openai_stream(client, pooled, None, p)),
        "pool-anthropic": watch.wrap(
            "pool-anthropic", lambda: anthropic_stream(client, pooled, None, p)
        ),
    }


def rounds(
    variants: dict[str, Callable[[], Timing]],
    runs: int,
    samples: dict[str, list[Timing]] | None,
    text: str = REPLY,
) -> None:
    """`runs` rounds of every variant, the order rotated each round; checks every answer."""
    names = list(variants)
    for i in range(runs):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            timing = variants[name]()
            if timing.text != text:
                raise RuntimeError(f"{name}: unexpected answer {timing.text!r}")
            if samples is not None:
                samples.setdefault(name, []).append(timing)


def measure_launches(
    new_server: Callable[[int], Server], warm: int, launches: int
) -> dict[str, list[dict[str, float | None]]]:
    """Start and stop `serve --warm N` and `--warm 0`, alternately: launch -> healthy /health,
    and -> /health reporting the first warm process (spawned, not yet booted)."""
    out: dict[str, list[dict[str, float | None]]] = {f"warm {warm}": [], "warm 0": []}
    for i in range(launches):
        for w in (warm, 0) if i % 2 == 0 else (0, warm):
            server = new_server(w)
            assert server.healthy_s is not None
            spawned: float | None = None
            if w:
                deadline = time.monotonic() + 15
                while spawned is None and time.monotonic() < deadline:
                    stats = httpx.get(f"{server.url}/health", timeout=5.0).json()["warm"]
                    if stats["ready"] >= 1:
                        spawned = time.perf_counter() - server.launched_at
                    else:
                        time.sleep(0.005)
            server.stop()
            out[f"warm {w}"].append(
                {"healthy_s": server.healthy_s, "first_warm_spawned_s": spawned}
            )
            time.sleep(0.5)  # let the killed CLI and the server's exit settle
    return out


def idle_memory(client: httpx.Client, plain: Server, pooled: Server) -> dict[str, Any]:
    assert plain.proc is not None and pooled.proc is not None
    warm = warm_stats(client, pooled.url)
    kids = descendants(pooled.proc.pid)
    return {
        "server_warm0_rss_mib": proc_mem(plain.proc.pid).get("VmRSS"),
        "server_warm0_descendants": len(descendants(plain.proc.pid)),
        "server_pool_rss_mib": proc_mem(pooled.proc.pid).get("VmRSS"),
        "warm_ready": warm["ready"],
        "warm_processes_proc": len(kids),
        "warm_rss_mib_health": warm.get("rss_mb"),
        "warm_rss_mib_proc": round(sum(c.rss_mib for c in kids), 1),
        "warm_age_s": sorted(round(c.age_s, 1) for c in kids),
    }


# --------------------------------------------------------------------------- statistics


def comparisons(results: dict[str, Any]) -> dict[str, Any]:
    def med(name: str, key: str) -> float:
        return float(results[name][key]["median_ms"])

    ratios, proxy, pool_gain = {}, {}, {}
    for label in ("", "+system"):
        for kind in KINDS[1:]:
            name = f"{kind}{label}"
            ratios[name] = {
                key: round(med(name, key) / med(f"cold{label}", key), 3)
                for key in ("first_token", "end")
            }
        for proto in ("openai", "anthropic"):
            serve, pool = f"serve-{proto}{label}", f"pool-{proto}{label}"
            proxy[serve] = {  # what the server adds to the CLI it runs: serve - cli-as-server
                key: round(med(serve, key) - med(f"cli-as-server{label}", key), 2)
                for key in ("first_token", "end")
            }
            pool_gain[pool] = {  # what the pool saves: pool - serve
                key: round(med(pool, key) - med(serve, key), 2) for key in ("first_token", "end")
            }
    return {
        "ratio_vs_cold": ratios,
        "serve_minus_cli_as_server_ms": proxy,
        "pool_minus_serve_ms": pool_gain,
        "headline_pool_over_cold_ttft": ratios["pool-openai"]["first_token"],
        "headline_serve_over_cold_ttft": ratios["serve-openai"]["first_token"],
    }


def pool_counts(log: dict[str, list[dict[str, Any]]], final: dict[str, Any]) -> dict[str, Any]:
    per = {}
    for name, entries in log.items():
        waits = [e["refill_wait_s"] for e in entries]
        per[name] = {
            "requests": len(entries),
            "hits": sum(e["hit"] for e in entries),
            "misses": sum(e["miss"] for e in entries),
            "not_settled_before": sum(not e["settled"] for e in entries),
            "not_settled_after": sum(not e["settled_after"] for e in entries),
            "refill_wait_median_s": round(statistics.median(waits), 3) if waits else None,
        }
    return {"per_variant": per, "health_at_end": final}


def fidelity_stats(runs: dict[str, list[Timing]], gap: float) -> dict[str, Any]:
    out = {}
    for name, timings in runs.items():
        gaps = [b - a for t in timings for a, b in zip(t.deltas, t.deltas[1:], strict=False)]
        devs = [abs(g - gap) * 1000 for g in gaps]
        out[name] = {
            "runs": len(timings),
            "pieces_per_run": sorted({len(t.deltas) for t in timings}),
            "gaps": len(gaps),
            "gap_median_ms": round(percentile(gaps, 50) * 1000, 2),
            "abs_dev_median_ms": round(percentile(devs, 50), 2),
            "abs_dev_p90_ms": round(percentile(devs, 90), 2),
            "abs_dev_max_ms": round(max(devs), 2),
            "span_median_ms": round(
                percentile([t.deltas[-1] - t.deltas[0] for t in timings], 50) * 1000, 2
            ),
            "first_median_ms": round(percentile([t.first for t in timings], 50) * 1000, 2),
        }
    return out


# --------------------------------------------------------------------------- output


def render(report: dict[str, Any]) -> str:
    pool = report["pool"]["per_variant"]
    rows = []
    for name, res in report["results"].items():
        ratio = report["ratio_vs_cold"].get(name)
        hits = pool.get(name)
        rows.append(
            [
                name,
                res["first_token"]["median_ms"],
                res["first_token"]["p90_ms"],
                res["done"]["median_ms"],
                res["end"]["median_ms"],
                res["end"]["p90_ms"],
                f"{ratio['first_token']:.2f}" if ratio else "1.00",
                f"{ratio['end']:.2f}" if ratio else "1.00",
                f"{hits['hits']}/{hits['misses']}" if hits else "",
            ]
        )
    loads = report["loadavg"]
    head = (
        f"TTFT benchmark: CLI {report['cli_version']}, {report['runs']} runs per variant "
        f"(+{report['warmup']} warm-up), pool server --warm {report['pool_warm']}, "
        f"{report['cores']} cores, load (1/5/15 min) "
        + " -> ".join(f"{k} {v}" for k, v in loads.items())
    )
    body = table(
        [
            "variant",
            "first med",
            "first p90",
            "done med",
            "end med",
            "end p90",
            "first/cold",
            "end/cold",
            "hit/miss",
        ],
        rows,
    )
    h = report["headline_pool_over_cold_ttft"]
    final = report["pool"]["health_at_end"]
    foot = [
        "",
        "ms; first = first answer token, done = [DONE] / message_stop / result line, "
        "end = response body complete / CLI exited; x/cold = median ratio to cold of the "
        "same system-prompt setting; hit/miss = /health warm.hits / misses deltas around each "
        "measured pooled request.",
        f"Headline: pool (OpenAI streaming, --warm {report['pool_warm']}) / cold CLI, time to "
        f"first token = {h:.2f} (target <= 0.35: {'met' if h <= 0.35 else 'NOT met'}); "
        f"without the pool (--warm 0) {report['headline_serve_over_cold_ttft']:.2f}",
        "pool - serve (medians, ms; what the pool saves): "
        + ", ".join(
            f"{name} {d['first_token']:+.1f} first / {d['end']:+.1f} end"
            for name, d in report["pool_minus_serve_ms"].items()
        ),
        "serve - cli-as-server (medians, ms; the proxy's share): "
        + ", ".join(
            f"{name} {d['first_token']:+.1f} first / {d['end']:+.1f} end"
            for name, d in report["serve_minus_cli_as_server_ms"].items()
        ),
        f"Pool /health at the end: size {final.get('size')}, ready {final.get('ready')}, "
        f"hits {final.get('hits')}, misses {final.get('misses')} (warm-ups and fidelity runs "
        "included; per pooled variant: "
        + ", ".join(
            f"{n} {p['hits']}/{p['requests']} hits, refill wait med {p['refill_wait_median_s']} s"
            + (
                f", {p['not_settled_before']} unsettled"
                if p["not_settled_before"] or p["not_settled_after"]
                else ""
            )
            for n, p in pool.items()
        )
        + ")",
    ]
    parts = [head, "", body, *foot]
    if report["fidelity"]:
        gap = report["reply"]["rules"][0]["reply"]
        parts += [
            "",
            f"Streaming fidelity: {gap['chunks']} text deltas {gap['delay_ms']:g} ms apart "
            "from the upstream; gaps between the pieces the client reads (|dev| = |gap - "
            f"{gap['delay_ms']:g} ms|, ms)",
            table(
                [
                    "variant",
                    "runs",
                    "pieces",
                    "gaps",
                    "gap med",
                    "|dev| med",
                    "|dev| p90",
                    "|dev| max",
                    "span med",
                    "first med",
                ],
                [
                    [
                        name,
                        f["runs"],
                        "/".join(str(n) for n in f["pieces_per_run"]),
                        f["gaps"],
                        f["gap_median_ms"],
                        f["abs_dev_median_ms"],
                        f["abs_dev_p90_ms"],
                        f["abs_dev_max_ms"],
                        f["span_median_ms"],
                        f["first_median_ms"],
                    ]
                    for name, f in report["fidelity"].items()
                ],
            ),
        ]
    if report["startup"]:
        parts += [
            "",
            "Start-up: `claude-max serve` launch -> first 200 from /health, and -> /health "
            "showing the first warm process (spawned), ms",
            table(
                ["server", "launches", "healthy med", "min", "max", "warm spawned med"],
                [
                    [
                        kind,
                        s["healthy_s"]["n"],
                        s["healthy_s"]["median_ms"],
                        s["healthy_s"]["min_ms"],
                        s["healthy_s"]["max_ms"],
                        s.get("first_warm_spawned_s", {}).get("median_ms", "—"),
                    ]
                    for kind, s in report["startup"].items()
                ],
            ),
        ]
    for when, m in report["memory"].items():
        parts.append(
            f"Idle RSS ({when}): server --warm 0 {m['server_warm0_rss_mib']} MiB "
            f"({m['server_warm0_descendants']} children); server --warm {report['pool_warm']} "
            f"{m['server_pool_rss_mib']} MiB + {m['warm_processes_proc']} warm processes "
            f"{m['warm_rss_mib_proc']} MiB (/proc; /health rss_mb {m['warm_rss_mib_health']}, "
            f"ready {m['warm_ready']}, ages {m['warm_age_s']} s)"
        )
    parts.append(
        f"Leftover processes: {report['leftover_processes']} {report['leftover_pids'] or ''}"
    )
    return "\n".join(parts)


if __name__ == "__main__":
    sys.exit(main())
