"""Start the CLI as a subprocess and guarantee it ends with the request.

The seam between claude-max and the operating system: argv lists only (never a shell), the
CLI in its own process group so that killing the group also kills anything it started, and an
`aclose()` that kills and reaps whatever is left. Tests swap in a fake `claude` executable
rather than a fake of this class, so this code runs in every test.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import functools
import json
import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from claude_max.core.errors import CLINotFound

LINE_LIMIT = 64 * 1024 * 1024  # one NDJSON line can carry a whole answer or an image
LIVE: set[CLIProcess] = set()  # every CLI not yet reaped, so a shutdown can end them all


@functools.cache
def _die_with_parent() -> Callable[[], None] | None:
    """Linux: a pre-exec hook after which the kernel SIGKILLs the CLI when the process that
    started it dies, even by `kill -9`, so a crashed server leaves no orphans.

    prctl is looked up here, in the parent: the hook itself must not import or allocate
    between fork and exec.
    """
    if sys.platform != "linux":
        return None
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl
    pr_set_pdeathsig, sigkill = 1, int(signal.SIGKILL)

    def hook() -> None:  # pragma: no cover - runs in the child
        prctl(pr_set_pdeathsig, sigkill)

    return hook


SHUTTING_DOWN = False

# The CLIs started for (or handed to) the request being served in this context, so that the
# server can kill them the moment its client is gone, whatever the request is waiting on.
OWNER: contextvars.ContextVar[set[CLIProcess] | None] = contextvars.ContextVar(
    "claude_max_cli_owner", default=None
)


def adopt(proc: CLIProcess) -> None:
    """Count `proc` among the current request's CLIs (a warm process it was handed)."""
    owner = OWNER.get()
    if owner is not None:
        owner.add(proc)
        proc._owner = owner


def kill_all(*, shutting_down: bool = False) -> None:
    """SIGKILL every live CLI process group (server shutdown)."""
    global SHUTTING_DOWN
    SHUTTING_DOWN = SHUTTING_DOWN or shutting_down
    for proc in list(LIVE):
        proc.kill()


class CLIProcess:
    """One running CLI: write NDJSON lines to it, read its stdout lines."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self._proc = proc
        self._stderr: collections.deque[bytes] = collections.deque(maxlen=50)
        self._stderr_task = asyncio.ensure_future(self._drain_stderr())
        self._cleanups: list[Callable[[], None]] = []
        self.model: str | None = None  # the model it was started with (--model)
        self.warm = False  # taken ready from the warm pool (`Pool.take` sets it)
        self._unread: list[bytes] = []
        self._owner: set[CLIProcess] | None = None
        LIVE.add(self)
        adopt(self)

    def on_close(self, cleanup: Callable[[], None]) -> None:
        """Run `cleanup` once the process has been reaped (e.g. remove its temp files)."""
        self._cleanups.append(cleanup)

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def returncode(self) -> int | None:
        return self._proc.returncode

    @property
    def stderr_tail(self) -> str:
        return b"".join(self._stderr).decode("utf-8", "replace")[-2000:]

    async def send(self, obj: Mapping[str, Any]) -> None:
        """Write one stdin line. A CLI that already exited (a warm one that died while idle)
        is not an error here: its stdout ends, and the run reports how it exited."""
        stdin = self._proc.stdin
        assert stdin is not None
        # A CLI that died at once (a wrong --claude-path) closes its stdin: the reader then
        # sees EOF and reports the exit, so a lost pipe here is not an error of its own.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            stdin.write(json.dumps(obj, ensure_ascii=False).encode() + b"\n")
            await stdin.drain()

    def unread(self, line: bytes) -> None:
        """Put back a line read too early: the next `readline` returns it."""
        self._unread.append(line)

    async def readline(self) -> bytes | None:
        """The next stdout line, or None at EOF."""
        if self._unread:
            return self._unread.pop()
        stdout = self._proc.stdout
        assert stdout is not None
        line = await stdout.readline()
        return line or None

    def close_stdin(self) -> None:
        stdin = self._proc.stdin
        if stdin is not None and not stdin.is_closing():
            stdin.close()

    async def wait(self, timeout: float) -> int | None:
        with contextlib.suppress(asyncio.TimeoutError):
            return await asyncio.wait_for(self._proc.wait(), timeout)
        return None

    def kill(self) -> None:
        """SIGKILL the whole process group at once (the CLI and anything it spawned)."""
        if self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._proc.pid, signal.SIGKILL)

    async def aclose(self, grace: float = 2.0) -> None:
        """End the process: close stdin, give it `grace` seconds, then kill the group; reap."""
        self.close_stdin()
        if self._proc.returncode is None and (grace <= 0 or await self.wait(grace) is None):
            self.kill()
        # Always reap, even if the process exited by itself, and kill leftovers of the group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._proc.pid, signal.SIGKILL)
        await self._proc.wait()
        LIVE.discard(self)
        if self._owner is not None:
            self._owner.discard(self)
        while self._cleanups:
            self._cleanups.pop()()
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(self._stderr_task, 1.0)
        transport = getattr(self._proc, "_transport", None)
        if transport is not None:
            transport.close()

    async def _drain_stderr(self) -> None:
        stderr = self._proc.stderr
        assert stderr is not None
        while chunk := await stderr.readline():
            self._stderr.append(chunk)


async def spawn(argv: Sequence[str], *, env: Mapping[str, str], cwd: Path) -> CLIProcess:
    """Start the CLI with pipes on stdin/stdout/stderr, in a new process group."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=str(cwd),
            env=dict(env),
            start_new_session=True,
            limit=LINE_LIMIT,
            preexec_fn=_die_with_parent(),
        )
    except FileNotFoundError as exc:
        raise CLINotFound(
            f"The Claude Code CLI was not found at {argv[0]}.",
            hint="Install: npm install -g @anthropic-ai/claude-code  (or pass --claude-path)",
        ) from exc
    except PermissionError as exc:
        raise CLINotFound(
            f"The Claude Code CLI at {argv[0]} is not executable.",
            hint="Check the path given to --claude-path",
        ) from exc
    return CLIProcess(proc)
