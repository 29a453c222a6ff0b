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
