"""Named API keys: each client its own key, the server knows which one called; keys no
HTTP client could send are refused at start; /health tells strangers only that it is up."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from claude_max.core.errors import ClaudeMaxError
from claude_max.server import keys
from claude_max.server.app import create_app

LOCAL = "http://127.0.0.1:8080"
CHAT = ("/v1/chat/completions", {"model": "opus", "messages": [{"role": "user", "content": "x"}]})


def test_key_values_parse_as_bare_keys_or_named_ones():
    assert keys.parse(["k1"]) == (("default", "k1"),)
    assert keys.parse(["alice=a-key", "bob=b-key"]) == (("alice", "a-key"), ("bob", "b-key"))
    # base64 padding is not a NAME=KEY separator
    assert keys.parse(["dGVzdA=="]) == (("default", "dGVzdA=="),)
    assert keys.parse(["dGVzdDE="]) == (("default", "dGVzdDE="),)


@pytest.mark.parametrize(
    ("values", "says"),
    [
        (["clé-secrète"], "printable ASCII"),
        (["alice=schlüssel"], "printable ASCII"),
        (["has space"], "printable ASCII"),
        (["alice=k1", "alice=k2"], "two API keys are named 'alice'"),
        (["alice=k1", "bob=k1"], "given twice"),
    ],
)
def test_keys_no_client_could_send_or_that_clash_are_refused(values, says):
    with pytest.raises(ClaudeMaxError, match=says):
        keys.parse(values)


def test_a_keys_file(tmp_path):
    path = tmp_path / "keys"
    path.write_text("# clients\nalice = a-key\n\nbob=b-key\n")
    assert keys.load_file(path) == (("alice", "a-key"), ("bob", "b-key"))
    path.write_text("just-a-key\n")
    with pytest.raises(ClaudeMaxError, match=r"keys:1: expected NAME=KEY"):
        keys.load_file(path)


def labelled_app(settings):
    """The real app (guard included) plus a route that shows the label the guard set."""
    app = create_app(settings)

    async def whoami(request: Request) -> JSONResponse:
        return JSONResponse({"label": request.state.key_label})

    app.router.routes.append(Route("/whoami", whoami))
    return app


def test_the_guard_puts_the_matching_keys_label_on_the_request(settings, fake_cli):
    named = dataclasses.replace(settings, api_keys=(("alice", "a-key"), ("bob", "b-key")))
    with TestClient(labelled_app(named), base_url=LOCAL) as client:
        assert client.get("/whoami", headers={"x-api-key": "a-key"}).json() == {"label": "alice"}
        bearer = {"authorization": "Bearer b-key"}
        assert client.get("/whoami", headers=bearer).json() == {"label": "bob"}
        assert client.get("/whoami", headers={"x-api-key": "c-key"}).status_code == 401
        assert client.post(CHAT[0], json=CHAT[1], headers=bearer).status_code == 200
        assert client.post(CHAT[0], json=CHAT[1]).status_code == 401
    one = dataclasses.replace(settings, api_key="only")
    with TestClient(labelled_app(one), base_url=LOCAL) as client:
        assert client.get("/whoami", headers={"x-api-key": "only"}).json() == {"label": "default"}
    with TestClient(labelled_app(settings), base_url=LOCAL) as client:
        assert client.get("/whoami").json() == {"label": ""}  # no keys: everyone is ""


def test_health_shows_only_the_status_to_callers_without_a_key(settings, fake_cli):
    keyed = dataclasses.replace(settings, api_keys=(("alice", "a-key"),))
    with TestClient(create_app(keyed), base_url=LOCAL) as client:
        assert client.get("/health").json() == {"status": "ok"}
        assert client.get("/health", headers={"x-api-key": "wrong"}).json() == {"status": "ok"}
        full = client.get("/health", headers={"x-api-key": "a-key"}).json()
        assert full["cli"]["path"] and "requests" in full
    with TestClient(create_app(settings), base_url=LOCAL) as client:
        assert "cli" in client.get("/health").json()  # no keys set: loopback, all of it


def test_serve_refuses_a_non_ascii_key_with_one_error_line(claude_max_home):
    env = {**os.environ, "CLAUDE_MAX_HOME": str(claude_max_home)}
    done = subprocess.run(
        [sys.executable, "-m", "claude_max", "serve", "--port", "0", "--api-key", "clé"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("Error: the API key 'default' (--api-key) has characters")
    assert "Traceback" not in done.stderr
