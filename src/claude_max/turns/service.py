"""The turn service: the one owner of what happens around a turn, for every face.

A face (a route handler, `chat`, the REPL) builds a protocol-neutral `Conversation`, says how
it continues earlier turns, and gets a `Turn`: it then either streams `Turn.events()` or awaits
`Turn.complete()`, and closes the turn. In between the service, and only the service:

1. locks the stored session the turn continues (a second request on it: 409 at once),
2. takes a request slot (when the face has a limiter: the server's concurrency limit),
3. plans the run: what the CLI must get (only what it has not seen, when resuming),
4. runs it through the core, recording the turn as the result arrives (before the CLI exits),
5. starts the CLI the next turn would take, so it is warm: once the CLI has exited, or as
   soon as the model calls one of the client's tools (an agent's next step).

Faces never see a session store row, a launch spec or the warm pool.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, Any

from claude_max.core.conversation import Conversation
from claude_max.core.errors import ClaudeMaxError
from claude_max.core.events import Event, Result, Started, ToolUseStart, gather
from claude_max.core.run import Interrupt, Reply, complete, run
from claude_max.core.settings import Settings
from claude_max.turns import auto, named, stored
from claude_max.turns.plan import STATELESS, Continuation, Plan

if TYPE_CHECKING:
    from claude_max.core.pool import Pool
    from claude_max.sessions.store import SessionStore

Acquire = Callable[[], "contextlib.AbstractAsyncContextManager[object]"]


class TurnService:
    def __init__(
        self,
        settings: Settings,
        *,
        pool: Pool | None = None,
        store: Callable[[], SessionStore] | None = None,
        readable_store: Callable[[], SessionStore | None] | None = None,
        slot: Acquire | None = None,
    ) -> None:
        self.settings = settings
        self.pool = pool
        self._store = store  # opened on first use: stateless turns never touch it
        # the store for what can do without it (automatic continuation): None while unreadable
        self._readable_store = readable_store or store
        self._slot = slot

    def store(self) -> SessionStore:
        if self._store is None:
            raise RuntimeError("this turn service has no session store")
        return self._store()

    def continuation(
        self,
        conv: Conversation,
        *,
        session: str | None = None,
        owner: str | None = None,
        stored_response: stored.StoredResponse | None = None,
    ) -> Continuation:
        """How an HTTP request continues: the session it names (among those of `owner`, the
        API key's label), else automatically when allowed, else not at all; for a Responses
        request that continues or keeps a stored response (`stored_response`), as that too."""
        how = self._continuation(conv, session=session, owner=owner)
        return how if stored_response is None else stored_response.around(how)

    def _continuation(
        self, conv: Conversation, *, session: str | None, owner: str | None
    ) -> Continuation:
        if session is not None and named.applies(conv):
            return named.NamedSession(self.store(), session, owner=owner)
        if self.settings.auto_continue and self._readable_store is not None and auto.applies(conv):
            if (store := self._readable_store()) is not None:
                return auto.Automatic(store)
        return STATELESS

    def stored_response(self, body: dict[str, Any]) -> stored.StoredResponse | None:
        """A Responses request's stored response kind, read before the request is translated
        (translate its `request`: the stored conversation, then the new input); None when the
        request neither continues nor keeps one."""
        if not stored.applies(body):
            return None
        return stored.StoredResponse(self.store(), body)

    async def open(
        self,
        conv: Conversation,
        how: Continuation = STATELESS,
        *,
        observe: Callable[[Event], None] | None = None,
        failed: Callable[[ClaudeMaxError], None] | None = None,
    ) -> Turn:
        """Lock, take a slot and plan; the caller must `aclose()` the turn (or use it with
        `async with`). Cancelled or failed half-way, it lets go of what it took. `observe`
        sees every event of the run (the server's plan reading, logs and history); `failed`,
        the error that ends a run after its events began (a stream then ends with an error
        event rather than an HTTP status)."""
        held = contextlib.AsyncExitStack()
        try:
            if how.lock is not None:
                store, key = how.lock
                await held.enter_async_context(store.alock(key))
            if self._slot is not None:
                await held.enter_async_context(self._slot())
            return Turn(self, how.plan(conv), held, observe, failed)
        except BaseException:
            await held.aclose()
            raise

    def warm_up(self, conv: Conversation) -> None:
        """Start a CLI for a request clients are likely to send, as this service runs it."""
        if self.settings.auto_continue and auto.applies(conv):
            conv = auto.kept(conv)
        self.prepare(conv)

    def prepare(self, conv: Conversation) -> None:
        """Start a CLI for `conv` ahead of time (no pool: nothing to do)."""
        if self.pool is not None:
            self.pool.prepare(conv, self.settings)


class Turn:
    """One planned turn; run it once, with `events()` or `complete()`."""

    def __init__(
        self,
        service: TurnService,
        plan: Plan,
        held: contextlib.AsyncExitStack,
        observe: Callable[[Event], None] | None = None,
        failed: Callable[[ClaudeMaxError], None] | None = None,
    ) -> None:
        self._service = service
        self._observe = observe
        self._failed = failed
        self.plan = plan
        self._held = held
        self._text = ""
        self.cost = 0.0  # this turn's own cost, once its result is in
        self._calling = False  # the model has called one of the client's tools
        self.interrupt = Interrupt()  # stop it the CLI's way: the answer so far is kept

    @property
    def headers(self) -> dict[str, str]:
        """What the client should be told about the turn's continuation (e.g. its session)."""
        return self.plan.headers

    def _see(self, event: Event) -> None:
        if self._observe is not None:
            self._observe(event)
        self._text = gather(self._text, event)
        if isinstance(event, Started):
            self.plan.started(event.session_id)
        elif isinstance(event, Result):
            self.cost = self.plan.finished(self._text, event)
        elif isinstance(event, ToolUseStart) and not self._calling:
            self._calling = True
            if (following := self.plan.calling()) is not None:
                self._service.prepare(following)

    def answered(self, response: dict[str, Any]) -> None:
        """The face's response object, once the client has it (kept for stored responses)."""
        self.plan.answered(response)

    def _taken(self) -> None:
        if (following := self.plan.arriving()) is not None:
            self._service.prepare(following)

    def _exited(self) -> None:
        if (following := self.plan.next_turn()) is not None:
            self._service.prepare(following)

    async def events(self) -> AsyncGenerator[Event, None]:
        """The turn's events as the core yields them; the turn is recorded on the way."""
        service = self._service
        stream = run(
            self.plan.conversation,
            service.settings,
            pool=service.pool,
            on_exit=self._exited,
            interrupt=self.interrupt,
            on_taken=self._taken,
        )
        async with contextlib.aclosing(stream):
            try:
                async for event in stream:
                    self._see(event)
                    yield event
            except ClaudeMaxError as exc:
                if self._failed is not None:
                    self._failed(exc)
                raise

    async def complete(self) -> Reply:
        service = self._service
        return await complete(
            self.plan.conversation,
            service.settings,
            pool=service.pool,
            observe=self._see,
            on_exit=self._exited,
            on_taken=self._taken,
        )

    async def aclose(self) -> None:
        """Let go of the session lock and the slot."""
        await self._held.aclose()

    async def __aenter__(self) -> Turn:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
