"""Automatic continuation for stateless clients (no X-Session-Id).

Most chat clients send the whole history every time. When a request's history (all but its
new message) is exactly a conversation the proxy already answered, the CLI's session of that
conversation is resumed with `--fork-session`, and only the new message is sent: the model
continues from what it really had (its thinking included), and the earlier session stays as
it was, so a client that regenerates or edits a turn simply branches off it. Otherwise the
history is seeded into a fresh CLI, as before, and that CLI's session is kept for next time.

A continuation needs a CLI started with `--resume`, which cannot come from the warm pool's
processes; so once a continued conversation's turn has ended (and its CLI has saved the
session) the server starts the next turn's fork ahead of time (`Plan.next`), and a client
that carries on takes it warm.

Sessions kept this way are never shown or resumed by name; `prune` deletes the ones older
than a cap and the oldest beyond a total size, so a busy server does not fill the disk.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from claude_max.core.conversation import (
    BlockPart,
    Conversation,
    DocumentPart,
    ImagePart,
    TextPart,
    Turn,
)
from claude_max.core.events import Result
from claude_max.sessions import cli_files
from claude_max.sessions.store import SessionStore
from claude_max.turns import plan as plans

# Only answers that ended by themselves are continued: after a stop sequence or max_tokens
# cut, the CLI's session holds text the client never received.
_NATURAL_ENDS = ("end_turn", None)


def key(system: str | None, turns: Iterable[Turn]) -> str:
    """The hash of a conversation as the client sees it: system prompt, roles, texts, images."""
    digest = hashlib.sha256()
    digest.update(repr(system or "").encode())
    for turn in turns:
        images = [
            hashlib.sha256(p.data.encode()).hexdigest()
            for p in turn.parts
            if isinstance(p, ImagePart)
        ]
        digest.update(repr((turn.role, turn.text, images)).encode())
    return digest.hexdigest()


class Automatic:
    """The continuation of a stateless client's conversation, found by its content."""

    lock = None

    def __init__(self, store: SessionStore) -> None:
        self.store = store

    def plan(self, conv: Conversation) -> Plan:
        return plan(self.store, conv)


@dataclass
class Plan(plans.Plan):
    conversation: Conversation  # what to run: only the new message when continuing
    turns: tuple[Turn, ...]  # the whole conversation the client sent
    system: str | None
    store: SessionStore
    continued: str | None  # the CLI session continued (forked), if any
    cost_before: float = 0.0  # the CLI's cumulative cost figure of that session
    next: Conversation | None = None  # how the next turn would continue, once this one ended
    headers: dict[str, str] = field(default_factory=dict)

    def started(self, cli_session_id: str) -> None:
        started(self, cli_session_id)

    def finished(self, answer: str, result: Result) -> float:
        return record(self, answer, result)

    def next_turn(self) -> Conversation | None:
        return self.next


def applies(conv: Conversation) -> bool:
    """Tool conversations and schema answers are not continued: the CLI's session holds
    refusals or a StructuredOutput call where the client's history has something else. Nor
    are conversations with images: a CLI that keeps its session saves each image in TMPDIR
    and tells the model its path, which a stateless run does not; nor with passed-on blocks
    (documents, search results...), which the conversation's key does not cover. Nor with
    web search or fetch: the CLI's session holds its WebSearch calls, which a next request
    without the server tool would send upstream undeclared."""
    if conv.uses_tools or conv.options.json_schema is not None:
        return False
    if conv.options.web_search is not None or conv.options.web_fetch is not None:
        return False
    return not any(
        isinstance(p, (ImagePart, DocumentPart, BlockPart)) for t in conv.turns for p in t.parts
    )


def kept(conv: Conversation) -> Conversation:
    """`conv` run so that its CLI session is kept for the next turn."""
    return replace(conv, options=replace(conv.options, persist=True))


def plan(store: SessionStore, conv: Conversation) -> Plan:
    keep = kept(conv).options
    if conv.history:
        found = store.kept.find(key(conv.system, conv.history))
        if found is not None and cli_files.find(found[0]) is not None:
            resumed = replace(
                conv, turns=(conv.prompt,), options=replace(keep, resume=found[0], fork=True)
            )
            return Plan(resumed, conv.turns, conv.system, store, found[0], found[1])
    return Plan(replace(conv, options=keep), conv.turns, conv.system, store, None)


def started(plan: Plan, cli_session_id: str) -> None:
    """The CLI made a session: remember it at once, so it is pruned even if the run fails."""
    if cli_session_id:
        plan.store.kept.remember(cli_session_id)


def record(plan: Plan, answer: str, result: Result) -> float:
    """Remember the finished conversation under its hash, for the request that continues it;
    returns this request's own cost."""
    if not result.session_id:
        return result.cost_usd
    finished = result.stop_reason in _NATURAL_ENDS and answer
    turns = (*plan.turns, Turn("assistant", (TextPart(answer),)))
    conversation = key(plan.system, turns) if finished else None
    plan.store.kept.remember(result.session_id, conversation, result.cost_usd)
    if conversation is not None and len(plan.turns) > 1:
        # Only a client that has carried a conversation on gets its next turn started ahead:
        # one-shot traffic would pay a CLI start-up per request for nothing.
        options = replace(plan.conversation.options, resume=result.session_id, fork=True)
        plan.next = replace(plan.conversation, options=options)
    return own_cost(plan, result)


def own_cost(plan: Plan, result: Result) -> float:
    """The CLI's cost figure is cumulative per session, and a fork carries its parent's on."""
    if plan.continued and result.cost_usd >= plan.cost_before:
        return result.cost_usd - plan.cost_before
    return result.cost_usd


def prune(store: SessionStore, *, max_age: float, max_bytes: int) -> int:
    """Delete kept CLI sessions older than `max_age` seconds, then the oldest until the rest
    take at most `max_bytes`; returns how many were deleted."""
    now = time.time()
    doomed: list[str] = []
    sizes: list[tuple[str, int]] = []
    for cli_session_id, created in store.kept.oldest_first():  # oldest first
        path = cli_files.find(cli_session_id)
        if now - created > max_age or (path is None and now - created > 60):
            doomed.append(cli_session_id)
        elif path is not None:
            sizes.append((cli_session_id, cli_files.size(path)))
    total = sum(size for _, size in sizes)
    for cli_session_id, size in sizes:
        if total <= max_bytes:
            break
        doomed.append(cli_session_id)
        total -= size
    if doomed:
        cli_files.remove(doomed)
        store.kept.forget(doomed)
    return len(doomed)
