"""An agent's CLI kept at its pending tool call: what the model would be sent, and how soon.

Issue #13's idea for an agent loop at constant cost: when the model calls a client tool, keep
that CLI waiting at its SDK-MCP `tools/call` instead of denying it, and when the client's next
request carries the model's call and its results, answer the `tools/call` with them and stream
the same CLI's continuation. This is a measurement of that idea with the real CLI against
`tests/fakes/upstream.py`, not a feature: for each kind of result (one text, an error, text and
an image, two parallel calls) it runs an agent step both ways and compares the upstream body
of the step after the call:

  today   `core.run.complete` of the step (a history past SEED_LIMIT: a CLI resuming a
          transcript of it), exactly what `claude-max serve` does without a warm pool;
  held    the CLI of the previous step, its call allowed, its `tools/call` answered with the
          client's results as MCP content (text, image; `isError`).

It prints whether the bodies are byte-identical, and if not, whether they hold the same content
(messages with keys sorted, `cache_control` dropped, a string `content` as one text block) and
where the CLI's own system-role context ("# Environment ...") sits. Then it times, at each
history length, the step's first token both ways: today from the request (a CLI started for
it), held from the moment the `tools/call` is answered.

Usage:

  .venv/bin/python bench/held_call.py [--lengths 2 512] [--runs 3] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REAL_CLAUDE, loadavg, table
from upstream import FakeUpstream, cli_env

from claude_max.core import client_tools, processes, stdin
from claude_max.core import run as core_run
from claude_max.core.conversation import Conversation as Conv
from claude_max.core.conversation import (
    ImagePart,
    TextPart,
    Tool,
    ToolCallPart,
    ToolResultPart,
    Turn,
)
from claude_max.core.events import ControlRequest, Result, TextDelta
from claude_max.core.launch import launch_spec, start, stored
from claude_max.core.parse import StreamParser
from claude_max.core.settings import Settings

SCHEMA = json.dumps({"type": "object", "properties": {"path": {"type": "string"}}})
TOOLS = (Tool("read_file", "Read a file", SCHEMA),)
PNG_1PX = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5E"
    "rkJggg=="
)
ResultParts = tuple[TextPart | ImagePart, ...]


@dataclass(frozen=True)
class Case:
    name: str
    results: tuple[ResultParts, ...]  # one per call
    is_error: bool = False

    @property
    def call_ids(self) -> list[str]:
        return [f"toolu_held_{i}" for i in range(len(self.results))]


CASES = (
    Case("text", ((TextPart("line 0"),),)),
    Case("error", ((TextPart("no such file"),),), is_error=True),
    Case("text+image", ((TextPart("alpha"), ImagePart("image/png", PNG_1PX)),)),
    Case("two calls", ((TextPart("r1"),), (TextPart("r2"),))),
)


def history(exchanges: int) -> tuple[Turn, ...]:
    """A task, then `exchanges` tool calls with their results (the last one is the prompt)."""
    turns = [Turn("user", (TextPart("Read the files, one at a time."),))]
    for i in range(exchanges):
        call = ToolCallPart(f"toolu_old_{i}", "read_file", "{}")
        turns += [
            Turn("assistant", (call,)),
            Turn("user", (ToolResultPart(f"toolu_old_{i}", (TextPart(str(i)),)),)),
        ]
    return tuple(turns)


def script(case: Case) -> dict[str, Any]:
    calls = [
        {"id": cid, "name": "mcp__proxy__read_file", "input": {"path": f"f{i}"}}
        for i, cid in enumerate(case.call_ids)
    ]
    return {
        "replies": [{"type": "tool_use", "text": "Calling.", "calls": calls}],
        "default": {"type": "text", "text": "done"},
    }


def following(conv: Conv, case: Case) -> Conv:
    """The client's next request: `conv`, the model's calls and their results."""
    calls = tuple(
        ToolCallPart(cid, "read_file", json.dumps({"path": f"f{i}"}, separators=(",", ":")))
        for i, cid in enumerate(case.call_ids)
    )
    results = tuple(
        ToolResultPart(cid, parts, is_error=case.is_error)
        for cid, parts in zip(case.call_ids, case.results, strict=True)
    )
    said = Turn("assistant", (TextPart("Calling."), *calls))
    return replace(conv, turns=(*conv.turns, said, Turn("user", results)))


def mcp_content(parts: ResultParts) -> list[dict[str, Any]]:
    return [
        {"type": "text", "text": p.text}
        if isinstance(p, TextPart)
        else {"type": "image", "data": p.data, "mimeType": p.media_type}
        for p in parts
    ]


async def first_token(conv: Conv, settings: Settings) -> float:
    """Today's path: seconds from the request to its first text delta (run to the end)."""
    t0, first = time.perf_counter(), None
    async for event in core_run.run(conv, settings):
        if first is None and isinstance(event, TextDelta):
            first = time.perf_counter() - t0
    assert first is not None, "no text"
    return first


async def held(conv: Conv, case: Case, settings: Settings) -> float:
    """The held path: a CLI for `conv` whose calls are allowed; its `tools/call`s are
    answered with the case's results. Seconds from the first answer to the continuation's
    first text delta."""
    spec = launch_spec(conv, settings)
    kept = stored(conv) if spec.own_session else ()
    proc = await start(spec, kept)
    try:
        parser, answered = StreamParser(), 0.0
        for turn in conv.history[len(kept) :]:  # a short history: seeded as `run` does
            if turn.role == "assistant":
                await proc.send(stdin.assistant_line(turn))
                continue
            await proc.send(stdin.user_line(turn, query=False))
            while not any(isinstance(e, Result) for e in parser.feed(await _line(proc))):
                pass
        await proc.send(stdin.user_line(conv.prompt, query=True))
        while True:
            for event in parser.feed(await _line(proc)):
                if isinstance(event, TextDelta) and answered:
                    return time.perf_counter() - answered
                if isinstance(event, Result):
                    raise RuntimeError("the turn ended without a continuation")
                if not isinstance(event, ControlRequest):
                    continue
                request, message = event.request, event.request.get("message") or {}
                if request.get("subtype") == "can_use_tool":
                    allow = {"behavior": "allow", "updatedInput": request.get("input")}
                    await proc.send(_success(event.request_id, allow))
                elif message.get("method") == "tools/call":
                    # The CLI calls an MCP tool only once the one before has its answer (a
                    # second tools/call never came while the first was held): answer each.
                    answered = answered or time.perf_counter()
                    await proc.send(_answer(event.request_id, message, case))
                else:
                    await proc.send(client_tools.mcp_answer(event, spec.tools or "{}"))
    finally:
        proc.kill()
        await proc.aclose(grace=0.0)


async def _line(proc: processes.CLIProcess) -> bytes:
    line = await asyncio.wait_for(proc.readline(), 120)
    if line is None:
        raise RuntimeError(f"the CLI exited: {proc.stderr_tail}")
    return line


def _answer(request_id: str, call: dict[str, Any], case: Case) -> dict[str, Any]:
    index = case.call_ids.index(call["params"]["_meta"]["claudecode/toolUseId"])
    result = {"content": mcp_content(case.results[index]), "isError": case.is_error}
    mcp = {"jsonrpc": "2.0", "id": call["id"], "result": result}
    return _success(request_id, {"mcp_response": mcp})


def _success(request_id: str, response: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "control_response",
        "response": {"subtype": "success", "request_id": request_id, "response": response},
    }


def _is_context(message: dict[str, Any]) -> bool:
    content = message["content"]
    text = content if isinstance(content, str) else "".join(b.get("text", "") for b in content)
    return message["role"] == "system" and text.startswith("# Environment")


def _normal(value: Any) -> Any:
    """The content of a message list, whatever the CLI's spelling: no cache_control, a string
    content as one text block, keys sorted (by the caller's json.dumps)."""
    if isinstance(value, list):
        return [_normal(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {k: _normal(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(out.get("content"), str) and ("role" in out or out.get("type") == "tool_result"):
        out["content"] = [{"type": "text", "text": out["content"]}]
    return out


def compare(today: dict[str, Any], kept: dict[str, Any]) -> dict[str, Any]:
    a, b = today["messages"], kept["messages"]
    ctx_a = [i - len(a) for i, m in enumerate(a) if _is_context(m)]
    ctx_b = [i - len(b) for i, m in enumerate(b) if _is_context(m)]
    without_a = [m for m in a if not _is_context(m)]
    without_b = [m for m in b if not _is_context(m)]
    diffs = [
        {"at": i - len(without_a), "today": x, "held": y}
        for i, (x, y) in enumerate(zip(without_a, without_b, strict=False))
        if json.dumps(x) != json.dumps(y)
    ]
    return {
        "byte_identical": json.dumps(a) == json.dumps(b),
        "system_tools_identical": all(
            json.dumps(today[k]) == json.dumps(kept[k]) for k in ("system", "tools")
        ),
        "context_at_from_end": {"today": ctx_a, "held": ctx_b},
        "same_content_but_context": json.dumps(_normal(without_a), sort_keys=True)
        == json.dumps(_normal(without_b), sort_keys=True),
        "differing_messages": diffs,
    }


async def bodies(case: Case, fake: FakeUpstream, settings: Settings) -> dict[str, Any]:
    conv = Conv(history(SEED_TURNS), system="Be brief.", model="sonnet", tools=TOOLS)
    fake.set_script(script(case))
    fake.clear()
    await core_run.complete(conv, settings)
    await first_token(following(conv, case), settings)
    today = fake.message_requests()[-1]
    fake.set_script(script(case))
    fake.clear()
    await held(conv, case, settings)
    fake.wait_for_requests(2, timeout=30)
    kept = fake.message_requests()[-1]
    return compare(today, kept)


SEED_TURNS = 22  # 45 turns: past SEED_LIMIT, so today's path resumes a transcript


async def timings(exchanges: int, runs: int, fake: FakeUpstream, settings: Settings) -> dict:
    case = CASES[0]
    conv = Conv(history(exchanges), system="Be brief.", model="sonnet", tools=TOOLS)
    today, kept = [], []
    for _ in range(runs):
        fake.set_script({"default": {"type": "text", "text": "done"}})
        today.append(await first_token(following(conv, case), settings))
        fake.set_script(script(case))
        kept.append(await held(conv, case, settings))
    return {
        "exchanges": exchanges,
        "today_s": round(statistics.median(today), 3),
        "held_s": round(statistics.median(kept), 3),
    }


async def main_async(args: argparse.Namespace, home: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"load_before": loadavg()}
    with FakeUpstream() as fake:
        os.environ.update(cli_env(fake.url, home / "cli-home"))
        settings = Settings(home=home / "max-home", claude_path=str(args.claude), pass_api_env=True)
        try:
            out["bodies"] = {c.name: await bodies(c, fake, settings) for c in CASES}
            out["timings"] = [await timings(n, args.runs, fake, settings) for n in args.lengths]
        finally:
            processes.kill_all()
    out["load_after"] = loadavg()
    return out


def report(out: dict[str, Any]) -> str:
    rows = []
    for name, c in out["bodies"].items():
        ctx = c["context_at_from_end"]
        rows.append(
            [
                name,
                "yes" if c["byte_identical"] else "no",
                "yes" if c["same_content_but_context"] else "no",
                f"{ctx['today']} / {ctx['held']}",
                len(c["differing_messages"]),
            ]
        )
    lines = [
        f"load average before {out['load_before']}, after {out['load_after']}",
        table(
            ["results", "byte-identical", "same content (context aside)", "context at", "diffs"],
            rows,
        ),
    ]
    for name, c in out["bodies"].items():
        for d in c["differing_messages"]:
            lines.append(f"{name} message {d['at']}:\n  today {json.dumps(d['today'])[:300]}")
            lines.append(f"  held  {json.dumps(d['held'])[:300]}")
    trows = [[t["exchanges"], t["today_s"], t["held_s"]] for t in out["timings"]]
    lines.append(table(["exchanges", "today: first token (s)", "held (s)"], trows))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lengths", type=int, nargs="*", default=[2, 512])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--claude", type=Path, default=REAL_CLAUDE)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="held-call-") as tmp:
        out = asyncio.run(main_async(args, Path(tmp)))
    print(json.dumps(out, indent=1) if args.json else report(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
