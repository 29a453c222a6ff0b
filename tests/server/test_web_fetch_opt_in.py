"""The web_fetch server tool fetches from this machine: a 400 saying how to opt in unless the
server was started with --allow-web-fetch; then the CLI gets its WebFetch tool."""

from __future__ import annotations

from dataclasses import replace

from starlette.testclient import TestClient
from typer.testing import CliRunner

from claude_max.cli import app
from claude_max.server.app import create_app

FETCH = {"type": "web_fetch_20250910", "name": "web_fetch", "max_uses": 2}
ANTHROPIC = {"anthropic-version": "2023-06-01"}


def ask(client: TestClient):
    return client.post(
        "/v1/messages",
        headers=ANTHROPIC,
        json={
            "model": "sonnet",
            "max_tokens": 50,
            "messages": [{"role": "user", "content": "read https://example.com"}],
            "tools": [FETCH],
        },
    )


def test_web_fetch_is_refused_by_default(client, fake_cli):
    response = ask(client)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert "--allow-web-fetch" in error["message"] and "local network" in error["message"]
    assert not any("--tools=WebFetch" in c["argv"] for c in fake_cli.calls())


def test_web_fetch_with_the_opt_in_gives_the_cli_webfetch(settings, fake_cli):
    server = create_app(replace(settings, allow_web_fetch=True))
    with TestClient(server, base_url="http://127.0.0.1:8080") as client:
        response = ask(client)
    assert response.status_code == 200, response.text
    argv = fake_cli.call()["argv"]
    assert "--tools=WebFetch" in argv and "--permission-prompt-tool=stdio" in argv


def test_serve_flag_sets_the_opt_in(monkeypatch):
    import claude_max.server.listen as server_listen

    got = {}
    monkeypatch.setattr(server_listen, "serve", lambda settings, **_: got.update(s=settings))
    runner = CliRunner()
    assert runner.invoke(app, ["serve", "--allow-web-fetch"]).exit_code == 0
    assert got["s"].allow_web_fetch is True
    assert runner.invoke(app, ["serve"]).exit_code == 0
    assert got["s"].allow_web_fetch is False
