"""How a Conversation becomes the CLI's argv and environment.

Only this module knows the CLI's flags. Client text never goes into argv: the system prompt is
passed as a file (no size limit, no leading-dash trap, not visible in `ps`), and messages go
on stdin (`stdin.py`, the lines this process writes) so that `@path` and `/command` in them
are never interpreted (CLI.md §3, §9).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from claude_max.core import billing, client_tools, web_search
from claude_max.core.conversation import Conversation
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
    `system_prompt_flag`): a warm process can still switch models (`stdin.set_model_line`)."""
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
