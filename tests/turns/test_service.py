"""The turn service on the fake `claude`: locking, recording, interrupted turns, key scoping."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest
from fake_claude_log import FAKE_CLAUDE
from fake_cli import FakeCLI, messages

from claude_max.core.conversation import Conversation, TextPart, Turn
from claude_max.core.errors import SessionBusy
from claude_max.core.events import Result, TextDelta
from claude_max.core.settings import Settings
from claude_max.sessions.store import SessionStore
from claude_max.turns.named import SESSION_HEADER
from claude_max.turns.plan import STATELESS
from claude_max.turns.service import TurnService


@pytest.fixture
def fake_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeCLI:
    return FakeCLI(monkeypatch, tmp_path / "fake-claude.log").use("echo")


@pytest.fixture
def store(claude_max_home: Path):
    with SessionStore(claude_max_home / "sessions.db") as s:
        yield s


@pytest.fixture
def service(claude_max_home: Path, store: SessionStore) -> TurnService:
    settings = Settings(home=claude_max_home, claude_path=str(FAKE_CLAUDE), warm=0)
    return TurnService(settings, store=lambda: store)


def ask(text: str) -> Conversation:
    return Conversation(turns=(Turn("user", (TextPart(text),)),), model="opus")


async def answer(service: TurnService, text: str, **how: str | None) -> tuple[str, dict]:
    conv = ask(text)
    async with await service.open(conv, service.continuation(conv, **how)) as turn:
        reply = await turn.complete()
        return reply.text, turn.headers


def resumed(call: dict) -> str | None:
    flags = [a.split("=", 1)[1] for a in call["argv"] if a.startswith("--resume=")]
    return flags[-1] if flags else None


def test_a_stateless_turn_never_opens_the_store(claude_max_home: Path, fake_cli: FakeCLI):
    def no_store() -> SessionStore:
        raise AssertionError("a stateless turn opened the store")

    settings = Settings(home=claude_max_home, claude_path=str(FAKE_CLAUDE), warm=0)
    service = TurnService(settings, store=no_store)

    async def go() -> str:
        async with await service.open(ask("hi"), STATELESS) as turn:
            return (await turn.complete()).text

    assert asyncio.run(go()) == "ECHO:hi"


def test_a_second_turn_on_a_busy_session_is_refused(service: TurnService, fake_cli: FakeCLI):
    async def go() -> None:
        conv = ask("one")
        async with await service.open(conv, service.continuation(conv, session="s")):
            with pytest.raises(SessionBusy):
                await service.open(conv, service.continuation(conv, session="s"))

    asyncio.run(go())


def test_an_interrupted_turn_is_never_seen_by_the_next(
    service: TurnService, store: SessionStore, fake_cli: FakeCLI
):
    """The client goes away mid-answer: the store never recorded that exchange, and the next
    turn continues the CLI session the last recorded turn left, not the interrupted fork."""
    asyncio.run(answer(service, "one", session="s"))
    recorded = store.get("s").cli_session_id
    fake_cli.use("slow", delay_ms=100, chunks=20)

    async def interrupted() -> None:
        conv = ask("a question nobody waits for")
        async with await service.open(conv, service.continuation(conv, session="s")) as turn:
            events = turn.events()
            async for event in events:
                if isinstance(event, TextDelta):
                    break  # the client disconnects after the first token
            await events.aclose()

    asyncio.run(interrupted())
    assert store.get("s").cli_session_id == recorded
    assert store.get("s").turns == 1
    fake_cli.use("echo")
    text, _ = asyncio.run(answer(service, "two", session="s"))
    assert text == "ECHO:two"
    runs = fake_cli.calls()
    assert resumed(runs[-1]) == recorded  # not the fork the interrupted turn ran in
    assert [m["message"]["content"] for m in messages(runs[-1])] == ["two"]


def test_keys_have_their_own_sessions(service: TurnService, store: SessionStore, fake_cli):
    _, headers = asyncio.run(answer(service, "my password is hunter2", session="s", owner="a"))
    assert headers[SESSION_HEADER] == "s"  # the client's own name, not the stored one
    asyncio.run(answer(service, "what did I say?", session="s", owner="b"))
    first, second = fake_cli.calls()
    assert resumed(second) is None  # key b started its own conversation
    assert store.get("a/s") is not None and store.get("b/s") is not None


def test_each_kept_turn_replaces_its_parent_cli_session(
    service: TurnService, store: SessionStore, fake_cli: FakeCLI
):
    asyncio.run(answer(service, "one", session="s"))
    first = store.get("s").cli_session_id
    asyncio.run(answer(service, "two", session="s"))
    second = store.get("s").cli_session_id
    assert second != first  # the fork, once recorded, is the session's CLI session
    assert resumed(fake_cli.calls()[-1]) == first


@pytest.mark.parametrize("how", [{}, {"session": "s"}])
def test_cost_is_the_turns_own(service: TurnService, fake_cli: FakeCLI, how):
    async def cost(text: str) -> float:
        conv = ask(text)
        async with await service.open(conv, service.continuation(conv, **how)) as turn:
            async with contextlib.aclosing(turn.events()) as events:
                async for event in events:
                    if isinstance(event, Result):
                        break
            return turn.cost

    one = asyncio.run(cost("one"))
    two = asyncio.run(cost("two"))
    assert one > 0 and two > 0
    assert two == pytest.approx(one, rel=0.5)  # not the session's running total


def test_a_stored_response_is_kept_once_answered_and_continues_as_its_inner_kind(
    service: TurnService, store: SessionStore, fake_cli: FakeCLI
):
    kept = service.stored_response({"input": "one"})
    assert kept is not None and kept.request == {"input": "one"}
    conv = ask("one")
    how = service.continuation(conv, session="s", stored_response=kept)
    assert how.lock == (store, "s")  # as X-Session-Id alone would lock

    async def main() -> dict:
        async with await service.open(conv, how) as turn:
            assert (await turn.complete()).text == "ECHO:one"
            assert store.responses.find("resp_1") is None  # not before the client has it
            turn.answered({"id": "resp_1", "status": "completed", "output": [{"o": 1}]})
            return turn.headers

    assert asyncio.run(main())[SESSION_HEADER] == "s"
    assert store.get("s").turns == 1
    assert store.responses.find("resp_1") is not None
    follow = service.stored_response({"input": "two", "previous_response_id": "resp_1"})
    assert follow is not None
    assert follow.request["input"] == [
        {"type": "message", "role": "user", "content": "one"},
        {"o": 1},
        {"type": "message", "role": "user", "content": "two"},
    ]


def test_a_response_not_to_keep_never_opens_the_store(claude_max_home: Path):
    def no_store() -> SessionStore:
        raise AssertionError("opened the store")

    settings = Settings(home=claude_max_home, claude_path=str(FAKE_CLAUDE), warm=0)
    service = TurnService(settings, store=no_store)
    assert service.stored_response({"input": "x", "store": False}) is None
