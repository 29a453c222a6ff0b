"""The real CLI's per-process files (`<config>/sessions/<pid>.json` and `.key`, the
`cc-socks/<pid>.sock` socket, `fswatch-probe-*`) and system prompt files are gone after a
burst of requests, and after `kill -9` of the server and a restart; the user's own
interactive session files in the same config dir are never touched."""

from __future__ import annotations

import concurrent.futures
import json
import signal
import sys
from pathlib import Path

import httpx
import pytest
from real_cli import REAL_CLAUDE
from serve_process import Server
from waiting import gone, wait_until

pytestmark = pytest.mark.e2e


def leftovers(home: Path, data: Path) -> list[str]:
    found = [*(home / ".claude" / "sessions").glob("*")]
    tmp = data / "tmp"
    found += [
        *tmp.glob("cc-socks/*"),
        *tmp.glob("claude-*/fswatch-probe-*"),
        *tmp.rglob("system-*"),
    ]
    return sorted(str(p) for p in found)


def children(parent: int) -> list[int]:
    """The processes whose parent is `parent`, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found


def ask(server: Server, i: int) -> int:
    body = {
        "model": "sonnet",
        "messages": [
            {"role": "system", "content": f"System prompt {i % 3}."},
            {"role": "user", "content": f"hello {i}"},
        ],
    }
    return httpx.post(f"{server.url}/v1/chat/completions", json=body, timeout=120).status_code


def test_nothing_is_left_after_a_burst_or_a_kill(upstream, fake_upstream, tmp_path):
    from upstream import cli_env

    home = tmp_path / "home"
    env = cli_env(upstream.url, home)
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    data = tmp_path / "claude-max-home"
    env["CLAUDE_MAX_HOME"] = str(data)
    env["CLAUDE_MAX_CLAUDE_PATH"] = str(REAL_CLAUDE)
    # the user's own interactive session, alive or not, with its own TMPDIR: never touched
    sessions = home / ".claude" / "sessions"
    sessions.mkdir(parents=True)
    theirs = sessions / "999999.json"
    theirs.write_text(json.dumps({"pid": 999999, "messagingSocketPath": "/tmp/x/cc-socks/1.sock"}))

    server = Server(env, "--warm", "1", "--max-concurrency", "3")
    try:
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            assert set(pool.map(lambda i: ask(server, i), range(8))) == {200}
        warm_pids: list[int] = []

        def only_the_warm_one_is_left() -> bool:
            ours = [p for p in leftovers(home, data) if "999999" not in p]
            warm_pids[:] = {int(Path(p).name.split(".")[0]) for p in ours if ".json" in p}
            # the one warm CLI waiting for the next request: its own files, nothing more
            return len(warm_pids) <= 1 and len([p for p in ours if p.endswith(".sock")]) <= 1

        assert wait_until(only_the_warm_one_is_left, 30), leftovers(home, data)
        # now leave a request's CLI running and kill the server outright
        fake_upstream.set_script({"default": {"type": "hang"}})
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pending = pool.submit(
                lambda: httpx.post(
                    f"{server.url}/v1/chat/completions",
                    json={
                        "model": "sonnet",
                        "messages": [
                            {"role": "system", "content": "Kept in a file."},
                            {"role": "user", "content": "hang"},
                        ],
                    },
                    timeout=60,
                )
            )
            assert wait_until(lambda: any(data.joinpath("tmp").rglob("system-*")), 30)
            # every CLI of the server, started or still starting (a starting one has no record)
            pids = children(server.proc.pid)
            assert pids
            server.proc.send_signal(signal.SIGKILL)
            server.proc.wait(10)
            for pid in pids:
                assert wait_until(lambda pid=pid: gone(pid), 10)
            with pytest.raises(httpx.HTTPError):
                pending.result()
        assert len(leftovers(home, data)) > 1  # the killed server left files behind
    finally:
        server.stop()
    fake_upstream.set_script({"default": {"type": "echo"}})
    restarted = Server(env, "--warm", "0")
    try:
        left = [p for p in leftovers(home, data) if "999999" not in p]
        assert left == [], [
            json.loads(Path(p).read_text()).get("messagingSocketPath")
            for p in left
            if p.endswith(".json")
        ]
        assert theirs.exists()
        assert ask(restarted, 1) == 200
        assert wait_until(lambda: [p for p in leftovers(home, data) if "999999" not in p] == []), (
            leftovers(home, data)
        )
    finally:
        restarted.stop()
