"""Chat Completions `file` parts (PDF, plain text) and `image_url` with an http(s) URL become
Anthropic document / image blocks for the CLI; anything else is a 400 that says what to send."""

from __future__ import annotations

import base64

import pytest

from claude_max.core import stdin
from claude_max.core.errors import InvalidRequest
from claude_max.protocols import openai

PNG_1PX = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAE"
    "hQGAhKmMIQAAAABJRU5ErkJggg=="
)
PDF = base64.b64encode(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n").decode()


def blocks(*parts: dict) -> list[dict]:
    """The content blocks the CLI gets on stdin for one user message."""
    body = {"messages": [{"role": "user", "content": [*parts, {"type": "text", "text": "go"}]}]}
    conv = openai.to_conversation(body)
    return stdin.user_line(conv.prompt, query=True)["message"]["content"][:-1]


def test_a_pdf_file_becomes_a_base64_document():
    part = {"type": "file", "file": {"file_data": f"data:application/pdf;base64,{PDF}"}}
    assert blocks(part) == [
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": PDF},
        }
    ]


def test_the_filename_becomes_the_document_title():
    part = {
        "type": "file",
        "file": {"filename": "report.pdf", "file_data": f"data:application/pdf;base64,{PDF}"},
    }
    assert blocks(part)[0]["title"] == "report.pdf"


def test_a_text_file_becomes_a_text_document():
    data = base64.b64encode("héllo".encode()).decode()
    part = {"type": "file", "file": {"file_data": f"data:text/plain;base64,{data}"}}
    assert blocks(part) == [
        {
            "type": "document",
            "source": {"type": "text", "media_type": "text/plain", "data": "héllo"},
        }
    ]


def test_an_http_image_url_is_passed_as_a_url_source():
    part = {
        "type": "image_url",
        "image_url": {"url": "https://example.com/cat.png", "detail": "low"},
    }
    assert blocks(part) == [
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}}
    ]


def test_a_data_url_image_stays_base64():
    png = PNG_1PX
    [block] = blocks({"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}"}})
    assert block["source"] == {"type": "base64", "media_type": "image/png", "data": png}


@pytest.mark.parametrize(
    ("part", "param", "says"),
    [
        ({"type": "file", "file": {"file_id": "file-abc"}}, "file.file_id", "file_data"),
        ({"type": "file", "file": {"file_data": PDF}}, "file.file_data", "data:application/pdf"),
        (
            {"type": "file", "file": {"file_data": f"data:application/msword;base64,{PDF}"}},
            "file.file_data",
            "application/pdf, text/plain",
        ),
        (
            {"type": "file", "file": {"file_data": "data:application/pdf;base64,@@@"}},
            "file.file_data",
            "base64",
        ),
        (
            {"type": "file", "file": {"file_data": "data:application/pdf;base64,aGVsbG8="}},
            "file.file_data",
            "not a PDF",
        ),
        ({"type": "file", "file": "x"}, "file", "object"),
        (
            {"type": "image_url", "image_url": {"url": "file:///etc/passwd"}},
            "url",
            "an http\\(s\\) URL",
        ),
        (
            {"type": "image_url", "image_url": {"url": "ftp://host/a.png"}},
            "url",
            "an http\\(s\\) URL",
        ),
        ({"type": "image_url", "image_url": {"url": "https://"}}, "url", "an http\\(s\\) URL"),
        (
            {"type": "image_url", "image_url": {"url": "https://a b/c.png"}},
            "url",
            "an http\\(s\\) URL",
        ),
        ({"type": "input_audio", "input_audio": {}}, "type", "text, image_url or file"),
    ],
)
def test_what_cannot_be_passed_is_a_clear_400(part, param, says):
    with pytest.raises(InvalidRequest, match=says) as info:
        blocks(part)
    assert info.value.param.endswith(param)


def test_documents_only_in_user_messages():
    part = {"type": "file", "file": {"file_data": f"data:application/pdf;base64,{PDF}"}}
    body = {
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [part]},
            {"role": "user", "content": "go"},
        ]
    }
    with pytest.raises(InvalidRequest, match="only text"):
        openai.to_conversation(body)
