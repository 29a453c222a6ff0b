"""Clients that stop reading or never finish their headers cannot hold the server: a
streaming client that reads nothing is cut (its CLI killed, its slot freed) at the idle or
the request timeout; slowloris sockets are dropped and pushed out by real clients."""

from __future__ import annotations

import json
import os
import socket
import time

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
        FAKE_CLAUDE_SCENARIO="echo",
        FAKE_CLAUDE_CHUNKS="4000",
    )
    started: list[Server] = []

    def start(*args: str) -> Server:
        started.append(Server(env, "--warm", "0", "--max-concurrency", "1", *args))
        return started[-1]

    yield start
    for each in started:
        each.stop()


def never_reading_stream(port: int) -> socket.socket:
    """A streaming request for a long answer (the fake CLI echoes 8 MB back in 4,000 deltas)
    from a socket with a tiny receive buffer that is then never read."""
    body = json.dumps(
        {
            "model": "opus",
            "stream": True,
            "messages": [{"role": "user", "content": "y" * 8_000_000}],
        }
    ).encode()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    sock.connect(("127.0.0.1", port))
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    sock.sendall(head + body)
    return sock


def active(srv: Server) -> int:
    return int(httpx.get(f"{srv.url}/health").json()["requests"]["active"])


def model_runs(log) -> list[dict]:
    return [c for c in read_log(log) if "-p" in c["argv"]]


@pytest.mark.parametrize(
    ("flags", "cut_after"),
    [
        (("--request-timeout", "4", "--idle-timeout", "60"), 4),
        (("--request-timeout", "60", "--idle-timeout", "3"), 3),
    ],
    ids=["request-timeout", "idle-timeout"],
)
def test_a_streaming_client_that_never_reads_is_cut(server, tmp_path, flags, cut_after):
    srv = server(*flags)
    began = time.monotonic()
    sock = never_reading_stream(srv.port)
    try:
        assert wait_until(lambda: len(model_runs(tmp_path / "fake.log")) == 1, 30)
        [run] = model_runs(tmp_path / "fake.log")
        assert wait_until(lambda: gone(run["pid"]), cut_after + 20), "the CLI outlived the cut"
        elapsed = time.monotonic() - began
        assert elapsed >= cut_after - 0.5  # not before its time
        # the slot is free again: the one-slot server answers someone else
        assert wait_until(lambda: active(srv) == 0, 10)
        ok = httpx.post(
            f"{srv.url}/v1/chat/completions",
            json={"model": "opus", "messages": [{"role": "user", "content": "next"}]},
            timeout=30,
        )
        assert ok.status_code == 200
    finally:
        sock.close()
    assert "Traceback" not in srv.stop()


def test_slowloris_under_a_small_fd_limit_cannot_stop_the_server(tmp_path, claude_max_home):
    """300 sockets trickling their headers at a server limited to 256 file descriptors
    (macOS's default): real requests are still answered and the log stays small."""
    import subprocess
    import sys

    from serve_process import free_port, wait_healthy

    port = free_port()
    env = dict(
        os.environ,
        CLAUDE_MAX_CLAUDE_PATH=str(FAKE_CLAUDE),
        CLAUDE_MAX_HOME=str(claude_max_home),
        FAKE_CLAUDE_SCENARIO="echo",
    )
    launcher = (
        "import resource, sys, runpy;"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256));"
        "sys.argv = ['claude-max'] + sys.argv[1:];"
        "runpy.run_module('claude_max', run_name='__main__')"
    )
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", launcher, "serve", "--port", str(port), "--header-timeout", "3"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    slow: list[socket.socket] = []
    try:
        wait_healthy(url, proc)
        for _ in range(300):
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(
                f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode()
            )
            slow.append(sock)
        answered = 0
        deadline = time.monotonic() + 20
        for round_ in range(6):  # keep trickling headers while real clients come and go
            for sock in slow:
                try:
                    sock.sendall(b"X-a: b\r\n")
                except OSError:
                    pass  # dropped by the server: as it should
            response = httpx.post(
                f"{url}/v1/chat/completions",
                json={"model": "opus", "messages": [{"role": "user", "content": f"r{round_}"}]},
                timeout=10,
            )
            assert response.status_code == 200, response.text
            answered += 1
            assert time.monotonic() < deadline
        assert answered == 6
        assert httpx.get(f"{url}/health", timeout=10).status_code == 200
    finally:
        for sock in slow:
            sock.close()
        proc.terminate()
        proc.wait(15)
    size = log_path.stat().st_size
    text = log_path.read_text(errors="replace")
    assert size < 1_000_000, f"{size} bytes of log"
    assert "Too many open files" not in text
    assert "Traceback" not in text


def test_a_request_head_that_never_completes_is_dropped(server):
    srv = server("--header-timeout", "1")
    with socket.create_connection(("127.0.0.1", srv.port)) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        sock.settimeout(15)
        began = time.monotonic()
        while True:  # trickle one header a second: each byte used to reset uvicorn's timer
            try:
                sock.sendall(b"X-a: b\r\n")
            except OSError:
                break
            sock.settimeout(0.5)
            try:
                if sock.recv(100) == b"":
                    break
            except TimeoutError:
                pass
            except OSError:
                break
            assert time.monotonic() - began < 10, "the slow request head was never dropped"
        assert time.monotonic() - began >= 0.9
    assert httpx.get(f"{srv.url}/health").status_code == 200
