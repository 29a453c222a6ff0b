"""The local token estimate behind count_tokens."""

from __future__ import annotations

import base64
import struct
import zlib

from claude_max.core import tokens
from claude_max.core.conversation import BlockPart, Conversation, ImagePart, TextPart, Turn


def png(width: int, height: int) -> str:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    head = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk
    return base64.b64encode(head + struct.pack(">I", zlib.crc32(chunk))).decode()


def one(*parts) -> Conversation:
    return Conversation(turns=(Turn("user", tuple(parts)),))


def test_text_is_about_three_and_a_half_characters_a_token():
    assert tokens.text_tokens("a" * 350) == 100
    assert tokens.text_tokens("日本語") == 3
    assert tokens.text_tokens("") == 0


def test_images_count_by_their_size_as_the_api_scales_them():
    assert tokens.image_tokens(png(200, 150)) == 40  # 200*150/750
    assert tokens.image_tokens(png(4000, 4000)) == 1600  # scaled down, capped
    assert tokens.image_tokens("bm90IGFuIGltYWdl") == tokens.IMAGE_MAX  # unknown format


def test_pdfs_count_by_page():
    pdf = b"%PDF-1.4 /Type /Pages /Type /Page x /Type /Page y %%EOF"
    data = base64.b64encode(pdf).decode()
    block = BlockPart(
        "document", f'{{"type":"document","source":{{"type":"base64","data":"{data}"}}}}'
    )
    assert tokens.estimate(one(block)) >= 2 * tokens.PDF_PAGE


def test_a_conversation_adds_up():
    small = tokens.estimate(one(TextPart("hi")))
    big = tokens.estimate(one(TextPart("hi"), ImagePart("image/png", png(750, 100))))
    assert big - small == 100 + tokens.PER_BLOCK
