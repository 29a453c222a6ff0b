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
           tool call (the fake upstream answers each step with one) + its result, sent
           at once (no waiting for the pool). --pace MODEL_MS:TOOL_MS (several allowed):
           the time the model takes to write its call after its first token (the fake
           streams its text and call in 10 chunks each; a real model takes seconds) and
           the time the client's tool takes before the next request; `0:0` is the worst
           case for a CLI started ahead at the model's call. Bounded: for each step N of
           --loop-at (default 2 50 100 200) a burst starts from a history of N-2
           exchanges, runs step N-1 (not counted: nothing was started ahead for it) and
           then steps N .. N+--runs-1, whose median is step N's figure; the pool settles
           between bursts.
  cold     `claude -p` of a one-line prompt (spawn -> first text_delta): the goal's yardstick.

Usage:

  .venv/bin/python bench/history.py [--runs 3] [--loop-at 2 50 100 200] [--pace 0:0 1000:0] [--json]
  .venv/bin/python bench/history.py --lengths --loop-at 2 200 --pace 0:0  # loop only
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
from ttft import PoolWatch, warm_stats
from upstream import FakeUpstream, cli_env

TOOL = {
    "name": "read_file",
    "description": "Read a file",
    "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}},
}
SCRIPT = {"default": {"type": "text", "text": "ok"}}
LOOP_SCRIPT = {  # every step of the agent loop: the model reads one more file
    "default": {
        "type": "tool_use",
        "text": "Reading the next file.",
        "name": "mcp__proxy__read_file",
        "input": {"path": "next.txt"},
    }
}


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
    parser.add_argument("--lengths", type=int, nargs="*", default=[1, 32, 128, 512])
    parser.add_argument("--loop-at", type=int, nargs="*", default=[2, 50, 100, 200])
    parser.add_argument(
        "--pace", nargs="+", default=["0:0", "1000:0"], help="MODEL_MS:TOOL_MS of the loop"
    )
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
                if args.loop_at:
                    report["loop"] = {}
                    for pace in args.pace:
                        model_ms, tool_ms = (float(x) for x in pace.split(":"))
                        reply = {**LOOP_SCRIPT["default"], "chunks": 10}
                        fake.set_script({"default": {**reply, "delay_ms": model_ms / 20}})
                        report["loop"][f"pace_{pace}"] = agent_loop(
                            client, server.url, watch, args.loop_at, args.runs, tool_ms / 1000
                        )
                    fake.set_script(SCRIPT)  # the cold `claude -p` below wants text
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


def exchange(step: int) -> list[dict[str, Any]]:
    """A synthetic earlier exchange (the history a burst starts from)."""
    call = f"toolu_loop_{step:05d}"
    return [
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": call, "name": "read_file", "input": {"path": f"f{step}"}}
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": call, "content": f"line {step}"}],
        },
    ]


def loop_step(
    client: httpx.Client, url: str, messages: list[dict[str, Any]]
) -> tuple[float, list[dict[str, Any]]]:
    """One agent step: its time to first token and the answer's content blocks, as the
    client keeps them for its next request."""
    t0 = time.perf_counter()
    first = None
    blocks: dict[int, dict[str, Any]] = {}
    partial: dict[int, str] = {}
    with client.stream(
        "POST",
        f"{url}/v1/messages",
        json=body(list(messages), tools=True),
        headers=ANTHROPIC_HEADERS,
        timeout=300,
    ) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if not line.startswith("data: "):
                continue
            event = json.loads(line[6:])
            kind = event.get("type")
            if kind == "error":
                raise RuntimeError(f"error event: {event}")
            if kind == "content_block_start":
                blocks[event["index"]] = dict(event["content_block"])
            elif kind == "content_block_delta":
                if first is None:
                    first = time.perf_counter() - t0
                delta = event["delta"]
                if delta["type"] == "text_delta":
                    blocks[event["index"]]["text"] += delta["text"]
                elif delta["type"] == "input_json_delta":
                    index = event["index"]
                    partial[index] = partial.get(index, "") + delta["partial_json"]
    if first is None:
        raise RuntimeError("no content_block_delta")
    for index, text in partial.items():
        blocks[index]["input"] = json.loads(text) if text else {}
    return first, [blocks[i] for i in sorted(blocks)]


def agent_loop(
    client: httpx.Client, url: str, watch: PoolWatch, at: list[int], runs: int, tool_s: float
) -> dict[str, Any]:
    """Step N's time to first token, for each N of `at` (see the module's docstring)."""
    out: dict[str, Any] = {}
    for target in at:
        messages: list[dict[str, Any]] = [{"role": "user", "content": "Read the files."}]
        for k in range(2, target):
            messages += exchange(k)
        watch.settled()
        before = warm_stats(client, url)
        times = []
        for step in range(target - 1, target + runs):
            first, content = loop_step(client, url, messages)
            if step >= target:
                times.append(first)
            [call] = [b for b in content if b["type"] == "tool_use"]
            messages.append({"role": "assistant", "content": content})
            time.sleep(tool_s)  # the client runs its tool
            messages.append(
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": call["id"], "content": "42"}
                    ],
                }
            )
        out[f"step_{target}"] = summary(times)
        after = warm_stats(client, url)  # how the burst's steps were served
        out[f"pool_{target}"] = {
            k: after[k] - before[k] for k in ("hits", "misses", "ahead_hits") if k in after
        }
    first, last = f"step_{at[0]}", f"step_{at[-1]}"
    out["ratio"] = round(out[last]["median_ms"] / out[first]["median_ms"], 2)
    return out


def render(report: dict[str, Any]) -> str:
    rows = [
        (name, s["n"], s["median_ms"], s["p90_ms"], s["min_ms"], s["max_ms"])
        for name, s in report["sweep"].items()
    ]
    out = [table(("history", "n", "median ms", "p90", "min", "max"), rows)] if rows else []
    for pace, loop in report.get("loop", {}).items():
        steps = [k for k in loop if k.startswith("step_")]
        figures = ", ".join(f"step {k[5:]} {loop[k]['median_ms']} ms" for k in steps)
        out.append(f"agent loop, model:tool ms {pace[5:]}: {figures} (x{loop['ratio']})")
    out.append(f"cold claude -p: {report['cold_cli']['median_ms']} ms")
    out.append(
        f"load {report['load_before']} -> {report['load_after']}; leftovers {report['leftovers']}"
    )
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
