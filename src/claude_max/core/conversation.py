"""The protocol-neutral conversation that both HTTP adapters and `chat` build.

A Conversation is what one CLI run answers: an optional system prompt, the turns so far
(ending with the user's newest message) and the options that shape the reply. Adapters in
`claude_max.protocols` produce it from wire JSON; `claude_max.core.run` consumes it. Nothing
here knows about OpenAI, Anthropic or the CLI's flags.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class TextPart:
    text: str


@dataclass(frozen=True, slots=True)
class ImagePart:
    """An inline image: base64 data and its media type (image/png, image/jpeg, ...); or, with
    `url`, an http(s) image the API downloads itself (never fetched here)."""

    media_type: str
    data: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class DocumentPart:
    """A document the model reads: a base64 PDF (`data`), plain text (`text`), or a PDF at an
    http(s) `url` the API downloads itself (never fetched here)."""

    media_type: str = "application/pdf"
    data: str | None = None
    text: str | None = None
    url: str | None = None
    title: str | None = None


@dataclass(frozen=True, slots=True)
class BlockPart:
    """A Messages API content block the CLI passes upstream as it is (a document, a search
    result, an image by URL, a tool reference...): the model reads it the way the real API
    presents it, so the proxy does not need to understand it."""

    kind: str  # the block's "type"
    block_json: str  # the whole block, as canonical JSON

    @property
    def block(self) -> dict[str, Any]:
        block: dict[str, Any] = json.loads(self.block_json)
        return block


@dataclass(frozen=True, slots=True)
class ToolCallPart:
    """The assistant calling one of the client's tools (in the client's own names and ids)."""

    id: str
    name: str
    input_json: str  # the arguments object, as canonical JSON


@dataclass(frozen=True, slots=True)
class ToolResultPart:
    """What the client's tool returned for call `tool_use_id` (in a user turn)."""

    tool_use_id: str
    content: tuple[TextPart | ImagePart | BlockPart, ...]
    is_error: bool = False


Part = TextPart | ImagePart | DocumentPart | BlockPart | ToolCallPart | ToolResultPart
Role = Literal["user", "assistant"]


@dataclass(frozen=True, slots=True)
class Tool:
    """A function the client offers the model; the client runs it, never the proxy."""

    name: str
    description: str
    schema_json: str  # the JSON Schema of its input, canonical JSON


ToolChoice = Literal["auto", "none", "required", "tool"]


@dataclass(frozen=True, slots=True)
class ServerTool:
    """The API's web search (or web fetch) server tool as the client offered it: the model may
    search (fetch) up to `max_uses` times, only within `allowed_domains` or outside
    `blocked_domains` (never both). Served by the CLI's own WebSearch (WebFetch) tool."""

    max_uses: int | None = None
    allowed_domains: tuple[str, ...] = ()
    blocked_domains: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Turn:
    role: Role
    parts: tuple[Part, ...]

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.parts if isinstance(p, TextPart))


@dataclass(frozen=True, slots=True)
class Options:
    """How to answer: limits and stop conditions that are not part of the history."""

    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    thinking: Literal["enabled", "adaptive", "disabled"] | None = None
    thinking_budget: int | None = None
    thinking_display: Literal["summarized", "omitted"] | None = None
    effort: str | None = None  # low, medium, high, xhigh, max (output_config.effort)
    # Continuity: keep the CLI's session on disk (persist), continue one (resume, the CLI's
    # session id: `turns` then holds only what the CLI has not seen), or a copy of it (fork).
    persist: bool = False
    resume: str | None = None
    fork: bool = False
    # Client tools: how the model may use `Conversation.tools` ("tool": only `tool_name`),
    # whether it may call several at once, and a JSON Schema the answer must follow.
    tool_choice: ToolChoice = "auto"
    tool_name: str | None = None
    parallel_tools: bool = True
    json_schema: str | None = None
    # The API's server tools the client offered (see `core.web_search`).
    web_search: ServerTool | None = None
    web_fetch: ServerTool | None = None


@dataclass(frozen=True, slots=True)
class Conversation:
    turns: tuple[Turn, ...]
    system: str | None = None
    model: str | None = None  # a CLI model name (alias or full id), already validated
    options: Options = field(default_factory=Options)
    tools: tuple[Tool, ...] = ()

    @property
    def uses_tools(self) -> bool:
        """Whether the CLI must be given the client's tools: offered, or used in the history
        (the Messages API needs every tool a turn mentions declared)."""
        if self.tools and self.options.tool_choice != "none":
            return True
        return any(
            isinstance(p, (ToolCallPart, ToolResultPart)) for t in self.turns for p in t.parts
        )

    @property
    def history(self) -> tuple[Turn, ...]:
        """Every turn before the newest user message."""
        return self.turns[:-1]

    @property
    def prompt(self) -> Turn:
        """The newest user message: the one the model answers."""
        return self.turns[-1]
