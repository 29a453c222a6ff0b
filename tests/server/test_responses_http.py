"""POST /v1/responses on the fake `claude`: the response object, its event stream, left-out
hosted tools, and errors in OpenAI's shape with the statuses of /v1/chat/completions."""

from __future__ import annotations

import json

import pytest
from fake_cli import messages
from openai.types.responses import Response

IGNORED = "x-claude-max-ignored-tools"


def events(text: str) -> list[dict]:
    return [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]


@pytest.mark.parametrize("path", ["/v1/responses", "/responses"])
def test_non_streaming_response(client, fake_cli, path):
    response = client.post(
        path, json={"model": "sonnet", "instructions": "Be terse.", "input": "abc"}
    )
    assert response.status_code == 200
    data = Response.model_validate(response.json())
    assert data.status == "completed" and data.output_text == "ECHO:abc"
    assert data.model == "claude-sonnet-5-5"
    assert data.usage is not None and data.usage.total_tokens > 0
    assert IGNORED not in response.headers
    assert fake_cli.call()["system_prompt_file"]["content"] == "Be terse."


def test_streamed_response_is_the_documented_sequence(client, fake_cli):
    fake_cli.use("echo", chunks=3)
    with client.stream(
        "POST", "/v1/responses", json={"model": "opus", "input": "abcdef", "stream": True}
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        data = events(response.read().decode())
    kinds = [e["type"] for e in data]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert [e["sequence_number"] for e in data] == list(range(len(data)))
    text = "".join(e["delta"] for e in data if e["type"] == "response.output_text.delta")
    assert text == "ECHO:abcdef"
    final = Response.model_validate(data[-1]["response"])
    assert final.output_text == "ECHO:abcdef" and final.id == data[0]["response"]["id"]


def test_hosted_tools_are_left_out_and_named(client, fake_cli):
    response = client.post(
        "/v1/responses",
        json={
            "model": "sonnet",
            "input": "hi",
            "tools": [
                {"type": "file_search"},
                {"type": "local_shell"},
                {"type": "web_search"},
                {"type": "function", "name": "f", "parameters": {"type": "object"}},
            ],
            "tool_choice": "auto",
        },
    )
    assert response.status_code == 200
    assert response.headers[IGNORED] == "file_search, local_shell"  # web search is served
    call = fake_cli.call()
    listing = json.dumps(call["stdin"])
    assert "file_search" not in listing and "local_shell" not in listing
    assert "--tools=WebSearch" in call["argv"]


def test_thinking_becomes_a_reasoning_item(client, fake_cli):
    fake_cli.use("transcript:stream_json_thinking")
    data = client.post("/v1/responses", json={"model": "sonnet", "input": "hi"}).json()
    kinds = [item["type"] for item in data["output"]]
    assert kinds[0] == "reasoning" and data["output"][0]["summary"][0]["text"]
    assert "message" in kinds


@pytest.mark.parametrize(
    ("scenario", "status"),
    [("transcript:err_429_stream_json_retries0", 429), ("exit_silent", 502)],
)
@pytest.mark.parametrize("stream", [False, True])
def test_failures_before_the_first_event_have_a_status(client, fake_cli, scenario, status, stream):
    fake_cli.use(scenario)
    body = {"model": "sonnet", "input": "hi", "stream": stream}
    response = client.post("/v1/responses", json=body)
    assert response.status_code == status
    chat = client.post(
        "/v1/chat/completions",
        json={"model": "sonnet", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert chat.status_code == status
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}


def test_failure_after_the_first_event_is_a_failed_response(client, fake_cli):
    fake_cli.use("crash")
    response = client.post("/v1/responses", json={"model": "sonnet", "input": "hi", "stream": True})
    assert response.status_code == 200
    data = events(response.text)
    assert data[-1]["type"] == "response.failed"
    assert data[-1]["response"]["error"]["message"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "sonnet"}, "input"),
        ({"model": "sonnet", "input": [{"role": "user", "content": 5}]}, "input[0].content"),
        ({"model": "gpt-9", "input": "hi"}, None),
    ],
)
def test_bad_requests_are_openai_errors(client, fake_cli, body, param):
    response = client.post("/v1/responses", json=body)
    assert response.status_code in (400, 404)
    error = response.json()["error"]
    assert error["param"] == param and error["message"]
    assert fake_cli.calls() == []


# --- stored responses: previous_response_id, GET and DELETE -------------------------------


def create(client, input_, **extra):
    response = client.post("/v1/responses", json={"model": "opus", "input": input_, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def sent(run) -> list[tuple[str, object]]:
    return [(line["type"], line["message"]["content"]) for line in messages(run)]


def test_previous_response_id_continues_with_only_the_new_input_sent(client, fake_cli):
    first = create(client, "one")
    second = create(client, "two", previous_response_id=first["id"])
    assert second["output"][0]["content"][0]["text"] == "ECHO:two"
    assert second["previous_response_id"] == first["id"]
    [run2] = [c for c in fake_cli.calls() if sent(c)[-1] == ("user", "two")]
    # The stored conversation comes first (with the real CLI, automatic continuation resumes
    # the CLI session that answered it instead: see tests/e2e/test_responses_sdk.py).
    assert sent(run2) == [
        ("user", "one"),
        ("assistant", [{"type": "text", "text": "ECHO:one"}]),
        ("user", "two"),
    ]


def test_a_chain_survives_a_restart(settings, fake_cli):
    from starlette.testclient import TestClient

    from claude_max.server.app import create_app

    with TestClient(create_app(settings), base_url="http://127.0.0.1:8080") as first_server:
        first = create(first_server, "one")
        second = create(first_server, "two", previous_response_id=first["id"])
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8080") as second_server:
        third = create(second_server, "three", previous_response_id=second["id"])
        assert second_server.get(f"/v1/responses/{first['id']}").json() == first
    assert third["status"] == "completed"
    [run] = [c for c in fake_cli.calls() if sent(c)[-1] == ("user", "three")]
    assert [role for role, _ in sent(run)] == ["user", "assistant"] * 2 + ["user"]
    assert "ECHO:two" in json.dumps(sent(run))


def test_get_and_delete_a_stored_response(client, fake_cli):
    first = create(client, "one", stream=False)
    with client.stream(
        "POST", "/v1/responses", json={"model": "opus", "input": "two", "stream": True}
    ) as response:
        streamed = events(response.read().decode())[-1]["response"]
    assert client.get(f"/v1/responses/{streamed['id']}").json() == streamed
    assert client.get(f"/v1/responses/{first['id']}").json() == first
    deleted = client.delete(f"/v1/responses/{first['id']}")
    assert deleted.json() == {"id": first["id"], "object": "response", "deleted": True}
    gone = client.get(f"/v1/responses/{first['id']}")
    assert gone.status_code == 404 and gone.json()["error"]["message"]
    assert client.delete(f"/v1/responses/{first['id']}").status_code == 404


def test_unknown_or_unstored_ids_are_404s(client, fake_cli):
    unstored = create(client, "one", store=False)
    assert client.get(f"/v1/responses/{unstored['id']}").status_code == 404
    response = client.post(
        "/v1/responses",
        json={"model": "opus", "input": "x", "previous_response_id": "resp_nope"},
    )
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["param"] == "previous_response_id" and "resp_nope" in error["message"]
    assert error["type"] == "invalid_request_error"
