"""The session store's SQLite file: opening it, migrating it, and one transaction at a time.

One file, `<CLAUDE_MAX_HOME or the user data dir>/sessions.db`, shared by the server and any
number of `chat` processes:

* WAL journal, `busy_timeout` 5 s, and every write is one short `BEGIN IMMEDIATE` transaction,
  so a `kill -9` mid-write loses at most that write and concurrent writers queue rather than
  fail. `synchronous=NORMAL`: a committed turn survives a crash of the process; only a power
  cut may lose the last few commits, never corrupt the file.
* The schema is `migrations.py`'s, applied when the file is opened.
* A file SQLite cannot read is `StoreUnreadable` (its hint: `sessions repair`), never a
  traceback; `move_aside` is how `sessions repair` gets it out of the way.

One `Database` holds one connection, guarded by a mutex, so it may be shared between threads;
the tables' classes (`store.py`, `kept.py`, `stored_responses.py`) share one.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from claude_max.core.errors import StoreUnreadable
from claude_max.sessions.migrations import migrate

DB_NAME = "sessions.db"
BUSY_TIMEOUT_MS = 5000


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


def _is_corruption(exc: BaseException) -> bool:
    """SQLite's own 'not a database' / 'malformed' errors, not a lock or a constraint."""
    return type(exc) is sqlite3.DatabaseError or (
        isinstance(exc, sqlite3.OperationalError) and "malformed" in str(exc)
    )


class Database:
    """The store's file, opened and migrated; `read()` and `write()` lend its connection."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
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

    def close(self) -> None:
        with self._mutex:
            if self._db is not None:
                self._db.close()
                self._db = None

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """The connection, alone; a file gone bad on the way is StoreUnreadable."""
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
    def write(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction; waits up to busy_timeout for other writers."""
        with self.read() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")


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
