"""The official `openai` SDK's Responses API (`client.responses`) against `claude-max serve`
and the real pinned CLI: create, the stream accumulator, tools, formats, limits, usage."""

from __future__ import annotations

import json
from collections.abc import Iterator

import openai
import pydantic
import pytest
from helpers import PNG_1PX, blocks, dialogue, system_text

pytestmark = pytest.mark.e2e

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
    "strict": False,
}
APPLY_PATCH = {
    "type": "custom",
    "name": "apply_patch",
    "description": "Edit files with a patch.",
    "format": {"type": "grammar", "syntax": "lark", "definition": "start: /[\\s\\S]+/"},
}
ANSWERED = {"when": {"last_is_tool_result": True}, "reply": {"type": "text", "text": "Sunny."}}
PATCH = "*** Begin Patch\n*** Add File: hello.txt\n+hi\n*** End Patch"


@pytest.fixture
def client(real_server) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{real_server.url}/v1", api_key="unused", max_retries=0) as c:
        yield c


def test_create_with_instructions_and_usage(client, fake_upstream):
    usage = {
        "input_tokens": 11,
        "output_tokens": 7,
        "cache_read_input_tokens": 5,
        "cache_creation_input_tokens": 3,
    }
    fake_upstream.set_script({"default": {"type": "echo", "prefix": "ECHO:", "usage": usage}})
    response = client.responses.create(
        model="sonnet", instructions="Answer like a pirate.", input="hello there"
    )
    assert response.status == "completed" and response.id.startswith("resp_")
    assert response.output_text == "ECHO:hello there"
    assert response.usage.input_tokens == 19
    assert response.usage.input_tokens_details.cached_tokens == 5
    assert response.usage.output_tokens == 7
    assert response.usage.total_tokens == 26
    [body] = fake_upstream.message_requests()
    assert "Answer like a pirate." in system_text(body)


def test_stream_accumulates_to_the_final_response(client, fake_upstream):
    fake_upstream.set_script({"default": {"type": "echo", "prefix": "ECHO:", "chunks": 4}})
    with client.responses.stream(model="sonnet", input="streamed words") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert len(deltas) >= 2 and "".join(deltas) == "ECHO:streamed words"
    assert final.output_text == "ECHO:streamed words" and final.status == "completed"
    assert final.usage is not None and final.usage.output_tokens > 0


def test_multi_turn_input_and_an_image(client, fake_upstream):
    response = client.responses.create(
        model="sonnet",
        input=[
            {"role": "developer", "content": "Be brief."},
            {"role": "user", "content": "My name is Ada."},
            {"role": "assistant", "content": [{"type": "output_text", "text": "Hello Ada."}]},
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "What is in this picture?"},
                    {"type": "input_image", "image_url": f"data:image/png;base64,{PNG_1PX}"},
                ],
            },
        ],
    )
    assert response.output_text == "ECHO:What is in this picture?"
    [body] = fake_upstream.message_requests()
    assert dialogue(body)[:2] == [("user", "My name is Ada."), ("assistant", "Hello Ada.")]
    assert "Be brief." in system_text(body)
    [image] = blocks(body, "image")
    assert image["source"]["data"] == PNG_1PX


@pytest.mark.parametrize("stream", [False, True])
def test_function_tool_round_trip(client, fake_upstream, stream):
    call = {"name": "mcp__proxy__get_weather", "input": {"city": "Paris"}, "id": "toolu_w1"}
    fake_upstream.set_script(
        {"rules": [ANSWERED], "default": {"type": "tool_use", **call, "chunks": 3}}
    )
    request = {"model": "sonnet", "tools": [WEATHER], "input": "Weather in Paris?"}
    if stream:
        with client.responses.stream(**request) as events:
            first = events.get_final_response()
    else:
        first = client.responses.create(**request)
    [item] = [o for o in first.output if o.type == "function_call"]
    assert (item.call_id, item.name) == ("toolu_w1", "get_weather")
    assert json.loads(item.arguments) == {"city": "Paris"}

    fake_upstream.clear()
    follow_up = [
        {"role": "user", "content": "Weather in Paris?"},
        item.model_dump(exclude_none=True),
        {"type": "function_call_output", "call_id": item.call_id, "output": "Sunny, 21C"},
    ]
    second = client.responses.create(model="sonnet", tools=[WEATHER], input=follow_up)
    assert second.output_text == "Sunny."
    [body] = fake_upstream.message_requests()
    [result] = blocks(body, "tool_result")
    assert result["tool_use_id"] == "toolu_w1" and "Sunny, 21C" in json.dumps(result)


@pytest.mark.parametrize("stream", [False, True])
def test_custom_tool_takes_one_string(client, fake_upstream, stream):
    call = {"name": "mcp__proxy__apply_patch", "input": {"input": PATCH}, "id": "toolu_p1"}
    fake_upstream.set_script({"rules": [ANSWERED], "default": {"type": "tool_use", **call}})
    request = {
        "model": "sonnet",
        "tools": [APPLY_PATCH, {"type": "file_search", "vector_store_ids": ["vs_1"]}],
        "input": "Add hello.txt",
    }
    if stream:
        with client.responses.stream(**request) as events:
            kinds = []
            for event in events:
                kinds.append(event.type)
            first = events.get_final_response()
        assert "response.custom_tool_call_input.done" in kinds
    else:
        raw = client.responses.with_raw_response.create(**request)
        assert raw.headers["x-claude-max-ignored-tools"] == "file_search"
        first = raw.parse()
    [item] = [o for o in first.output if o.type == "custom_tool_call"]
    assert (item.call_id, item.name, item.input) == ("toolu_p1", "apply_patch", PATCH)
    [body] = fake_upstream.message_requests()
    [declared] = [t for t in body["tools"] if t["name"] == "mcp__proxy__apply_patch"]
    assert declared["input_schema"]["required"] == ["input"]

    second = client.responses.create(
        model="sonnet",
        tools=[APPLY_PATCH],
        input=[
            {"role": "user", "content": "Add hello.txt"},
            item.model_dump(exclude_none=True),
            {"type": "custom_tool_call_output", "call_id": "toolu_p1", "output": "Done!"},
        ],
    )
    assert second.output_text == "Sunny."


class Person(pydantic.BaseModel):
    name: str
    age: int


def test_text_format_json_schema_is_parsed_by_the_sdk(client, fake_upstream):
    fake_upstream.set_script(
        {
            "default": {
                "type": "tool_use",
                "name": "StructuredOutput",
                "input": {"name": "Ada", "age": 36},
            }
        }
    )
    response = client.responses.parse(
        model="sonnet", input="Who wrote the first program?", text_format=Person
    )
    assert response.output_parsed == Person(name="Ada", age=36)
    [body] = fake_upstream.message_requests()
    [tool] = [t for t in body["tools"] if t["name"] == "StructuredOutput"]
    assert set(tool["input_schema"]["properties"]) == {"name", "age"}


def test_max_output_tokens_is_incomplete(client, fake_upstream):
    fake_upstream.set_script(
        {"default": {"type": "text", "text": "truncated answ", "stop_reason": "max_tokens"}}
    )
    response = client.responses.create(model="sonnet", input="go", max_output_tokens=16)
    assert response.status == "incomplete"
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.output_text == "truncated answ"
    assert fake_upstream.message_requests()[0]["max_tokens"] == 16


def test_bad_input_is_a_400_in_openais_shape(client):
    with pytest.raises(openai.BadRequestError) as info:
        client.responses.create(
            model="sonnet",
            input=[{"type": "function_call_output", "call_id": "call_nope", "output": "?"}],
        )
    assert "call_nope" in info.value.body["message"]


def test_previous_response_id_continues_the_cli_session(client, fake_upstream):
    fake_upstream.set_script(
        {"default": {"type": "thinking", "thinking": "Pondering.", "text": "ECHO:reply"}}
    )
    first = client.responses.create(model="sonnet", input="first")
    assert [o.type for o in first.output] == ["reasoning", "message"]
    assert first.output[0].summary[0].text == "Pondering."
    second = client.responses.create(model="sonnet", input="second", previous_response_id=first.id)
    assert second.output_text == "ECHO:reply" and second.previous_response_id == first.id
    assert client.responses.retrieve(first.id).output_text == "ECHO:reply"
    bodies = fake_upstream.message_requests()
    assert len(bodies) == 2
    assert dialogue(bodies[1]) == [
        ("user", "first"),
        ("assistant", "ECHO:reply"),
        ("user", "second"),
    ]
    # The first answer's thinking came back: only the CLI's own session has it.
    assert [b["thinking"] for b in blocks(bodies[1], "thinking")] == ["Pondering."]
    client.responses.delete(first.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(first.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model="sonnet", input="third", previous_response_id=first.id)


def test_previous_response_id_carries_a_tool_exchange(client, fake_upstream):
    call = {"name": "mcp__proxy__get_weather", "input": {"city": "Paris"}, "id": "toolu_w2"}
    fake_upstream.set_script({"rules": [ANSWERED], "default": {"type": "tool_use", **call}})
    first = client.responses.create(model="sonnet", tools=[WEATHER], input="Weather in Paris?")
    [item] = [o for o in first.output if o.type == "function_call"]
    fake_upstream.clear()
    second = client.responses.create(
        model="sonnet",
        tools=[WEATHER],
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": item.call_id, "output": "Sunny"}],
    )
    assert second.output_text == "Sunny."
    [body] = fake_upstream.message_requests()
    assert dialogue(body)[0] == ("user", "Weather in Paris?")
    [use] = blocks(body, "tool_use")
    assert use["id"] == "toolu_w2"
    [result] = blocks(body, "tool_result")
    assert result["tool_use_id"] == "toolu_w2"
