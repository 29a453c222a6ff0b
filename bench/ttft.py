"""Time to first token and full response time: the cold CLI vs. the same CLI behind claude-max.

All variants answer from one in-process FakeUpstream (an instant, short reply in a few chunks),
run by run in rotating order so that drifting machine load hits them alike:

  cold            `claude -p --output-format stream-json --verbose --include-partial-messages
                  --tools "" [--system-prompt S] -- PROMPT`, stdin=/dev/null: from spawn to the
                  first stdout line with a text_delta (first) and to the process exit (end)
  cli-as-server   the CLI with the server's exact argv/env/stdin (core/argv.py), driven
                  directly: the CLI's share of the server's time, without HTTP or asyncio
  serve-openai    POST /v1/chat/completions stream=true through `claude-max serve` (real CLI):
                  to the first chunk with non-empty delta.content, to `data: [DONE]` (done)
                  and to the end of the response body (end)
  serve-anthropic POST /v1/messages stream=true: to the first text_delta, to message_stop,
                  to the end of the body

each without and with a client system prompt. Usage:

  .venv/bin/python bench/ttft.py [--runs 15] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
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
    server_argv_cli,
    server_env,
    summary,
    table,
)
from upstream import FakeUpstream, cli_env

REPLY = "Hello! This is a short benchmark reply."
SCRIPT = {"default": {"type": "text", "text": REPLY, "chunks": 4, "delay_ms": 0}}
KINDS = ("cold", "cli-as-server", "serve-openai", "serve-anthropic")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="measured runs per variant")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured runs per variant")
    parser.add_argument("--claude", type=Path, default=REAL_CLAUDE, help="the real CLI")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.runs > 1000 or args.warmup < 0 or args.warmup > 100:
        parser.error("--runs must be 1..1000, --warmup 0..100")
    if not args.claude.exists():
        parser.error(f"no CLI at {args.claude}")

    report = bench(args.claude.resolve(), args.runs, args.warmup)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(render(report))
    return 0 if report["leftover_processes"] == 0 else 1


def bench(claude: Path, runs: int, warmup: int) -> dict[str, Any]:
    tag = new_tag()
    load_start = loadavg()
    version = subprocess.run(
        [str(claude), "--version"], capture_output=True, text=True, timeout=30, check=True
    ).stdout.strip()
    samples: dict[str, list[Timing]] = {}
    server: Server | None = None
    fake = FakeUpstream(SCRIPT)
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
            server = Server(
                server_env(env, claude=claude, max_home=max_home, tag=tag), root / "server.log"
            ).start()
            url = server.url
            with httpx.Client(timeout=60.0) as client:
                variants: dict[str, Callable[[], Timing]] = {}
                for label, system in (("", None), ("+system", SYSTEM)):
                    variants[f"cold{label}"] = lambda s=system: cold_cli(claude, env, cold_cwd, s)
                    variants[f"cli-as-server{label}"] = lambda s=system: server_argv_cli(
                        claude, env, max_home, s
                    )
                    variants[f"serve-openai{label}"] = lambda s=system: openai_stream(
                        client, url, s
                    )
                    variants[f"serve-anthropic{label}"] = lambda s=system: anthropic_stream(
                        client, url, s
                    )
                names = list(variants)
                for _ in range(warmup):  # the server's first request, the CLI's page cache
                    for name in names:
                        check(name, variants[name]())
                samples = {name: [] for name in names}
                for i in range(runs):
                    shift = i % len(names)
                    for name in names[shift:] + names[:shift]:
                        samples[name].append(check(name, variants[name]()))
        finally:
            if server is not None:
                server.stop()
            fake.stop()
        time.sleep(0.2)
        left = leftovers(
            tag,
            [server.pattern if server else "claude-max serve --port", str(claude)],
            [server.proc.pid] if server and server.proc else [],
        )

    results = {
        name: {
            "first_token": summary([t.first for t in ts]),
            "done": summary([t.done for t in ts]),
            "end": summary([t.end for t in ts]),
        }
        for name, ts in samples.items()
    }
    ratios = {}
    for label in ("", "+system"):
        cold = results[f"cold{label}"]
        for kind in ("cli-as-server", "serve-openai", "serve-anthropic"):
            res = results[f"{kind}{label}"]
            ratios[f"{kind}{label}"] = {
                "first_token": round(
                    res["first_token"]["median_ms"] / cold["first_token"]["median_ms"], 3
                ),
                "end": round(res["end"]["median_ms"] / cold["end"]["median_ms"], 3),
            }
    proxy = {  # what the server adds to the CLI it runs, same argv: serve - cli-as-server
        f"{kind}{label}": {
            key: round(
                results[f"{kind}{label}"][key]["median_ms"]
                - results[f"cli-as-server{label}"][key]["median_ms"],
                2,
            )
            for key in ("first_token", "end")
        }
        for label in ("", "+system")
        for kind in ("serve-openai", "serve-anthropic")
    }
    return {
        "benchmark": "ttft",
        "cli": str(claude),
        "cli_version": version,
        "runs": runs,
        "warmup": warmup,
        "reply": SCRIPT["default"],
        "cores": _cores(),
        "loadavg_start": load_start,
        "loadavg_end": loadavg(),
        "results": results,
        "ratio_vs_cold": ratios,
        "serve_minus_cli_as_server_ms": proxy,
        "headline_serve_over_cold_ttft": ratios["serve-openai"]["first_token"],
        "leftover_processes": len(left),
        "leftover_pids": left,
    }


def check(name: str, timing: Timing) -> Timing:
    if timing.text != REPLY:
        raise RuntimeError(f"{name}: unexpected answer {timing.text!r}")
    return timing


def _cores() -> int:
    return len(os.sched_getaffinity(0))


def render(report: dict[str, Any]) -> str:
    rows = []
    for name, res in report["results"].items():
        ratio = report["ratio_vs_cold"].get(name)
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
            ]
        )
    head = (
        f"TTFT benchmark: CLI {report['cli_version']}, {report['runs']} runs per variant "
        f"(+{report['warmup']} warm-up), {report['cores']} cores, "
        f"load {report['loadavg_start']} -> {report['loadavg_end']}"
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
        ],
        rows,
    )
    h = report["headline_serve_over_cold_ttft"]
    foot = [
        "",
        "ms; first = first answer token, done = [DONE] / message_stop / result line, "
        "end = response body complete / CLI exited; x/cold = median ratio to cold of the "
        "same system-prompt setting.",
        f"Headline: serve (OpenAI streaming) / cold CLI, time to first token = {h:.2f}",
        "serve - cli-as-server (medians, ms; the proxy's share): "
        + ", ".join(
            f"{name} {d['first_token']:+.1f} first / {d['end']:+.1f} end"
            for name, d in report["serve_minus_cli_as_server_ms"].items()
        ),
        f"Leftover processes: {report['leftover_processes']} {report['leftover_pids'] or ''}",
    ]
    return "\n".join([head, "", body, *foot])


if __name__ == "__main__":
    sys.exit(main())
