"""How a Conversation becomes the CLI's argv, environment and stdin lines.

Only this module knows the CLI's flags. Client text never goes into argv: the system prompt is
passed as a file (no size limit, no leading-dash trap, not visible in `ps`), and messages go
on stdin as stream-json lines marked `client_composed` so that `@path` and `/command` in them
are never interpreted (CLI.md §3, §9).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from claude_max.core import billing, client_tools, web_search
from claude_max.core.conversation import (
    BlockPart,
    Conversation,
    DocumentPart,
    ImagePart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    Turn,
)
from claude_max.core.settings import Settings

# Safe by default: no tools, none of the user's settings, hooks, MCP servers or CLAUDE.md,
# nothing written to disk for a stateless request. Values in --opt=value form, always.
SAFE_FLAGS = (
    "-p",
    "--output-format=stream-json",
    "--verbose",
    "--include-partial-messages",
    "--input-format=stream-json",
    "--tools=",
    "--setting-sources=",
    "--strict-mcp-config",
    "--no-session-persistence",
)

# Variables of an enclosing Claude Code session that would change how a child CLI behaves;
# and pytest's per-phase marker, which changes within one test and, being part of a launch
# spec, would make every warm process a miss there.
_DROPPED_ENV = (
    "CLAUDECODE",
    "CLAUDE_CODE_ENTRYPOINT",
    "CLAUDE_CODE_SSE_PORT",
    "PYTEST_CURRENT_TEST",
)


def build_argv(claude: str, conv: Conversation, *, tools: tuple[str, ...] = ()) -> list[str]:
    """Everything but the model and the system prompt, which `start` adds (`model_flag`,
    `system_prompt_flag`): a warm process can still switch models (`set_model_line`)."""
    argv = [claude, *SAFE_FLAGS]
    opts = conv.options
    if opts.persist or opts.resume:
        argv.remove("--no-session-persistence")
    if opts.resume:
        argv.append(resume_flag(opts.resume))
        if opts.fork:
            argv.append("--fork-session")
    tools = (*tools, *web_search.cli_tools(conv, tools))
    if tools:  # agent mode, an explicit opt-in: the model may use these tools of the CLI
        argv[argv.index("--tools=")] = f"--tools={','.join(tools)}"
    if client_tools.declared(conv):  # the client's tools, which run at the client
        argv.extend(client_tools.flags())
    elif opts.web_search or opts.web_fetch:  # each call asks us first (`core.web_search`)
        argv.append(web_search.PERMISSION_FLAG)
    if opts.json_schema:
        argv.append(f"--json-schema={opts.json_schema}")
    if opts.thinking == "disabled":
        argv.append("--thinking=disabled")
    elif opts.thinking == "adaptive":
        argv.append("--thinking=adaptive")
    elif opts.thinking == "enabled":
        argv.append("--thinking=enabled")
        if opts.thinking_budget:
            argv.append(f"--max-thinking-tokens={opts.thinking_budget}")
    if opts.thinking_display and opts.thinking != "disabled":
        argv.append(f"--thinking-display={opts.thinking_display}")
    if opts.effort:
        argv.append(f"--effort={opts.effort}")
    return argv


def resume_flag(session_id: str) -> str:
    return f"--resume={session_id}"


def model_flag(model: str | None) -> list[str]:
    return [f"--model={model}"] if model else []


def set_model_line(request_id: str, model: str) -> dict[str, Any]:
    """Switch a running CLI's model for its next turn (an alias costs no extra call; a full id
    makes the CLI send a one-token probe first, CLI.md §9)."""
    return {
        "type": "control_request",
        "request_id": request_id,
        "request": {"subtype": "set_model", "model": model},
    }


def system_prompt_flag(path: Path | None) -> str:
    """The client's system prompt replaces the CLI's; none means an empty one."""
    return f"--system-prompt-file={path}" if path is not None else "--system-prompt="


def build_env(
    settings: Settings, conv: Conversation, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    source = os.environ if base is None else base
    env = billing.child_env(source, pass_api_env=settings.pass_api_env)
    env = {k: v for k, v in env.items() if k not in _DROPPED_ENV}
    env["CLAUDE_CODE_MAX_RETRIES"] = str(settings.max_retries)
    env["TMPDIR"] = str(settings.tmpdir())
    if conv.options.max_tokens:
        env["CLAUDE_CODE_MAX_OUTPUT_TOKENS"] = str(conv.options.max_tokens)
    if conv.options.thinking == "enabled" and conv.options.thinking_budget:
        env["MAX_THINKING_TOKENS"] = str(conv.options.thinking_budget)
    if conv.options.thinking_display == "omitted":  # else the CLI sends display "updates"
        env["CLAUDE_CODE_THINKING_DISPLAY_UPDATES"] = "0"
    return env


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
