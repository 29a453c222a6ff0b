"""System-role messages and the content blocks of current clients (the block table)."""

from __future__ import annotations

import json
import logging

import pytest

from claude_max.core import stdin
from claude_max.core.conversation import BlockPart, TextPart, ToolResultPart
from claude_max.core.errors import InvalidRequest
from claude_max.protocols import anthropic

PDF = "JVBERi0xLjQKJSVFT0Y="
PNG = "iVBORw0KGgo="


def body(messages, **kw):
    return {"model": "opus", "max_tokens": 100, "messages": messages, **kw}


def test_system_messages_are_folded_into_the_system_prompt_in_order():
    conv = anthropic.to_conversation(
        body(
            [
                {"role": "user", "content": "hi"},
                {"role": "system", "content": [{"type": "text", "text": "# Environment\ncwd"}]},
                {"role": "assistant", "content": "hello"},
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "and?"},
            ],
            system=[{"type": "text", "text": "You are X.", "cache_control": {"type": "ephemeral"}}],
        )
    )
    assert conv.system == "You are X.\n\n# Environment\ncwd\n\nBe brief."
    assert [t.role for t in conv.turns] == ["user", "assistant", "user"]


def test_a_system_message_alone_is_the_system_prompt():
    conv = anthropic.to_conversation(
        body([{"role": "user", "content": "hi"}, {"role": "system", "content": "S"}])
    )
    assert (conv.system, conv.prompt.parts) == ("S", (TextPart("hi"),))


def _prompt_blocks(blocks: list[dict]) -> list[dict]:
    """What the CLI's stdin line carries for a user message made of `blocks`."""
    conv = anthropic.to_conversation(body([{"role": "user", "content": blocks}]))
    content = stdin.user_line(conv.prompt, query=True)["message"]["content"]
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


def test_documents_search_results_and_url_images_are_passed_on():
    cache = {"cache_control": {"type": "ephemeral", "ttl": "1h"}}
    sent = [
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": PDF},
            "title": "a.pdf",
            **cache,
        },
        {
            "type": "document",
            "source": {"type": "text", "media_type": "text/plain", "data": "plain"},
            "citations": {"enabled": True},
        },
        {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
        {
            "type": "search_result",
            "source": "https://example.com",
            "title": "T",
            "content": [{"type": "text", "text": "found", **cache}],
        },
        {"type": "text", "text": "summarise", **cache},
    ]
    got = _prompt_blocks(sent)
    assert got == [
        {k: v for k, v in b.items() if k not in ("cache_control", "citations")} for b in sent[:3]
    ] + [
        {
            "type": "search_result",
            "source": "https://example.com",
            "title": "T",
            "content": [{"type": "text", "text": "found"}],
        },
        {"type": "text", "text": "summarise"},
    ]


def test_api_only_blocks_are_dropped_with_a_note(caplog):
    with caplog.at_level(logging.INFO, logger="claude_max.protocols.anthropic"):
        got = _prompt_blocks(
            [{"type": "container_upload", "file_id": "file_1"}, {"type": "text", "text": "go"}]
        )
    assert got == [{"type": "text", "text": "go"}]
    assert "container_upload" in caplog.text


def test_thinking_in_history_is_dropped():
    conv = anthropic.to_conversation(
        body(
            [
                {"role": "user", "content": "a"},
                {
                    "role": "assistant",
                    "content": [
                        {"type": "redacted_thinking", "data": "xyz"},
                        {"type": "thinking", "thinking": "t", "signature": "s"},
                        {"type": "text", "text": "b"},
                    ],
                },
                {"role": "user", "content": "c"},
            ]
        )
    )
    assert conv.history[1].parts == (TextPart("b"),)


def test_a_compaction_block_stands_for_everything_before_it():
    conv = anthropic.to_conversation(
        body(
            [
                {"role": "user", "content": "long ago"},
                {"role": "assistant", "content": "old answer"},
                {"role": "user", "content": "more"},
                {
                    "role": "assistant",
                    "content": [
                        {"type": "text", "text": "dropped too"},
                        {"type": "compaction", "content": "SUMMARY"},
                        {"type": "text", "text": "after"},
                    ],
                },
                {"role": "user", "content": "next"},
            ]
        )
    )
    assert [(t.role, t.text) for t in conv.turns] == [
        ("assistant", "SUMMARYafter"),
        ("user", "next"),
    ]


def test_tool_results_carry_references_documents_and_search_results():
    conv = anthropic.to_conversation(
        body(
            [
                {"role": "user", "content": "find a tool"},
                {
                    "role": "assistant",
                    "content": [
                        {"type": "tool_use", "id": "toolu_1", "name": "ToolSearch", "input": {}}
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": "toolu_1",
                            "content": [
                                {"type": "tool_reference", "tool_name": "get_weather"},
                                {
                                    "type": "search_result",
                                    "source": "s",
                                    "title": "t",
                                    "content": [{"type": "text", "text": "x"}],
                                },
                                {
                                    "type": "document",
                                    "source": {
                                        "type": "text",
                                        "media_type": "text/plain",
                                        "data": "d",
                                    },
                                },
                                {"type": "text", "text": "done"},
                            ],
                        }
                    ],
                },
            ],
            tools=[{"name": "get_weather", "input_schema": {"type": "object"}}],
        )
    )
    [result] = conv.prompt.parts
    assert isinstance(result, ToolResultPart)
    assert [type(p).__name__ for p in result.content] == [
        "BlockPart",
        "BlockPart",
        "BlockPart",
        "TextPart",
    ]
    line = stdin.user_line(conv.prompt, query=True)
    reference = line["message"]["content"][0]["content"][0]
    assert reference == {"type": "tool_reference", "tool_name": "mcp__proxy__get_weather"}


@pytest.mark.parametrize(
    ("block", "param"),
    [
        (
            {"type": "document", "source": {"type": "file", "file_id": "file_1"}},
            "messages.0.content.0.source.type",
        ),
        ({"type": "document", "source": {"type": "pdf"}}, "messages.0.content.0.source.type"),
        ({"type": "document"}, "messages.0.content.0.source"),
        ({"type": "search_result", "source": "s"}, "messages.0.content.0.content"),
        ({"type": "tool_reference", "tool_name": "x"}, "messages.0.content.0.type"),
        ({"type": "hologram"}, "messages.0.content.0.type"),
    ],
)
def test_what_cannot_be_honoured_is_a_400(block, param):
    with pytest.raises(InvalidRequest) as info:
        anthropic.to_conversation(body([{"role": "user", "content": [block]}]))
    assert info.value.param == param


def test_a_block_part_is_immutable_json():
    part = BlockPart("document", json.dumps({"type": "document"}))
    assert part.block == {"type": "document"} and hash(part)
