"""Continue a conversation that an HTTP client names with `X-Session-Id`.

A client may send only the new message or the whole history each time. The history (all but
the new message) is compared with the session's transcript: when it matches, or when only
the new message came, the CLI's session is resumed with just the new message, so nothing is
sent to the model twice. When it differs (an edited or regenerated turn), the conversation
starts over in a new CLI session seeded with the client's history; the old CLI session is left
as it was and never mixed in. Conversations with client tools are not kept (`applies`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from claude_max.core.conversation import Conversation
from claude_max.core.events import Result
from claude_max.sessions import cli_files
from claude_max.sessions.store import SessionStore
from claude_max.turns import plan as plans
from claude_max.turns.chat import Thread

SESSION_HEADER = "x-session-id"


def applies(conv: Conversation) -> bool:
    """Whether a session can carry this conversation. Tool conversations cannot: the CLI
    keeps a turn that handed calls to the client with a refusal in its history, so they are
    answered from the history the client sends (which tool-using clients always send whole)."""
    return not conv.uses_tools


class NamedSession:
    """The continuation of a session the client names."""

    def __init__(self, store: SessionStore, key: str) -> None:
        self.store, self.key = store, key

    @property
    def lock(self) -> tuple[SessionStore, str]:
        return self.store, self.key

    def plan(self, conv: Conversation) -> Plan:
        return plan(self.store, self.key, conv)


class Plan(plans.Plan):
    def __init__(
        self, conversation: Conversation, thread: Thread, seeded: Sequence[tuple[str, str]]
    ) -> None:
        super().__init__(conversation)  # only the new message when resuming
        self.thread = thread
        self.seeded = seeded  # history the CLI gets seeded with (new CLI session)
        assert thread.session is not None
        self.headers[SESSION_HEADER] = thread.session.id

    def finished(self, answer: str, result: Result) -> float:
        return record(self, answer, result)


def plan(store: SessionStore, key: str, conv: Conversation) -> Plan:
    session = store.get(key)
    history = [(turn.role, turn.text) for turn in conv.history]
    if session is not None and session.cli_session_id:
        stored = [(t["role"], t["text"]) for t in session.transcript]
        if not history or history == stored:
            resumed = replace(
                conv,
                turns=(conv.prompt,),
                options=replace(conv.options, resume=session.cli_session_id, persist=True),
            )
            return Plan(resumed, Thread(store, session, model=conv.model, source="http"), [])
        store.delete([key])  # diverged: the session follows the client's history from now on
        cli_files.remove([session.cli_session_id])  # the old branch is never resumed again
        session = None
    if session is None:
        first = conv.turns[0].text if conv.turns else ""
        session = store.create(id=key, model=conv.model, title=first, source="http")
    fresh = replace(conv, options=replace(conv.options, persist=True, resume=None))
    return Plan(fresh, Thread(store, session, model=conv.model, source="http"), history)


def record(plan: Plan, answer: str, result: Result) -> float:
    """Save the turn (and, for a new CLI session, the history it was seeded with); returns
    this request's cost."""
    thread = plan.thread
    store, session = thread.store, thread.session
    assert session is not None
    pairs: list[tuple[str, str]] = []
    pending_user: str | None = None
    for role, text in plan.seeded:
        if role == "user":
            if pending_user is not None:
                pairs.append((pending_user, ""))
            pending_user = text
        else:
            pairs.append((pending_user or "", text))
            pending_user = None
    if pending_user is not None:
        pairs.append((pending_user, ""))
    for user_text, assistant_text in pairs:
        session = store.record_turn(
            session.id,
            cli_session_id=result.session_id,
            cost_delta=0.0,
            user_text=user_text,
            assistant_text=assistant_text,
            model=None,
        )
    thread.session = session
    thread.record(plan.conversation.prompt.text, answer, result)
    return thread.last_cost
