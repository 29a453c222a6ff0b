"""The session store: our sessions (the `sessions` table), and the handle to the whole store.

`SessionStore` opens the SQLite file (`db.py`: connection, WAL, migrations) and holds the other
tables beside its own: `kept` (the CLI sessions stateless requests left behind, `kept.py`) and
`responses` (the Responses API's stored responses, `stored_responses.py`). Request history rows
are `usage/history.py`'s, on a connection of their own.

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
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from claude_max.core.errors import (  # the session errors are raised here
    AmbiguousSession,
    InvalidRequest,
    SessionExists,
    SessionNotFound,
)
from claude_max.core.ids import ELLIPSIS, short_id
from claude_max.sessions.db import DB_NAME, Database
from claude_max.sessions.kept import KeptSessions
from claude_max.sessions.locks import SessionLocks
from claude_max.sessions.stored_responses import ResponseRows

MAX_ID_LENGTH = 128
MAX_TITLE_LENGTH = 200


# -- ids and titles


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
    cost_usd: float  # cumulative
    source: str  # "chat" | "http" | "auto"
    created_at: float  # unix time
    updated_at: float
    transcript: list[dict[str, str]] = field(default_factory=list)  # [{"role": ..., "text": ...}]


_COLUMNS = (
    "id, cli_session_id, model, title, turns, cost_usd, source, created_at, updated_at, transcript"
)
# m001's `history_hash` column (NOT NULL) is written "" and never read.


def _session(row: tuple[Any, ...]) -> Session:
    fields = dict(zip(_COLUMNS.replace(" ", "").split(","), row, strict=True))
    fields["transcript"] = json.loads(fields["transcript"])
    return Session(**fields)


# -- the store


class SessionStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.db = Database(self.path)  # StoreUnreadable for a file SQLite cannot read
        self.locks = SessionLocks(self.path.parent / "locks")
        self.kept = KeptSessions(self.db)
        self.responses = ResponseRows(self.db)

    @classmethod
    def default(cls) -> SessionStore:
        """The store in CLAUDE_MAX_HOME, else the platform's user data directory."""
        from claude_max.core.settings import default_home

        return cls(default_home() / DB_NAME)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> SessionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def _get(db: sqlite3.Connection, id: str) -> Session | None:
        row = db.execute(f"SELECT {_COLUMNS} FROM sessions WHERE id = ?", (id,)).fetchone()
        return _session(row) if row else None

    # -- reading

    def get(self, id: str) -> Session | None:
        """The session with exactly this id."""
        with self.db.read() as db:
            return self._get(db, id)

    def find(self, prefix: str) -> Session:
        """The session with this id, else the one whose id starts with it (newest first).

        Also accepts a short id as `short_id` prints it (a trailing `…`). Raises
        SessionNotFound (404) or AmbiguousSession (409, naming the candidates).
        """
        key = prefix[: -len(ELLIPSIS)] if prefix.endswith(ELLIPSIS) else prefix
        if not key:
            raise SessionNotFound(prefix, message="no session id given")
        with self.db.read() as db:
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
        with self.db.read() as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM sessions {where} "
                "ORDER BY updated_at DESC, rowid DESC LIMIT 1",
                args,
            ).fetchone()
        return _session(row) if row else None

    def recent(self, *, limit: int | None = None) -> list[Session]:
        """Sessions, most recently updated first."""
        with self.db.read() as db:
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
            cost_usd=0.0,
            source=source,
            created_at=now,
            updated_at=now,
            transcript=[],
        )
        try:
            with self.db.write() as db:
                db.execute(
                    f"INSERT INTO sessions ({_COLUMNS}, history_hash) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '')",
                    (
                        session.id,
                        session.cli_session_id,
                        session.model,
                        session.title,
                        session.turns,
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
        cost_delta: float,
        user_text: str,
        assistant_text: str,
        model: str | None,
    ) -> Session:
        """Add one completed turn, atomically: both messages, the CLI session id,
        the cost, turns+1, updated_at. `model` None keeps the one recorded.

        Call it while holding `lock(id)`; raises SessionNotFound if the session was deleted.
        """
        with self.db.write() as db:
            row = db.execute("SELECT transcript FROM sessions WHERE id = ?", (id,)).fetchone()
            if row is None:
                raise SessionNotFound(id, message=f"session '{short_id(id)}' no longer exists")
            transcript = json.loads(row[0])
            transcript.append({"role": "user", "text": user_text})
            transcript.append({"role": "assistant", "text": assistant_text})
            db.execute(
                """
                UPDATE sessions SET
                    cli_session_id = ?, cost_usd = cost_usd + ?,
                    turns = turns + 1, transcript = ?, model = coalesce(?, model),
                    updated_at = ?
                WHERE id = ?
                """,
                (
                    cli_session_id,
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
        with self.db.write() as db:
            for id in ids:
                count += db.execute("DELETE FROM sessions WHERE id = ?", (id,)).rowcount
        return count

    def clear(self) -> int:
        """Delete every session; returns how many there were. Locks in use are kept."""
        with self.db.write() as db:
            return db.execute("DELETE FROM sessions").rowcount

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
