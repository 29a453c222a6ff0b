"""/v1/models follows the CLI's own model list (read once per CLI version, cached), with the
static catalog as the fallback; new, [1m] and dotted names reach the CLI (fake CLI)."""

from __future__ import annotations

import json

import pytest
from fake_claude_log import FAKE_CLAUDE
from fake_cli import model
from starlette.testclient import TestClient
from waiting import wait_until

from claude_max.core import catalog
from claude_max.core.cli_models import cache_file
from claude_max.core.settings import Settings
from claude_max.server.app import create_app

BASE = "http://127.0.0.1:8080"
NEW_MODEL = {
    "value": "nova",
    "resolvedModel": "claude-nova-6-0",
    "displayName": "Nova",
    "supportsEffort": True,
    "supportedEffortLevels": ["low", "high"],
    "supportsAdaptiveThinking": True,
}
OPUS = {
    "value": "opus",
    "resolvedModel": "claude-opus-5-5",
    "displayName": "Opus",
    "supportsEffort": True,
    "supportedEffortLevels": ["low", "medium", "high", "xhigh", "max"],
    "supportsAdaptiveThinking": True,
}


@pytest.fixture
def settings(claude_max_home) -> Settings:
    return Settings(home=claude_max_home, claude_path=str(FAKE_CLAUDE), warm=0)


def ids(client: TestClient, **headers: str) -> list[str]:
    return [m["id"] for m in client.get("/v1/models", headers=headers).json()["data"]]


def test_models_come_from_the_cli_and_are_cached_per_version(settings, fake_cli):
    fake_cli.use("echo", models=json.dumps([OPUS, NEW_MODEL]))
    with TestClient(create_app(settings), base_url=BASE) as client:
        listed = ids(client)
        assert listed == ["claude-opus-5-5", "claude-nova-6-0", "opus", "nova"]
        assert ids(client, **{"anthropic-version": "2023-06-01"}) == listed
        nova = client.get("/v1/models/claude-nova-6-0", headers={"anthropic-version": "x"})
        assert nova.json()["display_name"] == "Nova"
    assert len(fake_cli.model_lists()) == 1  # asked once, then from memory
    cached = json.loads(cache_file(settings, "2.1.330").read_text())
    assert [m["resolvedModel"] for m in cached] == ["claude-opus-5-5", "claude-nova-6-0"]

    catalog.adopt([])
    fake_cli.use("exit_silent")  # the same CLI version no longer answers: the cache does
    with TestClient(create_app(settings), base_url=BASE) as client:
        assert ids(client) == listed
    assert len(fake_cli.model_lists()) == 1


def test_a_new_version_is_asked_again(settings, fake_cli):
    fake_cli.use("echo", models=json.dumps([OPUS]))
    with TestClient(create_app(settings), base_url=BASE) as client:
        assert "claude-nova-6-0" not in ids(client)
    catalog.adopt([])
    fake_cli.use("echo", models=json.dumps([OPUS, NEW_MODEL]), version="2.1.400")
    with TestClient(create_app(settings), base_url=BASE) as client:
        assert "claude-nova-6-0" in ids(client)
    assert cache_file(settings, "2.1.400").exists() and cache_file(settings, "2.1.330").exists()


def test_the_static_catalog_when_the_cli_cannot_answer(settings, fake_cli):
    fake_cli.use("exit_silent")  # starts, prints nothing, exits 3
    with TestClient(create_app(settings), base_url=BASE) as client:
        assert ids(client) == [m.id for m in catalog.listed()]
        assert "claude-opus-5-5" in ids(client) and "opus" in ids(client)
    assert not cache_file(settings, "2.1.330").exists()


def test_the_static_catalog_when_the_cli_lists_garbage(settings, fake_cli):
    fake_cli.use("echo", models=json.dumps({"not": "a list"}))
    with TestClient(create_app(settings), base_url=BASE) as client:
        assert ids(client) == [m.id for m in catalog.listed()]


def test_a_model_of_the_cli_list_is_served_under_its_alias(settings, fake_cli):
    fake_cli.use("echo", models=json.dumps([OPUS, NEW_MODEL]))
    with TestClient(create_app(settings), base_url=BASE) as client:
        client.get("/v1/models")
        body = {"model": "claude-nova-6-0", "messages": [{"role": "user", "content": "hi"}]}
        assert client.post("/v1/chat/completions", json=body).status_code == 200
    assert model(fake_cli.call()) == "nova"


@pytest.mark.parametrize(
    ("name", "sent"),
    [
        ("opus[1m]", "opus[1m]"),
        ("claude-opus-4-6[1m]", "claude-opus-4-6[1m]"),
        ("claude-sonnet-4.5", "claude-sonnet-4-5"),
        ("anthropic/claude-sonnet-4.5", "claude-sonnet-4-5"),
        ("claude-opus-9-1", "claude-opus-9-1"),
        ("claude-3-5-sonnet-20241022", "claude-3-5-sonnet-20241022"),
        ("claude-opus-5-5", "opus"),
    ],
)
def test_model_names_reach_the_cli(settings, fake_cli, name, sent):
    with TestClient(create_app(settings), base_url=BASE) as client:
        body = {"model": name, "messages": [{"role": "user", "content": "hi"}]}
        assert client.post("/v1/chat/completions", json=body).status_code == 200
    assert model(fake_cli.call()) == sent


@pytest.mark.parametrize("name", ["gpt-4o", "claude-", "claude-opus 5", "claude-x[2m]", "o3"])
def test_names_that_are_not_claude_models_are_404(settings, fake_cli, name):
    with TestClient(create_app(settings), base_url=BASE) as client:
        body = {"model": name, "messages": [{"role": "user", "content": "hi"}]}
        response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 404 and name in response.json()["error"]["message"]
    assert fake_cli.calls() == []


def test_a_warm_cli_that_cannot_switch_to_an_unknown_model_gives_a_404(claude_max_home, fake_cli):
    fake_cli.use("echo", missing_models="claude-opus-9-9")
    settings = Settings(home=claude_max_home, claude_path=str(FAKE_CLAUDE), warm=1)
    body = {"model": "claude-opus-9-9", "messages": [{"role": "user", "content": "hi"}]}
    with TestClient(create_app(settings), base_url=BASE) as client:
        assert wait_until(lambda: client.get("/health").json()["warm"]["ready"] >= 1)
        response = client.post("/v1/chat/completions", json=body)
        assert client.get("/health").json()["warm"]["hits"] == 1
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "model_not_found"
