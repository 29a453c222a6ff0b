"""The client-tool round trip: handing the model's tool call to the HTTP client by ending the
CLI's turn (deny + interrupt, the proxy's way) vs. holding the MCP `tools/call` open in the
same CLI process until the client returns the result.

One in-process FakeUpstream plays the model, answering at once: every model call gets a
tool_use block calling `mcp__proxy__get_weather` with {"city": "Paris"}, except one whose last
message carries a tool_result, which gets the text "Sunny.". Each run is a full round trip in
two halves, t1 = until the call could be handed to the client, t2 = from the client handing
back the result until the final answer; between them the "client" runs its tool for
--tool-time seconds (not timed). The variants run round after round in rotating order:

  serve-cold   through `claude-max serve --warm 0` (real CLI): POST /v1/chat/completions
               (non-streaming, `tools` = a get_weather function) -> the response with
               tool_calls (t1); the follow-up with the assistant tool_calls message and a
               role `tool` message -> the final answer (t2). Each request is a new CLI; the
               follow-up seeds [user, assistant tool_use, user tool_result] into it
  serve-warm   the same through `claude-max serve --warm 2`, each request after waiting
               (bounded) until the pool has a booted, idle process (as ttft.py does);
               /health's warm hits/misses are booked per request
  held         approach (b), the CLI driven directly with the proxy's argv for a tool
               request: MCP handshake, user line, `can_use_tool` answered allow, and
               t1 = spawn -> the `tools/call` request arrives (the moment the call could go to
               the client); the process is held (its RSS sampled) for --tool-time, then the
               `tools/call` is answered with the result: t2 = that answer -> the `result` line
  deny-direct  the proxy's way without the proxy: the same CLI, `can_use_tool` answered
               deny + interrupt, t1 = spawn -> `result` line; then a second, fresh CLI seeded
               with the history (user line with shouldQuery false, its empty result, the
               assistant tool_use line, the user tool_result line), t2 = spawn -> its `result`:
               the CLI's own cost of re-seeding (compare serve-cold for the proxy's share)

Every direct CLI run is its own process group, killed and reaped at its end (also on errors);
every read from it is bounded (--timeout). Leftover processes are counted at the end as in
the other benchmarks (CMBENCH_TAG).

Usage:

  .venv/bin/python bench/tools.py [--runs 10] [--json]   # ~3 min
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    REAL_CLAUDE,
    TAG_VAR,
    Server,
    kill_group,
    leftovers,
    loadavg,
    new_tag,
    proc_mem,
    server_env,
    summary,
    table,
)
from ttft import PoolWatch, warm_stats
from upstream import FakeUpstream, cli_env

from claude_max.core import argv as cli
from claude_max.core import client_tools, stdin
from claude_max.core.conversation import (
    Conversation,
    TextPart,
    Tool,
    ToolCallPart,
    ToolResultPart,
    Turn,
)
from claude_max.core.launch import launch_spec
from claude_max.core.settings import Settings

KINDS = ("serve-cold", "serve-warm", "held", "deny-direct")
MODEL = "sonnet"
PROMPT = "What is the weather in Paris?"
TOOL = "get_weather"
CALL = client_tools.cli_name(TOOL)  # mcp__proxy__get_weather
CITY = {"city": "Paris"}
TOOL_OUTPUT = "Sunny, 21C"
ANSWER = "Sunny."
DESCRIPTION = "Current weather for a city"
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
OPENAI_TOOL = {
    "type": "function",
    "function": {"name": TOOL, "description": DESCRIPTION, "parameters": SCHEMA},
}
SCRIPT: dict[str, Any] = {
    "default": {"type": "tool_use", "name": CALL, "input": CITY},
    "rules": [{"when": {"last_is_tool_result": True}, "reply": {"type": "text", "text": ANSWER}}],
}
PAGE_MIB = os.sysconf("SC_PAGE_SIZE") / 2**20


@dataclass
class Sample:
    t1: float  # s: request/spawn -> the call can go to the client
    t2: float  # s: the client hands back the result -> the final answer
    calls: tuple[int, int]  # upstream model calls during t1, during t2
    extra: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- direct CLI runs


class Direct:
    """One CLI process with stream-json pipes, in its own process group. Lines are read by a
    thread into a queue, so that every read has a timeout; `close` kills and reaps the group."""

    def __init__(
        self, argv: list[str], env: Mapping[str, str], cwd: Path, stderr: IO[bytes], timeout: float
    ) -> None:
        self.timeout = timeout
        self.deadline = time.monotonic() + 4 * timeout  # bounds the whole process's life
        self.listed = False  # the MCP tools/list was answered
        self._lines: queue.Queue[bytes | None] = queue.Queue()
        self.proc = subprocess.Popen(
            argv,
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            start_new_session=True,
        )
        self._thread = threading.Thread(target=self._pump, daemon=True, name="cli-stdout")
        self._thread.start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        with contextlib.suppress(ValueError, OSError):
            for line in self.proc.stdout:
                self._lines.put(line)
        self._lines.put(None)

    def send(self, obj: Mapping[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(obj, ensure_ascii=False).encode() + b"\n")
        self.proc.stdin.flush()

    def read(self) -> dict[str, Any]:
        """The next JSON object on stdout; raises on timeout, EOF or the process's deadline."""
        while True:
            left = min(self.timeout, self.deadline - time.monotonic())
            if left <= 0:
                raise TimeoutError("the CLI run took longer than its deadline")
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                raise TimeoutError(f"the CLI sent nothing for {left:.0f} s") from None
            if line is None:
                raise RuntimeError(f"the CLI exited (rc {self.proc.poll()}) before the end")
            with contextlib.suppress(ValueError):
                obj = json.loads(line)
                if isinstance(obj, dict):
                    return obj

    def close(self) -> None:
        kill_group(self.proc, grace=0)
        for pipe in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                if pipe is not None:
                    pipe.close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Direct:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def step(proc: Direct, listing: str) -> dict[str, Any]:
    """The next message the driver acts on: `result`, `can_use_tool`, an MCP `tools/call`,
    or an MCP set-up request, which is answered here (as client_tools.mcp_answer does in the
    proxy) and returned marked `answered`. Other control requests get an error answer;
    other lines (init, stream events, assistant/user echoes) are skipped."""
    while True:
        msg = proc.read()
        kind = msg.get("type")
        if kind == "result":
            return msg
        if kind != "control_request":
            continue
        request = msg.get("request") or {}
        subtype, rid = request.get("subtype"), str(msg.get("request_id"))
        if subtype == "mcp_message":
            message = request.get("message") or {}
            if message.get("method") == "tools/call":
                return msg
            proc.send(client_tools.mcp_answer(rid, message, listing))
            proc.listed = proc.listed or message.get("method") == "tools/list"
            return {**msg, "answered": True}
        if subtype == "can_use_tool":
            return msg
        proc.send(client_tools.error_answer(rid, str(subtype)))


def success(request_id: str, response: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "control_response",
        "response": {"subtype": "success", "request_id": request_id, "response": response},
    }


def group_rss_mib(pgid: int) -> float:
    """Summed RSS of the live processes of process group `pgid` (the CLI and what it runs)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()  # fields[0] is field 3 (state)
        if fields[0] != "Z" and int(fields[2]) == pgid:
            total += int(fields[21])
    return round(total * PAGE_MIB, 1)


@dataclass
class DirectCLI:
    """Spawns the CLI as the proxy does for a request with the get_weather client tool."""

    claude: Path
    base_env: Mapping[str, str]
    settings: Settings
    stderr: IO[bytes]
    timeout: float

    def conversation(self, turns: tuple[Turn, ...]) -> Conversation:
        tool = Tool(TOOL, DESCRIPTION, client_tools.canonical(SCHEMA))
        return Conversation(turns=turns, model=MODEL, tools=(tool,))

    def spawn(self, conv: Conversation) -> tuple[Direct, str]:
        spec = launch_spec(conv, self.settings)  # argv as launch.start builds it
        if spec.system is not None or spec.tools is None:
            raise RuntimeError(f"unexpected launch spec: system {spec.system!r}")
        argv = [*spec.argv, *cli.model_flag(spec.model), cli.system_prompt_flag(None)]
        env = cli.build_env(self.settings, conv, base=self.base_env)
        proc = Direct(argv, env, Path(spec.cwd), self.stderr, self.timeout)
        return proc, spec.tools

    def handshake(self, proc: Direct, listing: str) -> None:
        """What launch._offer_tools does before the first line: initialize, tools/list."""
        while not proc.listed:
            msg = step(proc, listing)
            if not msg.get("answered"):
                raise RuntimeError(f"unexpected message before tools/list: {str(msg)[:200]}")

    def first_turn(self) -> tuple[Turn, ...]:
        return (Turn("user", (TextPart(PROMPT),)),)


def result_text(msg: dict[str, Any]) -> str:
    if msg.get("is_error"):
        raise RuntimeError(f"CLI error result: {msg.get('subtype')} {msg.get('result')!r}")
    return str(msg.get("result", ""))


def held(d: DirectCLI, fake: FakeUpstream, tool_time: float) -> Sample:
    """Approach (b): allow the call, receive tools/call, hold it, answer it."""
    conv = d.conversation(d.first_turn())
    n0 = len(fake.message_requests())
    t0 = time.perf_counter()
    proc, listing = d.spawn(conv)
    with proc:
        d.handshake(proc, listing)
        proc.send(stdin.user_line(conv.prompt, query=True))
        while True:
            msg = step(proc, listing)
            request = msg.get("request") or {}
            if msg.get("type") == "result":
                raise RuntimeError(f"result before tools/call: {str(msg)[:300]}")
            if request.get("subtype") == "can_use_tool":
                if request.get("tool_name") != CALL:
                    raise RuntimeError(f"unexpected tool {request.get('tool_name')!r}")
                allow = {"behavior": "allow", "updatedInput": request.get("input") or {}}
                proc.send(success(str(msg["request_id"]), allow))
            elif request.get("subtype") == "mcp_message" and not msg.get("answered"):
                break  # tools/call
        t1 = time.perf_counter() - t0
        call = request["message"]
        if call.get("params", {}).get("arguments") != CITY:
            raise RuntimeError(f"unexpected tools/call {call!r}")
        n1 = len(fake.message_requests())
        rss_call = proc_mem(proc.proc.pid).get("VmRSS")
        time.sleep(tool_time)  # the client runs its tool; the process waits, pinned
        mem = proc_mem(proc.proc.pid)
        group = group_rss_mib(proc.proc.pid)
        answer = {
            "mcp_response": {
                "jsonrpc": "2.0",
                "id": call.get("id"),
                "result": {"content": [{"type": "text", "text": TOOL_OUTPUT}], "isError": False},
            }
        }
        ta = time.perf_counter()
        proc.send(success(str(msg["request_id"]), answer))
        while (msg := step(proc, listing)).get("type") != "result":
            if not msg.get("answered"):
                raise RuntimeError(f"unexpected request after the answer: {str(msg)[:300]}")
        t2 = time.perf_counter() - ta
        text = result_text(msg)
    if text != ANSWER:
        raise RuntimeError(f"held: unexpected answer {text!r}")
    return Sample(
        t1,
        t2,
        (n1 - n0, len(fake.message_requests()) - n1),
        {
            "rss_at_call_mib": rss_call,
            "rss_held_mib": mem.get("VmRSS"),
            "hwm_held_mib": mem.get("VmHWM"),
            "group_rss_held_mib": group,
        },
    )


def deny_direct(d: DirectCLI, fake: FakeUpstream, tool_time: float) -> Sample:
    """The proxy's way, CLI only: deny + interrupt; then a fresh CLI seeded with the history."""
    first = d.conversation(d.first_turn())
    n0 = len(fake.message_requests())
    t0 = time.perf_counter()
    proc, listing = d.spawn(first)
    call_id = ""
    with proc:
        d.handshake(proc, listing)
        proc.send(stdin.user_line(first.prompt, query=True))
        while (msg := step(proc, listing)).get("type") != "result":
            request = msg.get("request") or {}
            if request.get("subtype") == "can_use_tool":
                if request.get("tool_name") != CALL or request.get("input") != CITY:
                    raise RuntimeError(f"unexpected call {request!r}")
                call_id = str(request.get("tool_use_id") or "")
                proc.send(client_tools.deny(str(msg["request_id"]), interrupt=True))
            elif not msg.get("answered"):
                raise RuntimeError(f"unexpected request: {str(msg)[:300]}")
        t1 = time.perf_counter() - t0
    if not call_id:
        raise RuntimeError(f"deny-direct: a result without a tool call: {str(msg)[:300]}")
    n1 = len(fake.message_requests())
    time.sleep(tool_time)

    conv = d.conversation(
        (
            *d.first_turn(),
            Turn("assistant", (ToolCallPart(call_id, TOOL, client_tools.canonical(CITY)),)),
            Turn("user", (ToolResultPart(call_id, (TextPart(TOOL_OUTPUT),)),)),
        )
    )
    t0 = time.perf_counter()
    proc, listing = d.spawn(conv)
    with proc:
        d.handshake(proc, listing)
        for turn in conv.history:  # as run._drive seeds it
            if turn.role == "user":
                proc.send(stdin.user_line(turn, query=False))
                while (msg := step(proc, listing)).get("type") != "result":
                    if not msg.get("answered"):
                        raise RuntimeError(f"unexpected request: {str(msg)[:300]}")
                result_text(msg)
            else:
                proc.send(stdin.assistant_line(turn))
        proc.send(stdin.user_line(conv.prompt, query=True))
        while (msg := step(proc, listing)).get("type") != "result":
            if not msg.get("answered"):
                raise RuntimeError(f"unexpected request: {str(msg)[:300]}")
        t2 = time.perf_counter() - t0
        text = result_text(msg)
    if text != ANSWER:
        raise RuntimeError(f"deny-direct: unexpected answer {text!r}")
    return Sample(t1, t2, (n1 - n0, len(fake.message_requests()) - n1))


# --------------------------------------------------------------------------- through the server


def openai_round_trip(
    client: httpx.Client,
    url: str,
    fake: FakeUpstream,
    tool_time: float,
    before_request: Callable[[], dict[str, Any]] | None = None,
) -> Sample:
    """Two non-streaming chat completions: the call, then the follow-up with its result.
    With `before_request` (the pool's wait), it runs before each request and returns
    /health's warm stats, so that each request is booked as a hit or a miss."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": PROMPT}]
    body: dict[str, Any] = {"model": MODEL, "messages": messages, "tools": [OPENAI_TOOL]}
    extra: dict[str, Any] = {}

    def post(label: str) -> tuple[dict[str, Any], float, int]:
        before = before_request() if before_request is not None else None
        n = len(fake.message_requests())
        t0 = time.perf_counter()
        r = client.post(f"{url}/v1/chat/completions", json=body)
        elapsed = time.perf_counter() - t0
        calls = len(fake.message_requests()) - n
        if r.status_code != 200:
            raise RuntimeError(f"{label}: HTTP {r.status_code}: {r.text[:300]}")
        if before is not None:
            after = warm_stats(client, url)
            extra[f"{label}_hit"] = after["hits"] - before["hits"] == 1
            extra[f"{label}_miss"] = after["misses"] - before["misses"] == 1
        return r.json()["choices"][0], elapsed, calls

    choice, t1, c1 = post("t1")
    message = choice["message"]
    tool_calls = message.get("tool_calls") or []
    if choice.get("finish_reason") != "tool_calls" or len(tool_calls) != 1:
        raise RuntimeError(f"expected one tool call, got {choice!r}")
    call = tool_calls[0]
    if call["function"]["name"] != TOOL or json.loads(call["function"]["arguments"]) != CITY:
        raise RuntimeError(f"unexpected tool call {call!r}")
    time.sleep(tool_time)
    messages.append({k: v for k, v in message.items() if v is not None})
    messages.append({"role": "tool", "tool_call_id": call["id"], "content": TOOL_OUTPUT})
    choice, t2, c2 = post("t2")
    if choice["message"].get("content") != ANSWER or choice.get("finish_reason") != "stop":
        raise RuntimeError(f"unexpected final answer {choice!r}")
    return Sample(t1, t2, (c1, c2), extra)


# --------------------------------------------------------------------------- the benchmark


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="measured runs per variant")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured runs per variant")
    parser.add_argument("--claude", type=Path, default=REAL_CLAUDE, help="the real CLI")
    parser.add_argument("--warm", type=int, default=2, help="--warm of the pooled server")
    parser.add_argument(
        "--tool-time",
        type=float,
        default=2.5,
        help="s the client takes to run the tool, between t1 and t2 (not timed)",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=2.5,
        help="s a warm process must have lived (and 100 ms idle) before a pooled request",
    )
    parser.add_argument("--ready-timeout", type=float, default=10.0, help="bound of that wait, s")
    parser.add_argument("--timeout", type=float, default=30.0, help="bound of every CLI read, s")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    if not 1 <= args.runs <= 1000 or not 0 <= args.warmup <= 100:
        parser.error("--runs must be 1..1000, --warmup 0..100")
    if not 1 <= args.warm <= 16:
        parser.error("--warm must be 1..16 (the cold server always runs --warm 0)")
    if not 0 <= args.tool_time <= 60 or not 0 <= args.settle <= 10:
        parser.error("--tool-time must be 0..60 s, --settle 0..10 s")
    if not 1 <= args.ready_timeout <= 120 or not 1 <= args.timeout <= 300:
        parser.error("--ready-timeout must be 1..120 s, --timeout 1..300 s")
    if not args.claude.exists():
        parser.error(f"no CLI at {args.claude}")

    report = bench(args.claude.resolve(), args)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(render(report))
    return 0 if report["leftover_processes"] == 0 and not report["error"] else 1


def bench(claude: Path, args: argparse.Namespace) -> dict[str, Any]:
    tag = new_tag()
    loads: dict[str, list[float]] = {"start": loadavg()}
    version = subprocess.run(
        [str(claude), "--version"], capture_output=True, text=True, timeout=30, check=True
    ).stdout.strip()
    samples: dict[str, list[Sample]] = {}
    servers: list[Server] = []
    known: list[int] = []
    error: str | None = None
    pool_end: dict[str, Any] = {}
    fake = FakeUpstream(SCRIPT)
    with tempfile.TemporaryDirectory(prefix="cm-bench-tools-") as tmp:
        root = Path(tmp)
        fake.start()
        stderr = (root / "direct-cli.stderr").open("wb")
        try:
            env = cli_env(fake.url, root / "cli-home")
            env[TAG_VAR] = tag
            max_home = root / "claude-max-home"
            senv = server_env(env, claude=claude, max_home=max_home, tag=tag)
            cold = Server(senv, root / "server-cold.log", args=("--warm", "0"))
            pooled = Server(senv, root / "server-warm.log", args=("--warm", str(args.warm)))
            for server in (cold, pooled):
                servers.append(server)
                server.start(poll=0.01)
                assert server.proc is not None
                known.append(server.proc.pid)
            settings = Settings(home=root / "direct-home", claude_path=str(claude))
            direct = DirectCLI(claude, env, settings, stderr, args.timeout)
            with httpx.Client(timeout=60.0) as client:
                watch = PoolWatch(client, pooled, args.settle, args.ready_timeout)
                unsettled: list[str] = []

                def pool_wait() -> dict[str, Any]:
                    stats, _, ok = watch.settled()
                    if not ok:
                        unsettled.append(f"ready {stats.get('ready')}")
                    return stats

                def warm_run() -> Sample:
                    sample = openai_round_trip(client, pooled.url, fake, args.tool_time, pool_wait)
                    pool_wait()  # no warm CLI boots during the next variant
                    return sample

                variants: dict[str, Callable[[], Sample]] = {
                    "serve-cold": lambda: openai_round_trip(client, cold.url, fake, args.tool_time),
                    "serve-warm": warm_run,
                    "held": lambda: held(direct, fake, args.tool_time),
                    "deny-direct": lambda: deny_direct(direct, fake, args.tool_time),
                }
                try:
                    rounds(variants, args.warmup, None, fake)
                    unsettled.clear()
                    rounds(variants, args.runs, samples, fake)
                    pool_end = {**warm_stats(client, pooled.url), "unsettled_waits": unsettled}
                except Exception as exc:  # report what was measured, clean up, exit 1
                    error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
                    traceback.print_exc(file=sys.stderr)
        finally:
            for server in servers:
                server.stop()
            fake.stop()
            stderr.close()
        time.sleep(0.2)
        left = leftovers(tag, ["claude-max serve --port", str(claude)], known)
    loads["end"] = loadavg()
    return {
        "benchmark": "tools",
        "cli": str(claude),
        "cli_version": version,
        "runs": args.runs,
        "warmup": args.warmup,
        "pool_warm": args.warm,
        "tool_time_s": args.tool_time,
        "settle_s": args.settle,
        "script": SCRIPT,
        "cores": len(os.sched_getaffinity(0)),
        "loadavg": loads,
        "results": {name: stats(ss) for name, ss in samples.items()},
        "pool": pool_end,
        "error": error,
        "leftover_processes": len(left),
        "leftover_pids": left,
    }


def rounds(
    variants: dict[str, Callable[[], Sample]],
    runs: int,
    samples: dict[str, list[Sample]] | None,
    fake: FakeUpstream,
) -> None:
    """`runs` rounds of every variant, the order rotated each round."""
    names = list(variants)
    for i in range(runs):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            sample = variants[name]()
            fake.clear()  # the request log is only needed within one run
            if samples is not None:
                samples.setdefault(name, []).append(sample)


def stats(ss: list[Sample]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "t1": summary([s.t1 for s in ss]),
        "t2": summary([s.t2 for s in ss]),
        "total": summary([s.t1 + s.t2 for s in ss]),
        "upstream_calls": sorted({f"{s.calls[0]}+{s.calls[1]}" for s in ss}),
    }
    keys = sorted({k for s in ss for k in s.extra})
    for key in keys:
        values = [s.extra[key] for s in ss if key in s.extra]
        if all(isinstance(v, bool) for v in values):
            out[key] = sum(values)
        else:
            nums = sorted(float(v) for v in values if v is not None)
            out[key] = {"median": nums[len(nums) // 2], "min": nums[0], "max": nums[-1]}
    return out


# --------------------------------------------------------------------------- output


def render(report: dict[str, Any]) -> str:
    res = report["results"]
    rows, notes = [], []
    for name in KINDS:
        if name not in res:
            continue
        r = res[name]
        if name == "serve-warm":
            notes.append(
                f"serve-warm pool hits (/health): t1 {r.get('t1_hit', 0)}/{r['t1']['n']}, "
                f"t2 {r.get('t2_hit', 0)}/{r['t2']['n']}"
            )
        elif name == "held":
            rss, at_call = r["rss_held_mib"], r["rss_at_call_mib"]
            notes.append(
                f"held process RSS (VmRSS, MiB) at the end of the hold: median {rss['median']:.1f}"
                f" (min {rss['min']:.1f}, max {rss['max']:.1f}); when tools/call arrived "
                f"{at_call['median']:.1f}; its process group "
                f"{r['group_rss_held_mib']['median']:.1f}; peak (VmHWM) "
                f"{r['hwm_held_mib']['median']:.1f}"
            )
        rows.append(
            [
                name,
                r["t1"]["n"],
                r["t1"]["median_ms"],
                r["t1"]["p90_ms"],
                r["t2"]["median_ms"],
                r["t2"]["p90_ms"],
                r["total"]["median_ms"],
                r["total"]["p90_ms"],
                ",".join(r["upstream_calls"]),
            ]
        )
    loads = report["loadavg"]
    head = (
        f"Client-tool round trip: CLI {report['cli_version']}, {report['runs']} runs per "
        f"variant (+{report['warmup']} warm-up), tool time {report['tool_time_s']:g} s, pool "
        f"--warm {report['pool_warm']} (settle {report['settle_s']:g} s), {report['cores']} "
        "cores, load (1/5/15 min) " + " -> ".join(f"{k} {v}" for k, v in loads.items())
    )
    body = table(
        [
            "variant",
            "n",
            "t1 med",
            "t1 p90",
            "t2 med",
            "t2 p90",
            "t1+t2 med",
            "t1+t2 p90",
            "upstream",
        ],
        rows,
    )
    parts = [
        head,
        "",
        body,
        "",
        "ms; t1 = request sent / CLI spawned -> the call can go to the client; t2 = result "
        "handed back -> final answer; upstream = model calls during t1 + during t2.",
        *notes,
    ]
    pool = report["pool"]
    if pool:
        parts.append(
            f"Pool /health at the end: size {pool.get('size')}, ready {pool.get('ready')}, "
            f"hits {pool.get('hits')}, misses {pool.get('misses')} (warm-up included), rss_mb "
            f"{pool.get('rss_mb')}; waits that ran out: {len(pool.get('unsettled_waits', []))}"
        )
    if line := conclusion(res):
        parts.append(line)
    if report["error"]:
        parts.append(f"FAILED: {report['error']}")
    parts.append(
        f"Leftover processes: {report['leftover_processes']} {report['leftover_pids'] or ''}"
    )
    return "\n".join(parts)


def conclusion(res: dict[str, Any]) -> str:
    if not all(k in res for k in ("held", "serve-cold", "serve-warm")):
        return ""

    def med(name: str, key: str) -> float:
        return float(res[name][key]["median_ms"])

    held_t2 = med("held", "t2")
    follow = (
        f"follow-up (t2 median): held {held_t2:.0f} ms; seeded through the proxy, cold "
        f"{med('serve-cold', 't2'):.0f} ms ({med('serve-cold', 't2') - held_t2:+.0f}), warm "
        f"pool {med('serve-warm', 't2'):.0f} ms ({med('serve-warm', 't2') - held_t2:+.0f})"
    )
    if "deny-direct" in res:
        follow += f"; seeded CLI alone (deny-direct) {med('deny-direct', 't2'):.0f} ms"
    first = "first call (t1 median): " + ", ".join(
        f"{name} {med(name, 't1'):.0f} ms" for name in KINDS if name in res
    )
    rss = res["held"]["rss_held_mib"]["median"]
    return (
        f"Conclusion: {follow}. {first}. Holding pins one CLI (~{rss:.0f} MiB RSS) per open "
        "tool call for as long as the client takes."
    )


if __name__ == "__main__":
    sys.exit(main())
