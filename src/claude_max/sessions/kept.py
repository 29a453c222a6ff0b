"""Kept CLI sessions: the CLI sessions that stateless requests left behind (`continuations`,
m003), found again by the hash of the conversation they hold (`turns/auto.py`) and pruned by
age and size."""

from __future__ import annotations

import time
from collections.abc import Iterable

from claude_max.sessions.db import Database


class KeptSessions:
    def __init__(self, db: Database) -> None:
        self.db = db

    def remember(self, cli_session_id: str, key: str | None = None, cost_usd: float = 0.0) -> None:
        """Note a CLI session a stateless request created; with `key`, the hash of the
        conversation it now holds, and the CLI's (cumulative) cost figure for it."""
        with self.db.write() as db:
            db.execute(
                "INSERT INTO continuations (cli_session_id, key, cost_usd, created_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (cli_session_id) "
                "DO UPDATE SET key = excluded.key, cost_usd = excluded.cost_usd",
                (cli_session_id, key, cost_usd, time.time()),
            )

    def find(self, key: str) -> tuple[str, float] | None:
        """The newest CLI session whose conversation hashes to `key`, with its cost so far."""
        with self.db.read() as db:
            row = db.execute(
                "SELECT cli_session_id, cost_usd FROM continuations WHERE key = ? "
                "ORDER BY created_at DESC LIMIT 1",
                (key,),
            ).fetchone()
        return (row[0], row[1]) if row else None

    def oldest_first(self) -> list[tuple[str, float]]:
        """Every kept CLI session id with its creation time, oldest first."""
        with self.db.read() as db:
            rows = db.execute(
                "SELECT cli_session_id, created_at FROM continuations ORDER BY created_at"
            ).fetchall()
        return [(r[0], r[1]) for r in rows]

    def forget(self, cli_session_ids: Iterable[str]) -> None:
        with self.db.write() as db:
            db.executemany(
                "DELETE FROM continuations WHERE cli_session_id = ?",
                [(i,) for i in cli_session_ids],
            )
