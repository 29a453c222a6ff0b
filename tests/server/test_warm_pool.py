"""The warm pool: processes started ahead of time answer, each serves one conversation only."""

from __future__ import annotations

import dataclasses

import pytest
from fake_claude_log import FAKE_CLAUDE, read_log
from starlette.testclient import TestClient
from waiting import gone, wait_until

from claude_max.core.settings import Settings
from claude_max.server.app import create_app

LOCAL = "http://127.0.0.1:8080"


def ask(client, system: str | None = None, text: str = "hi"):
    messages = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": text}
    ]
    response = client.post("/v1/chat/completions", json={"model": "opus", "messages": messages})
    assert response.status_code == 200, response.text
    return response.json()["choices"][0]["message"]["content"]


def waiting_runs(fake_cli) -> list[dict]:
    """Warm CLIs that are up (they logged their start) and have not been given a request."""
    return [r for r in read_log(fake_cli.log) if "-p" in r["argv"] and not r["stdin"]]


def wait_warm(fake_cli, count: int = 1) -> list[dict]:
    assert wait_until(lambda: len(waiting_runs(fake_cli)) >= count), "the pool started nothing"
    return waiting_runs(fake_cli)


@pytest.fixture
def settings(claude_max_home):
    """These tests set the pool size themselves (not the cold/warm parametrisation)."""
    return Settings(home=claude_max_home, claude_path=str(FAKE_CLAUDE))


@pytest.fixture
def pooled(settings, fake_cli):
    app = create_app(dataclasses.replace(settings, warm=2))
    with TestClient(app, base_url=LOCAL) as client:
        yield client


def test_a_request_is_answered_by_a_process_started_before_it(pooled, fake_cli):
    [ready] = wait_warm(fake_cli)
    assert ask(pooled) == "ECHO:hi"
    [run] = fake_cli.calls()
    assert run["pid"] == ready["pid"]  # the CLI was already running when the request came
    warm = pooled.get("/health").json()["warm"]
    assert (warm["hits"], warm["misses"]) == (1, 0)
    assert warm["rss_mb"] >= 0


def test_each_process_serves_one_conversation(pooled, fake_cli):
    for text in ("one", "two", "three"):
        wait_warm(fake_cli)
        assert ask(pooled, text=text) == f"ECHO:{text}"
    runs = fake_cli.calls()
    assert len({r["pid"] for r in runs}) == 3
    contents = sorted(tuple(line["message"]["content"] for line in r["stdin"]) for r in runs)
    assert contents == [("one",), ("three",), ("two",)]


def test_the_pool_follows_the_system_prompt_clients_send(pooled, fake_cli):
    wait_warm(fake_cli)
    ask(pooled, system="You are an editor.")  # a miss: started cold, and one is warmed for it
    ready = wait_warm(fake_cli, 2)
    [editor] = [r for r in ready if "system_prompt_file" in r]
    assert editor["system_prompt_file"]["content"] == "You are an editor."
    ask(pooled, system="You are an editor.")
    warm = pooled.get("/health").json()["warm"]
    assert (warm["hits"], warm["misses"]) == (1, 1)
    assert editor["pid"] in {r["pid"] for r in fake_cli.calls()}


def test_warm_processes_die_with_the_app(settings, fake_cli):
    app = create_app(dataclasses.replace(settings, warm=2))
    with TestClient(app, base_url=LOCAL) as client:
        wait_warm(fake_cli)
        ask(client)
        wait_warm(fake_cli)
    pids = [r["pid"] for r in read_log(fake_cli.log) if "-p" in r["argv"]]
    assert len(pids) >= 2
    assert all(gone(pid) for pid in pids)


def test_pool_size_zero_starts_nothing_ahead(settings, fake_cli):
    with TestClient(create_app(dataclasses.replace(settings, warm=0)), base_url=LOCAL) as client:
        ask(client)
        assert client.get("/health").json()["warm"] == {"size": 0}
    assert len([r for r in read_log(fake_cli.log) if "-p" in r["argv"]]) == 1


def test_a_warm_process_switches_model_instead_of_missing(pooled, fake_cli):
    [ready] = wait_warm(fake_cli)  # started for the default model, opus
    response = pooled.post(
        "/v1/chat/completions",
        json={"model": "haiku", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert response.json()["model"] == "claude-haiku-5-5"
    [run] = fake_cli.calls()
    assert run["pid"] == ready["pid"]
    assert "--model=opus" in run["argv"]
    kinds = [(line["type"], line.get("request", {}).get("model")) for line in run["stdin"]]
    assert kinds == [("control_request", "haiku"), ("user", None)]  # switched, then asked
    warm = pooled.get("/health").json()["warm"]
    assert (warm["hits"], warm["misses"]) == (1, 0)


def test_thousands_of_specs_keep_the_pool_bounded_and_cheap(settings, fake_cli):
    """One new system prompt per request (or per continued conversation) must not grow the
    pool's memory or the work of fill() and /health (issue #15: 328 ms at 2,000 specs)."""
    import time

    from claude_max.core.conversation import Conversation, TextPart, Turn
    from claude_max.core.launch import launch_spec

    app = create_app(dataclasses.replace(settings, warm=2))
    with TestClient(app, base_url=LOCAL) as client:
        pool = app.state.pool
        turn = Turn("user", (TextPart("."),))
        specs = [
            launch_spec(Conversation((turn,), system=f"prompt {i} " * 50, model="opus"), settings)
            for i in range(3000)
        ]

        def fill_all() -> float:
            began = time.perf_counter()
            for spec in specs:
                pool.fill(spec)
                assert pool.stats()["specs"] <= pool.size  # it kept one entry per spec ever seen
            return time.perf_counter() - began

        # O(1) each: ~10 us here; a generous bound for a loaded machine
        assert client.portal.call(fill_all) < 1.5
        wait_warm(fake_cli, 2)
        # spec by spec as requests would: each new one evicts the coldest
        for spec in specs[:40]:
            client.portal.call(pool.fill, spec)
            assert pool.stats()["specs"] <= pool.size
        began = time.perf_counter()
        warm = client.get("/health").json()["warm"]
        assert time.perf_counter() - began < 0.5
        assert warm["specs"] <= 2 and warm["ready"] + warm["starting"] <= 2
        assert warm["spec_kb"] <= warm["max_spec_kb"]
        assert ask(client, system="prompt 1 " * 50) == "ECHO:hi"


def test_a_huge_system_prompt_is_not_kept_warm(settings, fake_cli):
    from claude_max.core.conversation import Conversation, TextPart, Turn
    from claude_max.core.launch import launch_spec
    from claude_max.core.pool import Pool

    pool = Pool(2, max_spec_bytes=64 * 1024)
    turn = Turn("user", (TextPart("."),))
    big = launch_spec(Conversation((turn,), system="x" * 100_000), settings)
    pool.fill(big)  # no loop needed: it returns before starting anything
    assert pool.stats()["specs"] == 0 and pool.stats()["starting"] == 0
