"""The session store: migrations, prefix matching, locks, and concurrent or killed writers."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from claude_max.core.errors import (
    AmbiguousSession,
    ClaudeMaxError,
    InvalidRequest,
    SessionBusy,
    SessionExists,
    SessionNotFound,
)
from claude_max.core.ids import short_id
from claude_max.sessions import db as db_module
from claude_max.sessions import migrations as migrations_module
from claude_max.sessions.migrations import MIGRATIONS
from claude_max.sessions.store import Session, SessionStore

HEX = "3f2a9c1e7b4d4e0f9a8b7c6d5e4f3a2b"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "sessions.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[SessionStore]:
    with SessionStore(db_path) as s:
        yield s


def turn(store: SessionStore, id: str, n: int = 1, *, cost: float = 0.01) -> Session:
    """Record n turns the way a caller does."""
    session = store.get(id)
    assert session is not None
    for i in range(n):
        session = store.record_turn(
            id,
            cli_session_id=f"cli-{id}",
            cost_delta=cost,
            user_text=f"q{i}",
            assistant_text=f"a{i}",
            model=None,
        )
    return session


def pairs_of(session: Session) -> list[tuple[str, str]]:
    return [(t["role"], t["text"]) for t in session.transcript]


# -- location and basic records


def test_default_store_lives_in_claude_max_home(claude_max_home: Path) -> None:
    with SessionStore.default() as s:
        assert s.path == claude_max_home / "sessions.db"
    path = claude_max_home / "sessions.db"
    assert path.stat().st_mode & 0o777 == 0o600  # transcripts are private
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        db.close()


def test_create_and_get(store: SessionStore) -> None:
    before = time.time()
    s = store.create(model="sonnet", title="  Hello\n  there,\tworld  ", source="chat")
    assert len(s.id) == 32 and int(s.id, 16) >= 0
    assert s.title == "Hello there, world"
    assert (s.cli_session_id, s.turns, s.cost_usd, s.transcript) == (None, 0, 0.0, [])
    assert before <= s.created_at == s.updated_at <= time.time()
    assert store.get(s.id) == s
    assert store.get("nope") is None


def test_title_is_cut_to_200_characters(store: SessionStore) -> None:
    s = store.create(model=None, title="word " * 100, source="chat")
    assert len(s.title) == 200 and s.title.endswith("…") and "\n" not in s.title


def test_client_ids_are_checked_and_unique(store: SessionStore) -> None:
    s = store.create(id="my-project", model=None, title="hi", source="http")
    assert store.get("my-project") == s
    with pytest.raises(SessionExists) as exc:
        store.create(id="my-project", model=None, title="again", source="http")
    assert exc.value.status == 409
    store.create(id="x" * 128, model=None, title="long", source="http")
    for bad in ("", "x" * 129, "a\nb", "tab\there"):
        with pytest.raises(InvalidRequest):
            store.create(id=bad, model=None, title="bad", source="http")


def test_record_turn_adds_everything_at_once(store: SessionStore) -> None:
    s = store.create(model="sonnet", title="q", source="chat")
    one = store.record_turn(
        s.id,
        cli_session_id="cli-1",
        cost_delta=0.25,
        user_text="q",
        assistant_text="a",
        model=None,
    )
    assert (one.turns, one.cli_session_id, one.model) == (1, "cli-1", "sonnet")
    assert one.transcript == [{"role": "user", "text": "q"}, {"role": "assistant", "text": "a"}]
    assert one.updated_at >= s.updated_at and one.created_at == s.created_at
    two = store.record_turn(
        s.id,
        cli_session_id="cli-2",
        cost_delta=0.5,
        user_text="ünï",
        assistant_text="ok",
        model="claude-opus-4-1",
    )
    assert (two.turns, two.cli_session_id) == (2, "cli-2")
    assert two.cost_usd == pytest.approx(0.75)
    assert two.model == "claude-opus-4-1"
    assert store.get(s.id) == two
    assert pairs_of(two)[2] == ("user", "ünï")


def test_record_turn_on_a_deleted_session_is_not_found(store: SessionStore) -> None:
    s = store.create(model=None, title="q", source="chat")
    store.delete([s.id])
    with pytest.raises(SessionNotFound) as exc:
        store.record_turn(
            s.id,
            cli_session_id="c",
            cost_delta=0,
            user_text="q",
            assistant_text="a",
            model=None,
        )
    assert exc.value.status == 404
    assert "no longer exists" in exc.value.message


def test_list_and_latest_newest_updated_first(store: SessionStore) -> None:
    a = store.create(model=None, title="a", source="chat")
    b = store.create(model=None, title="b", source="http")
    c = store.create(model=None, title="c", source="chat")
    assert [s.id for s in store.recent()] == [c.id, b.id, a.id]
    turn(store, a.id)
    assert [s.id for s in store.recent()] == [a.id, c.id, b.id]
    assert [s.id for s in store.recent(limit=2)] == [a.id, c.id]
    assert store.latest().id == a.id
    assert store.latest(source="http").id == b.id
    assert store.latest(source="auto") is None


def test_delete_and_clear(store: SessionStore) -> None:
    ids = [store.create(model=None, title=str(i), source="chat").id for i in range(4)]
    assert store.delete([ids[0], ids[1], "missing"]) == 2
    assert {s.id for s in store.recent()} == {ids[2], ids[3]}
    assert store.delete([]) == 0
    assert store.clear() == 2
    assert store.recent() == []


def test_closed_store_refuses_and_close_is_idempotent(db_path: Path) -> None:
    s = SessionStore(db_path)
    s.close()
    s.close()
    with pytest.raises(RuntimeError):
        s.recent()


# -- short ids and prefixes


def test_short_id() -> None:
    assert short_id(HEX) == "3f2a9c1e"
    assert short_id("3f2a9c1e-7b4d-4e0f-9a8b-7c6d5e4f3a2b") == "3f2a9c1e"
    assert short_id("my-project") == "my-project"
    assert short_id("z" * 16) == "z" * 16
    assert short_id("deadbeef") == "deadbeef"
    assert short_id("conversation-with-bob") == "conversation-wi…"
    assert short_id("abc") == "abc"


def test_find_exact_then_unique_prefix(store: SessionStore) -> None:
    a = store.create(id=HEX, model=None, title="a", source="chat")
    b = store.create(id="3f2b" + "0" * 28, model=None, title="b", source="chat")
    assert store.find(HEX) == a
    assert store.find("3f2a") == a
    assert store.find(short_id(a.id)) == a
    assert store.find("3f2b") == b
    # An exact id wins over a longer id it is a prefix of.
    c = store.create(id="3f", model=None, title="c", source="http")
    assert store.find("3f") == c


def test_find_accepts_the_printed_short_form(store: SessionStore) -> None:
    s = store.create(id="conversation-with-bob", model=None, title="x", source="http")
    assert store.find(short_id(s.id)) == s


def test_find_ambiguous_prefix_names_the_candidates(store: SessionStore) -> None:
    store.create(id=HEX, model=None, title="a", source="chat")
    store.create(id="3f2b" + "0" * 28, model=None, title="b", source="chat")
    with pytest.raises(AmbiguousSession) as exc:
        store.find("3f")
    err = exc.value
    assert isinstance(err, ClaudeMaxError)
    assert (err.status, err.kind) == (409, "invalid_request_error")
    assert err.message == "'3f' matches 2 sessions: 3f2b0000, 3f2a9c1e"
    assert err.hint


def test_find_ambiguous_lists_full_ids_when_short_ones_collide(store: SessionStore) -> None:
    one = store.create(id="3f2a9c1e-aaaa", model=None, title="a", source="http")
    two = store.create(id="3f2a9c1e-bbbb", model=None, title="b", source="http")
    with pytest.raises(AmbiguousSession) as exc:
        store.find("3f2a9c1e")
    assert two.id in exc.value.message and one.id in exc.value.message


def test_find_ambiguous_with_many_matches_is_summarised(store: SessionStore) -> None:
    for i in range(12):
        store.create(id=f"ab{i:02d}" + "0" * 28, model=None, title=str(i), source="chat")
    with pytest.raises(AmbiguousSession) as exc:
        store.find("ab")
    assert exc.value.message.startswith("'ab' matches 12 sessions: ")
    assert exc.value.message.endswith(" and 7 more")
    assert len(exc.value.matches) == 10


def test_find_unknown_prefix(store: SessionStore) -> None:
    store.create(id=HEX, model=None, title="a", source="chat")
    for missing in ("9", "3F2A", "3f2a9c1e7b4d4e0f9a8b7c6d5e4f3a2bX", "%", "_"):
        with pytest.raises(SessionNotFound) as exc:
            store.find(missing)
        assert exc.value.message == f"no session matches '{missing}'"
        assert (exc.value.status, exc.value.kind) == (404, "not_found_error")
        assert exc.value.hint
    with pytest.raises(SessionNotFound):
        store.find("")


# -- migrations


def columns(db: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in db.execute(f"PRAGMA table_info({table})")]


def test_a_new_store_records_every_migration(store: SessionStore, db_path: Path) -> None:
    db = sqlite3.connect(db_path)
    try:
        names = [n for (n,) in db.execute("SELECT name FROM _migrations ORDER BY rowid")]
    finally:
        db.close()
    assert names == [fn.__name__ for fn in MIGRATIONS]
    assert names[0] == "m001_sessions"


def test_a_db_from_migration_1_is_upgraded(db_path: Path) -> None:
    db = db_module.connect(db_path)
    try:
        assert migrations_module.migrate(db, MIGRATIONS[:1]) == ["m001_sessions"]
        assert "locks" not in {n for (n,) in db.execute("SELECT name FROM sqlite_master")}
        db.execute(
            "INSERT INTO sessions (id, title, history_hash, source, created_at, updated_at) "
            "VALUES ('old', 'from v1', 'h', 'chat', 1.0, 2.0)"
        )
    finally:
        db.close()
    with SessionStore(db_path) as s:
        old = s.get("old")
        assert old is not None and (old.title, old.turns, old.transcript) == ("from v1", 0, [])
        with s.lock("old"):  # the table from migration 2 is there
            pass
    db = sqlite3.connect(db_path)
    try:
        assert [n for (n,) in db.execute("SELECT name FROM _migrations ORDER BY rowid")] == [
            fn.__name__ for fn in MIGRATIONS
        ]
        assert "pid" in columns(db, "locks")
    finally:
        db.close()


def test_reopening_does_not_reapply(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def m999_probe(db: sqlite3.Connection) -> None:
        calls.append("m999")
        db.execute("CREATE TABLE probe (x)")

    monkeypatch.setattr(migrations_module, "MIGRATIONS", [*MIGRATIONS, m999_probe])
    SessionStore(db_path).close()
    db = sqlite3.connect(db_path)
    try:
        first = db.execute("SELECT name, applied_at FROM _migrations ORDER BY name").fetchall()
    finally:
        db.close()
    for _ in range(3):
        SessionStore(db_path).close()
    db = sqlite3.connect(db_path)
    try:
        again = db.execute("SELECT name, applied_at FROM _migrations ORDER BY name").fetchall()
    finally:
        db.close()
    assert calls == ["m999"]
    assert again == first and len(first) == len(MIGRATIONS) + 1


def test_a_failing_migration_leaves_nothing_behind(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    SessionStore(db_path).close()

    def m999_broken(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE half (x)")
        raise RuntimeError("broken migration")

    monkeypatch.setattr(migrations_module, "MIGRATIONS", [*MIGRATIONS, m999_broken])
    with pytest.raises(RuntimeError, match="broken migration"):
        SessionStore(db_path)
    db = sqlite3.connect(db_path)
    try:
        tables = {n for (n,) in db.execute("SELECT name FROM sqlite_master")}
        names = {n for (n,) in db.execute("SELECT name FROM _migrations")}
    finally:
        db.close()
    assert "half" not in tables and "m999_broken" not in names


def test_migrations_recorded_by_a_newer_version_are_ignored(db_path: Path) -> None:
    SessionStore(db_path).close()
    db = sqlite3.connect(db_path)
    try:
        with db:
            db.execute("INSERT INTO _migrations VALUES ('m100_future', 0)")
    finally:
        db.close()
    with SessionStore(db_path) as s:
        assert s.recent() == []


# -- locks


def test_a_held_lock_makes_others_busy(store: SessionStore, db_path: Path) -> None:
    with store.lock("k"):
        with pytest.raises(SessionBusy) as exc:
            with store.lock("k"):
                pass
        assert (exc.value.status, exc.value.kind) == (409, "invalid_request_error")
        assert "pid" not in exc.value.message
        assert exc.value.hint and "Retry when" in exc.value.hint
        with SessionStore(db_path) as other, pytest.raises(SessionBusy):
            with other.lock("k"):
                pass
        with store.lock("another"):  # other sessions are unaffected
            pass
    with store.lock("k"):  # released
        pass


def test_a_lock_is_released_on_error(store: SessionStore) -> None:
    with pytest.raises(ValueError), store.lock("k"):
        raise ValueError("turn failed")
    with store.lock("k"):
        pass


def test_waiting_for_a_lock_gives_up_after_its_timeout(store: SessionStore) -> None:
    with store.lock("k"):
        started = time.monotonic()
        with pytest.raises(SessionBusy), store.lock("k", wait=True, timeout=0.05):
            pass
        assert time.monotonic() - started < 5


def test_threads_take_turns_on_one_session(store: SessionStore, db_path: Path) -> None:
    s = store.create(model=None, title="shared", source="http")
    inside = 0
    overlaps: list[int] = []
    errors: list[BaseException] = []

    def worker(n: int, own_store: bool) -> None:
        nonlocal inside
        st = SessionStore(db_path) if own_store else store
        try:
            for _ in range(10):
                with st.lock(s.id, wait=True, timeout=30):
                    inside += 1
                    if inside != 1:
                        overlaps.append(inside)
                    turn(st, s.id)
                    inside -= 1
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            if own_store:
                st.close()

    threads = [threading.Thread(target=worker, args=(n, n % 2 == 0)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert errors == [] and overlaps == []
    done = store.get(s.id)
    assert done.turns == 40  # no turn lost or doubled, each message pair whole
    assert pairs_of(done) == [("user", "q0"), ("assistant", "a0")] * 40


def test_alock_waits_without_blocking_the_loop(store: SessionStore) -> None:
    async def main() -> None:
        held = store.lock("k")
        held.__enter__()
        with pytest.raises(SessionBusy):
            async with store.alock("k"):
                pass

        async def waiter() -> str:
            async with store.alock("k", wait=True, timeout=30):
                return "got it"

        task = asyncio.create_task(waiter())
        await asyncio.sleep(0)  # one scheduling round: the waiter found the lock held
        assert not task.done()
        held.__exit__(None, None, None)
        assert await asyncio.wait_for(task, timeout=30) == "got it"

    asyncio.run(main())
    with store.lock("k"):
        pass


# -- other processes

PRELUDE = """
import sys, time
from pathlib import Path
from claude_max.sessions.store import SessionStore
path = Path(sys.argv[1])
"""

HOLD_LOCK = """
with SessionStore(path) as store, store.lock(sys.argv[2]):
    print("locked", flush=True)
    sys.stdin.readline()
"""


def spawn(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", PRELUDE + code, *map(str, args)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_lock_held_by_a_killed_process_is_taken_over(store: SessionStore, db_path: Path) -> None:
    with spawn(HOLD_LOCK, db_path, "k") as holder:
        assert holder.stdout.readline() == "locked\n"
        with pytest.raises(SessionBusy):
            with store.lock("k"):
                pass
        holder.kill()  # SIGKILL: no finally, no release
        holder.wait(timeout=30)
        assert holder.returncode == -signal.SIGKILL
    with store.lock("k"):
        pass


def test_a_waiter_gets_the_lock_when_the_holder_exits(store: SessionStore, db_path: Path) -> None:
    with spawn(HOLD_LOCK, db_path, "k") as holder:
        assert holder.stdout.readline() == "locked\n"
        holder.stdin.write("done\n")
        holder.stdin.flush()
        with store.lock("k", wait=True, timeout=30):
            pass
        assert holder.wait(timeout=30) == 0


WRITER = """
import json
from claude_max.sessions.store import SessionNotFound
store = SessionStore(path)
sid, n = sys.argv[2], int(sys.argv[3])
if store.get(sid) is None:
    try:
        store.create(id=sid, model=None, title="crash", source="chat")
    except Exception:
        pass
print("ready", flush=True)
sys.stdin.readline()
for i in range(n):
    s = store.get(sid)
    q, a = f"q{s.turns}:" + "x" * 20000, f"a{s.turns}:" + "y" * 20000
    store.record_turn(
        sid, cli_session_id=f"c{s.turns}", cost_delta=0.5, user_text=q, assistant_text=a,
        model=None,
    )
    print(s.turns + 1, flush=True)
store.close()
"""


def check_whole(db_path: Path, sid: str) -> Session:
    db = sqlite3.connect(db_path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        db.close()
    with SessionStore(db_path) as s:
        session = s.get(sid)
    assert session is not None
    assert len(session.transcript) == 2 * session.turns
    assert session.cost_usd == 0.5 * session.turns
    for i in range(session.turns):
        q, a = session.transcript[2 * i : 2 * i + 2]
        assert q == {"role": "user", "text": f"q{i}:" + "x" * 20000}
        assert a == {"role": "assistant", "text": f"a{i}:" + "y" * 20000}
    assert session.cli_session_id == f"c{session.turns - 1}"  # written with its turn
    return session


def test_the_store_survives_kill_9_mid_write(db_path: Path) -> None:
    SessionStore(db_path).close()
    committed = 0
    for _ in range(3):
        with spawn(WRITER, db_path, "crash", 100000) as writer:
            assert writer.stdout.readline() == "ready\n"
            writer.stdin.write("go\n")
            writer.stdin.flush()
            target = committed + 15
            while committed < target:
                line = writer.stdout.readline()
                assert line, writer.stderr.read()
                committed = int(line)
            writer.send_signal(signal.SIGKILL)  # somewhere inside the next writes
            writer.wait(timeout=30)
            assert writer.returncode == -signal.SIGKILL
        session = check_whole(db_path, "crash")
        assert session.turns >= committed  # every reported commit is there
        committed = session.turns


CONTENDER = """
store = SessionStore(path)
own, shared, n = sys.argv[2], sys.argv[3], int(sys.argv[4])
store.create(id=own, model=None, title=own, source="chat")
print("ready", flush=True)
sys.stdin.readline()

def turn(sid, label):
    s = store.get(sid)
    return s.turns, store.record_turn(
        sid, cli_session_id=label, cost_delta=0.001, user_text=label, assistant_text=label,
        model=None,
    )

for i in range(n):
    turn(own, f"{own}-{i}")
    with store.lock(shared, wait=True, timeout=60):
        before, after = turn(shared, f"{own}-{i}")
        if after.turns != before + 1:
            print("INTERLEAVED", before, after.turns, flush=True)
print("done", flush=True)
store.close()
"""


def test_two_processes_write_at_once_without_lost_updates(db_path: Path) -> None:
    n = 40
    with SessionStore(db_path) as s:
        s.create(id="shared", model=None, title="shared", source="http")
    procs = [spawn(CONTENDER, db_path, name, "shared", n) for name in ("left", "right")]
    try:
        for p in procs:
            assert p.stdout.readline() == "ready\n", p.stderr.read()
        for p in procs:  # start both together
            p.stdin.write("go\n")
            p.stdin.flush()
        outputs = [p.communicate(timeout=90) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.communicate()
    for p, (out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
        assert out == "done\n"
    with SessionStore(db_path) as s:
        for name in ("left", "right"):
            own = s.get(name)
            assert own.turns == n and own.cli_session_id == f"{name}-{n - 1}"
            assert [t["text"] for t in own.transcript[::2]] == [f"{name}-{i}" for i in range(n)]
        shared = s.get("shared")
    assert shared.turns == 2 * n and len(shared.transcript) == 4 * n
    assert shared.cli_session_id == shared.transcript[-1]["text"]  # written with its turn
    assert shared.cost_usd == pytest.approx(0.001 * 2 * n)
    labels = [t["text"] for t in shared.transcript[::2]]
    for name in ("left", "right"):
        assert [x for x in labels if x.startswith(name)] == [f"{name}-{i}" for i in range(n)]


def test_two_processes_creating_the_db_at_once(tmp_path: Path) -> None:
    path = tmp_path / "new" / "sessions.db"
    code = """
store = SessionStore(path)
store.create(model=None, title=sys.argv[2], source="chat")
store.close()
"""
    procs = [spawn(code, path, name) for name in ("a", "b", "c")]
    for p in procs:
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    with SessionStore(path) as s:
        assert sorted(x.title for x in s.recent()) == ["a", "b", "c"]
    db = sqlite3.connect(path)
    try:
        rows = db.execute("SELECT name FROM _migrations").fetchall()
    finally:
        db.close()
    assert len(rows) == len(MIGRATIONS)


def test_transcript_is_stored_as_json(store: SessionStore, db_path: Path) -> None:
    s = store.create(model=None, title="q", source="chat")
    turn(store, s.id)
    db = sqlite3.connect(db_path)
    try:
        (raw,) = db.execute("SELECT transcript FROM sessions WHERE id = ?", (s.id,)).fetchone()
    finally:
        db.close()
    assert json.loads(raw) == [
        {"role": "user", "text": "q0"},
        {"role": "assistant", "text": "a0"},
    ]
