"""A client that goes away takes its CLI process with it (real uvicorn, fake CLI)."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import socket

import httpx
import pytest
from fake_claude_log import FAKE_CLAUDE, read_log
from serve_process import Server
from waiting import gone, wait_until


@pytest.fixture
def server(tmp_path, claude_max_home):
    env = dict(os.environ)
    env.update(
        CLAUDE_MAX_CLAUDE_PATH=str(FAKE_CLAUDE),
        CLAUDE_MAX_HOME=str(claude_max_home),
        FAKE_CLAUDE_LOG=str(tmp_path / "fake.log"),
    )
    started: list[Server] = []

    def start(scenario: str, *args: str) -> Server:
        started.append(Server({**env, "FAKE_CLAUDE_SCENARIO": scenario}, *args))
        return started[-1]

    yield start
    for each in started:
        each.stop()


def model_runs(log) -> list[dict]:
    """Every CLI the server started (with --warm 0, one per request)."""
    return [c for c in read_log(log) if "-p" in c["argv"]]


def test_disconnect_mid_stream_kills_the_cli(server, tmp_path):
    srv = server("slow", "--warm", "0")
    body = {"model": "opus", "stream": True, "messages": [{"role": "user", "content": "go"}]}
    with httpx.Client(timeout=10) as client:
        with client.stream("POST", f"{srv.url}/v1/chat/completions", json=body) as response:
            for line in response.iter_lines():
                if '"content": "E' in line or '"content":"E' in line:
                    break  # the first token arrived; now hang up
    [run] = model_runs(tmp_path / "fake.log")
    assert wait_until(lambda: gone(run["pid"])), "CLI still running after the client left"
    assert run.get("exit_code") is None  # killed, not finished


def test_disconnect_before_the_first_token_kills_the_cli(server, tmp_path):
    srv = server("hang", "--warm", "0")
    body = json.dumps(
        {"model": "opus", "max_tokens": 5, "messages": [{"role": "user", "content": "go"}]}
    ).encode()
    request = (
        f"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    with socket.create_connection(("127.0.0.1", srv.port)) as sock:
        sock.sendall(request)
        # hang up once the CLI is running and the server waits for its first token
        assert wait_until(lambda: len(model_runs(tmp_path / "fake.log")) == 1)
    [run] = model_runs(tmp_path / "fake.log")
    assert wait_until(lambda: gone(run["pid"])), "CLI still running after the client left"
    assert httpx.get(f"{srv.url}/health").status_code == 200


def test_disconnect_during_keepalives_before_the_first_token_kills_the_cli(server, tmp_path):
    """The response started early (a silent CLI, a short keep-alive interval); the client
    hangs up while only the opening and keep-alives have come, in each protocol."""
    srv = server("hang", "--warm", "0", "--keepalive", "0.05")
    message = [{"role": "user", "content": "go"}]
    bodies = {
        "/v1/chat/completions": {"model": "opus", "stream": True, "messages": message},
        "/v1/messages": {"model": "opus", "stream": True, "max_tokens": 5, "messages": message},
        "/v1/responses": {"model": "opus", "stream": True, "input": "go"},
    }
    for count, (path, body) in enumerate(bodies.items(), 1):
        with httpx.Client(timeout=10) as client:
            with client.stream("POST", f"{srv.url}{path}", json=body) as response:
                assert response.status_code == 200
                for line in response.iter_lines():  # the opening and keep-alives, until
                    assert "delta" not in line, line  # the CLI is running; then hang up
                    if len(model_runs(tmp_path / "fake.log")) == count:
                        break
        pid = model_runs(tmp_path / "fake.log")[-1]["pid"]
        assert wait_until(functools.partial(gone, pid)), f"{path}: CLI still running"
    assert httpx.get(f"{srv.url}/health").status_code == 200


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGINT", "SIGKILL"])
def test_no_orphans_when_the_server_stops(server, tmp_path, signal_name):
    """`hang` ignores stdin EOF and never exits: only a kill (or PDEATHSIG) ends it."""
    import signal as signals
    import threading

    srv = server("hang", "--warm", "2")

    def post() -> None:
        body = {"model": "opus", "messages": [{"role": "user", "content": "go"}]}
        with contextlib.suppress(httpx.HTTPError):
            httpx.post(f"{srv.url}/v1/chat/completions", json=body, timeout=30)

    waiting = threading.Thread(target=post, daemon=True)
    waiting.start()
    # the request's CLI and the warm one(s) started ahead of time
    assert wait_until(lambda: len(model_runs(tmp_path / "fake.log")) >= 2)
    pids = [run["pid"] for run in model_runs(tmp_path / "fake.log")]
    srv.proc.send_signal(getattr(signals, signal_name))
    for pid in pids:
        assert wait_until(lambda pid=pid: gone(pid)), f"a CLI outlived the server ({signal_name})"
    srv.proc.wait(10)
    if signal_name != "SIGKILL":
        assert srv.proc.returncode == 0  # a clean exit
        assert "Traceback" not in srv.stop()
    waiting.join(10)
