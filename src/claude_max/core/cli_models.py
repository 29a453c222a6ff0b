"""The CLI's own model list, so that a model released after this version of claude-max is
served on the day the CLI learns it.

The CLI lists its models (alias, resolved id, effort levels, adaptive thinking) in its answer
to the `initialize` control request (CLI.md §9); it costs one CLI start (~300 ms, no model
call). It is read once per CLI version and kept as JSON under Settings.home; the static
`catalog` is used whenever it cannot be read.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from claude_max.core import argv as cli
from claude_max.core import catalog, model_cache, stdin
from claude_max.core.parse import StreamParser
from claude_max.core.processes import spawn
from claude_max.core.settings import Settings

ASK_TIMEOUT = 15.0  # seconds for the CLI to start and answer
RETRY_AFTER = 300.0  # seconds before asking again a CLI that did not answer
CACHE_DIR = model_cache.CACHE_DIR
parse = model_cache.parse  # the reading of an `initialize` answer's `models`


def cache_file(settings: Settings, version: str) -> Path:
    return model_cache.cache_file(settings.home, version)


async def ask(settings: Settings, timeout: float = ASK_TIMEOUT) -> Any:
    """Start the CLI, send `initialize`, return the `models` of its answer (None if it does
    not answer in time)."""
    proc = await spawn(
        [*cli.build_argv(settings.claude(), _NO_CONVERSATION), cli.system_prompt_flag(None)],
        env=cli.build_env(settings, _NO_CONVERSATION),
        cwd=settings.workdir(),
    )
    try:
        await proc.send(stdin.initialize_line("models"))
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = await asyncio.wait_for(proc.readline(), left)
            except asyncio.TimeoutError:
                return None
            if line is None:
                return None
            answer = StreamParser.control_response(line)
            if answer is not None and answer.get("request_id") == "models":
                return (answer.get("response") or {}).get("models")
        return None
    finally:
        proc.close_stdin()
        await proc.aclose()


class CLIModels:
    """The model list of one CLI version: from the cache file, else asked once; meanwhile and
    on failure the static catalog. Reading it makes `catalog` use it (`catalog.adopt`)."""

    def __init__(self, settings: Settings, version: str | None) -> None:
        self.settings = settings
        self.version = version
        self.models: list[catalog.Model] | None = None
        self._failed_at: float | None = None
        self._lock = asyncio.Lock()

    def load_cached(self) -> list[catalog.Model] | None:
        """The cached list of this CLI version, without starting the CLI."""
        if self.version is None:
            return None
        models = parse(model_cache.read(self.settings.home, self.version))
        if models:
            self._use(models)
        return self.models

    async def get(self) -> list[catalog.Model]:
        """The CLI's list, or the static catalog's when the CLI cannot give one."""
        if self.models is not None or self.version is None:
            return self.models or catalog.listed()
        async with self._lock:
            if self.models is None and self.load_cached() is None and self._may_ask():
                raw = await self._ask_raw()
                models = parse(raw)
                if models:
                    self._save(raw)
                    self._use(models)
                else:
                    self._failed_at = time.monotonic()
        return self.models or catalog.listed()

    def _may_ask(self) -> bool:
        return self._failed_at is None or time.monotonic() - self._failed_at > RETRY_AFTER

    async def _ask_raw(self) -> Any:
        try:
            return await ask(self.settings)
        except Exception:  # a CLI that cannot start: the fallback is served
            return None

    def _use(self, models: list[catalog.Model]) -> None:
        self.models = models
        catalog.adopt(models)

    def _save(self, raw: Any) -> None:
        assert self.version is not None
        model_cache.save(self.settings.home, self.version, raw)


def _empty_conversation() -> Any:
    from claude_max.core.conversation import Conversation, TextPart, Turn

    return Conversation(turns=(Turn("user", (TextPart("."),)),))


_NO_CONVERSATION = _empty_conversation()
