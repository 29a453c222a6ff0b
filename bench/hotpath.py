"""The proxy's per-request CPU work without any process: parse a recorded CLI transcript,
translate it into both protocols' SSE and JSON, and read a request body into a Conversation.

    .venv/bin/python bench/hotpath.py            # medians over --rounds (default 2000)
    .venv/bin/python bench/hotpath.py --profile  # cProfile's top functions for one kind

Everything runs in-process on recorded output (tests/data/transcripts), so the figures are the
translation cost alone: what a request costs the proxy on top of the CLI.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from claude_max.core.events import Event, Result, TextDelta
from claude_max.core.parse import StreamParser
from claude_max.core.run import Reply
from claude_max.protocols import anthropic, openai

TRANSCRIPT = Path(__file__).parents[1] / "tests/data/transcripts/stream_json_thinking.stdout"
LINES = TRANSCRIPT.read_bytes().splitlines()
OPENAI_BODY = {
    "model": "sonnet",
    "stream": True,
    "stream_options": {"include_usage": True},
    "messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "first question " * 20},
        {"role": "assistant", "content": "first answer " * 20},
        {"role": "user", "content": "second question " * 20},
    ],
}
ANTHROPIC_BODY = {
    "model": "opus",
    "max_tokens": 1024,
    "stream": True,
    "thinking": {"type": "enabled", "budget_tokens": 1024},
    "messages": OPENAI_BODY["messages"][1:],
}


def parse() -> list[Event]:
    parser = StreamParser()
    events: list[Event] = []
    for line in LINES:
        events.extend(parser.feed(line))
    return events


EVENTS = parse()
LOOPS: list[asyncio.AbstractEventLoop] = []


async def _replay() -> AsyncIterator[Event]:
    for event in EVENTS:
        yield event


def sse(protocol, body) -> Callable[[], int]:
    async def collect() -> int:
        return sum([len(chunk) async for chunk in protocol.stream(_replay(), body)])

    loop = asyncio.new_event_loop()
    LOOPS.append(loop)
    return lambda: loop.run_until_complete(collect())


def whole(protocol, body) -> Callable[[], object]:
    text = "".join(e.text for e in EVENTS if isinstance(e, TextDelta))
    result = next(e for e in EVENTS if isinstance(e, Result))
    reply = Reply(text, "", "", (), result)
    return lambda: protocol.response(reply, body)


CASES: dict[str, Callable[[], object]] = {
    "parse transcript (NDJSON -> events)": parse,
    "openai request -> Conversation": lambda: openai.to_conversation(OPENAI_BODY),
    "anthropic request -> Conversation": lambda: anthropic.to_conversation(ANTHROPIC_BODY),
    "events -> openai SSE": sse(openai, OPENAI_BODY),
    "events -> anthropic SSE": sse(anthropic, ANTHROPIC_BODY),
    "reply -> openai JSON": whole(openai, OPENAI_BODY),
    "reply -> anthropic JSON": whole(anthropic, ANTHROPIC_BODY),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--profile", choices=list(CASES), default=None)
    args = parser.parse_args()
    if args.profile:
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.enable()
        for _ in range(args.rounds):
            CASES[args.profile]()
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(15)
        return
    print(f"{len(LINES)} transcript lines, {len(EVENTS)} events; {args.rounds} rounds each\n")
    print(f"{'step':40}  {'median µs':>10}  {'p90 µs':>8}")
    total = 0.0
    for name, case in CASES.items():
        samples = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            case()
            samples.append((time.perf_counter() - started) * 1e6)
        samples.sort()
        median = statistics.median(samples)
        total += median
        print(f"{name:40}  {median:10.1f}  {samples[int(len(samples) * 0.9)]:8.1f}")
    print(f"\nsum of medians: {total:.0f} µs")
    for loop in LOOPS:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


if __name__ == "__main__":
    main()
