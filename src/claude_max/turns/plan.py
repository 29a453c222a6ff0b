"""What a turn runs, and what is kept once it is answered: one interface for every kind of
continuation (none, automatic, `X-Session-Id`, `chat -c/-r`, a stored response id).

A `Continuation` says how a request relates to earlier turns (it holds the session store it
needs, if any); planned for a conversation it gives a `Plan`: the conversation the CLI runs
(only what the CLI has not seen, when a session is resumed), headers for the client, and
the moments of a turn:
`arriving` (the turn has its CLI: a conversation worth starting ahead now), `started` (the
CLI made its session), `calling` (the model calls one of the client's tools: a conversation
worth starting ahead already), `finished` (the answer is in: record it,
return this turn's own cost), `next_turn` (a conversation worth starting ahead, once the
CLI exited) and `answered` (the face has rendered the answer for the client: the object it
got).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from claude_max.core.conversation import Conversation
from claude_max.core.events import Result
from claude_max.core.launch import follow_up

if TYPE_CHECKING:
    from claude_max.sessions.store import SessionStore


class Plan:
    """A stateless turn: run the conversation as it came, keep nothing."""

    def __init__(self, conversation: Conversation) -> None:
        self.conversation = conversation
        self.headers: dict[str, str] = {}

    def started(self, cli_session_id: str) -> None:
        """The CLI has made its session (a failed run may never get further)."""

    def finished(self, answer: str, result: Result) -> float:
        """Keep what this kind of continuation keeps; return the turn's own cost."""
        return result.cost_usd

    def next_turn(self) -> Conversation | None:
        """A conversation whose CLI is worth starting now, so the next turn takes it warm."""
        return None

    def arriving(self) -> Conversation | None:
        """A conversation whose CLI is worth starting as soon as this turn has its own CLI
        (or is waiting for it): the likely next request when this one goes as it usually
        does."""
        return None

    def calling(self) -> Conversation | None:
        """A conversation whose CLI is worth starting as soon as the model calls one of the
        client's tools (while it still writes the call)."""
        return None

    def answered(self, response: dict[str, Any]) -> None:
        """The response object the client got (kept by stored responses, `turns/stored.py`)."""


class StatelessPlan(Plan):
    """A stateless turn: nothing is kept, but when the history is long (a transcript, a cold
    start) the client's likely next request gets its CLI started ahead on that transcript
    (`launch.follow_up`), so it answers like a warm process: an agent's next step as soon
    as this request has its CLI (again when the model calls a client tool, should the pool
    have had no room then), the next question once an answer has ended. A request
    that turns out different simply does not match it (the pool keys on the history)."""

    def __init__(self, conversation: Conversation) -> None:
        super().__init__(conversation)
        self._next: Conversation | None = None

    def arriving(self) -> Conversation | None:
        # An agent's next step is this request, the model's call and its results, and its
        # CLI depends only on this request's turns: it can start now, a whole model call
        # earlier than at the call (a client that answers at once would otherwise wait for
        # the rest of its start). Wasted when the model answers instead (then retired idle).
        return follow_up(self.conversation)

    def calling(self) -> Conversation | None:
        return follow_up(self.conversation)

    def finished(self, answer: str, result: Result) -> float:
        if result.stop_reason == "end_turn" and answer:
            self._next = follow_up(self.conversation, answer)
        return result.cost_usd

    def next_turn(self) -> Conversation | None:
        return self._next


class Continuation(Protocol):
    """How a request relates to earlier turns."""

    @property
    def lock(self) -> tuple[SessionStore, str] | None:
        """The stored session this turn must have alone (None: nothing to lock)."""

    def plan(self, conv: Conversation) -> Plan:
        """What to run for `conv`, given what is remembered."""


class Stateless:
    """No continuation: the request carries everything and nothing is kept (and no store is
    opened, so a stateless request works whatever state the store is in)."""

    lock = None

    def plan(self, conv: Conversation) -> Plan:
        return StatelessPlan(conv)


STATELESS = Stateless()
