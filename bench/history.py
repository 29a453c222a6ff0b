"""Time to first token against history length, through `claude-max serve` and the real CLI.

One FakeUpstream answers every model call at once ("ok"). One `claude-max serve --warm 2` runs
on the real CLI. Variants:

  sweep    POST /v1/messages (stream) whose history has N earlier exchanges (--lengths, default
           1 32 128 512), two kinds: `plain` (N user/assistant text exchanges, then a question)
           and `tool` (a task, then N assistant tool_use + user tool_result exchanges, the
           last tool_result being the new message). Each request waits for the pool to be
           refilled first (ttft.PoolWatch), so the figures are those of a client whose
           requests come a few seconds apart.
  loop     an agent loop as a client runs it: step k = step k-1's request + the model's
           tool call + its result, sent as soon as the previous answer ended (no waiting for
           the pool); TTFT of every step, reported at steps 2 and --loop-steps (median of
           three steps around each).
  cold     `claude -p` of a one-line prompt (spawn -> first text_delta): the goal's yardstick.

Usage:

  .venv/bin/python bench/history.py [--runs 3] [--loop-steps 200] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    ANTHROPIC_HEADERS,
    REAL_CLAUDE,
    Server,
    cold_cli,
    leftovers,
    loadavg,
    new_tag,
    server_env,
    summary,
    table,
)
from ttft import PoolWatch
from upstream import FakeUpstream, cli_env

TOOL = {
    "name": "read_file",
    "description": "Read a file",
    "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}},
}
SCRIPT = {"default": {"type": "text", "text": "ok"}}


def plain_messages(n: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for i in range(n):
        messages.append({"role": "user", "content": f"Question {i}: what is {i} + {i}?"})
        messages.append({"role": "assistant", "content": f"{i} + {i} is {2 * i}."})
    messages.append({"role": "user", "content": "And what is 2 + 2?"})
    return messages


def tool_messages(n: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Read the files."}]
    for i in range(n):
        call = f"toolu_bench_{i:05d}"
        messages.append(
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": f"Reading file {i}."},
                    {
                        "type": "tool_use",
                        "id": call,
                        "name": "read_file",
                        "input": {"path": f"f{i}"},
                    },
                ],
            }
        )
        messages.append(
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": call, "content": f"line {i}"}],
            }
        )
    return messages


def body(messages: list[dict[str, Any]], tools: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"max_tokens": 1024, "stream": True, "messages": messages}
    if tools:
        out["tools"] = [TOOL]
    return out


def ttft(client: httpx.Client, url: str, payload: dict[str, Any]) -> float:
    t0 = time.perf_counter()
    first = None
    with client.stream(
        "POST", f"{url}/v1/messages", json=payload, headers=ANTHROPIC_HEADERS, timeout=300
    ) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if not line.startswith("data: "):
                continue
            event = json.loads(line[6:])
            if event.get("type") == "error":
                raise RuntimeError(f"error event: {event}")
            if first is None and event.get("type") == "content_block_delta":
                first = time.perf_counter() - t0
    if first is None:
        raise RuntimeError("no content_block_delta")
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claude", type=Path, default=REAL_CLAUDE)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--lengths", type=int, nargs="+", default=[1, 32, 128, 512])
    parser.add_argument("--loop-steps", type=int, default=200, help="0: no agent loop")
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    tag = new_tag()
    report: dict[str, Any] = {"load_before": loadavg()}
    with tempfile.TemporaryDirectory(prefix="bench-history-") as tmp, FakeUpstream(SCRIPT) as fake:
        fake.keep_requests = False
        root = Path(tmp)
        env = server_env(
            cli_env(
                fake.url,
                root / "home",
                **{k: v for k, v in os.environ.items() if k == "PYTHONPATH"},
            ),
            claude=args.claude,
            max_home=root / "max-home",
            tag=tag,
        )
        server = Server(env, root / "serve.log", ("--warm", "2")).start()
        try:
            with httpx.Client() as client:
                watch = PoolWatch(client, server, settle=2.5, timeout=15.0)
                sweep: dict[str, Any] = {}
                for n in args.lengths:
                    for kind, make in (("plain", plain_messages), ("tool", tool_messages)):
                        payload = body(make(n), tools=kind == "tool")
                        request = watch.wrap(
                            f"{kind}-{n}", lambda p=payload: ttft(client, server.url, p)
                        )
                        request()  # warm-up: the pool's first process of this spec
                        times = [request() for _ in range(args.runs)]
                        sweep[f"{kind}-{n}"] = summary(times)
                report["sweep"] = sweep
                if args.loop_steps:
                    report["loop"] = agent_loop(client, server.url, args.loop_steps)
            cold_env = cli_env(fake.url, root / "cold-home")
            cwd = root / "cold-cwd"
            cwd.mkdir()
            colds = [
                cold_cli(args.claude, cold_env, cwd, None).first for _ in range(args.cold_runs)
            ]
            report["cold_cli"] = summary(colds)
        finally:
            server.stop()
        left = leftovers(tag, [server.pattern, str(args.claude)])
        report["leftovers"] = len(left)
    report["load_after"] = loadavg()
    print(json.dumps(report, indent=1) if args.json else render(report))
    return 1 if report["leftovers"] else 0


def agent_loop(client: httpx.Client, url: str, steps: int) -> dict[str, Any]:
    """Step 1 is the task alone; each later step adds the model's call and its result."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Read the files."}]
    times: list[float] = []
    for step in range(1, steps + 1):
        if step > 1:
            call = f"toolu_loop_{step:05d}"
            messages.append(
                {
                    "role": "assistant",
                    "content": [
                        {
                            "type": "tool_use",
                            "id": call,
                            "name": "read_file",
                            "input": {"path": f"f{step}"},
                        }
                    ],
                }
            )
            messages.append(
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": call, "content": f"line {step}"}
                    ],
                }
            )
        times.append(ttft(client, url, body(list(messages), tools=True)))
    first = summary(times[1:4])
    last = summary(times[-3:])
    return {
        "steps": steps,
        "step_2": first,
        f"step_{steps}": last,
        "ratio": round(last["median_ms"] / first["median_ms"], 2),
        "all_ms": [round(t * 1000, 1) for t in times],
    }


def render(report: dict[str, Any]) -> str:
    rows = [
        (name, s["n"], s["median_ms"], s["p90_ms"], s["min_ms"], s["max_ms"])
        for name, s in report["sweep"].items()
    ]
    out = [table(("history", "n", "median ms", "p90", "min", "max"), rows)]
    if "loop" in report:
        loop = report["loop"]
        last = loop[f"step_{loop['steps']}"]["median_ms"]
        out.append(
            f"agent loop: step 2 {loop['step_2']['median_ms']} ms, "
            f"step {loop['steps']} {last} ms (x{loop['ratio']})"
        )
    out.append(f"cold claude -p: {report['cold_cli']['median_ms']} ms")
    out.append(
        f"load {report['load_before']} -> {report['load_after']}; leftovers {report['leftovers']}"
    )
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
