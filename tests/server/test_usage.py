"""Request history, /metrics and the stats endpoint over HTTP, against the fake `claude`."""

from __future__ import annotations

import base64
import json
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient
from waiting import wait_until

from claude_max.server.app import create_app
from claude_max.usage.history import Row

LOCAL = "http://127.0.0.1:8080"
USAGE = {
    "input_tokens": 1234,
    "output_tokens": 56,
    "cache_read_input_tokens": 7890,
    "cache_creation_input_tokens": 321,
}
COST = 0.0421


@pytest.fixture
def fake_usage(fake_cli):
    return fake_cli.use("echo", usage=json.dumps(USAGE), cost=COST)


def rows(client: TestClient) -> list[Row]:
    writer = client.app.state.usage.writer
    assert writer.flush()
    return writer.read(0)


def ask(client: TestClient, protocol: str, *, stream: bool, model: str = "opus", **headers):
    if protocol == "openai":
        path = "/v1/chat/completions"
        body = {"model": model, "stream": stream, "messages": [{"role": "user", "content": "hi"}]}
    else:
        path = "/v1/messages"
        body = {
            "model": model,
            "max_tokens": 100,
            "stream": stream,
            "messages": [{"role": "user", "content": "hi"}],
        }
    response = client.post(path, json=body, headers={"user-agent": "probe/1.0", **headers})
    return path, response


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("protocol", ["openai", "anthropic"])
def test_a_request_leaves_one_row_with_its_figures(fake_usage, client, settings, protocol, stream):
    if settings.warm:
        # The pool starts with a process for the default request; Anthropic's max_tokens makes
        # another launch spec, which a first request starts (a miss) for the next one.
        assert ask(client, protocol, stream=stream)[1].status_code == 200
        pool = client.app.state.pool
        assert wait_until(lambda: pool.stats()["ready"] >= (2 if protocol == "anthropic" else 1))
    before = time.time()
    path, response = ask(client, protocol, stream=stream)
    assert response.status_code == 200, response.text
    *_, row = found = rows(client)
    assert len(found) == (2 if settings.warm else 1)  # one row per request
    assert before <= row.at <= time.time()
    assert (row.protocol, row.endpoint, row.stream) == (protocol, path, stream)
    assert (row.client, row.key_label, row.session_id) == ("probe/1.0", None, None)
    assert (row.model_asked, row.model) == ("opus", "claude-opus-5-5")
    assert (row.status, row.error, row.error_message) == (200, None, None)
    assert (row.input_tokens, row.output_tokens) == (1234, 56)
    assert (row.cache_read_tokens, row.cache_write_tokens) == (7890, 321)
    assert row.cost_usd == pytest.approx(COST)
    assert row.warm is bool(settings.warm)
    assert 0 < row.ttft_ms <= row.duration_ms


def test_a_session_request_records_its_session_id(client, fake_cli):
    _, response = ask(client, "anthropic", stream=True, **{"x-session-id": "proj-1"})
    assert response.status_code == 200
    [row] = rows(client)
    assert row.session_id == "proj-1" and row.status == 200


def test_the_api_key_label_is_recorded_when_keys_are_named(settings, fake_cli):
    from dataclasses import replace

    keyed = replace(settings, api_keys=(("editor", "k-editor"), ("script", "k-script")))
    with TestClient(create_app(keyed), base_url="http://127.0.0.1:8080") as client:
        response = client.post(
            "/v1/chat/completions",
            json={"model": "opus", "messages": [{"role": "user", "content": "hi"}]},
            headers={"authorization": "Bearer k-editor"},
        )
        assert response.status_code == 200
        [row] = rows(client)
    assert row.key_label == "editor"


def test_rows_never_hold_prompt_or_answer_text(client, fake_cli):
    secret = "tell-nobody-7f3a"
    response = client.post(
        "/v1/chat/completions",
        json={"model": "opus", "messages": [{"role": "user", "content": secret}]},
    )
    assert secret in response.text  # the echo answer has it
    [row] = rows(client)
    assert secret not in repr(row)
    db = client.app.state.usage.writer.path.read_bytes()
    assert secret.encode() not in db


def test_a_refused_request_is_recorded_with_its_error(client, fake_cli):
    _, response = ask(client, "anthropic", stream=False, model="gpt-4o")
    assert response.status_code == 404
    [row] = rows(client)
    assert (row.status, row.error, row.model_asked, row.model) == (
        404,
        "not_found_error",
        "gpt-4o",
        None,
    )
    assert "gpt-4o" in row.error_message
    assert row.warm is None and row.ttft_ms is None and row.input_tokens == 0


def test_an_error_mid_stream_is_recorded(client, fake_cli):
    fake_cli.use("crash")
    _, response = ask(client, "openai", stream=True)
    assert response.status_code == 200  # the stream had begun
    [row] = rows(client)
    assert row.status == 200 and row.error is not None and row.error_message


def test_other_endpoints_are_not_recorded(client):
    client.get("/health")
    client.get("/v1/models")
    client.get("/metrics")
    assert rows(client) == []


def test_history_days_zero_records_nothing(settings, fake_cli):
    import dataclasses

    app = create_app(dataclasses.replace(settings, history_days=0))
    with TestClient(app, base_url=LOCAL) as client:
        assert ask(client, "openai", stream=False)[1].status_code == 200
        assert client.app.state.usage.writer is None
        assert client.get("/v1/claude-max/stats").json()["total"]["requests"] == 0
        metrics = client.get("/metrics").text
    assert 'claude_max_requests_total{endpoint="/v1/chat/completions"' in metrics


def samples(text: str) -> dict[tuple[str, tuple], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_after_known_traffic(fake_usage, client, settings, claude_max_home):
    plan = {
        "observed_at": time.time(),
        "status": "allowed",
        "windows": {
            "five_hour": {"utilization": 0.42, "resets_at": 1800000000, "status": "allowed"},
            "seven_day": {"utilization": 0.1, "resets_at": 1800300000, "status": "allowed"},
        },
    }
    claude_max_home.mkdir(parents=True, exist_ok=True)
    (claude_max_home / "plan.json").write_text(json.dumps(plan))
    for protocol, stream in [("openai", False), ("openai", True), ("anthropic", False)]:
        assert ask(client, protocol, stream=stream)[1].status_code == 200
    assert ask(client, "openai", stream=False, model="gpt-4o")[1].status_code == 404
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    got = samples(response.text)

    def value(name: str, **labels: str) -> float:
        return got[(name, tuple(sorted(labels.items())))]

    opus = {"model": "claude-opus-5-5"}
    assert (
        value("claude_max_requests_total", endpoint="/v1/chat/completions", status="200", **opus)
        == 2
    )
    assert value("claude_max_requests_total", endpoint="/v1/messages", status="200", **opus) == 1
    assert (
        value(
            "claude_max_requests_total", endpoint="/v1/chat/completions", model="none", status="404"
        )
        == 1
    )
    assert value("claude_max_tokens_total", kind="input", **opus) == 3 * 1234
    assert value("claude_max_tokens_total", kind="output", **opus) == 3 * 56
    assert value("claude_max_tokens_total", kind="cache_read", **opus) == 3 * 7890
    assert value("claude_max_tokens_total", kind="cache_write", **opus) == 3 * 321
    assert value("claude_max_cost_usd_total", **opus) == pytest.approx(3 * COST)
    chat = {"endpoint": "/v1/chat/completions"}
    assert value("claude_max_time_to_first_token_seconds_count", **chat) == 2  # not the 404
    assert value("claude_max_request_duration_seconds_count", **chat) == 3
    assert value("claude_max_requests_in_flight") == 0
    assert value("claude_max_requests_queued") == 0
    assert value("claude_max_warm_pool_size") == settings.warm
    pool = client.app.state.pool
    hits, misses = (pool.hits, pool.misses) if pool else (0, 0)
    assert value("claude_max_warm_pool_hits_total") == hits
    assert value("claude_max_warm_pool_misses_total") == misses
    if pool:
        assert hits + misses == 3
    assert value("claude_max_cli_processes") >= 0
    assert value("claude_max_plan_window_utilization", window="five_hour") == 0.42
    assert value("claude_max_plan_window_utilization", window="seven_day") == 0.1
    assert value("claude_max_plan_window_resets_at_seconds", window="five_hour") == 1800000000


def test_stats_endpoint_reports_known_traffic(fake_usage, client):
    for protocol, stream in [("openai", False), ("anthropic", True)]:
        assert ask(client, protocol, stream=stream)[1].status_code == 200
    ask(client, "openai", stream=False, model="gpt-4o")
    body = client.get("/v1/claude-max/stats?since=24h&by=client").json()
    total = body["total"]
    assert (total["requests"], total["errors"]) == (3, 1)
    assert (total["input_tokens"], total["output_tokens"]) == (2 * 1234, 2 * 56)
    assert total["cost_usd"] == pytest.approx(2 * COST)
    assert body["groups"] == body["clients"]
    assert [g["key"] for g in body["clients"]] == ["probe/1.0"]
    assert sum(p["requests"] for p in body["series"]["points"]) == 3
    assert body["series"]["unit"] == "hour"
    [error] = body["recent_errors"]
    assert (error["status"], error["error"]) == (404, "invalid_request_error")  # OpenAI's type
    assert body["plan"] is None


@pytest.mark.parametrize("query", ["since=yesterday", "by=colour"])
def test_stats_endpoint_refuses_bad_parameters(client, query):
    response = client.get(f"/v1/claude-max/stats?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_dashboard_pages_are_served(client):
    for path in ("/", "/dashboard"):
        page = client.get(path)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "/dashboard/dashboard.js" in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
    script = client.get("/dashboard/dashboard.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "/v1/claude-max/stats" in script.text
    assert client.get("/dashboard/dashboard.css").status_code == 200
    assert client.get("/dashboard/secrets.txt").status_code == 404


@pytest.fixture
def keyed(settings, fake_cli):
    import dataclasses

    app = create_app(dataclasses.replace(settings, api_key="k3y"))
    with TestClient(app, base_url=LOCAL) as client:
        yield client


@pytest.mark.parametrize(
    "path", ["/", "/dashboard", "/dashboard/dashboard.js", "/metrics", "/v1/claude-max/stats"]
)
def test_usage_views_need_the_key(keyed, path):
    refused = keyed.get(path)
    assert refused.status_code == 401
    assert refused.json()["error"]["type"] == "authentication_error"
    assert keyed.get(path, headers={"authorization": "Bearer k3y"}).status_code == 200
    basic = base64.b64encode(b"anyone:k3y").decode()
    assert keyed.get(path, headers={"authorization": f"Basic {basic}"}).status_code == 200
    wrong = base64.b64encode(b"anyone:nope").decode()
    assert keyed.get(path, headers={"authorization": f"Basic {wrong}"}).status_code == 401


def test_the_dashboard_asks_a_browser_for_the_key(keyed):
    assert keyed.get("/").headers["www-authenticate"].startswith("Basic realm=")
    assert "www-authenticate" not in keyed.get("/metrics").headers


def test_usage_views_keep_host_and_origin_protection(client):
    assert client.get("/", headers={"host": "evil.example"}).status_code == 403
    assert (
        client.get("/v1/claude-max/stats", headers={"origin": "http://evil.example"}).status_code
        == 403
    )
    assert client.get("/metrics", headers={"origin": "http://evil.example"}).status_code == 403
