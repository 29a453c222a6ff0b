"""The server's logs (access log and errors) never carry prompts, answers or keys."""

from __future__ import annotations

import os

import httpx
from fake_claude_log import FAKE_CLAUDE
from serve_process import Server

SECRET_PROMPT = "my-secret-prompt-4711"
KEY = "sk-claude-max-key-0815"


def test_logs_hold_no_prompts_answers_or_keys(tmp_path, claude_max_home):
    env = dict(
        os.environ, CLAUDE_MAX_CLAUDE_PATH=str(FAKE_CLAUDE), CLAUDE_MAX_HOME=str(claude_max_home)
    )
    with open(tmp_path / "stdout.log", "w") as stdout:
        server = Server(env, "--api-key", KEY, stdout=stdout)
        try:
            auth = {"authorization": f"Bearer {KEY}"}
            chat = f"{server.url}/v1/chat/completions"
            messages = [{"role": "user", "content": SECRET_PROMPT}]
            ok = httpx.post(chat, json={"model": "opus", "messages": messages}, headers=auth)
            assert ok.json()["choices"][0]["message"]["content"] == f"ECHO:{SECRET_PROMPT}"
            httpx.post(
                chat, json={"model": "opus", "messages": messages, "stream": True}, headers=auth
            )
            httpx.post(chat, json={"model": SECRET_PROMPT, "messages": messages}, headers=auth)
            httpx.post(
                chat,
                json={
                    "model": "opus",
                    "messages": [{"role": "user", "content": [{"type": SECRET_PROMPT}]}],
                },
                headers=auth,
            )
            httpx.post(chat, json={"messages": messages}, headers={"x-api-key": f"{KEY}-wrong"})
            httpx.post(f"{server.url}/v1/messages", content=SECRET_PROMPT.encode(), headers=auth)
            # a client that puts its key in the query string
            httpx.get(f"{server.url}/v1/models?key={KEY}&api_key={KEY}")
            httpx.post(f"{server.url}/v1/messages?beta=true&token={KEY}", json={})
        finally:
            stderr = server.stop()
    logs = stderr + (tmp_path / "stdout.log").read_text()
    assert "POST /v1/chat/completions" in logs  # the access log is there
    assert SECRET_PROMPT not in logs
    assert KEY not in logs
    assert "/v1/models?key=***&api_key=***" in logs


def test_a_repeated_error_is_logged_a_few_times_not_thousands():
    import logging

    from claude_max.server.logs import Repeats, redact_query

    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("claude_max.test.repeats")
    logger.propagate = False
    logger.addHandler(handler)
    logger.addFilter(Repeats(burst=5, window=60))
    for _ in range(10_000):
        logger.error("socket.accept() out of system resource")
    logger.error("something else")
    assert len(records) == 6
    assert redact_query("/v1/models?key=abc&beta=true") == "/v1/models?key=***&beta=***"
