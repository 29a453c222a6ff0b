"""`claude-max serve` as a real process on a free loopback port, for tests and benchmarks."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen[bytes], deadline_s: float = 30) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early with {proc.returncode}")
        try:
            # Up once it answers: 200, or 503 when it is degraded (its tests look at why).
            if httpx.get(f"{url}/health", timeout=1).status_code in (200, 503):
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError("server did not become healthy in time")


class Server:
    """`claude-max serve` in a subprocess on a free port."""

    def __init__(self, env: dict[str, str], *args: str, stdout: Any = subprocess.DEVNULL) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._stderr: str | None = None
        # A file, not a pipe: the server logs a line per request, and a pipe nobody reads
        # until stop() would fill up and block it.
        self._stderr_file = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "claude_max", "serve", "--port", str(self.port), *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=self._stderr_file,
        )
        try:
            wait_healthy(self.url, self.proc)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> str:
        """Terminate (if still running) and return everything it wrote on stderr."""
        if self._stderr is not None:
            return self._stderr
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._stderr = self.stderr_so_far()
        self._stderr_file.close()
        return self._stderr

    def stderr_so_far(self) -> str:
        """What the server wrote on stderr until now (its log), while it runs."""
        if self._stderr is not None:
            return self._stderr
        self._stderr_file.seek(0)
        return self._stderr_file.read().decode(errors="replace")
