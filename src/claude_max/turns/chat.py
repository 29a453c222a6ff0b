"""Continue a saved conversation (`chat`, `chat -c/-r`, the REPL): what the CLI already has
is never sent again.

A `Thread` wraps one stored session and is the continuation the terminal hands the turn
service for each of its turns. Its first turn runs with the CLI's session kept on disk;
every later turn resumes that CLI session (`--resume`) with only the new message, so earlier
turns are neither re-sent nor re-billed. After each turn the store records the CLI's session
id, the turn, and the cost of this turn alone (the CLI reports a running total per session).
"""

from __future__ import annotations

from dataclasses import replace

from claude_max.core.conversation import Conversation, Options, TextPart, Turn
from claude_max.core.events import Result
from claude_max.sessions.store import Session, SessionStore
from claude_max.turns import plan as plans


def _cli_model(name: str | None) -> str | None:
    """A saved model name (the CLI's full id) as `--model` takes it."""
    from claude_max.core import catalog
    from claude_max.core.errors import ModelNotFound

    try:
        return catalog.resolve(name) if name else None
    except ModelNotFound:
        return name


class Thread:
    def __init__(
        self,
        store: SessionStore,
        session: Session | None = None,
        *,
        model: str | None = None,
        system: str | None = None,
        source: str = "chat",
    ) -> None:
        self.store = store
        self.session = session
        self.model = model or (_cli_model(session.model) if session else None)
        self.system = system
        self.source = source
        self.last_cost = 0.0  # what the last recorded turn cost

    @classmethod
    def open(
        cls,
        store: SessionStore,
        *,
        resume: str | None = None,
        latest: bool = False,
        model: str | None = None,
        system: str | None = None,
    ) -> Thread:
        """The chat to continue (`-r ID` / `-c`), or a new one; unknown ids are clear errors."""
        from claude_max.core.errors import SessionNotFound

        session = None
        if resume:
            session = store.find(resume)
        elif latest:
            session = store.latest(source="chat")
            if session is None:
                raise SessionNotFound(
                    "",
                    message="There is no earlier chat to continue.",
                    hint="Start one: claude-max chat",
                )
        return cls(store, session, model=model, system=system)

    @property
    def id(self) -> str | None:
        return self.session.id if self.session else None

    def conversation(self, text: str, options: Options | None = None) -> Conversation:
        """The next turn as the user wrote it: the new message, this chat's model and system."""
        return Conversation(
            turns=(Turn("user", (TextPart(text),)),),
            system=self.system,
            model=self.model,
            options=options or Options(),
        )

    @property
    def lock(self) -> tuple[SessionStore, str] | None:
        return (self.store, self.session.id) if self.session else None

    def plan(self, conv: Conversation) -> plans.Plan:
        """Run the new message on top of what the CLI already has (its kept session)."""
        resume = self.session.cli_session_id if self.session else None
        options = replace(conv.options, persist=True, resume=resume, fork=False)
        return _ChatPlan(replace(conv, options=options), self)

    def record(self, text: str, answer: str, result: Result) -> Session:
        """Save a completed turn; returns the updated session."""
        if self.session is None:
            self.session = self.store.create(model=self.model, title=text, source=self.source)
        before = self.session
        same_cli_session = before.cli_session_id == result.session_id
        # The CLI's cost is a running total for its session; this turn's cost is the rise.
        spent = result.cost_usd - before.cost_usd if same_cli_session else result.cost_usd
        if spent < 0:
            spent = result.cost_usd  # the total restarted (e.g. the CLI was killed earlier)
        self.last_cost = spent
        self.session = self.store.record_turn(
            before.id,
            cli_session_id=result.session_id,
            cost_delta=spent,
            user_text=text,
            assistant_text=answer,
            model=result.model or self.model,
        )
        return self.session


class _ChatPlan(plans.Plan):
    def __init__(self, conversation: Conversation, thread: Thread) -> None:
        super().__init__(conversation)
        self.thread = thread

    def finished(self, answer: str, result: Result) -> float:
        self.thread.record(self.conversation.prompt.text, answer, result)
        return self.thread.last_cost
