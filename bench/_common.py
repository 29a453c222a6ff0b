"""Shared pieces of the benchmarks: the server under test, CLI runs, timing statistics, cleanup.

Everything talks to 127.0.0.1 only. Every process started here is in its own session (process
group) and carries the environment variable ``CMBENCH_TAG=<uuid>``; the CLIs that the server
starts inherit it, so :func:`leftovers` can find anything this benchmark left behind.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = REPO / ".venv" / "bin"
FAKES = REPO / "tests" / "fakes"
FAKE_CLAUDE = FAKES / "claude"
REAL_CLAUDE = Path("/root/.cache/claude-max-ci/cli/node_modules/.bin/claude")
TAG_VAR = "CMBENCH_TAG"
CLK_TCK = os.sysconf("SC_CLK_TCK")

if str(FAKES) not in sys.path:
    sys.path.insert(0, str(FAKES))


# --------------------------------------------------------------------------- statistics


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100) of a non-empty sequence."""
    data = sorted(values)
    if not data:
        return math.nan
    pos = (len(data) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def summary(values_s: Sequence[float]) -> dict[str, float]:
    """Median, p90, min, max in milliseconds of durations given in seconds."""
    ms = [v * 1000 for v in values_s]
    return {
        "n": len(ms),
        "median_ms": round(percentile(ms, 50), 2),
        "p90_ms": round(percentile(ms, 90), 2),
        "min_ms": round(min(ms), 2) if ms else math.nan,
        "max_ms": round(max(ms), 2) if ms else math.nan,
    }


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def loadavg() -> list[float]:
    with contextlib.suppress(OSError):
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    return []


# --------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def new_tag() -> str:
    return uuid.uuid4().hex


def exited(proc: subprocess.Popen[Any], timeout: float) -> bool:
    """Wait up to `timeout` s for `proc` to exit *without reaping it* (waitid WNOWAIT): while
    it is a zombie its pid, and so its process group id, cannot be reused."""
    if proc.returncode is not None:
        return True
    deadline = time.monotonic() + timeout
    while True:
        info = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT | os.WNOHANG)
        if info is not None and info.si_pid == proc.pid:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.002)


def kill_group(proc: subprocess.Popen[Any], grace: float = 5.0) -> None:
    """End `proc` and its process group: SIGTERM, up to `grace` s, then SIGKILL; reap.

    The group is signalled only while the leader is unreaped, so it is always ours."""
    if proc.returncode is not None:
        return
    if grace > 0:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        exited(proc, grace)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # the leader, or what it left in its group
    proc.wait()


@contextlib.contextmanager
def watchdog(proc: subprocess.Popen[Any], seconds: float) -> Iterator[None]:
    """Kill `proc`'s group if the block takes longer than `seconds` (bounds blocking reads)."""

    def fire() -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def proc_cpu(pid: int) -> tuple[float, float]:
    """(own utime+stime, reaped children's cutime+cstime) of `pid` in seconds, from /proc."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2 :].split()  # fields[0] is field 3 (state)
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return (utime + stime) / CLK_TCK, (cutime + cstime) / CLK_TCK


def proc_mem(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak RSS) of `pid` in MiB."""
    out: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = round(int(value.split()[0]) / 1024, 1)
    return out


def _tagged(pid: int, tag: str) -> bool:
    try:
        env = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    return f"{TAG_VAR}={tag}".encode() in env.split(b"\0")


def pgrep(pattern: str) -> list[int]:
    out = subprocess.run(
        ["pgrep", "-f", pattern], capture_output=True, text=True, timeout=10, check=False
    ).stdout
    return [int(p) for p in out.split() if int(p) != os.getpid()]


def leftovers(tag: str, patterns: Sequence[str], known_pids: Sequence[int] = ()) -> list[int]:
    """Processes of this benchmark still alive: `pgrep -f` of each pattern (the server's
    command line, the CLI path) restricted to processes carrying our tag, plus any other
    tagged process and any of `known_pids` still present."""
    found: set[int] = set()
    for pattern in patterns:
        found.update(p for p in pgrep(pattern) if _tagged(p, tag))
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _tagged(int(entry.name), tag):
            found.add(int(entry.name))
    for pid in known_pids:
        if Path(f"/proc/{pid}").exists():
            found.add(pid)
    found.discard(os.getpid())
    return sorted(found)


# --------------------------------------------------------------------------- the server


@dataclass
class Server:
    """`claude-max serve` on a free loopback port, in its own process group."""

    env: Mapping[str, str]
    log_path: Path
    args: Sequence[str] = ()  # after `serve --port N`, e.g. ("--warm", "0")
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    launched_at: float = 0.0  # time.perf_counter() at launch
    healthy_s: float | None = None  # launch -> first 200 from /health
    _log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pattern(self) -> str:
        """What `pgrep -f` finds the server by."""
        return f"claude-max serve --port {self.port}"

    def start(self, timeout: float = 30.0, poll: float = 0.05) -> Server:
        self._log = self.log_path.open("wb")
        self.launched_at = time.perf_counter()
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "claude-max"), "serve", "--port", str(self.port), *self.args],
            env=dict(self.env),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited early; see {self.log_path}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/health", timeout=1.0).status_code == 200:
                    self.healthy_s = time.perf_counter() - self.launched_at
                    return self
            time.sleep(poll)
        raise RuntimeError(f"the server did not answer /health in {timeout} s")

    def stop(self) -> None:
        if self.proc is not None:
            kill_group(self.proc, grace=8.0)
        if self._log is not None:
            self._log.close()
            self._log = None


def server_env(
    base: Mapping[str, str], *, claude: Path, max_home: Path, tag: str
) -> dict[str, str]:
    env = dict(base)
    env["PATH"] = os.pathsep.join([str(VENV_BIN), env.get("PATH", "/usr/bin:/bin")])
    env["CLAUDE_MAX_CLAUDE_PATH"] = str(claude)
    env["CLAUDE_MAX_HOME"] = str(max_home)
    env[TAG_VAR] = tag
    return env


# --------------------------------------------------------------------------- requests


PROMPT = "Say hello in one short sentence."
SYSTEM = "You are a terse assistant. Answer in one short sentence."


def openai_body(system: str | None, stream: bool, prompt: str = PROMPT) -> dict[str, Any]:
    messages: list[dict[str, str]] = []
    if system:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": prompt})
    return {"messages": messages, "stream": stream}


def anthropic_body(system: str | None, stream: bool, prompt: str = PROMPT) -> dict[str, Any]:
    body: dict[str, Any] = {
        "max_tokens": 1024,  # required by the real Messages API and its SDKs
        "messages": [{"role": "user", "content": prompt}],
        "stream": stream,
    }
    if system:
        body["system"] = system
    return body


ANTHROPIC_HEADERS = {"anthropic-version": "2023-06-01", "x-api-key": "unused"}


@dataclass
class Timing:
    first: float  # seconds to the first answer token
    done: float  # seconds to the last protocol event ([DONE], message_stop, result line)
    end: float  # seconds to the end of the response body / process exit
    text: str
    deltas: list[float] = field(default_factory=list)  # seconds to each answer text piece


def openai_stream(
    client: httpx.Client, url: str, system: str | None, prompt: str = PROMPT
) -> Timing:
    text, first, done, deltas = "", None, None, []
    t0 = time.perf_counter()
    body = openai_body(system, True, prompt)
    with client.stream("POST", f"{url}/v1/chat/completions", json=body) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if not line.startswith("data: "):
                continue
            data = line[6:]
            if data == "[DONE]":
                done = time.perf_counter() - t0
                continue
            chunk = json.loads(data)
            if "error" in chunk:
                raise RuntimeError(f"error chunk: {chunk}")
            for choice in chunk.get("choices", []):
                piece = (choice.get("delta") or {}).get("content")
                if piece:
                    deltas.append(time.perf_counter() - t0)
                    first = first if first is not None else deltas[-1]
                    text += piece
    end = time.perf_counter() - t0
    if first is None or done is None:
        raise RuntimeError("OpenAI stream ended without content or [DONE]")
    return Timing(first, done, end, text, deltas)


def anthropic_stream(
    client: httpx.Client, url: str, system: str | None, prompt: str = PROMPT
) -> Timing:
    text, first, done, deltas = "", None, None, []
    t0 = time.perf_counter()
    body = anthropic_body(system, True, prompt)
    with client.stream("POST", f"{url}/v1/messages", json=body, headers=ANTHROPIC_HEADERS) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if not line.startswith("data: "):
                continue
            event = json.loads(line[6:])
            kind = event.get("type")
            if kind == "error":
                raise RuntimeError(f"error event: {event}")
            if kind == "content_block_delta" and event["delta"].get("type") == "text_delta":
                deltas.append(time.perf_counter() - t0)
                first = first if first is not None else deltas[-1]
                text += event["delta"]["text"]
            elif kind == "message_stop":
                done = time.perf_counter() - t0
    end = time.perf_counter() - t0
    if first is None or done is None:
        raise RuntimeError("Anthropic stream ended without a text_delta or message_stop")
    return Timing(first, done, end, text, deltas)


def openai_plain(client: httpx.Client, url: str, system: str | None) -> Timing:
    t0 = time.perf_counter()
    r = client.post(f"{url}/v1/chat/completions", json=openai_body(system, False))
    end = time.perf_counter() - t0
    r.raise_for_status()
    text = r.json()["choices"][0]["message"]["content"]
    return Timing(end, end, end, text)


def anthropic_plain(client: httpx.Client, url: str, system: str | None) -> Timing:
    t0 = time.perf_counter()
    r = client.post(
        f"{url}/v1/messages", json=anthropic_body(system, False), headers=ANTHROPIC_HEADERS
    )
    end = time.perf_counter() - t0
    r.raise_for_status()
    text = "".join(b.get("text", "") for b in r.json()["content"])
    return Timing(end, end, end, text)


# --------------------------------------------------------------------------- direct CLI runs


def _result_text(line: bytes) -> str | None:
    """The answer of a `result` line, or None for other lines; raises on an error result."""
    if b'"type":"result"' not in line:
        return None
    obj = json.loads(line)
    if obj.get("type") != "result":
        return None
    if obj.get("is_error"):
        raise RuntimeError(f"CLI error result: {obj.get('result')!r}")
    return str(obj.get("result", ""))


def cold_cli(
    claude: Path,
    env: Mapping[str, str],
    cwd: Path,
    system: str | None,
    timeout: float = 60.0,
) -> Timing:
    """`claude -p ... --tools "" -- PROMPT` with stdin=DEVNULL: spawn -> first text_delta / exit."""
    argv = [
        str(claude),
        "-p",
        "--output-format",
        "stream-json",
        "--verbose",
        "--include-partial-messages",
        "--tools",
        "",
    ]
    if system:
        argv += ["--system-prompt", system]
    argv += ["--", PROMPT]  # `--tools` takes several values: end the options first
    first, done, text = None, None, None
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        argv,
        env=dict(env),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        with watchdog(proc, timeout):
            assert proc.stdout is not None
            for line in proc.stdout:
                if first is None and b'"text_delta"' in line:
                    first = time.perf_counter() - t0
                if (result := _result_text(line)) is not None:
                    done, text = time.perf_counter() - t0, result
            exited(proc, timeout)
        end = time.perf_counter() - t0
    finally:
        kill_group(proc, grace=0)
    if first is None or done is None or text is None or proc.returncode != 0:
        raise RuntimeError(f"cold CLI run failed (rc {proc.returncode})")
    return Timing(first, done, end, text)


def server_argv_cli(
    claude: Path,
    env: Mapping[str, str],
    max_home: Path,
    system: str | None,
    timeout: float = 60.0,
    prompt: str = PROMPT,
) -> Timing:
    """The CLI exactly as the server runs it (core/argv.py: argv, environment, cwd, the user
    line on stdin, stdin closed after the result), from spawn to first text_delta / exit."""
    from claude_max.core import argv as cli
    from claude_max.core import stdin
    from claude_max.core.conversation import Conversation, TextPart, Turn
    from claude_max.core.settings import Settings

    settings = Settings(home=max_home, claude_path=str(claude))
    conv = Conversation(turns=(Turn("user", (TextPart(prompt),)),), system=system)
    run_env = cli.build_env(settings, conv, base=env)
    prompt_file: Path | None = None
    first, done, text, deltas = None, None, None, []
    t0 = time.perf_counter()
    if system:
        prompt_file = settings.tmpdir() / f"bench-system-{uuid.uuid4().hex}.txt"
        prompt_file.write_text(system, encoding="utf-8")
    try:
        argv = [*cli.build_argv(str(claude), conv), cli.system_prompt_flag(prompt_file)]
        proc = subprocess.Popen(
            argv,
            env=run_env,
            cwd=settings.workdir(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            with watchdog(proc, timeout):
                assert proc.stdin is not None and proc.stdout is not None
                line_out = json.dumps(stdin.user_line(conv.prompt, query=True), ensure_ascii=False)
                proc.stdin.write(line_out.encode() + b"\n")
                proc.stdin.flush()
                for line in proc.stdout:
                    if b'"text_delta"' in line:
                        deltas.append(time.perf_counter() - t0)
                        first = first if first is not None else deltas[-1]
                    if (result := _result_text(line)) is not None:
                        done, text = time.perf_counter() - t0, result
                        proc.stdin.close()
                exited(proc, timeout)
            end = time.perf_counter() - t0
        finally:
            kill_group(proc, grace=0)
    finally:
        if prompt_file is not None:
            with contextlib.suppress(OSError):
                prompt_file.unlink()
    if first is None or done is None or text is None or proc.returncode != 0:
        raise RuntimeError(f"server-argv CLI run failed (rc {proc.returncode})")
    return Timing(first, done, end, text, deltas)
