"""Automatic continuation: conversation keys, and pruning the CLI sessions it keeps."""

from __future__ import annotations

import time
import uuid

import pytest

from claude_max.core.conversation import Conversation, ImagePart, TextPart, Turn
from claude_max.core.events import Result, Usage
from claude_max.sessions.store import SessionStore
from claude_max.turns import auto


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "config"))
    with SessionStore(tmp_path / "sessions.db") as s:
        yield s


def _file(tmp_path, size: int, name: str | None = None) -> str:
    session = name or str(uuid.uuid4())
    project = tmp_path / "config" / "projects" / "-workspace"
    project.mkdir(parents=True, exist_ok=True)
    (project / f"{session}.jsonl").write_bytes(b"x" * size)
    return session


def user(text: str) -> Turn:
    return Turn("user", (TextPart(text),))


def test_keys_see_system_roles_texts_and_images():
    base = auto.key(None, [user("a")])
    assert auto.key(None, [user("a")]) == base
    assert auto.key("sys", [user("a")]) != base
    assert auto.key(None, [Turn("assistant", (TextPart("a"),))]) != base
    assert auto.key(None, [Turn("user", (TextPart("a"), ImagePart("image/png", "AAAA")))]) != base


def test_a_finished_answer_is_found_by_the_next_request(store, tmp_path):
    first = Conversation(turns=(user("one"),))
    plan = auto.plan(store, first)
    assert plan.conversation.options.persist and plan.continued is None
    session = _file(tmp_path, 10)
    result = Result("ECHO:one", "end_turn", Usage(), session, "m", cost_usd=0.5)
    assert auto.record(plan, "ECHO:one", result) == 0.5

    follow = Conversation(
        turns=(user("one"), Turn("assistant", (TextPart("ECHO:one"),)), user("two"))
    )
    plan = auto.plan(store, follow)
    assert plan.continued == session
    assert plan.conversation.turns == (user("two"),)
    assert (plan.conversation.options.resume, plan.conversation.options.fork) == (session, True)
    forked = Result("ECHO:two", "end_turn", Usage(), str(uuid.uuid4()), "m", cost_usd=0.8)
    assert auto.record(plan, "ECHO:two", forked) == pytest.approx(0.3)


def test_a_cut_answer_is_never_continued(store, tmp_path):
    plan = auto.plan(store, Conversation(turns=(user("one"),)))
    session = _file(tmp_path, 10)
    auto.record(plan, "par", Result("par", "stop_sequence", Usage(), session, "m"))
    follow = Conversation(turns=(user("one"), Turn("assistant", (TextPart("par"),)), user("two")))
    assert auto.plan(store, follow).continued is None


def test_prune_by_age_then_by_size_only_touches_its_own_sessions(store, tmp_path):
    old, a, b, c = (_file(tmp_path, 1000) for _ in range(4))
    users_own = _file(tmp_path, 5000)  # a session the proxy did not create
    for session in (old, a, b, c):
        store.kept.remember(session, "k")
    with store.db.write() as db:
        db.execute(
            "UPDATE continuations SET created_at = ? WHERE cli_session_id = ?",
            (time.time() - 7200, old),
        )
    assert auto.prune(store, max_age=3600, max_bytes=2000) == 2  # old by age, a by size
    left = {p.stem for p in (tmp_path / "config" / "projects" / "-workspace").iterdir()}
    assert left == {b, c, users_own}
    assert [s for s, _ in store.kept.oldest_first()] == [b, c]


def test_rows_whose_file_is_gone_are_forgotten(store):
    store.kept.remember(str(uuid.uuid4()), "k")
    with store.db.write() as db:
        db.execute("UPDATE continuations SET created_at = created_at - 120")
    assert auto.prune(store, max_age=3600, max_bytes=10**9) == 1
    assert store.kept.oldest_first() == []


def test_image_and_tool_conversations_stay_stateless():
    image = Conversation(turns=(Turn("user", (TextPart("see"), ImagePart("image/png", "AAAA"))),))
    assert not auto.applies(image)
    assert auto.applies(Conversation(turns=(user("plain"),)))


def test_web_search_conversations_stay_stateless():
    from claude_max.core.conversation import Options, ServerTool

    for options in (Options(web_search=ServerTool()), Options(web_fetch=ServerTool())):
        assert not auto.applies(Conversation(turns=(user("news?"),), options=options))
