"""Typed events out of one CLI run, the only thing the faces see of the CLI's NDJSON.

`claude_max.core.parse` turns stream-json lines into these; `claude_max.core.run` yields them.
A run yields `Started`, then any number of deltas and `Usage` snapshots, and ends with exactly
one `Result`. Failures are not events: they end the run, so they are raised as
`claude_max.core.errors.ClaudeMaxError`, the way httpx raises rather than returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from claude_max.core.plan import PlanReading


@dataclass(frozen=True, slots=True)
class Started:
    """The CLI is up: its session id and the model it resolved; `warm` when the process was
    taken ready from the warm pool (stamped by `run`, for request history and metrics)."""

    session_id: str
    model: str
    warm: bool = False


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ThinkingDelta:
    text: str


@dataclass(frozen=True, slots=True)
class SignatureDelta:
    """The signature that closes a thinking block (needed to send thinking back)."""

    signature: str


@dataclass(frozen=True, slots=True)
class TextReset:
    """Text already yielded was abandoned by a broken upstream stream and is replaced.

    Collectors keep only the first `keep` characters of the text gathered so far; a stream
    that already sent the rest cannot take it back and must end with an error instead.
    """

    keep: int


@dataclass(frozen=True, slots=True)
class ToolUseStart:
    """The model began a call of a client tool: its id and (the client's) tool name."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class ToolInputDelta:
    """A fragment of a started call's arguments, as JSON text; the fragments concatenate."""

    id: str
    partial_json: str


@dataclass(frozen=True, slots=True)
class ToolUse:
    """A whole tool call. After `ToolUseStart` it closes that call; alone (a message that was
    not streamed) it is the call in one piece."""

    id: str
    name: str
    input: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One page a web search found (the CLI reports no page age or encrypted content)."""

    url: str
    title: str


@dataclass(frozen=True, slots=True)
class WebSearchCall:
    """The model ran a web search: the CLI's WebSearch tool, standing in for the API's
    `web_search` server tool (only yielded when the client offered that tool)."""

    id: str
    query: str


@dataclass(frozen=True, slots=True)
class WebSearchResult:
    """What search `id` found; `error` is the API's error code (`max_uses_exceeded`,
    `unavailable`) when it found nothing; `searches` the upstream searches it took."""

    id: str
    query: str
    hits: tuple[SearchHit, ...] = ()
    searches: int = 0
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ControlRequest:
    """A request the CLI makes of its host (MCP messages, tool permissions). Internal: the
    core answers it and never yields it to a face."""

    request_id: str
    request: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts so far (cumulative for this run)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_input_tokens + other.cache_read_input_tokens,
            self.cache_creation_input_tokens + other.cache_creation_input_tokens,
        )


@dataclass(frozen=True, slots=True)
class MessageEnd:
    """One upstream model call finished streaming, with its stop reason."""

    stop_reason: str | None


@dataclass(frozen=True, slots=True)
class PlanUpdate:
    """The subscription's plan as an upstream response reported it (subscription mode only;
    CLI.md §12). It comes before the turn's result, also when the turn then fails."""

    reading: PlanReading


@dataclass(frozen=True, slots=True)
class Retrying:
    """The CLI is waiting `delay_s` before retrying an upstream error (429, 529, 5xx)."""

    attempt: int
    max_retries: int
    delay_s: float
    status: int | None
    error: str = ""

    @property
    def words(self) -> str:
        """ "rate limited, retrying in 6 s (1/2)"."""
        what = {429: "rate limited", 529: "Anthropic is overloaded"}.get(
            self.status or 0, f"upstream error {self.status}" if self.status else "upstream error"
        )
        wait = max(1, round(self.delay_s))
        return f"{what}, retrying in {wait} s ({self.attempt}/{self.max_retries})"


@dataclass(frozen=True, slots=True)
class Result:
    """The end of a run. `stop_reason` is Anthropic's vocabulary (end_turn, max_tokens,
    stop_sequence, tool_use); `cost_usd` is this run's cost as the CLI reports it."""

    text: str
    stop_reason: str | None
    usage: Usage
    session_id: str
    model: str
    cost_usd: float = 0.0
    stop_sequence: str | None = None
    duration_ms: int | None = None
    num_turns: int = 0
    is_error: bool = False
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    plan: PlanReading | None = field(default=None, compare=False)  # the run's latest reading


def gather(text: str, event: object) -> str:
    """The answer text after `event`: a delta appends, a reset cuts back to what stays."""
    if isinstance(event, TextDelta):
        return text + event.text
    if isinstance(event, TextReset):
        return text[: event.keep]
    return text


Event = (
    Started
    | TextDelta
    | ThinkingDelta
    | SignatureDelta
    | TextReset
    | ToolUseStart
    | ToolInputDelta
    | ToolUse
    | Usage
    | MessageEnd
    | Result
    | ControlRequest
    | PlanUpdate
    | Retrying
    | WebSearchCall
    | WebSearchResult
)
