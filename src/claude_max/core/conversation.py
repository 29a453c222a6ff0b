"""The protocol-neutral conversation that both HTTP adapters and `chat` build.

A Conversation is what one CLI run answers: an optional system prompt, the turns so far
(ending with the user's newest message) and the options that shape the reply. Adapters in
`claude_max.protocols` produce it from wire JSON; `claude_max.core.run` consumes it. Nothing
here knows about OpenAI, Anthropic or the CLI's flags.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True, slots=True)
class TextPart:
    text: str


@dataclass(frozen=True, slots=True)
class ImagePart:
    """An inline image: base64 data and its media type (image/png, image/jpeg, ...)."""

    media_type: str
    data: str


Part = TextPart | ImagePart
Role = Literal["user", "assistant"]


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
    thinking: Literal["enabled", "disabled"] | None = None
    thinking_budget: int | None = None
    effort: str | None = None
    # Continuity: keep the CLI's session on disk (persist), continue one (resume, the CLI's
    # session id: `turns` then holds only what the CLI has not seen), or a copy of it (fork).
    persist: bool = False
    resume: str | None = None
    fork: bool = False


@dataclass(frozen=True, slots=True)
class Conversation:
    turns: tuple[Turn, ...]
    system: str | None = None
    model: str | None = None  # a CLI model name (alias or full id), already validated
    options: Options = field(default_factory=Options)

    @property
    def history(self) -> tuple[Turn, ...]:
        """Every turn before the newest user message."""
        return self.turns[:-1]

    @property
    def prompt(self) -> Turn:
        """The newest user message: the one the model answers."""
        return self.turns[-1]
