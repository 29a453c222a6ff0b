"""Malformed and odd Responses API requests: never a 5xx, always OpenAI's error shape."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_claude_log import FAKE_CLAUDE
from fuzz_budget import fuzz_examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from claude_max.core.settings import Settings
from claude_max.server.app import create_app

scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=12)
anything = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)
part = st.fixed_dictionaries(
    {"type": st.sampled_from(["input_text", "output_text", "input_image", "input_file", 3])},
    optional={
        "text": st.text(max_size=10) | anything,
        "image_url": st.sampled_from(
            ["data:image/png;base64,iVBORw0KGgo=", "data:image/png;base64,@@", "http://x/y"]
        )
        | anything,
    },
)
item = (
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(
                [
                    "message",
                    "function_call",
                    "function_call_output",
                    "custom_tool_call",
                    "custom_tool_call_output",
                    "reasoning",
                    "item_reference",
                    None,
                ]
            ),
        },
        optional={
            "role": st.sampled_from(["user", "assistant", "system", "developer", "tool", None]),
            "content": st.text(max_size=8) | st.lists(part, max_size=3) | anything,
            "call_id": st.sampled_from(["call_1", "bad id", ""]) | anything,
            "name": st.sampled_from(["f", "apply_patch", "bad name"]) | anything,
            "arguments": st.sampled_from(["{}", "{", "[]"]) | anything,
            "input": st.text(max_size=8) | anything,
            "output": st.text(max_size=8) | st.lists(part, max_size=2) | anything,
        },
    )
    | anything
)
tool = st.fixed_dictionaries(
    {"type": st.sampled_from(["function", "custom", "web_search", "mcp", None])},
    optional={
        "name": st.sampled_from(["f", "apply_patch", "bad name"]) | anything,
        "parameters": anything,
        "format": st.fixed_dictionaries(
            {"type": st.sampled_from(["grammar", "text"])}, optional={"definition": anything}
        )
        | anything,
    },
)
body = st.fixed_dictionaries(
    {},
    optional={
        "model": st.sampled_from(["opus", "sonnet", "gpt-4o", None, 5]),
        "input": st.text(max_size=8) | st.lists(item, max_size=4) | anything,
        "instructions": st.text(max_size=8) | anything,
        "stream": st.booleans() | anything,
        "max_output_tokens": st.integers(-5, 10**6) | anything,
        "tools": st.lists(tool, max_size=3) | anything,
        "tool_choice": st.sampled_from(["auto", "required", "none"])
        | st.fixed_dictionaries(
            {"type": st.sampled_from(["function", "custom", "allowed_tools", "web_search"])},
            optional={"name": anything, "tools": anything, "mode": anything},
        )
        | anything,
        "text": st.fixed_dictionaries({"format": anything}) | anything,
        "reasoning": st.fixed_dictionaries({"effort": anything}) | anything,
        "previous_response_id": st.sampled_from(["resp_nope", ""]) | anything,
        "store": anything,
        "parallel_tool_calls": anything,
    },
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    home = tmp_path_factory.mktemp("fuzz-responses")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FAKE_CLAUDE_SCENARIO", "echo")
        patch.delenv("FAKE_CLAUDE_LOG", raising=False)
        app = create_app(Settings(home=home, claude_path=str(FAKE_CLAUDE), max_concurrency=8))
        with TestClient(app, base_url="http://127.0.0.1:8080", raise_server_exceptions=False) as c:
            yield c


@settings(
    max_examples=fuzz_examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(request_body=body)
def test_structured_garbage_never_breaks_the_responses_endpoint(client, request_body):
    response = client.post("/v1/responses", json=request_body)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        error = response.json()["error"]
        assert error["message"] and "type" in error
