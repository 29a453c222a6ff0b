"""The session store's schema: `@migration` steps applied in order, each recorded in
`_migrations` (simonw/llm's pattern).

A new table or column is a new function at the end (the next is m006), never an edit of an
applied one: a store a user already has must reach the same schema as a new one.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable

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
