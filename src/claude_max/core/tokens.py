"""A fast local estimate of a conversation's input tokens, for count_tokens endpoints.

Why an estimate: the exact count is the upstream's, and only the CLI holds the credentials
to ask it. The CLI can be made to ask (its `get_context_usage` control request sends
`/v1/messages/count_tokens` calls upstream: measured, three calls for a one-message
conversation), but that costs a CLI start and seeding the whole history per count, and what
it counts is the CLI's view by category, not the request. Clients call count_tokens often
(Claude Code before compacting, the VS Code extension at start-up, LangChain per message),
so claude-max answers at once from the text itself.

The rule: about 3.5 characters per token for ASCII text (Anthropic's rule of thumb for
English; code and JSON land close to it), one token per other character (CJK and the like),
a few tokens of framing per message and block, images by their size as the API sizes them
(width x height / 750, after scaling the long edge to 1568 px), PDFs by page, and the tool
use system prompt the API adds when tools are given.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import struct

from claude_max.core.conversation import (
    BlockPart,
    Conversation,
    DocumentPart,
    ImagePart,
    Part,
    TextPart,
    ToolCallPart,
    ToolResultPart,
)
from claude_max.core.stdin import document_block

CHARS_PER_TOKEN = 3.5
PER_MESSAGE = 4  # role and turn framing
PER_BLOCK = 3
TOOLS_PROMPT = 300  # the tool use instructions the API adds when tools are given
PER_TOOL = 8
IMAGE_MAX = 1600  # an image of unknown size: the API's cap for a full-size image
PDF_PAGE = 1600  # each page goes to the model as an image and its text
_PAGE = re.compile(rb"/Type\s*/Page(?!s)")


def text_tokens(text: str) -> int:
    if not text:
        return 0
    ascii_chars = sum(1 for c in text if ord(c) < 128)
    return math.ceil(ascii_chars / CHARS_PER_TOKEN) + (len(text) - ascii_chars)


def estimate(conv: Conversation) -> int:
    """Input tokens of `conv` as the Messages API would count them, approximately."""
    total = text_tokens(conv.system or "")
    for turn in conv.turns:
        total += PER_MESSAGE + sum(_part(p) for p in turn.parts)
    if conv.tools:
        total += TOOLS_PROMPT
        for tool in conv.tools:
            total += PER_TOOL + text_tokens(tool.name + tool.description + tool.schema_json)
    return max(1, total)


def _part(part: Part) -> int:
    if isinstance(part, TextPart):
        return text_tokens(part.text)
    if isinstance(part, ImagePart):
        return PER_BLOCK + image_tokens(part.data)
    if isinstance(part, ToolCallPart):
        return PER_BLOCK + text_tokens(part.name + part.input_json)
    if isinstance(part, ToolResultPart):
        return PER_BLOCK + sum(_part(p) for p in part.content)
    if isinstance(part, DocumentPart):
        part = BlockPart("document", json.dumps(document_block(part)))
    return PER_BLOCK + _block(part)


def _block(part: BlockPart) -> int:
    block = part.block
    if part.kind == "tool_reference":
        return text_tokens(block.get("tool_name", ""))
    if part.kind == "search_result":
        texts = [str(block.get("source", "")), str(block.get("title", ""))]
        texts += [b.get("text", "") for b in block.get("content", []) if isinstance(b, dict)]
        return sum(text_tokens(t) for t in texts)
    source = block.get("source") or {}
    kind = source.get("type")
    if part.kind == "image":
        return IMAGE_MAX  # by URL: its size is not known here
    title = text_tokens(str(block.get("title") or "")) + text_tokens(
        str(block.get("context") or "")
    )
    if kind == "text":
        return title + text_tokens(str(source.get("data", "")))
    if kind == "content":
        inner = source.get("content")
        if isinstance(inner, str):
            return title + text_tokens(inner)
        return title + sum(
            text_tokens(b.get("text", "")) if b.get("type") == "text" else IMAGE_MAX
            for b in inner or []
            if isinstance(b, dict)
        )
    if kind == "base64":
        return title + pdf_tokens(str(source.get("data", "")))
    return title + PDF_PAGE  # a PDF by URL: one page at least


def pdf_tokens(data: str) -> int:
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return PDF_PAGE
    return max(1, len(_PAGE.findall(raw))) * PDF_PAGE


def image_tokens(data: str) -> int:
    """The API's size rule for an image whose header gives its width and height."""
    try:
        head = base64.b64decode(data[: 64 * 1024 // 3 * 4], validate=False)
    except (binascii.Error, ValueError):
        return IMAGE_MAX
    size = _dimensions(head)
    if size is None:
        return IMAGE_MAX
    width, height = size
    scale = min(1.0, 1568 / max(width, height, 1))
    return max(1, min(IMAGE_MAX, math.ceil(width * scale * height * scale / 750)))


def _dimensions(head: bytes) -> tuple[int, int] | None:
    if head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) >= 24:
        return struct.unpack(">II", head[16:24])
    if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
        return struct.unpack("<HH", head[6:10])
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP" and head[12:16] == b"VP8X":
        w = int.from_bytes(head[24:27], "little") + 1
        h = int.from_bytes(head[27:30], "little") + 1
        return w, h
    if head[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(head):
            if head[i] != 0xFF:
                return None
            marker, length = head[i + 1], int.from_bytes(head[i + 2 : i + 4], "big")
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                h, w = struct.unpack(">HH", head[i + 5 : i + 9])
                return w, h
            i += 2 + length
    return None
