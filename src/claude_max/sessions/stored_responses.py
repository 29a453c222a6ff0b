"""Stored Responses API responses: `previous_response_id`, and GET / DELETE by id.

A response is kept (unless the request said `store: false`) with the input items its request
added and the response object itself, linked to the response it continued. A request naming
`previous_response_id` is expanded into the whole conversation: every stored response of the
chain, oldest first, gives its input items and its output items, then come the new items. The
expanded request then runs like any stateless one, so:

* tool conversations are exact (the history is the items the client and model exchanged; the
  CLI's own session of a tool turn holds a refusal where the client's result belongs, so it is
  never resumed for them);
* plain conversations are continued from the CLI's own session all the same: automatic
  continuation (`turns/auto.py`) finds the CLI session that answered exactly that history
  and resumes it with `--fork-session`, sending only the new message to the model.

`turns/stored.py` is the continuation kind that uses this module for `/v1/responses`.
`instructions` are not carried over, as in OpenAI's API: each request brings its own. Kept
responses live `KEEP_SECONDS` (OpenAI keeps them 30 days) in the session store, so a chain
survives restarts of the server.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from claude_max.core.errors import InvalidRequest, ResponseNotFound

if TYPE_CHECKING:
    from claude_max.sessions.db import Database
    from claude_max.sessions.store import SessionStore

KEEP_SECONDS = 30 * 24 * 3600.0
MAX_CHAIN = 10_000  # responses followed back from one previous_response_id


class ResponseRows:
    """The `responses` table (m004): one row per kept response."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def save(
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
        with self.db.write() as db:
            db.execute("DELETE FROM responses WHERE created_at < ?", (now - keep_seconds,))
            db.execute(
                "INSERT OR REPLACE INTO responses (id, previous_id, input, response, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (id, previous_id, input_json, response_json, now),
            )

    def find(self, id: str) -> tuple[str | None, str, str] | None:
        """(previous response id, input items JSON, response JSON) of a kept response."""
        with self.db.read() as db:
            row = db.execute(
                "SELECT previous_id, input, response FROM responses WHERE id = ?", (id,)
            ).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def delete(self, id: str) -> bool:
        with self.db.write() as db:
            return db.execute("DELETE FROM responses WHERE id = ?", (id,)).rowcount > 0


def applies(body: dict[str, Any]) -> bool:
    """Whether the request touches stored responses: continues one or is to be kept."""
    return body.get("previous_response_id") is not None or body.get("store", True) is not False


def _items(value: Any) -> list[Any]:
    """A request's `input` as a list of items (a string is one user message)."""
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": value}]
    return list(value) if isinstance(value, list) else []


def expand(store: SessionStore, body: dict[str, Any]) -> dict[str, Any]:
    """The request to run: with `previous_response_id`, the stored conversation's items come
    before the new input."""
    previous = body.get("previous_response_id")
    if previous is None:
        return body
    if not isinstance(previous, str) or not previous:
        raise InvalidRequest(
            "'previous_response_id' must be a response id.", param="previous_response_id"
        )
    chain: list[tuple[list[Any], list[Any]]] = []
    current: str | None = previous
    while current is not None and len(chain) < MAX_CHAIN:
        found = store.responses.find(current)
        if found is None:
            raise ResponseNotFound(current, param="previous_response_id")
        current, input_json, response_json = found
        chain.append((json.loads(input_json), json.loads(response_json).get("output") or []))
    history = [item for items, output in reversed(chain) for item in (*items, *output)]
    return {**body, "input": history + _items(body.get("input"))}


def record(store: SessionStore, body: dict[str, Any], response: dict[str, Any]) -> None:
    """Keep a finished response of a request that did not say `store: false`."""
    if body.get("store", True) is False or response.get("status") not in (
        "completed",
        "incomplete",
    ):
        return
    store.responses.save(
        response["id"],
        body.get("previous_response_id"),
        json.dumps(_items(body.get("input")), ensure_ascii=False),
        json.dumps(response, ensure_ascii=False),
        keep_seconds=KEEP_SECONDS,
    )


def get(store: SessionStore, response_id: str) -> dict[str, Any]:
    found = store.responses.find(response_id)
    if found is None:
        raise ResponseNotFound(response_id)
    return dict(json.loads(found[2]))


def delete(store: SessionStore, response_id: str) -> dict[str, Any]:
    if not store.responses.delete(response_id):
        raise ResponseNotFound(response_id)
    return {"id": response_id, "object": "response", "deleted": True}
