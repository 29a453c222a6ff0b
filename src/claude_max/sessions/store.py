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
* `SessionStore.lock(id)` serializes the turns of one session across threads and processes:
  a row in `locks` that names its holder (pid, process start time, host) and an expiry. A
  holder that died (`kill -9`) or outlived its expiry is taken over; a live one makes the
  caller wait or get `SessionBusy` (409).

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

import json
import os
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from claude_max.core.errors import ClaudeMaxError, InvalidRequest

DB_NAME = "sessions.db"
MAX_ID_LENGTH = 128
MAX_TITLE_LENGTH = 200
BUSY_TIMEOUT_MS = 5000
LOCK_TTL = 3600.0  # seconds; a lock whose holder cannot be checked (other host) lasts this long
ELLIPSIS = "…"


# -- errors


class SessionNotFound(ClaudeMaxError):
    status = 404
    kind = "not_found_error"

    def __init__(self, prefix: str, *, message: str | None = None) -> None:
        super().__init__(
            message or f"no session matches '{prefix}'",
            hint="List the saved sessions: claude-max sessions",
        )
        self.prefix = prefix


class AmbiguousSession(ClaudeMaxError):
    status = 409
    kind = "invalid_request_error"

    def __init__(self, prefix: str, matches: list[str], *, total: int | None = None) -> None:
        total = len(matches) if total is None else total
        shown = _distinct_short_ids(matches)
        listed = ", ".join(shown[:5])
        if total > 5:
            listed += f" and {total - 5} more"
        super().__init__(
            f"'{prefix}' matches {total} sessions: {listed}",
            hint="Give more characters of the id.",
        )
        self.prefix = prefix
        self.matches = matches  # full ids, newest first (at most 10)


class SessionBusy(ClaudeMaxError):
    status = 409
    kind = "invalid_request_error"

    def __init__(self, id: str, *, pid: int | None = None) -> None:
        # The holder's pid stays an attribute (for logs): the user can do nothing with it.
        super().__init__(
            f"Session {short_id(id)} is busy: another request or chat is answering a turn in it.",
            hint="Retry when that answer has finished, or continue in a new session "
            "(a request without X-Session-Id, a chat without -r/-c)",
        )
        self.id = id
        self.pid = pid


class SessionExists(ClaudeMaxError):
    status = 409
    kind = "invalid_request_error"

    def __init__(self, id: str) -> None:
        super().__init__(f"Session {short_id(id)} already exists.")
        self.id = id


# -- ids and hashes


def _is_hexish(id: str) -> bool:
    return len(id) >= 8 and all(c in "0123456789abcdefABCDEF-" for c in id)


def short_id(id: str) -> str:
    """How an id is shown: 8 characters for random ids, readable client ids kept readable.

    * Ids of hex digits and dashes (our uuid4 hex, a client's uuid) show their first
      8 characters, as git shows a short SHA.
    * Other client-chosen ids (`my-project`) show whole up to 16 characters; longer ones show
      their first 15 and `…`. `find` accepts that form as it is printed.
    """
    if _is_hexish(id):
        return id[:8]
    if len(id) <= 16:
        return id
    return id[:15] + ELLIPSIS


def _distinct_short_ids(ids: list[str]) -> list[str]:
    """Short ids, or the full ids where two of the short ones would read the same."""
    shown = [short_id(i) for i in ids]
    return shown if len(set(shown)) == len(shown) else list(ids)


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
    transcript: list[dict] = field(default_factory=list)  # [{"role": ..., "text": ...}]


_COLUMNS = (
    "id, cli_session_id, model, title, turns, history_hash, cost_usd, source, "
    "created_at, updated_at, transcript"
)


def _session(row: tuple) -> Session:
    return Session(*row[:10], transcript=json.loads(row[10]))


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


# -- lock holders


def _process_start(pid: int) -> str | None:
    """When a process started (Linux clock ticks since boot), to tell a reused pid apart."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rfind(b")") + 2 :].split()  # after "pid (comm) "
    if len(fields) < 20 or fields[0] == b"Z":
        return None  # a zombie has finished: it holds nothing
    return fields[19].decode()


def _pid_alive(pid: int, started: str | None) -> bool:
    if os.name != "posix":
        return True  # no safe signal-0 probe on Windows: such locks end by expiry
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, another user's
    if Path("/proc/self/stat").exists():
        now = _process_start(pid)
        if now is None or (started is not None and now != started):
            return False  # a zombie, or the pid was reused by a newer process
    return True


_HOST: str | None = None


def _host() -> str:
    """Where our pids mean something: the host name, and on Linux the pid namespace (a
    container with the host's name still has pids of its own)."""
    global _HOST
    if _HOST is None:
        import socket

        try:
            namespace = os.readlink("/proc/self/ns/pid")
        except OSError:
            namespace = ""
        _HOST = f"{socket.gethostname()} {namespace}".strip()
    return _HOST


# -- the store


class SessionStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._db: sqlite3.Connection | None = connect(self.path)
        self._mutex = threading.RLock()
        try:
            migrate(self._db)
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
            yield self._db

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

    def list(self, *, limit: int | None = None) -> list[Session]:
        """Sessions, most recently updated first."""
        with self._read() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM sessions ORDER BY updated_at DESC, rowid DESC LIMIT ?",
                (-1 if limit is None else limit,),
            ).fetchall()
        return [_session(r) for r in rows]

    def find_by_hash(self, history_hash: str, *, source: str = "auto") -> Session | None:
        """The newest session of this source whose conversation so far hashes to this.

        For automatic continuation. Under concurrency, take `lock(session.id)` and then check
        `get(session.id).history_hash` again: another request may have moved it on meanwhile.
        """
        with self._read() as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM sessions WHERE history_hash = ? AND source = ? "
                "ORDER BY updated_at DESC, rowid DESC LIMIT 1",
                (history_hash, source),
            ).fetchone()
        return _session(row) if row else None

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
            history_hash="",  # no turn yet: matches no find_by_hash of a real history
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
        history_hash: str,
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

    def fork(self, id: str, *, new_cli_session_id: str | None = None) -> Session:
        """A copy of the session under a new uuid4 hex id, to branch the conversation.

        Everything is copied (transcript, turns, hash, cost so far, title, source) except the
        id and timestamps; `cli_session_id` is `new_cli_session_id` when given, else the
        original's (resume it with the CLI's --fork-session, then record the new id).
        """
        import uuid

        new_id = uuid.uuid4().hex
        now = time.time()
        with self._write() as db:
            original = self._get(db, id)
            if original is None:
                raise SessionNotFound(id, message=f"session '{short_id(id)}' no longer exists")
            db.execute(
                f"INSERT INTO sessions ({_COLUMNS}) "
                "SELECT ?, coalesce(?, cli_session_id), model, title, turns, history_hash, "
                "cost_usd, source, ?, ?, transcript FROM sessions WHERE id = ?",
                (new_id, new_cli_session_id, now, now, id),
            )
            session = self._get(db, new_id)
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

    # -- one turn at a time

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

    def _claim(self, id: str, owner: str, ttl: float) -> int | None:
        """Take the lock if it is free or its holder is gone; else the holder's pid."""
        me = os.getpid()
        with self._write() as db:
            row = db.execute(
                "SELECT pid, started, host, expires_at FROM locks WHERE session_id = ?", (id,)
            ).fetchone()
            now = time.time()
            if row is not None:
                pid, started, host, expires_at = row
                gone = expires_at < now or (host == _host() and not _pid_alive(pid, started))
                if not gone:
                    return pid
            db.execute(
                "INSERT OR REPLACE INTO locks "
                "(session_id, owner, pid, started, host, acquired_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (id, owner, me, _process_start(me), _host(), now, now + ttl),
            )
        return None

    def _release(self, id: str, owner: str) -> None:
        with self._write() as db:
            db.execute("DELETE FROM locks WHERE session_id = ? AND owner = ?", (id, owner))

    @contextmanager
    def lock(
        self, id: str, *, wait: bool = False, timeout: float | None = None, ttl: float = LOCK_TTL
    ) -> Iterator[None]:
        """Run one turn of session `id` alone, across threads and processes.

        Free: taken at once. Held by a live holder: `wait=False` raises SessionBusy (409);
        `wait=True` polls until it is free, or raises SessionBusy after `timeout` seconds
        (None: as long as it takes). A holder killed with `kill -9` is detected (its pid is gone
        or reused) and its lock taken over; where that cannot be checked (another host,
        Windows) the lock expires `ttl` seconds after it was taken. Not re-entrant: a second
        `lock` on the same id in the same process waits or fails like any other.

        Blocking when waiting: asyncio code uses `alock`.
        """
        import uuid

        owner = uuid.uuid4().hex
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = 0.005
        while (holder := self._claim(id, owner, ttl)) is not None:
            if not wait or (deadline is not None and time.monotonic() >= deadline):
                raise SessionBusy(id, pid=holder)
            time.sleep(pause)
            pause = min(pause * 2, 0.1)
        try:
            yield
        finally:
            self._release(id, owner)

    @asynccontextmanager
    async def alock(
        self, id: str, *, wait: bool = False, timeout: float | None = None, ttl: float = LOCK_TTL
    ) -> AsyncIterator[None]:
        """`lock` for asyncio: waits with `asyncio.sleep`, never blocking the event loop."""
        import asyncio
        import uuid

        owner = uuid.uuid4().hex
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = 0.005
        while (holder := self._claim(id, owner, ttl)) is not None:
            if not wait or (deadline is not None and time.monotonic() >= deadline):
                raise SessionBusy(id, pid=holder)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.1)
        try:
            yield
        finally:
            self._release(id, owner)
