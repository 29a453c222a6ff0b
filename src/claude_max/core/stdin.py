"""The lines this process writes to the CLI's stdin (its stream-json input protocol).

`core/parse.py` reads what the CLI writes back; this module writes what it reads: the user and
assistant lines that carry a conversation (messages marked `client_composed`, so `@path` and
`/command` in client text are never interpreted, CLI.md §3, §9) and the control requests
(switch model, interrupt, initialize). The control responses to the CLI's own requests (client
tools) are `client_tools.py`'s.
"""

from __future__ import annotations

import json
from typing import Any

from claude_max.core import client_tools
from claude_max.core.conversation import (
    BlockPart,
    DocumentPart,
    ImagePart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    Turn,
)


def content_blocks(turn: Turn) -> str | list[dict[str, Any]]:
    """A turn's content as the Messages API takes it: a plain string when it is one text."""
    if len(turn.parts) == 1 and isinstance(turn.parts[0], TextPart):
        return turn.parts[0].text
    return [_block(part) for part in turn.parts]


def _block(
    part: TextPart | ImagePart | DocumentPart | BlockPart | ToolCallPart | ToolResultPart,
) -> dict[str, Any]:
    if isinstance(part, BlockPart):
        passed = part.block
        if part.kind == "tool_reference":  # the client's tool, under the CLI's name for it
            passed["tool_name"] = client_tools.cli_name(passed["tool_name"])
        return passed
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if isinstance(part, DocumentPart):
        return document_block(part)
    if isinstance(part, ImagePart) and part.url is not None:
        return {"type": "image", "source": {"type": "url", "url": part.url}}
    if isinstance(part, ImagePart):
        return {
            "type": "image",
            "source": {"type": "base64", "media_type": part.media_type, "data": part.data},
        }
    if isinstance(part, ToolCallPart):
        return {
            "type": "tool_use",
            "id": part.id,
            "name": client_tools.cli_name(part.name),
            "input": json.loads(part.input_json),
        }
    block: dict[str, Any] = {
        "type": "tool_result",
        "tool_use_id": part.tool_use_id,
        "content": [_block(p) for p in part.content],
    }
    if part.is_error:
        block["is_error"] = True
    return block


def document_block(part: DocumentPart) -> dict[str, Any]:
    """A `document` block; the CLI passes it upstream unchanged (measured, 2.1.330)."""
    if part.url is not None:
        source: dict[str, Any] = {"type": "url", "url": part.url}
    elif part.text is not None:
        source = {"type": "text", "media_type": "text/plain", "data": part.text}
    else:
        source = {"type": "base64", "media_type": part.media_type, "data": part.data}
    block: dict[str, Any] = {"type": "document", "source": source}
    if part.title:
        block["title"] = part.title
    return block


def user_line(turn: Turn, *, query: bool) -> dict[str, Any]:
    """A stream-json user line; `query=False` stores it as history without a model call."""
    line: dict[str, Any] = {
        "type": "user",
        "message": {"role": "user", "content": content_blocks(turn)},
        "parent_tool_use_id": None,
        "session_id": "",
        "client_composed": True,
    }
    if not query:
        line["shouldQuery"] = False
    return line


def assistant_line(turn: Turn) -> dict[str, Any]:
    content = content_blocks(turn)
    if isinstance(content, str):
        content = [{"type": "text", "text": content}]
    return {
        "type": "assistant",
        "message": {"role": "assistant", "content": content},
        "parent_tool_use_id": None,
        "session_id": "",
    }


def interrupt_line(request_id: str) -> dict[str, Any]:
    return {
        "type": "control_request",
        "request_id": request_id,
        "request": {"subtype": "interrupt"},
    }


def initialize_line(request_id: str) -> dict[str, Any]:
    """Ask a CLI for its commands, agents and models (it answers without a model call)."""
    return {
        "type": "control_request",
        "request_id": request_id,
        "request": {"subtype": "initialize", "hooks": None},
    }


def set_model_line(request_id: str, model: str) -> dict[str, Any]:
    """Switch a running CLI's model for its next turn (an alias costs no extra call; a full id
    makes the CLI send a one-token probe first, CLI.md §9)."""
    return {
        "type": "control_request",
        "request_id": request_id,
        "request": {"subtype": "set_model", "model": model},
    }
