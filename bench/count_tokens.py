"""How far claude-max's local count_tokens estimate is from an upstream's own count.

    .venv/bin/python bench/count_tokens.py                         # against the fake upstream
    .venv/bin/python bench/count_tokens.py --upstream URL --key K  # any Messages API

Each request of a varied sample (prose, code, JSON, CJK, a long conversation, tools, an
image, a PDF, system messages) is counted twice: by claude-max (the same functions the
`/v1/messages/count_tokens` route calls, in-process) and by the upstream's own
`POST /v1/messages/count_tokens`. Prints each error and the mean absolute error in percent.
The fake upstream counts a fixed 4 bytes of request JSON per token, so its figure only shows
the method; run it against the real API for the figure that matters.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import struct
import sys
import zlib
from pathlib import Path
from typing import Any

import httpx

from claude_max.core import tokens
from claude_max.protocols import anthropic

sys.path.insert(0, str(Path(__file__).parents[1] / "tests/fakes"))

MODEL = "claude-sonnet-5-5"
PROSE = (
    "The quick brown fox jumps over the lazy dog while the committee debates the budget for "
    "next year's harvest festival, which, as everyone agrees, must not repeat last year's "
    "unfortunate incident with the runaway pumpkins. "
)
CODE = Path(__file__).read_text()[:3000]
DATA = json.dumps(
    [{"id": i, "name": f"item-{i}", "tags": ["a", "b"], "price": i * 1.5} for i in range(60)]
)
CJK = "東京は日本の首都であり、世界で最も人口の多い都市圏の一つです。" * 20


def _png(width: int, height: int) -> str:
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw))
    return base64.b64encode(png + chunk(b"IEND", b"")).decode()


def _pdf(pages: int) -> str:
    body = "".join(f"{i + 3} 0 obj << /Type /Page >> endobj\n" for i in range(pages))
    return base64.b64encode(f"%PDF-1.4\n{body}%%EOF\n".encode()).decode()


# Rows the fake cannot count (it sees only JSON bytes): image pixels, PDF pages, the tool prompt.
NOT_TEXT = ("tools", "image 400x300", "pdf 3 pages")


def user(content: Any) -> dict[str, Any]:
    return {"role": "user", "content": content}


def sample() -> dict[str, dict[str, Any]]:
    tool = {
        "name": "search_docs",
        "description": "Search the documentation for a phrase and return matching sections.",
        "input_schema": {
            "type": "object",
            "properties": {"query": {"type": "string"}, "limit": {"type": "integer"}},
            "required": ["query"],
        },
    }
    turns = []
    for i in range(20):
        turns += [
            user(f"Question {i}: {PROSE[: 80 + i * 5]}"),
            {"role": "assistant", "content": f"Answer {i}: {PROSE[: 120 + i * 3]}"},
        ]
    return {
        "one word": {"messages": [user("hi")]},
        "prose": {"messages": [user(PROSE * 10)]},
        "code": {"messages": [user(CODE)]},
        "json": {"messages": [user(DATA)]},
        "cjk": {"messages": [user(CJK)]},
        "system + env message": {
            "system": PROSE * 3,
            "messages": [user("hello"), {"role": "system", "content": "# Environment\n" + PROSE}],
        },
        "40-turn conversation": {"messages": [*turns, user("and finally?")]},
        "tools": {"messages": [user("find the install guide")], "tools": [tool] * 1},
        "image 400x300": {
            "messages": [
                user(
                    [
                        {
                            "type": "image",
                            "source": {
                                "type": "base64",
                                "media_type": "image/png",
                                "data": _png(400, 300),
                            },
                        },
                        {"type": "text", "text": "what is this?"},
                    ]
                )
            ]
        },
        "pdf 3 pages": {
            "messages": [
                user(
                    [
                        {
                            "type": "document",
                            "source": {
                                "type": "base64",
                                "media_type": "application/pdf",
                                "data": _pdf(3),
                            },
                        },
                        {"type": "text", "text": "summarise"},
                    ]
                )
            ]
        },
    }


def ours(body: dict[str, Any]) -> int:
    return tokens.estimate(anthropic.to_conversation(body))


def theirs(client: httpx.Client, url: str, body: dict[str, Any]) -> int:
    response = client.post(f"{url}/v1/messages/count_tokens", json=body)
    response.raise_for_status()
    return int(response.json()["input_tokens"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", help="a Messages API base URL (default: the fake)")
    parser.add_argument("--key", default="unused")
    args = parser.parse_args()
    fake = None
    if args.upstream is None:
        from upstream import FakeUpstream

        fake = FakeUpstream().start()
        args.upstream = fake.url
    headers = {"x-api-key": args.key, "anthropic-version": "2023-06-01"}
    errors: dict[str, float] = {}
    try:
        with httpx.Client(headers=headers, timeout=60) as client:
            print(f"{'request':24} {'claude-max':>10} {'upstream':>10} {'error':>8}")
            for name, body in sample().items():
                body = {"model": MODEL, **body}
                mine, real = ours(body), theirs(client, args.upstream, body)
                error = (mine - real) / real * 100
                errors[name] = abs(error)
                print(f"{name:24} {mine:>10} {real:>10} {error:>+7.1f}%")
    finally:
        if fake is not None:
            fake.stop()
    text = [e for name, e in errors.items() if name not in NOT_TEXT]
    for label, values in (("text only", text), ("all", list(errors.values()))):
        print(
            f"{label}: mean absolute error {statistics.mean(values):.1f}%, "
            f"median {statistics.median(values):.1f}%, worst {max(values):.1f}%"
        )


if __name__ == "__main__":
    main()
