"""What a CLI process is started with, as a hashable spec, and how to start one from it.

Everything fixed at spawn time (argv, environment, cwd, system prompt) is in the spec, so a
process started ahead of time for a spec can serve any conversation with that spec: that is
what the warm pool keys on.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from claude_max.core import argv as cli
from claude_max.core.conversation import Conversation
from claude_max.core.runner import CLIProcess, spawn
from claude_max.core.settings import Settings


@dataclass(frozen=True)
class LaunchSpec:
    argv: tuple[str, ...]  # all but the model and system prompt flags
    env: tuple[tuple[str, str], ...]
    cwd: str
    tmpdir: str
    system: str | None
    model: str | None = None

    @property
    def warm_key(self) -> LaunchSpec:
        """What a warm process must match: all but the model, which it can switch."""
        return replace(self, model=None)


def launch_spec(conv: Conversation, settings: Settings) -> LaunchSpec:
    argv = cli.build_argv(settings.claude(), conv, tools=settings.allow_tools)
    env = cli.build_env(settings, conv)
    return LaunchSpec(
        argv=tuple(argv),
        env=tuple(sorted(env.items())),
        cwd=str(settings.workdir()),
        tmpdir=str(settings.tmpdir()),
        system=conv.system or None,
        model=conv.model,
    )


async def start(spec: LaunchSpec) -> CLIProcess:
    """Start a CLI for `spec`; its system prompt file lives as long as the process."""
    prompt_file: Path | None = None
    if spec.system:
        fd, name = tempfile.mkstemp(prefix="system-", suffix=".txt", dir=spec.tmpdir)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(spec.system)
        prompt_file = Path(name)
    argv = [*spec.argv, *cli.model_flag(spec.model), cli.system_prompt_flag(prompt_file)]
    try:
        proc = await spawn(argv, env=dict(spec.env), cwd=Path(spec.cwd))
    except BaseException:
        _remove(prompt_file)
        raise
    if prompt_file is not None:
        proc.on_close(lambda: _remove(prompt_file))
    proc.model = spec.model
    return proc


def _remove(path: Path | None) -> None:
    if path is not None:
        with contextlib.suppress(OSError):
            path.unlink()
