"""The session store: our session ids, the CLI's session ids, and what we need to list and resume.

One SQLite file, `<CLAUDE_MAX_HOME or the user data dir>/sessions.db`, shared by the server and
any number of `chat` processes:

* WAL journal, `busy_timeout` 5 s, and every write is one short `BEGIN IMMEDIATE` transaction,
  so a `kill -9` mid-write loses at most that write and concurrent writers queue rather than
  fail. `synchronous=NORMAL`: a committed turn survives a crash of the process; only a power
  cut may lose the last few commits, never corrupt the file.
* The schema is built by `@migration` functions applied in order and recorded in
  `_migrations` (simonw/llm's pattern): a new column is a new function at the end, never an
  edit of an old one.
* `SessionStore.lock(id)` serializes the turns of one session across threads and processes
  with an OS file lock (`locks.py`), which the kernel releases when its holder dies. (The
  `locks` table of migration m002 is no longer used.)

Every method is synchronous and fast: reads and small writes take 0.01 to 0.5 ms, and
`record_turn` rewrites the transcript, from 0.1 ms for a short session to ~2 ms at 200 turns of
1 KB messages (measured on the 2-core dev VM). Asyncio code may call them directly, as it
would a logging call; the only blocking one is `lock(wait=True)`, for which `alock` is the
asyncio form. One `SessionStore` holds one connection, guarded by a mutex, so it may be shared
between threads. (A write may wait up to busy_timeout while another process writes.)

Ids: our own sessions get a uuid4 hex (32 characters); HTTP clients bring their own
(`X-Session-Id`, 1 to 128 printable characters). `short_id` is how an id is shown, and `find`
accepts the full id, any unique prefix of it, or the shown short form.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from claude_max.core.errors import (  # the session errors are raised here
    AmbiguousSession,
    InvalidRequest,
    SessionExists,
    SessionNotFound,
    StoreUnreadable,
)
from claude_max.core.ids import ELLIPSIS, short_id
from claude_max.sessions.locks import SessionLocks

DB_NAME = "sessions.db"
MAX_ID_LENGTH = 128
MAX_TITLE_LENGTH = 200
BUSY_TIMEOUT_MS = 5000


# -- ids and hashes


def history_hash(turns: Iterable[tuple[str, str]]) -> str:
    """A stable sha256 (hex) of a conversation's (role, text) pairs, in order.

    Each pair is hashed as one JSON line, so neither text nor role can run into the next. The
    texts are hashed exactly as given: callers normalise (or not) before they hash.
    """
    import hashlib  # 15 ms (OpenSSL): only when hashing

    digest = hashlib.sha256()
    for role, text in turns:
        digest.update(json.dumps([role, text], ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def _title(text: str) -> str:
    one_line = " ".join(text.split())
    if len(one_line) > MAX_TITLE_LENGTH:
        return one_line[: MAX_TITLE_LENGTH - 1] + ELLIPSIS
    return one_line


def _check_id(id: str) -> None:
    if not isinstance(id, str) or not 1 <= len(id) <= MAX_ID_LENGTH or not id.isprintable():
        raise InvalidRequest(
            f"A session id is 1 to {MAX_ID_LENGTH} printable characters.", param="session_id"
        )


# -- the record


@dataclass(frozen=True)
class Session:
    id: str  # our key: a uuid4 hex (chat) or the client's X-Session-Id
    cli_session_id: str | None  # the CLI's session to --resume; None until a turn completes
    model: str | None
    title: str  # the first prompt, one line, at most 200 characters
    turns: int  # completed user turns
    history_hash: str  # of the conversation so far, set by the caller; "" before a turn
    cost_usd: float  # cumulative
    source: str  # "chat" | "http" | "auto"
    created_at: float  # unix time
    updated_at: float
    transcript: list[dict[str, str]] = field(default_factory=list)  # [{"role": ..., "text": ...}]


_COLUMNS = (
    "id, cli_session_id, model, title, turns, history_hash, cost_usd, source, "
    "created_at, updated_at, transcript"
)


def _session(row: tuple[Any, ...]) -> Session:
    fields = dict(zip(_COLUMNS.replace(" ", "").split(","), row, strict=True))
    fields["transcript"] = json.loads(fields["transcript"])
    return Session(**fields)


# -- migrations (simonw/llm's pattern)

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    """Register a schema step; steps run once each, in the order they are defined."""
    MIGRATIONS.append(fn)
    return fn


@migration
def m001_sessions(db: sqlite3.Connection) -> None:
    db.execute(
        """
        CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            cli_session_id TEXT,
            model TEXT,
            title TEXT NOT NULL,
            turns INTEGER NOT NULL DEFAULT 0,
            history_hash TEXT NOT NULL,
            cost_usd REAL NOT NULL DEFAULT 0,
            source TEXT NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            transcript TEXT NOT NULL DEFAULT '[]'
        )
        """
    )
    db.execute("CREATE INDEX sessions_updated ON sessions (updated_at)")
    db.execute("CREATE INDEX sessions_history ON sessions (history_hash, source)")


@migration
def m002_locks(db: sqlite3.Connection) -> None:
    # No foreign key: a request locks a client's session id before the session exists.
    db.execute(
        """
        CREATE TABLE locks (
            session_id TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            pid INTEGER NOT NULL,
            started TEXT,
            host TEXT NOT NULL,
            acquired_at REAL NOT NULL,
            expires_at REAL NOT NULL
        )
        """
    )


@migration
def m003_continuations(db: sqlite3.Connection) -> None:
    # CLI sessions that stateless requests left behind: `key` is the hash of the conversation
    # so far (NULL until the answer is complete), so the next request that carries exactly
    # that history continues it; rows and files older than a cap are pruned.
    db.execute(
        """
        CREATE TABLE continuations (
            cli_session_id TEXT PRIMARY KEY,
            key TEXT,
            cost_usd REAL NOT NULL DEFAULT 0,
            created_at REAL NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX continuations_key ON continuations (key)")
    db.execute("CREATE INDEX continuations_created ON continuations (created_at)")


@migration
def m004_responses(db: sqlite3.Connection) -> None:
    # Responses API responses kept for `previous_response_id` and GET/DELETE by id: the input
    # items the request added (JSON array) and the response object (JSON), linked to the
    # response they continued.
    db.execute(
        """
        CREATE TABLE responses (
            id TEXT PRIMARY KEY,
            previous_id TEXT,
            input TEXT NOT NULL,
            response TEXT NOT NULL,
            created_at REAL NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX responses_created ON responses (created_at)")


@migration
def m005_requests(db: sqlite3.Connection) -> None:
    # Request history (claude_max.usage.history writes and reads it): figures only, never
    # prompt or answer text; rows older than --history-days are pruned.
    db.execute(
        """
        CREATE TABLE requests (
            at REAL NOT NULL,
            protocol TEXT NOT NULL,
            endpoint TEXT NOT NULL,
            client TEXT,
            key_label TEXT,
            model_asked TEXT,
            model TEXT,
            stream INTEGER,
            status INTEGER NOT NULL,
            error TEXT,
            error_message TEXT,
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            cache_read_tokens INTEGER NOT NULL DEFAULT 0,
            cache_write_tokens INTEGER NOT NULL DEFAULT 0,
            cost_usd REAL NOT NULL DEFAULT 0,
            ttft_ms REAL,
            duration_ms REAL NOT NULL,
            warm INTEGER,
            session_id TEXT
        )
        """
    )
    db.execute("CREATE INDEX requests_at ON requests (at)")


def _applied(db: sqlite3.Connection) -> set[str]:
    exists = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_migrations'"
    ).fetchone()
    if not exists:
        return set()
    return {name for (name,) in db.execute("SELECT name FROM _migrations")}


def migrate(db: sqlite3.Connection, migrations: Iterable[Migration] | None = None) -> list[str]:
    """Apply the migrations not yet recorded, in one write transaction; return their names.

    Two processes opening a new file at once are safe: the second waits for the first's
    transaction and then finds nothing left to do. Names recorded by a newer claude-max are
    left alone.
    """
    steps = list(MIGRATIONS if migrations is None else migrations)
    if {fn.__name__ for fn in steps} <= _applied(db):
        return []  # the common case, without taking the write lock
    done: list[str] = []
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute(
            "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at REAL)"
        )
        applied = _applied(db)
        for fn in steps:
            if fn.__name__ in applied:
                continue
            fn(db)
            db.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                (fn.__name__, time.time()),
            )
            done.append(fn.__name__)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return done


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode (we write BEGIN ourselves), WAL, with a busy timeout."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Transcripts are private: create the file 0600 (SQLite gives -wal/-shm the same mode).
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    db = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
    )
    try:
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:  # switching a new file to WAL needs a moment alone with it
            try:
                db.execute("PRAGMA journal_mode = WAL")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        db.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        db.close()
        raise
    return db


# -- the store


def _is_corruption(exc: BaseException) -> bool:
    """SQLite's own 'not a database' / 'malformed' errors, not a lock or a constraint."""
    return type(exc) is sqlite3.DatabaseError or (
        isinstance(exc, sqlite3.OperationalError) and "malformed" in str(exc)
    )


class SessionStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.locks = SessionLocks(self.path.parent / "locks")
        self._mutex = threading.RLock()
        self._db: sqlite3.Connection | None = None
        try:
            self._db = connect(self.path)
            migrate(self._db)
        except sqlite3.DatabaseError as exc:
            self.close()
            if _is_corruption(exc):
                raise StoreUnreadable(self.path, str(exc)) from None
            raise
        except BaseException:
            self.close()
            raise

    @classmethod
    def default(cls) -> SessionStore:
        """The store in CLAUDE_MAX_HOME, else the platform's user data directory."""
        from claude_max.core.settings import default_home

        return cls(default_home() / DB_NAME)

    def close(self) -> None:
        with self._mutex:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __enter__(self) -> SessionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._mutex:
            if self._db is None:
                raise RuntimeError("the session store is closed")
            try:
                yield self._db
            except sqlite3.DatabaseError as exc:
                if _is_corruption(exc):
                    raise StoreUnreadable(self.path, str(exc)) from None
                raise

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction; waits up to busy_timeout for other writers."""
        with self._read() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    @staticmethod
    def _get(db: sqlite3.Connection, id: str) -> Session | None:
        row = db.execute(f"SELECT {_COLUMNS} FROM sessions WHERE id = ?", (id,)).fetchone()
        return _session(row) if row else None

    # -- reading

    def get(self, id: str) -> Session | None:
        """The session with exactly this id."""
        with self._read() as db:
            return self._get(db, id)

    def find(self, prefix: str) -> Session:
        """The session with this id, else the one whose id starts with it (newest first).

        Also accepts a short id as `short_id` prints it (a trailing `…`). Raises
        SessionNotFound (404) or AmbiguousSession (409, naming the candidates).
        """
        key = prefix[: -len(ELLIPSIS)] if prefix.endswith(ELLIPSIS) else prefix
        if not key:
            raise SessionNotFound(prefix, message="no session id given")
        with self._read() as db:
            found = self._get(db, key)
            if found is not None:
                return found
            (total,) = db.execute(
                "SELECT count(*) FROM sessions WHERE substr(id, 1, length(?1)) = ?1", (key,)
            ).fetchone()
            ids = [
                i
                for (i,) in db.execute(
                    "SELECT id FROM sessions WHERE substr(id, 1, length(?1)) = ?1 "
                    "ORDER BY updated_at DESC, rowid DESC LIMIT 10",
                    (key,),
                )
            ]
            if total == 1:
                found = self._get(db, ids[0])
        if found is not None:
            return found
        if total == 0:
            raise SessionNotFound(prefix)
        raise AmbiguousSession(prefix, ids, total=total)

    def latest(self, *, source: str | None = None) -> Session | None:
        """The most recently updated session (of this source)."""
        where, args = ("WHERE source = ?", (source,)) if source is not None else ("", ())
        with self._read() as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM sessions {where} "
                "ORDER BY updated_at DESC, rowid DESC LIMIT 1",
                args,
            ).fetchone()
        return _session(row) if row else None

    def recent(self, *, limit: int | None = None) -> list[Session]:
        """Sessions, most recently updated first."""
        with self._read() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM sessions ORDER BY updated_at DESC, rowid DESC LIMIT ?",
                (-1 if limit is None else limit,),
            ).fetchall()
        return [_session(r) for r in rows]

    # -- writing

    def create(
        self, *, id: str | None = None, model: str | None, title: str, source: str
    ) -> Session:
        """A new session with no turns yet. `id`: a client's own key; default a uuid4 hex.

        Raises InvalidRequest (400) for an id that is empty, over 128 characters or not
        printable, and SessionExists (409) when the id is taken.
        """
        if id is None:
            import uuid

            id = uuid.uuid4().hex
        _check_id(id)
        now = time.time()
        session = Session(
            id=id,
            cli_session_id=None,
            model=model,
            title=_title(title),
            turns=0,
            history_hash="",  # a column kept for old stores; nothing reads it
            cost_usd=0.0,
            source=source,
            created_at=now,
            updated_at=now,
            transcript=[],
        )
        try:
            with self._write() as db:
                db.execute(
                    f"INSERT INTO sessions ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        session.id,
                        session.cli_session_id,
                        session.model,
                        session.title,
                        session.turns,
                        session.history_hash,
                        session.cost_usd,
                        session.source,
                        session.created_at,
                        session.updated_at,
                        "[]",
                    ),
                )
        except sqlite3.IntegrityError:
            raise SessionExists(id) from None
        return session

    def record_turn(
        self,
        id: str,
        *,
        cli_session_id: str,
        history_hash: str = "",
        cost_delta: float,
        user_text: str,
        assistant_text: str,
        model: str | None,
    ) -> Session:
        """Add one completed turn, atomically: both messages, the new hash and CLI session id,
        the cost, turns+1, updated_at. `model` None keeps the one recorded.

        Call it while holding `lock(id)`; raises SessionNotFound if the session was deleted.
        """
        with self._write() as db:
            row = db.execute("SELECT transcript FROM sessions WHERE id = ?", (id,)).fetchone()
            if row is None:
                raise SessionNotFound(id, message=f"session '{short_id(id)}' no longer exists")
            transcript = json.loads(row[0])
            transcript.append({"role": "user", "text": user_text})
            transcript.append({"role": "assistant", "text": assistant_text})
            db.execute(
                """
                UPDATE sessions SET
                    cli_session_id = ?, history_hash = ?, cost_usd = cost_usd + ?,
                    turns = turns + 1, transcript = ?, model = coalesce(?, model),
                    updated_at = ?
                WHERE id = ?
                """,
                (
                    cli_session_id,
                    history_hash,
                    float(cost_delta),
                    json.dumps(transcript, ensure_ascii=False),
                    model,
                    time.time(),
                    id,
                ),
            )
            session = self._get(db, id)
        assert session is not None
        return session

    def delete(self, ids: Iterable[str]) -> int:
        """Delete these sessions (exact ids); returns how many existed."""
        ids = list(ids)
        count = 0
        with self._write() as db:
            for id in ids:
                count += db.execute("DELETE FROM sessions WHERE id = ?", (id,)).rowcount
        return count

    def clear(self) -> int:
        """Delete every session; returns how many there were. Locks in use are kept."""
        with self._write() as db:
            return db.execute("DELETE FROM sessions").rowcount

    # -- continuations (automatic continuation of stateless conversations)

    def remember(self, cli_session_id: str, key: str | None = None, cost_usd: float = 0.0) -> None:
        """Note a CLI session a stateless request created; with `key`, the hash of the
        conversation it now holds, and the CLI's (cumulative) cost figure for it."""
        with self._write() as db:
            db.execute(
                "INSERT INTO continuations (cli_session_id, key, cost_usd, created_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (cli_session_id) "
                "DO UPDATE SET key = excluded.key, cost_usd = excluded.cost_usd",
                (cli_session_id, key, cost_usd, time.time()),
            )

    def continuation(self, key: str) -> tuple[str, float] | None:
        """The newest CLI session whose conversation hashes to `key`, with its cost so far."""
        with self._read() as db:
            row = db.execute(
                "SELECT cli_session_id, cost_usd FROM continuations WHERE key = ? "
                "ORDER BY created_at DESC LIMIT 1",
                (key,),
            ).fetchone()
        return (row[0], row[1]) if row else None

    def continuations(self) -> list[tuple[str, float]]:
        """Every remembered CLI session id with its creation time, oldest first."""
        with self._read() as db:
            rows = db.execute(
                "SELECT cli_session_id, created_at FROM continuations ORDER BY created_at"
            ).fetchall()
        return [(r[0], r[1]) for r in rows]

    def forget(self, cli_session_ids: Iterable[str]) -> None:
        with self._write() as db:
            db.executemany(
                "DELETE FROM continuations WHERE cli_session_id = ?",
                [(i,) for i in cli_session_ids],
            )

    # -- stored responses (the Responses API's previous_response_id)

    def save_response(
        self,
        id: str,
        previous_id: str | None,
        input_json: str,
        response_json: str,
        *,
        keep_seconds: float,
    ) -> None:
        """Keep one response; responses older than `keep_seconds` go at the same time."""
        now = time.time()
        with self._write() as db:
            db.execute("DELETE FROM responses WHERE created_at < ?", (now - keep_seconds,))
            db.execute(
                "INSERT OR REPLACE INTO responses (id, previous_id, input, response, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (id, previous_id, input_json, response_json, now),
            )

    def stored_response(self, id: str) -> tuple[str | None, str, str] | None:
        """(previous response id, input items JSON, response JSON) of a kept response."""
        with self._read() as db:
            row = db.execute(
                "SELECT previous_id, input, response FROM responses WHERE id = ?", (id,)
            ).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def delete_response(self, id: str) -> bool:
        with self._write() as db:
            return db.execute("DELETE FROM responses WHERE id = ?", (id,)).rowcount > 0

    # -- one turn at a time

    def lock(
        self, id: str, *, wait: bool = False, timeout: float | None = None
    ) -> contextlib.AbstractContextManager[None]:
        """Run one turn of session `id` alone, across threads and processes (`locks.py`)."""
        return self.locks.hold(id, wait=wait, timeout=timeout)

    def alock(
        self, id: str, *, wait: bool = False, timeout: float | None = None
    ) -> contextlib.AbstractAsyncContextManager[None]:
        """`lock` for asyncio: waits without blocking the event loop."""
        return self.locks.ahold(id, wait=wait, timeout=timeout)


def move_aside(path: Path) -> Path | None:
    """Rename a store (with its -wal and -shm files) to `<name>.broken-<time>` so that a
    new one can start; nothing is deleted. Returns the new name, or None if there was none."""
    if not path.exists():
        return None
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.broken-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.broken-{stamp}-{n}")
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(target.with_name(target.name + suffix))
    path.rename(target)
    return target
