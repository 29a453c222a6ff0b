"""Stored responses: the Responses API's `previous_response_id` and `store`, as a continuation.

A Responses request that names `previous_response_id` runs with the stored chain's items
before its own (`sessions/stored_responses.expand`): the face translates `request`, not the
body it read. Beyond that the request is continued as any other would be (automatically, by
`X-Session-Id` or not at all: `around`), so the CLI's own session is still resumed when the
history matches one. Once the client has its response object (`Plan.answered`), it is kept
for the next `previous_response_id` and GET / DELETE by id, unless the request said
`store: false`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from claude_max.core.conversation import Conversation
from claude_max.core.events import Result
from claude_max.sessions import stored_responses
from claude_max.turns import plan as plans

if TYPE_CHECKING:
    from claude_max.sessions.store import SessionStore


def applies(body: dict[str, Any]) -> bool:
    """Whether a Responses request touches stored responses (else no store is opened)."""
    return stored_responses.applies(body)


class StoredResponse:
    """A Responses request that continues a stored response, or whose response is kept."""

    def __init__(self, store: SessionStore, body: dict[str, Any]) -> None:
        self.store = store
        self.body = body
        self.request = stored_responses.expand(store, body)  # ResponseNotFound: 404
        self.inner: plans.Continuation = plans.STATELESS

    def around(self, inner: plans.Continuation) -> StoredResponse:
        """Continue the expanded conversation as `inner` does."""
        self.inner = inner
        return self

    @property
    def lock(self) -> tuple[SessionStore, str] | None:
        return self.inner.lock

    def plan(self, conv: Conversation) -> Plan:
        return Plan(self.inner.plan(conv), self)


class Plan(plans.Plan):
    """The inner continuation's plan, and the response kept once the client has it."""

    def __init__(self, inner: plans.Plan, stored: StoredResponse) -> None:
        super().__init__(inner.conversation)
        self.inner = inner
        self.stored = stored
        self.headers = inner.headers

    def started(self, cli_session_id: str) -> None:
        self.inner.started(cli_session_id)

    def finished(self, answer: str, result: Result) -> float:
        return self.inner.finished(answer, result)

    def arriving(self) -> Conversation | None:
        return self.inner.arriving()

    def calling(self) -> Conversation | None:
        return self.inner.calling()

    def next_turn(self) -> Conversation | None:
        return self.inner.next_turn()

    def answered(self, response: dict[str, Any]) -> None:
        stored_responses.record(self.stored.store, self.stored.body, response)
