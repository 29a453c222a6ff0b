"""Who may use the server: API key, Host and Origin checks, CORS; limits and timeouts."""

from __future__ import annotations

import dataclasses

import pytest
from starlette.testclient import TestClient

from claude_max.server.app import create_app

LOCAL = "http://127.0.0.1:8080"
CHAT = ("/v1/chat/completions", {"model": "opus", "messages": [{"role": "user", "content": "x"}]})
MESSAGES = (
    "/v1/messages",
    {"model": "opus", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]},
)


@pytest.fixture
def make_client(settings, fake_cli):
    clients = []

    def make(**changes) -> TestClient:
        app = create_app(dataclasses.replace(settings, **changes))
        client = TestClient(app, base_url=LOCAL, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def test_api_key_required_except_health(make_client):
    client = make_client(api_key="s3cret")
    assert client.get("/health").status_code == 200
    refused = client.post(CHAT[0], json=CHAT[1])
    assert refused.status_code == 401
    assert refused.json()["error"]["type"] == "authentication_error"
    refused = client.post(MESSAGES[0], json=MESSAGES[1], headers={"x-api-key": "wrong"})
    assert refused.status_code == 401 and refused.json()["type"] == "error"
    assert client.get("/v1/models").status_code == 401
    ok = client.post(CHAT[0], json=CHAT[1], headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200
    ok = client.post(MESSAGES[0], json=MESSAGES[1], headers={"x-api-key": "s3cret"})
    assert ok.status_code == 200


def test_no_key_configured_means_no_auth(make_client):
    assert make_client().post(CHAT[0], json=CHAT[1]).status_code == 200


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("localhost:8080", 200),
        ("127.0.0.1", 200),
        ("[::1]:8080", 200),
        ("evil.example:8080", 403),
        ("127.0.0.1.nip.io", 403),
    ],
)
def test_host_header_checked_against_rebinding(make_client, host, status):
    response = make_client().post(CHAT[0], json=CHAT[1], headers={"host": host})
    assert response.status_code == status
    if status == 403:
        assert "DNS rebinding" in response.json()["error"]["message"]


def test_any_host_when_bound_to_all_interfaces(make_client):
    client = make_client(host="0.0.0.0", api_key="k")
    response = client.get("/health", headers={"host": "my-box.lan:8080"})
    assert response.status_code == 200


def test_browser_origins_refused_unless_allowed(make_client):
    client = make_client()
    refused = client.post(CHAT[0], json=CHAT[1], headers={"origin": "https://evil.example"})
    assert refused.status_code == 403
    assert "--cors-origin" in refused.json()["error"]["message"]
    # Node SDKs send browser-style fetch headers without an Origin: allowed
    node = client.post(
        CHAT[0], json=CHAT[1], headers={"sec-fetch-mode": "cors", "accept-language": "*"}
    )
    assert node.status_code == 200


def test_allowed_origin_gets_cors_headers_and_preflight(make_client):
    client = make_client(cors_origins=("http://localhost:3000",))
    origin = {"origin": "http://localhost:3000"}
    preflight = client.options(CHAT[0], headers={**origin, "access-control-request-method": "POST"})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "authorization" in preflight.headers["access-control-allow-headers"]
    response = client.post(CHAT[0], json=CHAT[1], headers=origin)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "access-control-allow-origin" not in client.post(CHAT[0], json=CHAT[1]).headers


def test_idle_timeout_is_a_504_in_protocol_shape(make_client, fake_cli):
    fake_cli.use("hang")
    client = make_client(idle_timeout=0.5)
    response = client.post(MESSAGES[0], json=MESSAGES[1])
    assert response.status_code == 504
    assert response.json()["error"]["type"] == "timeout_error"
    response = client.post(CHAT[0], json={**CHAT[1], "stream": True})
    assert response.status_code == 504
    assert "sent nothing for 0.5 seconds" in response.json()["error"]["message"]


def test_total_deadline(make_client, fake_cli):
    fake_cli.use("slow", delay_ms=100, chunks=50)
    response = make_client(request_timeout=0.6).post(CHAT[0], json=CHAT[1])
    assert response.status_code == 504
    assert "longer than 0.6 seconds" in response.json()["error"]["message"]


def test_health_reports_limits_and_policy(make_client):
    client = make_client(api_key="k", max_concurrency=3)
    body = client.get("/health", headers={"x-api-key": "k"}).json()
    assert body["auth"] == "api-key"
    assert body["tools"] == "off"
    assert body["requests"] == {"active": 0, "waiting": 0, "limit": 3}


def test_agent_mode_passes_the_tools_and_says_so(make_client, fake_cli):
    client = make_client(allow_tools=("Read", "Grep"))
    assert client.get("/health").json()["tools"] == ["Read", "Grep"]
    client.post(CHAT[0], json=CHAT[1])
    [run] = fake_cli.calls()
    assert "--tools=Read,Grep" in run["argv"] and "--tools=" not in run["argv"]


def test_every_kind_of_request_frees_its_slot(make_client, fake_cli):
    client = make_client(max_concurrency=1, max_queue=0)
    client.post(CHAT[0], json=CHAT[1])
    client.post(CHAT[0], json={**CHAT[1], "stream": True})
    client.post(CHAT[0], json={**CHAT[1], "model": "nope"})
    fake_cli.use("crash")
    client.post(MESSAGES[0], json=MESSAGES[1])
    client.post(MESSAGES[0], json={**MESSAGES[1], "stream": True})
    fake_cli.use("echo")
    assert client.post(CHAT[0], json=CHAT[1]).status_code == 200
    assert client.get("/health").json()["requests"] == {"active": 0, "waiting": 0, "limit": 1}
