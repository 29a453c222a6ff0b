"""The CLI's own model list kept between runs, readable in a millisecond without starting
anything: `claude-max models` and the server show the same list.

The list of one CLI version is kept as JSON under Settings.home (`cli-models/<version>.json`,
written by `cli_models` when the CLI answers `initialize`). Which version is installed is
remembered by the executable's identity (real path, size, modification time), so a warm
`claude-max models` runs no `claude --version` and an updated CLI is noticed at once. Nothing
heavy on the cached path: the command's start-up budget (tests/test_startup.py) allows none;
reading the list from the CLI (`cli_models`, asyncio) is imported only when it is needed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from claude_max.core import catalog
from claude_max.core.errors import ClaudeMaxError

if TYPE_CHECKING:
    from claude_max.core.settings import Settings

CACHE_DIR = "cli-models"
VERSIONS = "versions.json"  # executable identity -> its version
KEPT_VERSIONS = 20  # identities remembered (one per CLI update or install)


def cache_file(home: Path, version: str) -> Path:
    return home / CACHE_DIR / f"{re.sub(r'[^0-9A-Za-z._-]', '_', version)}.json"


def parse(models: Any) -> list[catalog.Model]:
    """The `models` of an `initialize` answer as catalog entries: each resolved id once (under
    its first alias but `default`), then each alias; [] when the shape is not the expected one."""
    if not isinstance(models, list):
        return []
    full: dict[str, catalog.Model] = {}
    aliases: list[catalog.Model] = []
    for item in models:
        if not isinstance(item, dict):
            continue
        alias, resolved = item.get("value"), item.get("resolvedModel")
        if not (isinstance(alias, str) and isinstance(resolved, str) and resolved):
            continue
        levels = item.get("supportedEffortLevels")
        efforts = tuple(x for x in levels if isinstance(x, str)) if isinstance(levels, list) else ()
        if not item.get("supportsEffort", bool(efforts)):
            efforts = ()
        name = str(item.get("displayName") or alias)
        known = catalog.known(resolved)
        base = catalog.Model(
            resolved,
            alias,
            known.display_name if known else name,
            known.context_window if known else 0,
            known.max_output_tokens if known else 0,
            efforts=efforts,
            adaptive=bool(item.get("supportsAdaptiveThinking", False)),
        )
        if resolved not in full or full[resolved].alias == "default":
            full[resolved] = base
        aliases.append(
            catalog.Model(
                alias,
                alias,
                name,
                base.context_window,
                base.max_output_tokens,
                efforts=efforts,
                adaptive=base.adaptive,
                resolved=resolved,
            )
        )
    return [*full.values(), *aliases]


def read(home: Path, version: str) -> Any:
    """The raw list kept for a CLI version; None when there is none (or it is unreadable)."""
    with contextlib.suppress(OSError, ValueError):
        return json.loads(cache_file(home, version).read_text())
    return None


def save(home: Path, version: str, raw: Any) -> None:
    """Keep a CLI version's raw list (best effort: a read-only home only costs a re-read)."""
    _write(cache_file(home, version), raw)


def identity(claude: str) -> str | None:
    """What changes when the CLI executable is replaced: its real path, size and mtime."""
    try:
        real = os.path.realpath(claude)
        st = os.stat(real)
    except OSError:
        return None
    return f"{real}|{st.st_size}|{st.st_mtime_ns}"


def known_version(home: Path, claude: str) -> str | None:
    """The version of this very executable, if it was seen before (no process started)."""
    key = identity(claude)
    versions = _versions(home)
    value = versions.get(key) if key else None
    return value if isinstance(value, str) else None


def remember_version(home: Path, claude: str, version: str) -> None:
    """Note the version of this executable, for `known_version` (the newest few kept)."""
    key = identity(claude)
    if key is None:
        return
    versions = _versions(home)
    if versions.get(key) == version:
        return
    versions.pop(key, None)
    versions[key] = version
    _write(home / CACHE_DIR / VERSIONS, dict(list(versions.items())[-KEPT_VERSIONS:]))


def _versions(home: Path) -> dict[str, Any]:
    with contextlib.suppress(OSError, ValueError):
        found = json.loads((home / CACHE_DIR / VERSIONS).read_text())
        if isinstance(found, dict):
            return found
    return {}


def _write(path: Path, data: Any) -> None:
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=1))
        tmp.replace(path)


ASK_TIMEOUT = 10.0  # seconds for a terminal command to wait for the CLI's list (cold cache)
VERSION_TIMEOUT = 10.0  # seconds for `claude --version`


@dataclass(frozen=True)
class Listing:
    """The models to show, and where they came from."""

    models: list[catalog.Model]  # as /v1/models lists them: full ids, then aliases
    version: str | None = None  # the CLI version whose own list this is; None: the catalog
    fresh: bool = False  # read from the CLI just now (else from the cache)
    why: str | None = None  # why the catalog is shown instead of the CLI's list
    failed: bool = False  # the CLI is there but could not give its list


def load(settings: Settings, *, refresh: bool = False) -> Listing:
    """What the server would list: the CLI's own list from the cache (no process started),
    else read from the CLI once (its version, then `initialize`, bounded) and kept; the static
    catalog when there is no CLI or it cannot answer. `refresh` reads it from the CLI again."""
    try:
        claude = settings.claude()
    except ClaudeMaxError as exc:
        return Listing(catalog.listed(), why=exc.message)
    home = settings.home
    version = known_version(home, claude)
    if version is not None and not refresh and (models := parse(read(home, version))):
        return Listing(models, version)
    version = version if version is not None and not refresh else _version_of(claude)
    if version is None:
        return Listing(catalog.listed(), why=f"`{claude} --version` did not answer", failed=True)
    remember_version(home, claude, version)
    if not refresh and (models := parse(read(home, version))):  # the server kept it already
        return Listing(models, version)
    raw = _ask(settings)
    models = parse(raw)
    if not models:
        why = f"Claude Code {version} did not list its models within {ASK_TIMEOUT:.0f} s"
        return Listing(catalog.listed(), why=why, failed=True)
    save(home, version, raw)
    return Listing(models, version, fresh=True)


def cli_version(claude: str) -> str | None:
    """`claude --version` (13 ms), bounded: the one reader of it (the server's start, `models`);
    None if it does not answer in time or fails. OSError when it cannot be started."""
    import subprocess

    try:
        done = subprocess.run(
            [claude, "--version"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=VERSION_TIMEOUT,
        )
    except subprocess.SubprocessError:
        return None
    if done.returncode != 0:
        return None
    return done.stdout.split(" ")[0].strip() or None


def _version_of(claude: str) -> str | None:
    try:
        return cli_version(claude)
    except OSError:
        return None


def _ask(settings: Settings) -> Any:
    """The CLI's `initialize` answer's `models` (one CLI start, ~300 ms); None on failure."""
    import asyncio

    from claude_max.core import cli_models

    try:
        return asyncio.run(cli_models.ask(settings, ASK_TIMEOUT))
    except Exception:  # a CLI that cannot start: the catalog is shown, with the reason
        return None
