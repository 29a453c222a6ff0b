"""Thousands of malformed and odd requests: never a 5xx, always the caller's error shape."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fake_claude_log import FAKE_CLAUDE
from fuzz_budget import fuzz_examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from claude_max.core.settings import Settings
from claude_max.server.app import create_app

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
anything = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)
part = st.fixed_dictionaries(
    {"type": st.sampled_from(["text", "image_url", "image", "tool_use", "thinking", "audio", 3])},
    optional={
        "text": st.text(max_size=10) | anything,
        "image_url": st.fixed_dictionaries(
            {
                "url": st.sampled_from(
                    [
                        "data:image/png;base64,iVBORw0KGgo=",
                        "data:image/png;base64,@@",
                        "http://x/y.png",
                        "data:text/plain;base64,aGk=",
                    ]
                )
            }
        )
        | anything,
        "source": st.fixed_dictionaries(
            {
                "type": st.sampled_from(["base64", "url", 7]),
                "media_type": st.sampled_from(["image/png", "image/bmp", None]),
                "data": st.sampled_from(["iVBORw0KGgo=", "%%%", ""]),
            }
        )
        | anything,
    },
)
content = st.text(max_size=12) | st.lists(part, max_size=3) | anything
message = (
    st.fixed_dictionaries(
        {
            "role": st.sampled_from(
                ["user", "assistant", "system", "developer", "tool", "x", None]
            ),
            "content": content,
        }
    )
    | anything
)
body = st.fixed_dictionaries(
    {},
    optional={
        "model": st.sampled_from(["opus", "sonnet", "gpt-4o", "claude-sonnet-4", "", None, 5]),
        "messages": st.lists(message, max_size=4) | anything,
        "stream": st.booleans() | anything,
        "max_tokens": st.integers(-5, 10**7) | anything,
        "max_completion_tokens": st.integers(-5, 100) | anything,
        "stop": st.text(max_size=3) | st.lists(st.text(max_size=3), max_size=3) | anything,
        "stop_sequences": st.lists(st.text(max_size=3), max_size=3) | anything,
        "system": st.text(max_size=8) | st.lists(part, max_size=2) | anything,
        "thinking": st.fixed_dictionaries(
            {"type": st.sampled_from(["enabled", "disabled", "on"])},
            optional={"budget_tokens": anything},
        )
        | anything,
        "tools": st.lists(anything, max_size=2),
        "tool_choice": anything,
        "metadata": anything,
        "temperature": anything,
        "stream_options": anything,
        "n": anything,
        "response_format": anything,
        "reasoning_effort": anything,
    },
)
PATHS = ["/v1/chat/completions", "/v1/messages"]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    home = tmp_path_factory.mktemp("fuzz")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FAKE_CLAUDE_SCENARIO", "echo")
        patch.delenv("FAKE_CLAUDE_LOG", raising=False)
        app = create_app(Settings(home=home, claude_path=str(FAKE_CLAUDE), max_concurrency=8))
        with TestClient(app, base_url="http://127.0.0.1:8080", raise_server_exceptions=False) as c:
            yield c


def check(response, path: str) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        data = response.json()
        if path == "/v1/messages":
            assert data["type"] == "error" and data["error"]["message"]
        else:
            assert data["error"]["message"] and "type" in data["error"]


@settings(
    max_examples=fuzz_examples(1500), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(request_body=body, path=st.sampled_from(PATHS))
def test_structured_garbage_never_breaks_the_server(client, request_body, path):
    check(client.post(path, json=request_body), path)


@settings(max_examples=fuzz_examples(1000), deadline=None)
@given(
    raw=st.binary(max_size=300) | anything.map(lambda v: json.dumps(v).encode()),
    path=st.sampled_from(PATHS),
)
def test_raw_bytes_never_break_the_server(client, raw, path):
    response = client.post(path, content=raw, headers={"content-type": "application/json"})
    check(response, path)


def test_still_serving_afterwards(client):
    response = client.post(
        PATHS[0], json={"model": "opus", "messages": [{"role": "user", "content": "ok?"}]}
    )
    assert response.json()["choices"][0]["message"]["content"] == "ECHO:ok?"
    assert client.get("/health").json()["requests"]["active"] == 0
