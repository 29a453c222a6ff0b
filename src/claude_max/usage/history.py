"""Request history: one row of figures per API request, written off the event loop.

What a request is is seen in two places: the ASGI middleware (`claude_max.server.recording`)
knows the endpoint, client, status and time; the turn path knows the model, tokens, cost,
time to first token and whether a warm process served it, and shows each core event to the
request's `Observer.see`. The middleware hands the finished `Row` to a `Writer`, whose thread
inserts rows in batches (one transaction per batch), so a busy server pays a queue put per
request (bench/recording.py). Rows hold figures only, never prompt or answer text.

The table (`requests`) lives in the session store's file and is created by its migration
m005; `prune` deletes rows older than `--history-days`; `read` is what `claude-max stats` and
the dashboard aggregate (`claude_max.usage.report`).
"""

from __future__ import annotations

import queue
import sqlite3
import threading
import time
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import Any

from claude_max.core.events import (
    Result,
    Started,
    TextDelta,
    ThinkingDelta,
    ToolUse,
    ToolUseStart,
    Usage,
    WebSearchCall,
)

MAX_TEXT = 200  # characters kept of a user agent, model name or error message
BATCH = 500  # rows per insert transaction at most
MAX_QUEUED = 100_000  # rows waiting for the writer thread at most


@dataclass(slots=True)
class Row:
    at: float  # unix time the request arrived
    protocol: str  # openai | anthropic | other
    endpoint: str  # the path
    client: str | None  # user agent
    key_label: str | None  # the API key's name, when keys are named
    model_asked: str | None  # what the client sent
    model: str | None  # what answered (the CLI's resolved model)
    stream: bool | None
    status: int
    error: str | None  # error kind (the protocol's error type), None on success
    error_message: str | None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = 0.0  # list price, as the CLI reports it
    ttft_ms: float | None = None
    duration_ms: float = 0.0
    warm: bool | None = None  # None: no CLI ran
    session_id: str | None = None


COLUMNS = tuple(f.name for f in fields(Row))
_INSERT = f"INSERT INTO requests ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
_FIRST_TOKEN = (TextDelta, ThinkingDelta, ToolUseStart, ToolUse, WebSearchCall)


def clip(text: object) -> str | None:
    if not isinstance(text, str) or not text:
        return None
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


class Observer:
    """What the turn path tells about one request: `see` every core event (and `fail` a
    ClaudeMaxError that ends a stream). Cheap: a few type checks per event."""

    __slots__ = (
        "start",
        "model_asked",
        "stream",
        "model",
        "usage",
        "cost",
        "ttft",
        "warm",
        "error",
        "error_message",
        "answered",
    )

    def __init__(self, start: float) -> None:
        self.start = start  # time.perf_counter() at arrival
        self.model_asked: str | None = None
        self.stream: bool | None = None
        self.model: str | None = None
        self.usage: Usage | None = None
        self.cost = 0.0
        self.ttft: float | None = None  # ms
        self.warm: bool | None = None
        self.error: str | None = None
        self.error_message: str | None = None
        self.answered = False  # the run reached its result (the client got the whole answer)

    def asked(self, body: object) -> None:
        """Note the model the client asked for and whether it streams (from the JSON body)."""
        if isinstance(body, dict):
            self.model_asked = clip(body.get("model"))
            stream = body.get("stream")
            self.stream = stream if isinstance(stream, bool) else False

    def see(self, event: object) -> None:
        kind = type(event)
        if kind in _FIRST_TOKEN:
            if self.ttft is None:
                self.ttft = (time.perf_counter() - self.start) * 1000
        elif kind is Result:
            assert isinstance(event, Result)
            if self.ttft is None:  # an answer that came in one piece
                self.ttft = (time.perf_counter() - self.start) * 1000
            self.usage = event.usage
            self.model = event.model or self.model
            self.cost = event.cost_usd
            self.answered = True
        elif kind is Started:
            assert isinstance(event, Started)
            self.warm = event.warm
            self.model = self.model or event.model
        elif kind is Usage:
            assert isinstance(event, Usage)
            self.usage = event  # so far: kept if the run never reaches its result

    def fail(self, exc: BaseException) -> None:
        """A failure after the response began (a stream's error event)."""
        self.error = getattr(exc, "kind", None) or type(exc).__name__
        self.error_message = clip(getattr(exc, "message", None) or str(exc))

    def row(
        self,
        *,
        at: float,
        protocol: str,
        endpoint: str,
        client: str | None,
        key_label: str | None,
        status: int,
        duration_ms: float,
        session_id: str | None,
        error: str | None = None,
        error_message: str | None = None,
    ) -> Row:
        usage = self.usage or Usage()
        return Row(
            at=at,
            protocol=protocol,
            endpoint=endpoint,
            client=clip(client),
            key_label=clip(key_label),
            model_asked=self.model_asked,
            model=self.model,
            stream=self.stream,
            status=status,
            error=self.error or error,
            error_message=self.error_message or error_message,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_read_tokens=usage.cache_read_input_tokens,
            cache_write_tokens=usage.cache_creation_input_tokens,
            cost_usd=self.cost,
            ttft_ms=None if self.ttft is None else round(self.ttft, 2),
            duration_ms=round(duration_ms, 2),
            warm=self.warm,
            session_id=clip(session_id),
        )


# -- the store


def open_db(path: Path) -> sqlite3.Connection:
    """The session store's file, migrated (m005 creates the table)."""
    from claude_max.sessions.db import connect
    from claude_max.sessions.migrations import migrate

    db = connect(path)
    try:
        migrate(db)
    except BaseException:
        db.close()
        raise
    return db


def insert(db: sqlite3.Connection, rows: list[Row]) -> None:
    db.execute("BEGIN IMMEDIATE")
    try:
        db.executemany(_INSERT, [astuple(r) for r in rows])
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def prune(db: sqlite3.Connection, days: float, *, now: float | None = None) -> int:
    """Delete rows older than `days`; returns how many."""
    cutoff = (time.time() if now is None else now) - days * 86400
    db.execute("BEGIN IMMEDIATE")
    try:
        count = db.execute("DELETE FROM requests WHERE at < ?", (cutoff,)).rowcount
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return count


def read(db: sqlite3.Connection, since: float, until: float | None = None) -> list[Row]:
    """Rows that arrived in [since, until), oldest first."""
    rows = db.execute(
        f"SELECT {', '.join(COLUMNS)} FROM requests WHERE at >= ? AND at < ? ORDER BY at",
        (since, float("inf") if until is None else until),
    ).fetchall()
    return [_row(r) for r in rows]


def _row(values: tuple[Any, ...]) -> Row:
    row = Row(*values)
    row.stream = None if row.stream is None else bool(row.stream)
    row.warm = None if row.warm is None else bool(row.warm)
    return row


class Writer:
    """Inserts rows on a thread of its own, batched: `put` only queues.

    The store is opened on the first row (a server that answers nothing creates no file);
    a store that cannot be written loses rows (counted in `dropped`), never a request. At most
    MAX_QUEUED rows wait: past that (the disk stalls), new rows are dropped too.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.dropped = 0
        self._queue: queue.SimpleQueue[Row | threading.Event | None] = queue.SimpleQueue()
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()  # the connection: writer thread vs prune/read callers
        self._thread = threading.Thread(target=self._loop, name="claude-max-history", daemon=True)
        self._thread.start()

    def put(self, row: Row) -> None:
        if self._queue.qsize() >= MAX_QUEUED:
            self.dropped += 1
            return
        self._queue.put(row)

    def _connection(self, *, create: bool) -> sqlite3.Connection | None:
        """The open store (call with the lock held); None if it does not exist yet."""
        if self._db is None and (create or self.path.exists()):
            self._db = open_db(self.path)
        return self._db

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every row put so far is written (blocking: call it off the loop)."""
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def prune(self, days: float) -> int:
        with self._lock:
            db = self._connection(create=False)
            return 0 if db is None else prune(db, days)

    def read(self, since: float, until: float | None = None) -> list[Row]:
        with self._lock:
            db = self._connection(create=False)
            return [] if db is None else read(db, since, until)

    def close(self, timeout: float = 5.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _loop(self) -> None:
        stop = False
        while not stop:
            batch: list[Row] = []
            waiting: list[threading.Event] = []
            item = self._queue.get()
            while True:
                if item is None:
                    stop = True
                elif isinstance(item, threading.Event):
                    waiting.append(item)
                else:
                    batch.append(item)
                if stop or len(batch) >= BATCH:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                try:
                    with self._lock:
                        db = self._connection(create=True)
                        assert db is not None
                        insert(db, batch)
                except (sqlite3.Error, OSError):
                    self.dropped += len(batch)  # a full disk must not take the server down
            for event in waiting:
                event.set()
