"""`claude-max sessions`: list, show, delete and clear saved conversations."""

from __future__ import annotations

import json
import sys
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from claude_max.completions import complete_session

if TYPE_CHECKING:
    from claude_max.sessions.store import Session, SessionStore

app = typer.Typer(
    help="List, show and delete saved conversations (default: list).",
    no_args_is_help=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

JSON = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _store() -> SessionStore:
    from claude_max.sessions.store import SessionStore

    return SessionStore.default()


def _as_json(session: Session, *, transcript: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": session.id,
        "title": session.title,
        "model": session.model,
        "turns": session.turns,
        "cost_usd": round(session.cost_usd, 6),
        "source": session.source,
        "created_at": _iso(session.created_at),
        "updated_at": _iso(session.updated_at),
    }
    if transcript:
        data["transcript"] = session.transcript
    return data


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _ago(ts: float) -> str:
    seconds = max(0, int(time.time() - ts))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


@app.callback(invoke_without_command=True)
def sessions(
    ctx: typer.Context,
    limit: Annotated[
        int | None, typer.Option("-n", "--limit", min=1, help="Show at most N.")
    ] = None,
    json_: JSON = False,
) -> None:
    """List saved conversations, newest first.

    Examples:

      claude-max sessions

      claude-max sessions show 3f2a9c1e

      claude-max chat -r 3f2a "and then?"
    """
    if ctx.invoked_subcommand is None:
        _list(limit, json_)


LIMIT = Annotated[int | None, typer.Option("-n", "--limit", min=1, help="Show at most N.")]


@app.command("list")
def list_(limit: LIMIT = None, json_: JSON = False) -> None:
    """List saved conversations, newest first (as plain `sessions` does)."""
    _list(limit, json_)


app.command("ls", hidden=True)(list_)


def _list(limit: int | None, json_: bool) -> None:
    from claude_max.core.ids import short_id
    from claude_max.terminal import console

    store = _store()
    try:
        found = store.recent(limit=limit)
    finally:
        store.close()
    if json_:
        print(json.dumps([_as_json(s) for s in found], indent=2, ensure_ascii=False))
        return
    if not found:
        console.stderr_console().print("No sessions yet. Start one: claude-max chat", style="dim")
        return
    tty = console.stdout_is_interactive()
    rows = [("ID", "TITLE", "MODEL", "TURNS", "UPDATED")]
    for s in found:
        updated = _ago(s.updated_at) if tty else _iso(s.updated_at)
        rows.append((short_id(s.id), s.title, s.model or "-", str(s.turns), updated))
    title_width = max(10, _terminal_width() - 60) if tty else None
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    if title_width is not None:
        widths[1] = min(widths[1], title_width)
    for row in rows:
        cells = list(row)
        if len(cells[1]) > widths[1]:
            cells[1] = cells[1][: widths[1] - 1] + "…"
        print("    ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())


def _terminal_width() -> int:
    import shutil

    return shutil.get_terminal_size((100, 24)).columns


@app.command()
def show(
    session_id: Annotated[
        str,
        typer.Argument(
            help="A session id or a unique prefix of one.", autocompletion=complete_session
        ),
    ],
    json_: JSON = False,
) -> None:
    """Show a conversation's transcript (Markdown on a terminal)."""
    from claude_max.core.errors import ClaudeMaxError
    from claude_max.terminal import console

    store = _store()
    try:
        session = store.find(session_id)
    except ClaudeMaxError as exc:
        console.fail(exc)
    finally:
        store.close()
    if json_:
        print(json.dumps(_as_json(session, transcript=True), indent=2, ensure_ascii=False))
        return
    parts = []
    for turn in session.transcript:
        who = "**You**" if turn["role"] == "user" else f"**{session.model or 'Claude'}**"
        parts.append(f"{who}\n\n{turn['text']}")
    text = "\n\n---\n\n".join(parts)
    if console.stdout_is_interactive():
        from claude_max.terminal.render import markdown

        console.stdout_console().print(markdown(text))
    else:
        sys.stdout.write(text + "\n")


@app.command()
def delete(
    session_ids: Annotated[
        list[str],
        typer.Argument(help="Session ids or unique prefixes.", autocompletion=complete_session),
    ],
    yes: Annotated[bool, typer.Option("-y", "--yes", help="Do not ask for confirmation.")] = False,
    json_: JSON = False,
) -> None:
    """Delete conversations."""
    from claude_max.core.errors import ClaudeMaxError
    from claude_max.core.ids import short_id
    from claude_max.sessions import cli_files
    from claude_max.terminal import console

    store = _store()
    try:
        try:
            found = [store.find(prefix) for prefix in session_ids]
        except ClaudeMaxError as exc:
            console.fail(exc)
        if not yes and console.stdin_is_interactive() and not json_:
            names = ", ".join(short_id(s.id) for s in found)
            typer.confirm(f"Delete {names}?", abort=True, err=True)
        store.delete([s.id for s in found])
        cli_files.remove(s.cli_session_id for s in found)
    finally:
        store.close()
    if json_:
        print(json.dumps({"deleted": [s.id for s in found]}))
    else:
        for s in found:
            print(f"deleted {short_id(s.id)}")


app.command("rm", hidden=True)(delete)


@app.command()
def clear(
    yes: Annotated[bool, typer.Option("-y", "--yes", help="Do not ask for confirmation.")] = False,
    json_: JSON = False,
) -> None:
    """Delete every saved conversation."""
    from claude_max.sessions import cli_files
    from claude_max.terminal import console

    store = _store()
    try:
        if not yes and console.stdin_is_interactive() and not json_:
            typer.confirm("Delete all sessions?", abort=True, err=True)
        everything = store.recent()
        count = store.clear()
        cli_files.remove(s.cli_session_id for s in everything)
    finally:
        store.close()
    print(json.dumps({"deleted": count}) if json_ else f"deleted {count} session(s)")


@app.command()
def repair(json_: JSON = False) -> None:
    """Move an unreadable session store aside (kept, renamed *.broken-<time>) and start a
    new, empty one. Does nothing to a store that reads fine."""
    from claude_max.core.errors import StoreUnreadable
    from claude_max.core.settings import default_home
    from claude_max.sessions.db import DB_NAME, move_aside
    from claude_max.sessions.store import SessionStore

    path = default_home() / DB_NAME
    try:
        SessionStore(path).close()
    except StoreUnreadable as exc:
        moved = move_aside(path)
        SessionStore(path).close()
        if json_:
            print(json.dumps({"moved_to": str(moved), "reason": exc.reason}))
        else:
            print(f"The session store could not be read ({exc.reason}).")
            print(f"Moved it to {moved}; started a new, empty one at {path}.")
        return
    print(json.dumps({"moved_to": None}) if json_ else f"The session store {path} reads fine.")
