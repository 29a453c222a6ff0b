"""Append-only Markdown blocks: every block printed once, never cut, never repeated."""

from __future__ import annotations

import io
import re

from rich.console import Console

from claude_max.core.events import TextDelta
from claude_max.terminal.render import Output, StreamRenderer, split_blocks

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def test_split_blocks_respects_code_fences():
    text = "para one\n\n```\ncode\n\nmore code\n```\nafter"
    blocks, rest = split_blocks(text)
    assert blocks == ["para one\n\n", "```\ncode\n\nmore code\n```\n"]
    assert rest == "after"


def test_unfinished_line_stays_pending():
    assert split_blocks("one\n\ntwo\n\nthr") == (["one\n\n", "two\n\n"], "thr")


def test_long_reply_rendered_once_per_block(monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    # Not a terminal: the transient live view of the unfinished block leaves no trace, so the
    # stream holds exactly what stays on screen.
    console = Console(file=out, force_terminal=False, width=60, height=5)
    renderer = StreamRenderer(Output(markdown=True, spinner=False, thinking=False), out=console)
    paragraphs = [f"Paragraph number {i} with **bold** text." for i in range(30)]
    text = "\n\n".join(paragraphs)
    for i in range(0, len(text), 7):  # a reply much taller than the 5-line screen
        renderer.feed(TextDelta(text[i : i + 7]))
    renderer.close()
    plain = ANSI.sub("", out.getvalue())
    final = plain[plain.rfind("Paragraph number 0") :]
    for i in range(30):
        assert final.count(f"Paragraph number {i} ") == 1, i
    assert "…" not in final


def test_plain_output_is_exact(monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    renderer = StreamRenderer(Output(markdown=False, spinner=False, thinking=False))
    for piece in ["# Ti", "tle\n\n**b**"]:
        renderer.feed(TextDelta(piece))
    renderer.close()
    assert out.getvalue() == "# Title\n\n**b**\n"


def test_markdown_keeps_single_line_breaks(monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    console = Console(file=out, force_terminal=False, width=60)  # no live-view traces
    renderer = StreamRenderer(Output(markdown=True, spinner=False, thinking=False), out=console)
    renderer.feed(TextDelta("Roses are **red**,\nviolets are blue.\n\n221B Baker Street\nLondon\n"))
    renderer.close()
    lines = [line.strip() for line in ANSI.sub("", out.getvalue()).splitlines() if line.strip()]
    assert lines == ["Roses are red,", "violets are blue.", "221B Baker Street", "London"]


def test_usage_line_labels_its_clocks_and_prints_money():
    from claude_max.core.events import Result, Usage
    from claude_max.terminal.render import usage_line

    result = Result(
        "hi", "end_turn", Usage(input_tokens=3, output_tokens=2), "s", "m", duration_ms=599
    )
    line = usage_line(result, 2.24, cost=7.669999999999986e-05)
    assert "2.2s wall (CLI 0.6s)" in line
    assert "$0.0001 at API list price" in line
    assert "e-05" not in line


def test_json_cost_is_rounded():
    from claude_max.core.events import Result, Usage
    from claude_max.terminal.oneshot import _document

    result = Result("hi", "end_turn", Usage(), "s", "m", duration_ms=599)
    assert _document("hi", result, "s", 7.669999999999986e-05)["cost_usd"] == 7.7e-05
